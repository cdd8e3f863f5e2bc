package baseline

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/reposentry/reposentry/internal/statecodec"

	"github.com/reposentry/reposentry"
)

// StateKey names the baseline state; the version changes with the encoding.
const StateKey = "baseline/v4"

const (
	stateMagic   = "RSBASELINE"
	stateVersion = 4
	// Bounds checked on load, generous against the configuration limits.
	maxStateIDs    = 1 << 26
	maxStateString = 1 << 12
	maxStateDay    = math.MaxUint16
)

// StateKey implements engine.Stateful.
func (d *detector) StateKey() string { return StateKey }

// SaveState implements engine.Stateful. It writes everything that shapes
// later decisions: per identity its first and last event, active days and
// day-start hour, automation classification, known repositories, the day
// statistics and busiest hours, the hourly window, hour-of-week profile,
// episode severities, waking and the recent reads kept for evidence; the
// credentials followed for dormancy; the repository groups and the peer
// statistics of home groups and departments; and the time of the last
// sweep. Identities are written in key order, so equal states give equal
// bytes. Configuration is not saved: the loading detector's applies.
func (d *detector) SaveState(w io.Writer) error {
	e := &encoder{statecodec.Encoder{Buf: make([]byte, 0, 64+len(d.ids)*640+len(d.repoGroup)*16)}}
	e.Header(stateMagic, stateVersion)
	e.Varint(d.lastSweep)

	hs := sortedKeys(d.repoGroup)
	e.Uvarint(uint64(len(hs)))
	for _, h := range hs {
		e.U64(h)
		e.U64(d.repoGroup[h])
	}
	gs := sortedKeys(d.groupName)
	e.Uvarint(uint64(len(gs)))
	for _, g := range gs {
		e.U64(g)
		e.Str(d.groupName[g])
	}
	ps := sortedKeys(d.peers)
	e.Uvarint(uint64(len(ps)))
	for _, g := range ps {
		e.U64(g)
		e.peerStat(d.peers[g])
	}
	ds := sortedKeys(d.depts)
	e.Uvarint(uint64(len(ds)))
	for _, k := range ds {
		e.Str(k)
		e.peerStat(d.depts[k])
	}
	cs := sortedKeys(d.creds)
	e.Uvarint(uint64(len(cs)))
	for _, k := range cs {
		c := d.creds[k]
		e.Str(k)
		e.Varint(c.last)
		e.Byte1(uint8(c.kind))
		e.waking(c.wake)
	}
	ks := sortedKeys(d.ids)
	e.Uvarint(uint64(len(ks)))
	for _, k := range ks {
		e.ident(d.ids[k])
	}
	_, err := w.Write(e.Buf)
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

// waking writes w, nil as a zero time.
func (e *encoder) waking(w *waking) {
	if w == nil || w.at == 0 {
		e.Varint(0)
		return
	}
	e.Varint(w.at)
	e.Varint(w.gap)
	e.Bool1(w.done)
	e.Byte1(w.n)
	for _, r := range w.repos[:w.n] {
		e.Uvarint(uint64(r))
	}
}

func (e *encoder) ident(a *ident) {
	e.Str(a.key)
	e.Str(a.login)
	e.Byte1(uint8(a.plat))
	e.Varint(a.first)
	e.Varint(a.last - a.first)
	e.Uvarint(uint64(a.activeDays))
	e.Uvarint(uint64(a.curDay))
	e.Byte1(a.tz)
	var flags uint8
	for i, b := range [...]bool{a.tzSet, a.bot, a.auto, a.offSent} {
		if b {
			flags |= 1 << i
		}
	}
	e.Byte1(flags)
	e.Byte1(a.autoDays)
	e.Uvarint(uint64(a.reads))
	e.U64(a.home)
	e.Uvarint(uint64(len(a.known)))
	var prev uint64
	for _, k := range a.known {
		e.Uvarint(k.hash() - prev) // sorted: deltas are shorter than hashes
		prev = k.hash()
		e.Uvarint(uint64(k.last())<<1 | uint64(b2i(k.routine())))
	}
	// Slots of inactive days are zero (rollover clears them): only the
	// active days' new reads are written.
	e.Uvarint(uint64(a.present))
	for i, n := range a.newReads {
		if a.present&(1<<i) != 0 {
			e.Uvarint(uint64(n))
			e.Byte1(a.hourPeak[i])
		}
	}
	e.Uvarint(uint64(a.qtr))
	for _, q := range [...]*[quarters]uint8{&a.qNew, &a.qArch, &a.qSens} {
		for _, c := range q {
			e.Byte1(c)
		}
	}
	for i := range weekDays {
		e.Uvarint(uint64(a.other[i]))
		e.Byte1(a.arch[i])
		e.Byte1(a.otherArch[i])
	}
	for _, c := range a.hours { // the total is their sum
		e.Byte1(c)
	}
	e.Uvarint(uint64(len(a.recent)))
	for i := range a.recent {
		r := &a.recent[i]
		e.Varint(r.t)
		e.Str(r.repo)
		e.Str(r.id.String())
		e.Byte1(uint8(r.plat))
		e.Uvarint(uint64(r.day))
		e.Byte1(uint8(b2i(r.arch) | b2i(r.other)<<1))
	}
	for _, ep := range [...]*episode{&a.vol, &a.brd, &a.hr} {
		e.Byte1(uint8(ep.sev))
		e.Uvarint(uint64(ep.day))
	}
	e.waking(a.wake)
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
	if len(d.ids) != 0 || len(d.creds) != 0 || len(d.repoGroup) != 0 || len(d.peers) != 0 || len(d.depts) != 0 || d.lastSweep != 0 {
		return errors.New("baseline: load state: the detector has already processed events")
	}
	dec, err := readState(r, stateMagic, stateVersion)
	if err != nil {
		return fmt.Errorf("baseline: load state: %w", err)
	}
	n := &detector{cfg: d.cfg, dormSec: d.dormSec, teamEvents: d.teamEvents, deptPeers: d.deptPeers}
	n.lastSweep = dec.Varint("last sweep")

	cnt := dec.Count("repository groups", 16, math.MaxInt32)
	n.repoGroup = make(map[uint64]uint64, max(cnt, 64))
	for range cnt {
		h := dec.U64("repository hash")
		n.repoGroup[h] = dec.U64("group hash")
	}
	cnt = dec.Count("group names", 9, math.MaxInt32)
	n.groupName = make(map[uint64]string, max(cnt, 16))
	for range cnt {
		g := dec.U64("group hash")
		n.groupName[g] = dec.Str("group name", maxStateString)
	}
	cnt = dec.Count("peer groups", 8+peerStatSize, math.MaxInt32)
	n.peers = make(map[uint64]*peerStat, max(cnt, 16))
	for range cnt {
		g := dec.U64("peer group")
		n.peers[g] = dec.peerStat("peer group")
	}
	cnt = dec.Count("departments", 1+peerStatSize, maxDepartments)
	n.depts = make(map[string]*peerStat, max(cnt, 16))
	for range cnt {
		k := dec.Str("department", maxStateString)
		n.depts[k] = dec.peerStat("department")
	}
	cnt = dec.Count("credentials", 4, math.MaxInt32)
	n.creds = make(map[string]credRec, max(cnt, 64))
	for range cnt {
		k := dec.Str("credential", maxStateString)
		c := credRec{last: dec.Varint("credential last"), kind: reposentry.CredentialKind(dec.Byte1("credential kind"))}
		c.wake = dec.waking()
		n.creds[k] = c
	}
	cnt = dec.Count("identities", 64, maxStateIDs)
	n.ids = make(map[string]*ident, max(cnt, 64))
	for range cnt {
		a := dec.ident()
		if dec.Err != nil {
			break
		}
		if _, dup := n.ids[a.key]; dup || a.key == "" {
			dec.Failf("identity %q empty or repeated", a.key)
			break
		}
		n.trimKnown(a)
		n.ids[a.key] = a
	}
	if err := dec.End(); err != nil {
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
		if c := cmp.Compare(b2i(y.routine()), b2i(x.routine())); c != 0 {
			return c
		}
		return cmp.Compare(y.last(), x.last())
	})
	a.known = slices.Clone(a.known[:d.cfg.MaxKnownRepos])
	slices.Sort(a.known)
}

