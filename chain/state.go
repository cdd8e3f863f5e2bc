package chain

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/reposentry/reposentry/internal/statecodec"

	"github.com/reposentry/reposentry"
)

// StateKey names the state the four chain detectors share; the version
// changes with the encoding.
const StateKey = "chain/v1"

const (
	stateMagic   = "RSCHAIN"
	stateVersion = 1
	// Bounds checked on load.
	maxStateIDs    = 1 << 26
	maxStateNets   = 1 << 26
	maxStateString = 1 << 12
)

// StateKey implements engine.Stateful. The four detectors of one New share
// the state and the key: save it from any of them, load it into any one.
func (d *detector) StateKey() string { return StateKey }

// SaveState implements engine.Stateful. It writes the hash seed, the time of
// the next sweep, the networks and which identities use them, and per
// identity: first and last event, learnt countries, networks (ASN), device
// families and repositories, the last place, the quiet periods of travel,
// burst and privileged signals, recent sign-in places, denied pushes and the
// open risky window with its evidence. It drops the signals buffered for a
// rule whose detector the engine was not given (the engine drains the
// others at every call), the duplicate-event guard and the match caches,
// which configuration rebuilds.
func (d *detector) SaveState(w io.Writer) error {
	c := d.c
	e := &encoder{statecodec.Encoder{Buf: make([]byte, 0, 64+len(c.ids)*512+len(c.nets)*32)}}
	e.Header(stateMagic, stateVersion)
	e.U64(c.seed)
	e.Varint(c.nextSweep)
	nets := make([]uint64, 0, len(c.nets))
	for k := range c.nets {
		nets = append(nets, k)
	}
	slices.Sort(nets)
	e.Uvarint(uint64(len(nets)))
	for _, k := range nets {
		u := c.nets[k]
		e.U64(k)
		e.Varint(u.last)
		e.Bool1(u.shared)
		e.Uvarint(uint64(u.n))
		for _, h := range u.ids[:u.n] {
			e.Uvarint(uint64(h))
		}
	}
	keys := make([]string, 0, len(c.ids))
	for k := range c.ids {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.Uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.ident(c.ids[k])
	}
	if _, err := w.Write(e.Buf); err != nil {
		return fmt.Errorf("chain: save state: %w", err)
	}
	return nil
}

// Times inside an identity are written relative to its last event: short
// varints instead of full nanosecond stamps. Zero stays zero (unset).
func (e *encoder) rel(t, base int64) {
	if t == 0 {
		e.Byte1(0)
		return
	}
	e.Byte1(1)
	e.Varint(base - t)
}

func (d *decoder) rel(what string, base int64) int64 {
	switch d.Byte1(what) {
	case 0:
		return 0
	case 1:
		return base - d.Varint(what)
	}
	d.Failf("%s: bad time marker", what)
	return 0
}

func (e *encoder) step(s *step, base int64) {
	e.rel(s.t, base)
	if s.t == 0 { // an empty slot
		return
	}
	e.Str(s.id.String())
	e.Byte1(uint8(s.plat))
	e.Byte1(s.kinds)
	e.Str(s.action)
	e.Str(s.detail)
}

func (d *decoder) step(s *step, base int64) {
	s.t = d.rel("step time", base)
	if s.t == 0 {
		return
	}
	if id := d.Raw("step event id", reposentry.MaxEventIDLen); len(id) > 0 {
		s.id.Set(id)
	}
	s.plat = reposentry.Platform(d.Byte1("step platform"))
	s.kinds = d.Byte1("step kinds")
	s.action = d.Str("step action", maxStateString)
	s.detail = d.Str("step detail", maxStateString)
}

