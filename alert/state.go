package alert

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/internal/statecodec"
)

const (
	stateMagic   = "RSAL"
	stateVersion = 3
	// Bounds on what a state file may claim, so a corrupt one is refused
	// rather than allocated.
	maxStr      = 1 << 16
	maxList     = 1 << 12
	maxLedgers  = 1 << 24
	maxRulesPer = 1 << 10
)

// StateKey implements engine.Stateful: the aggregator's accumulated risk is
// saved beside the detectors' state so that yesterday's signals still count
// today.
func (a *Aggregator) StateKey() string { return "alert/v3" }

// SaveState implements engine.Stateful. It writes the accumulated-risk
// ledgers (each rule's decayed contribution, its strongest signal, the risk
// last alerted on) in key order, and the time of the last sweep. Open
// incidents are not saved: call it after Flush, which closes them.
func (a *Aggregator) SaveState(w io.Writer) error {
	e := &statecodec.Encoder{Buf: make([]byte, 0, 64+len(a.acc.ledgers)*512)}
	e.Header(stateMagic, stateVersion)
	tm(e, a.swept)
	keys := make([]string, 0, len(a.acc.ledgers))
	for k := range a.acc.ledgers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.Uvarint(uint64(len(keys)))
	for _, k := range keys {
		l := a.acc.ledgers[k]
		e.Str(l.key)
		e.Varint(l.at)
		e.F64(l.alerted)
		e.Varint(l.lastAlert)
		e.Uvarint(uint64(len(l.rules)))
		for _, c := range l.rules {
			e.F64(c.v)
			e.F64(c.peak)
			e.Uvarint(uint64(c.n))
			tm(e, c.first)
			e.F64(c.bestAt)
			e.Uvarint(uint64(c.days))
			e.Varint(c.lastDay)
			strs(e, c.entities)
			signal(e, &c.best)
		}
	}
	_, err := w.Write(e.Buf)
	if err != nil {
		return fmt.Errorf("alert: save state: %w", err)
	}
	return nil
}

// LoadState implements engine.Stateful: it restores what SaveState wrote
// into an aggregator that has had no signal yet. On error the aggregator is
// left unchanged.
func (a *Aggregator) LoadState(r io.Reader) error {
	if len(a.acc.ledgers) != 0 || len(a.open) != 0 || len(a.closed) != 0 {
		return errors.New("alert: load state: the aggregator already has signals")
	}
	d, err := statecodec.ReadState(r, stateMagic, stateVersion)
	if err != nil {
		return fmt.Errorf("alert: load state: %w", err)
	}
	swept := readTm(d, "sweep time")
	n := d.Count("ledgers", 12, maxLedgers)
	ledgers := make(map[string]*ledger, n)
	for range n {
		l := &ledger{key: d.Str("ledger key", maxStr)}
		l.at = d.Varint("ledger time")
		l.alerted = d.F64("alerted risk")
		l.lastAlert = d.Varint("last alert")
		rules := d.Count("contributions", 40, maxRulesPer)
		l.rules = make([]contribution, 0, rules)
		for range rules {
			c := contribution{v: d.F64("contribution"), peak: d.F64("peak")}
			c.n = int(d.Bounded("signal count", math.MaxInt32))
			c.first = readTm(d, "first signal")
			c.bestAt = d.F64("best risk")
			c.days = uint32(d.Bounded("signal days", math.MaxUint32))
			c.lastDay = d.Varint("last signal day")
			c.entities = readStrs(d, "entities")
			c.best = readSignal(d)
			l.rules = append(l.rules, c)
		}
		if d.Err != nil {
			break
		}
		if !strings.Contains(l.key, "\x00") {
			d.Failf("ledger key %q lacks the entity type", l.key)
			break
		}
		ledgers[l.key] = l
	}
	if err := d.End(); err != nil {
		return fmt.Errorf("alert: load state: %w", err)
	}
	a.acc.ledgers = ledgers
	a.swept = swept
	return nil
}

func strs(e *statecodec.Encoder, l []string) {
	e.Uvarint(uint64(len(l)))
	for _, s := range l {
		e.Str(s)
	}
}

func readStrs(d *statecodec.Decoder, what string) []string {
	n := d.Count(what, 1, maxList)
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for range n {
		out = append(out, d.Str(what, maxStr))
	}
	return out
}

// signal writes the fields a trimmed signal keeps (see trimmed).
func signal(e *statecodec.Encoder, s *reposentry.Signal) {
	for _, v := range []string{s.Rule, s.Title, s.Observed, s.Baseline, s.Explanation, s.Entity.Type, s.Entity.ID, s.Credential} {
		e.Str(v)
	}
	e.Byte1(uint8(s.Severity))
	e.Varint(int64(s.Risk))
	tm(e, s.Time)
	tm(e, s.FirstSeen)
	strs(e, s.Techniques)
	strs(e, s.Tactics)
	strs(e, s.Entity.Accounts)
	strs(e, s.EventIDs)
}

func readSignal(d *statecodec.Decoder) reposentry.Signal {
	var s reposentry.Signal
	for _, p := range []*string{&s.Rule, &s.Title, &s.Observed, &s.Baseline, &s.Explanation, &s.Entity.Type, &s.Entity.ID, &s.Credential} {
		*p = d.Str("signal text", maxStr)
	}
	if sev := d.Byte1("severity"); sev <= uint8(reposentry.SeverityCritical) {
		s.Severity = reposentry.Severity(sev)
	} else {
		d.Failf("severity %d is not one", sev)
	}
	s.Risk = int(d.Varint("risk"))
	if s.Risk < 0 || s.Risk > 100 {
		d.Failf("risk %d is outside 0-100", s.Risk)
	}
	s.Time = readTm(d, "signal time")
	s.FirstSeen = readTm(d, "signal first seen")
	s.Techniques = readStrs(d, "techniques")
	s.Tactics = readStrs(d, "tactics")
	s.Entity.Accounts = readStrs(d, "accounts")
	s.EventIDs = readStrs(d, "event ids")
	return s
}

// tm writes a time as unix nanoseconds, 0 for the zero time (whose
// UnixNano is undefined).
func tm(e *statecodec.Encoder, t time.Time) {
	if t.IsZero() {
		e.Varint(0)
		return
	}
	e.Varint(t.UnixNano())
}

func readTm(d *statecodec.Decoder, what string) time.Time {
	ns := d.Varint(what)
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