// peerStatSize is the encoded size of a peerStat: four float64s.
const peerStatSize = 4 * 8

// peerStat writes a peer population's counts.
func (e *encoder) peerStat(ps *peerStat) {
	e.F64(ps.days)
	e.F64(ps.wide)
	e.F64(ps.daily)
	e.F64(ps.weekly)
}

// peerStat reads a peer population's counts, of what (a peer group or a
// department). The member-days must lie between 0 and the decay bound and
// each count between 0 and the member-days: a corrupt state must not make a
// rate negative, above 1 or NaN.
func (d *decoder) peerStat(what string) *peerStat {
	ps := &peerStat{days: d.F64(what + " member-days")}
	ps.wide, ps.daily, ps.weekly = d.F64(what+" wide days"), d.F64(what+" daily days"), d.F64(what+" weekly days")
	if !(ps.days >= 0 && ps.days <= peerDecayDays) {
		d.Failf("%s member-days %v outside 0 to %d", what, ps.days, peerDecayDays)
	}
	for _, c := range [...]float64{ps.wide, ps.daily, ps.weekly} {
		if !(c >= 0 && c <= ps.days) {
			d.Failf("%s count %v outside 0 to its %v member-days", what, c, ps.days)
		}
	}
	return ps
}

// waking reads a waking; nil when none was saved.
func (d *decoder) waking() *waking {
	at := d.Varint("waking time")
	if at == 0 {
		return nil
	}
	w := &waking{at: at}
	w.gap = d.Varint("waking gap")
	w.done = d.Bool1("waking done")
	w.n = uint8(d.Bounded("waking repositories", dormSlots))
	for i := range w.repos[:w.n] {
		w.repos[i] = uint32(d.Bounded("waking repository", math.MaxUint32))
	}
	return w
}