func (e *encoder) ident(a *ident) {
	e.Str(a.key)
	e.Varint(a.last)
	e.Varint(a.last - a.first)
	for _, v := range a.countries {
		e.Uvarint(uint64(v))
	}
	for _, v := range a.asns {
		e.Uvarint(uint64(v))
	}
	e.Buf = append(e.Buf, a.devs[:]...)
	nr := 0
	for _, v := range a.repos {
		if v != 0 {
			nr = len(a.repos) // a ring: write it whole once it holds anything
			break
		}
	}
	e.Uvarint(uint64(nr))
	for _, v := range a.repos[:nr] {
		e.Buf = append(e.Buf, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	}
	e.Buf = append(e.Buf, a.cpos, a.apos, a.dpos, a.hpos, a.npos)
	e.Uvarint(uint64(a.rpos))
	e.Uvarint(uint64(a.at.cc))
	e.Bool1(a.at.login)
	e.step(&a.at.s, a.last)
	e.rel(a.travelAt, a.last)
	e.rel(a.burstAt, a.last)
	e.rel(a.privAt, a.last)
	for _, h := range a.hits {
		e.rel(h.t, a.last)
		if h.t != 0 {
			e.Uvarint(uint64(h.cc))
			e.Uvarint(uint64(h.net))
		}
	}
	e.Bool1(a.denials != nil)
	if a.denials != nil {
		for i := range a.denials {
			e.step(&a.denials[i], a.last)
		}
	}
	e.Bool1(a.pend != nil)
	if p := a.pend; p != nil {
		e.rel(p.start, a.last)
		e.rel(p.until, a.last)
		e.Buf = append(e.Buf, p.kinds, p.lowSent, uint8(p.fired), p.stage)
		for _, v := range [...]int{p.nr, p.nc, p.total, p.nrepo, p.nonPublic} {
			e.Uvarint(uint64(v))
		}
		e.Bool1(p.archive)
		e.Bool1(p.cred)
		for i := range p.risky[:p.nr] {
			e.step(&p.risky[i], a.last)
		}
		for i := range p.coll[:p.nc] {
			e.step(&p.coll[i], a.last)
		}
		for _, v := range p.repos[:p.nrepo] {
			e.Uvarint(uint64(v))
		}
	}
}

func (d *decoder) ident(c *core) *ident {
	a := &ident{}
	a.key = d.Str("identity key", maxStateString)
	a.h = c.hash(a.key)
	a.last = d.Varint("last event")
	a.first = a.last - d.Varint("first event")
	for i := range a.countries {
		a.countries[i] = uint16(d.Bounded("country", math.MaxUint16))
	}
	for i := range a.asns {
		a.asns[i] = uint32(d.Bounded("asn", math.MaxUint32))
	}
	for i := range a.devs {
		a.devs[i] = d.Byte1("device")
	}
	nr := d.Bounded("repositories", knownRepos)
	if nr != 0 && nr != knownRepos {
		d.Failf("%d repositories of %q, want 0 or %d", nr, a.key, knownRepos)
	}
	for i := range a.repos[:nr] {
		if b := d.raw4("repository"); b != nil {
			a.repos[i] = uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		}
	}
	a.cpos = uint8(d.Bounded("country position", knownPlaces-1))
	a.apos = uint8(d.Bounded("asn position", knownPlaces-1))
	a.dpos = uint8(d.Bounded("device position", knownPlaces-1))
	a.hpos = d.Byte1("hit position")
	a.npos = uint8(d.Bounded("denial position", maxDenials-1))
	a.rpos = int(d.Bounded("repository position", knownRepos-1))
	a.at.cc = uint16(d.Bounded("place country", math.MaxUint16))
	a.at.login = d.Bool1("place sign-in")
	d.step(&a.at.s, a.last)
	a.travelAt = d.rel("travel signal", a.last)
	a.burstAt = d.rel("burst signal", a.last)
	a.privAt = d.rel("privileged signal", a.last)
	for i := range a.hits {
		h := &a.hits[i]
		h.t = d.rel("hit time", a.last)
		if h.t != 0 {
			h.cc = uint16(d.Bounded("hit country", math.MaxUint16))
			h.net = uint32(d.Bounded("hit network", math.MaxUint32))
		}
	}
	if d.Bool1("denials") {
		a.denials = new([maxDenials]step)
		for i := range a.denials {
			d.step(&a.denials[i], a.last)
		}
	}
	if d.Bool1("risky window") {
		p := &pending{}
		p.start = d.rel("window start", a.last)
		p.until = d.rel("window end", a.last)
		p.kinds = d.Byte1("window kinds")
		p.lowSent = d.Byte1("window signalled kinds")
		p.fired = reposentry.Severity(d.Bounded("window severity", uint64(reposentry.SeverityCritical)))
		p.stage = uint8(d.Bounded("window stage", 3))
		p.nr = int(d.Bounded("risky steps", pendRisky))
		p.nc = int(d.Bounded("collection steps", pendReads))
		p.total = int(d.Bounded("collection events", math.MaxInt32))
		p.nrepo = int(d.Bounded("window repositories", pendRepos))
		p.nonPublic = int(d.Bounded("non-public repositories", pendRepos))
		p.archive = d.Bool1("window archive")
		p.cred = d.Bool1("window credential")
		for i := range p.risky[:p.nr] {
			d.step(&p.risky[i], a.last)
		}
		for i := range p.coll[:p.nc] {
			d.step(&p.coll[i], a.last)
		}
		for i := range p.repos[:p.nrepo] {
			p.repos[i] = uint32(d.Bounded("window repository", math.MaxUint32))
		}
		a.pend = p
	}
	return a
}

// raw4 reads four bytes, nil when the input ends.
func (d *decoder) raw4(what string) []byte {
	if d.Err != nil {
		return nil
	}
	if len(d.B)-d.Off < 4 {
		d.Fail(what, statecodec.ErrTruncated)
		return nil
	}
	b := d.B[d.Off : d.Off+4]
	d.Off += 4
	return b
}

// LoadState implements engine.Stateful: it restores what SaveState wrote
// into the state shared by the four detectors of one New, which must not
// have kept anything yet; call it on any one of them. On any error the
// state is left unchanged.
func (d *detector) LoadState(r io.Reader) error {
	c := d.c
	if len(c.ids) != 0 || len(c.nets) != 0 || c.nextSweep != 0 {
		return errors.New("chain: load state: the detectors have already processed events")
	}
	dec, err := readState(r, stateMagic, stateVersion)
	if err != nil {
		return fmt.Errorf("chain: load state: %w", err)
	}
	tmp := &core{seed: dec.U64("hash seed")}
	next := dec.Varint("next sweep")
	cnt := dec.Count("networks", 11, maxStateNets)
	nets := make(map[uint64]*netUse, cnt)
	for range cnt {
		k := dec.U64("network")
		u := &netUse{last: dec.Varint("network last use"), shared: dec.Bool1("network shared")}
		// An unshared network must keep room for the next identity.
		limit := uint64(maxTracked - 1)
		if u.shared {
			limit = maxTracked
		}
		u.n = int(dec.Bounded("network identities", limit))
		for i := range u.ids[:u.n] {
			u.ids[i] = uint32(dec.Bounded("network identity", math.MaxUint32))
		}
		if dec.Err != nil {
			break
		}
		nets[k] = u
	}
	cnt = dec.Count("identities", 48, maxStateIDs)
	ids := make(map[string]*ident, cnt)
	for range cnt {
		a := dec.ident(tmp)
		if dec.Err != nil {
			break
		}
		if _, dup := ids[a.key]; dup || a.key == "" {
			dec.Failf("identity %q empty or repeated", a.key)
			break
		}
		ids[a.key] = a
	}
	if err := dec.End(); err != nil {
		return fmt.Errorf("chain: load state: %w", err)
	}
	c.seed, c.nextSweep, c.nets, c.ids = tmp.seed, next, nets, ids
	return nil
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
