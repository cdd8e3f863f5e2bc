package baseline

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/reposentry/reposentry"
)

// StateKey names the baseline state; the version changes with the encoding.
const StateKey = "baseline/v1"

const (
	stateMagic   = "RSBASELINE"
	stateVersion = 1
	// Bounds checked on load, generous against the configuration limits.
	maxStateIDs    = 1 << 26
	maxStateString = 1 << 12
)

// StateKey implements engine.Stateful.
func (d *detector) StateKey() string { return StateKey }

// SaveState implements engine.Stateful. It writes everything that shapes
// later decisions: per identity its first and last event, active days and
// day-start hour, automation classification, known repositories, 28 day
// records, hour-of-week profile, episode severities, waking and the recent
// reads kept for evidence; the credentials followed for dormancy; the
// repository groups and the peer statistics; and the time of the last
// sweep. Identities are written in key order, so equal states give equal
// bytes. Configuration is not saved: the loading detector's applies.
func (d *detector) SaveState(w io.Writer) error {
	e := &encoder{buf: make([]byte, 0, 64+len(d.ids)*1024+len(d.repoGroup)*16)}
	e.header(stateMagic, stateVersion)
	e.varint(d.lastSweep)

	hs := sortedKeys(d.repoGroup)
	e.uvarint(uint64(len(hs)))
	for _, h := range hs {
		e.u64(h)
		e.u64(d.repoGroup[h])
	}
	gs := sortedKeys(d.groupName)
	e.uvarint(uint64(len(gs)))
	for _, g := range gs {
		e.u64(g)
		e.str(d.groupName[g])
	}
	ps := sortedKeys(d.peers)
	e.uvarint(uint64(len(ps)))
	for _, g := range ps {
		e.u64(g)
		e.f64(d.peers[g].days)
		e.f64(d.peers[g].hits)
	}
	cs := sortedKeys(d.creds)
	e.uvarint(uint64(len(cs)))
	for _, k := range cs {
		c := d.creds[k]
		e.str(k)
		e.varint(c.last)
		e.byte1(uint8(c.kind))
		e.waking(&c.wake)
	}
	ks := sortedKeys(d.ids)
	e.uvarint(uint64(len(ks)))
	for _, k := range ks {
		e.ident(d.ids[k])
	}
	_, err := w.Write(e.buf)
	return err
}