func (d *decoder) ident() *ident {
	a := &ident{}
	a.key = d.Str("identity key", maxStateString)
	a.login = d.Str("login", maxStateString)
	a.plat = reposentry.Platform(d.Byte1("platform"))
	a.first = d.Varint("first event")
	a.last = a.first + d.Varint("last event")
	a.activeDays = uint16(d.Bounded("active days", math.MaxUint16))
	a.curDay = uint16(d.Bounded("current day", maxStateDay))
	a.tz = uint8(d.Bounded("day start hour", 23))
	flags := d.Bounded("flags", 15)
	a.tzSet, a.bot, a.auto, a.offSent = flags&1 != 0, flags&2 != 0, flags&4 != 0, flags&8 != 0
	a.autoDays = d.Byte1("automation days")
	a.reads = uint16(d.Bounded("reads today", math.MaxUint16))
	a.home = d.U64("home group")
	cnt := d.Count("known repositories", 2, math.MaxUint16)
	if cnt > 0 {
		a.known = make([]known, cnt)
	}
	var prev uint64
	for i := range a.known {
		delta := d.Uvarint("known repository")
		if i > 0 && delta == 0 || prev+delta >= 1<<(64-knownHashShift) {
			d.Failf("known repositories of %q not in increasing order below 2^47", a.key)
			break
		}
		prev += delta
		v := d.Bounded("known repository day", maxStateDay<<1|1)
		a.known[i] = makeKnown(prev, v&1 != 0, uint16(v>>1))
	}
	a.present = uint32(d.Bounded("active days mask", 1<<historyDays-1))
	if a.present&(1<<histSlot(a.curDay)) == 0 && d.Err == nil {
		d.Failf("current day %d of %q not active", a.curDay, a.key)
	}
	for i := range a.newReads {
		if a.present&(1<<i) != 0 {
			a.newReads[i] = uint16(d.Bounded("day new reads", math.MaxUint16))
			a.hourPeak[i] = d.Byte1("day busiest hour")
		}
	}
	a.qtr = uint32(d.Bounded("hourly window quarter", math.MaxUint32))
	for _, q := range [...]*[quarters]uint8{&a.qNew, &a.qArch, &a.qSens} {
		for i := range q {
			q[i] = d.Byte1("hourly window counts")
		}
	}
	for i := range weekDays {
		a.other[i] = uint16(d.Bounded("day other reads", math.MaxUint16))
		a.arch[i] = d.Byte1("day archives")
		a.otherArch[i] = d.Byte1("day other archives")
	}
	for i := range a.hours {
		a.hours[i] = d.Byte1("hour profile")
		a.hoursTotal += uint32(a.hours[i])
	}
	if cnt := d.Count("recent reads", 6, recentCap); cnt > 0 {
		a.recent = make([]recentRead, cnt)
	}
	for i := range a.recent {
		r := &a.recent[i]
		r.t = d.Varint("recent time")
		r.repo = d.Str("recent repository", maxStateString)
		if id := d.Raw("recent event id", reposentry.MaxEventIDLen); len(id) > 0 {
			r.id.Set(id)
		}
		r.plat = reposentry.Platform(d.Byte1("recent platform"))
		r.day = uint16(d.Bounded("recent day", maxStateDay))
		f := d.Bounded("recent flags", 3)
		r.arch, r.other = f&1 != 0, f&2 != 0
	}
	for _, ep := range [...]*episode{&a.vol, &a.brd, &a.hr} {
		ep.sev = reposentry.Severity(d.Bounded("episode severity", uint64(reposentry.SeverityCritical)))
		ep.day = uint16(d.Bounded("episode day", maxStateDay))
	}
	a.wake = d.waking()
	return a
}

// encoder and decoder add this package's records to the shared codec.
type encoder struct{ statecodec.Encoder }

type decoder struct{ *statecodec.Decoder }

// readState reads a whole state stream, bounded, and checks its magic and
// version.
func readState(r io.Reader, magic string, version uint64) (*decoder, error) {
	d, err := statecodec.ReadState(r, magic, version)
	if err != nil {
		return nil, err
	}
	return &decoder{d}, nil
}
