package novelty

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/internal/statecodec"
)

// StateKey names the novelty state; the version changes with the encoding.
const StateKey = "novelty/v1"

const (
	stateMagic   = "RSNOVELTY"
	stateVersion = 1
	// Bounds checked on load, generous against the configuration limits.
	maxStateEntities = 1 << 26
	maxStateString   = 1 << 12
	maxStateVals     = 1 << 12
)

// StateKey implements engine.Stateful.
func (d *detector) StateKey() string { return StateKey }

// SaveState implements engine.Stateful. It writes the day of the last sweep,
// the creations waiting for their credential's first use, and per identity
// and credential everything that shapes later decisions: first, last and
// learned days, event counts, automation classification, remembered values
// with their episode severities, remembered repositories, escalations and
// creations. Entities are written in key order, so equal states give equal
// bytes. Configuration is not saved: the loading detector's applies.
func (d *detector) SaveState(w io.Writer) error {
	e := &statecodec.Encoder{Buf: make([]byte, 0, 64+len(d.ids)*96+len(d.creds)*128)}
	e.Header(stateMagic, stateVersion)
	e.Uvarint(uint64(d.sweepDay))
	hs := make([]uint64, 0, len(d.made))
	for h := range d.made {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	e.Uvarint(uint64(len(hs)))
	for _, h := range hs {
		e.U64(h)
		putCreation(e, d.made[h])
	}
	ks := sortedKeys(d.ids)
	e.Uvarint(uint64(len(ks)))
	for _, k := range ks {
		a := d.ids[k]
		e.Str(k)
		e.Str(a.login)
		e.Byte1(uint8(a.plat))
		for _, v := range [...]uint16{a.first, a.last, a.learned, a.day, a.events, a.dayReads} {
			e.Uvarint(uint64(v))
		}
		e.Byte1(a.autoDays)
		e.Byte1(uint8(b2i(a.bot) | b2i(a.auto)<<1))
		putVals(e, a.vals)
		putOptCreation(e, a.pend)
	}
	ks = sortedKeys(d.creds)
	e.Uvarint(uint64(len(ks)))
	for _, k := range ks {
		c := d.creds[k]
		e.Str(k)
		e.Byte1(uint8(c.kind))
		for _, v := range [...]uint16{c.first, c.last, c.learned, c.events, c.firstReads} {
			e.Uvarint(uint64(v))
		}
		e.Byte1(uint8(c.farSev))
		putVals(e, c.vals)
		e.Uvarint(uint64(len(c.repos)))
		for _, r := range c.repos {
			e.Uvarint(uint64(r))
		}
		e.Bool1(c.esc != nil)
		if c.esc != nil {
			e.U64(c.esc.country)
			e.Byte1(c.esc.n)
			for _, r := range c.esc.repos[:c.esc.n] {
				e.Uvarint(uint64(r))
			}
		}
		putOptCreation(e, c.made)
	}
	if _, err := w.Write(e.Buf); err != nil {
		return fmt.Errorf("novelty: save state: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func putVals(e *statecodec.Encoder, vs values) {
	e.Uvarint(uint64(len(vs)))
	for _, v := range vs {
		e.Byte1(v.kind)
		e.U64(v.h)
		e.Uvarint(uint64(v.first))
		e.Uvarint(uint64(v.last))
		e.Byte1(v.flags)
		e.Byte1(uint8(v.sev))
	}
}

func putCreation(e *statecodec.Encoder, m *creation) {
	e.Varint(m.t)
	e.Str(m.country)
	e.Uvarint(uint64(m.asn))
	e.Uvarint(m.net)
	e.Str(m.action)
	e.Byte1(uint8(m.kind))
	e.Str(m.id.String())
	e.Byte1(uint8(m.plat))
}

func putOptCreation(e *statecodec.Encoder, m *creation) {
	e.Bool1(m != nil)
	if m != nil {
		putCreation(e, m)
	}
}

// LoadState implements engine.Stateful: it restores what SaveState wrote
// into a detector that has not yet kept anything. On any error the detector
// is left unchanged.
func (d *detector) LoadState(r io.Reader) error {
	if len(d.ids) != 0 || len(d.creds) != 0 || len(d.made) != 0 || d.sweepDay != 0 {
		return errors.New("novelty: load state: the detector has already processed events")
	}
	dec, err := statecodec.ReadState(r, stateMagic, stateVersion)
	if err != nil {
		return fmt.Errorf("novelty: load state: %w", err)
	}
	n := &detector{cfg: d.cfg, families: make(map[string]uint8, 64)}
	n.sweepDay = uint16(dec.Bounded("sweep day", math.MaxUint16))
	cnt := dec.Count("creations", 12, maxStateEntities)
	n.made = make(map[uint64]*creation, max(cnt, 16))
	for range cnt {
		h := dec.U64("creation key")
		n.made[h] = getCreation(dec)
	}
	cnt = dec.Count("identities", 12, maxStateEntities)
	n.ids = make(map[string]*ident, max(cnt, 64))
	for i := 0; i < cnt && dec.Err == nil; i++ {
		k := dec.Str("identity key", maxStateString)
		a := &ident{}
		a.login = dec.Str("login", maxStateString)
		a.plat = reposentry.Platform(dec.Byte1("platform"))
		for _, p := range [...]*uint16{&a.first, &a.last, &a.learned, &a.day, &a.events, &a.dayReads} {
			*p = uint16(dec.Bounded("identity counter", math.MaxUint16))
		}
		a.autoDays = dec.Byte1("automation days")
		f := dec.Bounded("identity flags", 3)
		a.bot, a.auto = f&1 != 0, f&2 != 0
		a.vals = getVals(dec)
		a.pend = getOptCreation(dec)
		if _, dup := n.ids[k]; dup || k == "" {
			dec.Failf("identity %q empty or repeated", k)
		}
		n.ids[k] = a
	}
	cnt = dec.Count("credentials", 12, maxStateEntities)
	n.creds = make(map[string]*cred, max(cnt, 64))
	for i := 0; i < cnt && dec.Err == nil; i++ {
		k := dec.Str("credential key", maxStateString)
		c := &cred{kind: reposentry.CredentialKind(dec.Byte1("credential kind"))}
		for _, p := range [...]*uint16{&c.first, &c.last, &c.learned, &c.events, &c.firstReads} {
			*p = uint16(dec.Bounded("credential counter", math.MaxUint16))
		}
		c.farSev = reposentry.Severity(dec.Bounded("creation severity", uint64(reposentry.SeverityCritical)))
		c.vals = getVals(dec)
		if nr := dec.Count("credential repositories", 1, 1<<16); nr > 0 {
			c.repos = make([]uint32, nr)
			for j := range c.repos {
				c.repos[j] = uint32(dec.Bounded("credential repository", math.MaxUint32))
			}
		}
		if dec.Bool1("escalation") {
			c.esc = &escalation{country: dec.U64("escalation country")}
			c.esc.n = uint8(dec.Bounded("escalation repositories", maxSpread))
			for j := range c.esc.repos[:c.esc.n] {
				c.esc.repos[j] = uint32(dec.Bounded("escalation repository", math.MaxUint32))
			}
		}
		c.made = getOptCreation(dec)
		if _, dup := n.creds[k]; dup || k == "" {
			dec.Failf("credential %q empty or repeated", k)
		}
		if len(c.repos) > n.cfg.MaxCredentialRepos {
			// A lower max_credential_repos than the saving run's: keep the most recent.
			c.repos = slices.Clone(c.repos[len(c.repos)-n.cfg.MaxCredentialRepos:])
		}
		n.creds[k] = c
	}
	if err := dec.End(); err != nil {
		return fmt.Errorf("novelty: load state: %w", err)
	}
	*d = *n
	return nil
}

func getVals(dec *statecodec.Decoder) values {
	cnt := dec.Count("values", 13, maxStateVals)
	if cnt == 0 {
		return nil
	}
	vs := make(values, cnt)
	for i := range vs {
		v := &vs[i]
		v.kind = uint8(dec.Bounded("value kind", uint64(nAttrs-1)))
		v.h = dec.U64("value")
		v.first = uint16(dec.Bounded("value first day", math.MaxUint16))
		v.last = uint16(dec.Bounded("value last day", math.MaxUint16))
		v.flags = uint8(dec.Bounded("value flags", uint64(allFlags)))
		v.sev = reposentry.Severity(dec.Bounded("value severity", uint64(reposentry.SeverityCritical)))
	}
	return vs
}

func getCreation(dec *statecodec.Decoder) *creation {
	m := &creation{}
	m.t = dec.Varint("creation time")
	m.country = dec.Str("creation country", maxStateString)
	m.asn = uint32(dec.Bounded("creation asn", math.MaxUint32))
	m.net = dec.Uvarint("creation network")
	m.action = dec.Str("creation action", maxStateString)
	m.kind = reposentry.CredentialKind(dec.Byte1("creation kind"))
	if id := dec.Raw("creation event id", reposentry.MaxEventIDLen); len(id) > 0 {
		m.id.Set(id)
	}
	m.plat = reposentry.Platform(dec.Byte1("creation platform"))
	return m
}

func getOptCreation(dec *statecodec.Decoder) *creation {
	if !dec.Bool1("creation present") {
		return nil
	}
	return getCreation(dec)
}