func sortedKeys[K string | uint64, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func (e *encoder) waking(w *waking) {
	e.varint(w.at)
	if w.at == 0 {
		return
	}
	e.varint(w.gap)
	e.bool1(w.done)
	e.byte1(w.n)
	for _, r := range w.repos[:w.n] {
		e.uvarint(uint64(r))
	}
}

func (e *encoder) ident(a *ident) {
	e.str(a.key)
	e.str(a.login)
	e.byte1(uint8(a.plat))
	e.varint(a.first)
	e.varint(a.last - a.first)
	e.uvarint(uint64(a.activeDays))
	e.uvarint(uint64(a.curDay))
	e.byte1(a.tz)
	var flags uint8
	for i, b := range [...]bool{a.tzSet, a.bot, a.auto} {
		if b {
			flags |= 1 << i
		}
	}
	e.byte1(flags)
	e.byte1(a.autoDays)
	e.u64(a.home)
	e.uvarint(uint64(len(a.known)))
	var prev uint64
	for _, k := range a.known {
		e.uvarint(k.h - prev) // sorted: deltas are shorter than hashes
		prev = k.h
		e.uvarint(uint64(k.last))
		e.uvarint(uint64(k.days))
	}
	for i := range a.days {
		r := &a.days[i]
		e.uvarint(uint64(r.day))
		if r.day == 0 { // an empty record
			continue
		}
		e.uvarint(uint64(r.reads))
		e.uvarint(uint64(r.newReads))
		e.uvarint(uint64(r.other))
		e.byte1(r.arch)
		e.byte1(r.otherArch)
		e.bool1(r.offSent)
	}
	for _, c := range a.hours {
		e.uvarint(uint64(c))
	}
	e.uvarint(uint64(a.hoursTotal))
	e.uvarint(uint64(a.nRecent))
	n := min(a.nRecent, recentCap)
	for k := a.nRecent - n; k < a.nRecent; k++ {
		r := &a.recent[k%recentCap]
		e.varint(r.t)
		e.str(r.repo)
		e.str(r.id.String())
		e.byte1(uint8(r.plat))
		e.uvarint(uint64(r.day))
		e.byte1(uint8(b2i(r.arch) | b2i(r.other)<<1))
	}
	for _, ep := range [...]*episode{&a.vol, &a.brd} {
		e.byte1(uint8(ep.sev))
		e.uvarint(uint64(ep.day))
	}
	e.waking(&a.wake)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// LoadState implements engine.Stateful: it restores what SaveState wrote
// into a detector that has not yet kept anything (events that change no
// state, such as failures, do not count). On any error the detector is left
// unchanged.
func (d *detector) LoadState(r io.Reader) error {
	if len(d.ids) != 0 || len(d.creds) != 0 || len(d.repoGroup) != 0 || len(d.peers) != 0 || d.lastSweep != 0 {
		return errors.New("baseline: load state: the detector has already processed events")
	}
	dec, err := readState(r, stateMagic, stateVersion)
	if err != nil {
		return fmt.Errorf("baseline: load state: %w", err)
	}
	n := &detector{cfg: d.cfg, dormSec: d.dormSec, teamEvents: d.teamEvents}
	n.lastSweep = dec.varint("last sweep")

	cnt := dec.count("repository groups", 16, math.MaxInt32)
	n.repoGroup = make(map[uint64]uint64, max(cnt, 64))
	for range cnt {
		h := dec.u64("repository hash")
		n.repoGroup[h] = dec.u64("group hash")
	}
	cnt = dec.count("group names", 9, math.MaxInt32)
	n.groupName = make(map[uint64]string, max(cnt, 16))
	for range cnt {
		g := dec.u64("group hash")
		n.groupName[g] = dec.str("group name", maxStateString)
	}
	cnt = dec.count("peer groups", 24, math.MaxInt32)
	n.peers = make(map[uint64]*peerStat, max(cnt, 16))
	for range cnt {
		g := dec.u64("peer group")
		n.peers[g] = &peerStat{days: dec.f64("peer days"), hits: dec.f64("peer hits")}
	}
	cnt = dec.count("credentials", 4, math.MaxInt32)
	n.creds = make(map[string]credRec, max(cnt, 64))
	for range cnt {
		k := dec.str("credential", maxStateString)
		c := credRec{last: dec.varint("credential last"), kind: reposentry.CredentialKind(dec.byte1("credential kind"))}
		dec.waking(&c.wake)
		n.creds[k] = c
	}
	cnt = dec.count("identities", 64, maxStateIDs)
	n.ids = make(map[string]*ident, max(cnt, 64))
	for range cnt {
		a := dec.ident()
		if dec.err != nil {
			break
		}
		if _, dup := n.ids[a.key]; dup || a.key == "" {
			dec.failf("identity %q empty or repeated", a.key)
			break
		}
		n.trimKnown(a)
		n.ids[a.key] = a
	}
	if err := dec.end(); err != nil {
		return fmt.Errorf("baseline: load state: %w", err)
	}
	*d = *n
	return nil
}

// trimKnown applies a lower max_known_repos than the saving run's: it keeps
// the routine, then the most recently read, repositories, as remember would.
func (d *detector) trimKnown(a *ident) {
	if len(a.known) <= d.cfg.MaxKnownRepos {
		return
	}
	slices.SortFunc(a.known, func(x, y known) int {
		if c := cmp.Compare(b2i(y.days >= 2), b2i(x.days >= 2)); c != 0 {
			return c
		}
		return cmp.Compare(y.last, x.last)
	})
	a.known = a.known[:d.cfg.MaxKnownRepos]
	slices.SortFunc(a.known, func(x, y known) int { return cmp.Compare(x.h, y.h) })
}

func (d *decoder) waking(w *waking) {
	w.at = d.varint("waking time")
	if w.at == 0 {
		return
	}
	w.gap = d.varint("waking gap")
	w.done = d.bool1("waking done")
	w.n = uint8(d.bounded("waking repositories", dormSlots))
	for i := range w.repos[:w.n] {
		w.repos[i] = uint32(d.bounded("waking repository", math.MaxUint32))
	}
}

func (d *decoder) ident() *ident {
	a := &ident{}
	a.key = d.str("identity key", maxStateString)
	a.login = d.str("login", maxStateString)
	a.plat = reposentry.Platform(d.byte1("platform"))
	a.first = d.varint("first event")
	a.last = a.first + d.varint("last event")
	a.activeDays = uint16(d.bounded("active days", math.MaxUint16))
	a.curDay = uint16(d.bounded("current day", math.MaxUint16))
	a.tz = uint8(d.bounded("day start hour", 23))
	flags := d.byte1("flags")
	a.tzSet, a.bot, a.auto = flags&1 != 0, flags&2 != 0, flags&4 != 0
	a.autoDays = d.byte1("automation days")
	a.home = d.u64("home group")
	cnt := d.count("known repositories", 3, math.MaxUint16)
	if cnt > 0 {
		a.known = make([]known, cnt, max(cnt, 16))
	}
	var prev uint64
	for i := range a.known {
		delta := d.uvarint("known repository")
		if i > 0 && delta == 0 {
			d.failf("known repositories of %q not in increasing order", a.key)
		}
		prev += delta
		last := uint16(d.bounded("known repository day", math.MaxUint16))
		a.known[i] = known{h: prev, last: last, days: uint16(d.bounded("known repository days", math.MaxUint16))}
	}
	for i := range a.days {
		r := &a.days[i]
		r.day = uint16(d.bounded("day", math.MaxUint16))
		if r.day == 0 {
			continue
		}
		if r.day != 0 && int(r.day)%historyDays != i {
			d.failf("day %d of %q in slot %d", r.day, a.key, i)
		}
		r.reads = uint16(d.bounded("day reads", math.MaxUint16))
		r.newReads = uint16(d.bounded("day new reads", math.MaxUint16))
		r.other = uint16(d.bounded("day other reads", math.MaxUint16))
		r.arch = d.byte1("day archives")
		r.otherArch = d.byte1("day other archives")
		r.offSent = d.bool1("day off hours")
	}
	for i := range a.hours {
		a.hours[i] = uint16(d.bounded("hour profile", math.MaxUint16))
	}
	a.hoursTotal = uint32(d.bounded("profile total", math.MaxUint32))
	a.nRecent = uint32(d.bounded("recent reads", math.MaxUint32))
	n := min(a.nRecent, recentCap)
	for k := a.nRecent - n; k < a.nRecent && d.err == nil; k++ {
		r := &a.recent[k%recentCap]
		r.t = d.varint("recent time")
		r.repo = d.str("recent repository", maxStateString)
		if id := d.raw("recent event id", reposentry.MaxEventIDLen); len(id) > 0 {
			r.id.Set(id)
		}
		r.plat = reposentry.Platform(d.byte1("recent platform"))
		r.day = uint16(d.bounded("recent day", math.MaxUint16))
		f := d.bounded("recent flags", 3)
		r.arch, r.other = f&1 != 0, f&2 != 0
	}
	for _, ep := range [...]*episode{&a.vol, &a.brd} {
		ep.sev = reposentry.Severity(d.bounded("episode severity", uint64(reposentry.SeverityCritical)))
		ep.day = uint16(d.bounded("episode day", math.MaxUint16))
	}
	d.waking(&a.wake)
	return a
}
