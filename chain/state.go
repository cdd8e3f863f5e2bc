package chain

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

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
	e := &encoder{buf: make([]byte, 0, 64+len(c.ids)*512+len(c.nets)*32)}
	e.header(stateMagic, stateVersion)
	e.u64(c.seed)
	e.varint(c.nextSweep)
	nets := make([]uint64, 0, len(c.nets))
	for k := range c.nets {
		nets = append(nets, k)
	}
	slices.Sort(nets)
	e.uvarint(uint64(len(nets)))
	for _, k := range nets {
		u := c.nets[k]
		e.u64(k)
		e.varint(u.last)
		e.bool1(u.shared)
		e.uvarint(uint64(u.n))
		for _, h := range u.ids[:u.n] {
			e.uvarint(uint64(h))
		}
	}
	keys := make([]string, 0, len(c.ids))
	for k := range c.ids {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.ident(c.ids[k])
	}
	if _, err := w.Write(e.buf); err != nil {
		return fmt.Errorf("chain: save state: %w", err)
	}
	return nil
}

// Times inside an identity are written relative to its last event: short
// varints instead of full nanosecond stamps. Zero stays zero (unset).
func (e *encoder) rel(t, base int64) {
	if t == 0 {
		e.byte1(0)
		return
	}
	e.byte1(1)
	e.varint(base - t)
}

func (d *decoder) rel(what string, base int64) int64 {
	switch d.byte1(what) {
	case 0:
		return 0
	case 1:
		return base - d.varint(what)
	}
	d.failf("%s: bad time marker", what)
	return 0
}

func (e *encoder) step(s *step, base int64) {
	e.rel(s.t, base)
	if s.t == 0 { // an empty slot
		return
	}
	e.str(s.id.String())
	e.byte1(uint8(s.plat))
	e.byte1(s.kinds)
	e.str(s.action)
	e.str(s.detail)
}

func (d *decoder) step(s *step, base int64) {
	s.t = d.rel("step time", base)
	if s.t == 0 {
		return
	}
	if id := d.raw("step event id", reposentry.MaxEventIDLen); len(id) > 0 {
		s.id.Set(id)
	}
	s.plat = reposentry.Platform(d.byte1("step platform"))
	s.kinds = d.byte1("step kinds")
	s.action = d.str("step action", maxStateString)
	s.detail = d.str("step detail", maxStateString)
}

func (e *encoder) ident(a *ident) {
	e.str(a.key)
	e.varint(a.last)
	e.varint(a.last - a.first)
	for _, v := range a.countries {
		e.uvarint(uint64(v))
	}
	for _, v := range a.asns {
		e.uvarint(uint64(v))
	}
	e.buf = append(e.buf, a.devs[:]...)
	nr := 0
	for _, v := range a.repos {
		if v != 0 {
			nr = len(a.repos) // a ring: write it whole once it holds anything
			break
		}
	}
	e.uvarint(uint64(nr))
	for _, v := range a.repos[:nr] {
		e.buf = append(e.buf, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	}
	e.buf = append(e.buf, a.cpos, a.apos, a.dpos, a.hpos, a.npos)
	e.uvarint(uint64(a.rpos))
	e.uvarint(uint64(a.at.cc))
	e.bool1(a.at.login)
	e.step(&a.at.s, a.last)
	e.rel(a.travelAt, a.last)
	e.rel(a.burstAt, a.last)
	e.rel(a.privAt, a.last)
	for _, h := range a.hits {
		e.rel(h.t, a.last)
		if h.t != 0 {
			e.uvarint(uint64(h.cc))
			e.uvarint(uint64(h.net))
		}
	}
	e.bool1(a.denials != nil)
	if a.denials != nil {
		for i := range a.denials {
			e.step(&a.denials[i], a.last)
		}
	}
	e.bool1(a.pend != nil)
	if p := a.pend; p != nil {
		e.rel(p.start, a.last)
		e.rel(p.until, a.last)
		e.buf = append(e.buf, p.kinds, p.lowSent, uint8(p.fired), p.stage)
		for _, v := range [...]int{p.nr, p.nc, p.total, p.nrepo, p.nonPublic} {
			e.uvarint(uint64(v))
		}
		e.bool1(p.archive)
		e.bool1(p.cred)
		for i := range p.risky[:p.nr] {
			e.step(&p.risky[i], a.last)
		}
		for i := range p.coll[:p.nc] {
			e.step(&p.coll[i], a.last)
		}
		for _, v := range p.repos[:p.nrepo] {
			e.uvarint(uint64(v))
		}
	}
}

func (d *decoder) ident(c *core) *ident {
	a := &ident{}
	a.key = d.str("identity key", maxStateString)
	a.h = c.hash(a.key)
	a.last = d.varint("last event")
	a.first = a.last - d.varint("first event")
	for i := range a.countries {
		a.countries[i] = uint16(d.bounded("country", math.MaxUint16))
	}
	for i := range a.asns {
		a.asns[i] = uint32(d.bounded("asn", math.MaxUint32))
	}
	for i := range a.devs {
		a.devs[i] = d.byte1("device")
	}
	nr := d.bounded("repositories", knownRepos)
	if nr != 0 && nr != knownRepos {
		d.failf("%d repositories of %q, want 0 or %d", nr, a.key, knownRepos)
	}
	for i := range a.repos[:nr] {
		if b := d.raw4("repository"); b != nil {
			a.repos[i] = uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		}
	}
	a.cpos = uint8(d.bounded("country position", knownPlaces-1))
	a.apos = uint8(d.bounded("asn position", knownPlaces-1))
	a.dpos = uint8(d.bounded("device position", knownPlaces-1))
	a.hpos = d.byte1("hit position")
	a.npos = uint8(d.bounded("denial position", maxDenials-1))
	a.rpos = int(d.bounded("repository position", knownRepos-1))
	a.at.cc = uint16(d.bounded("place country", math.MaxUint16))
	a.at.login = d.bool1("place sign-in")
	d.step(&a.at.s, a.last)
	a.travelAt = d.rel("travel signal", a.last)
	a.burstAt = d.rel("burst signal", a.last)
	a.privAt = d.rel("privileged signal", a.last)
	for i := range a.hits {
		h := &a.hits[i]
		h.t = d.rel("hit time", a.last)
		if h.t != 0 {
			h.cc = uint16(d.bounded("hit country", math.MaxUint16))
			h.net = uint32(d.bounded("hit network", math.MaxUint32))
		}
	}
	if d.bool1("denials") {
		a.denials = new([maxDenials]step)
		for i := range a.denials {
			d.step(&a.denials[i], a.last)
		}
	}
	if d.bool1("risky window") {
		p := &pending{}
		p.start = d.rel("window start", a.last)
		p.until = d.rel("window end", a.last)
		p.kinds = d.byte1("window kinds")
		p.lowSent = d.byte1("window signalled kinds")
		p.fired = reposentry.Severity(d.bounded("window severity", uint64(reposentry.SeverityCritical)))
		p.stage = uint8(d.bounded("window stage", 3))
		p.nr = int(d.bounded("risky steps", pendRisky))
		p.nc = int(d.bounded("collection steps", pendReads))
		p.total = int(d.bounded("collection events", math.MaxInt32))
		p.nrepo = int(d.bounded("window repositories", pendRepos))
		p.nonPublic = int(d.bounded("non-public repositories", pendRepos))
		p.archive = d.bool1("window archive")
		p.cred = d.bool1("window credential")
		for i := range p.risky[:p.nr] {
			d.step(&p.risky[i], a.last)
		}
		for i := range p.coll[:p.nc] {
			d.step(&p.coll[i], a.last)
		}
		for i := range p.repos[:p.nrepo] {
			p.repos[i] = uint32(d.bounded("window repository", math.MaxUint32))
		}
		a.pend = p
	}
	return a
}

// raw4 reads four bytes, nil when the input ends.
func (d *decoder) raw4(what string) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b)-d.off < 4 {
		d.fail(what, errTruncated)
		return nil
	}
	b := d.b[d.off : d.off+4]
	d.off += 4
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
	tmp := &core{seed: dec.u64("hash seed")}
	next := dec.varint("next sweep")
	cnt := dec.count("networks", 11, maxStateNets)
	nets := make(map[uint64]*netUse, cnt)
	for range cnt {
		k := dec.u64("network")
		u := &netUse{last: dec.varint("network last use"), shared: dec.bool1("network shared")}
		// An unshared network must keep room for the next identity.
		limit := uint64(maxTracked - 1)
		if u.shared {
			limit = maxTracked
		}
		u.n = int(dec.bounded("network identities", limit))
		for i := range u.ids[:u.n] {
			u.ids[i] = uint32(dec.bounded("network identity", math.MaxUint32))
		}
		if dec.err != nil {
			break
		}
		nets[k] = u
	}
	cnt = dec.count("identities", 48, maxStateIDs)
	ids := make(map[string]*ident, cnt)
	for range cnt {
		a := dec.ident(tmp)
		if dec.err != nil {
			break
		}
		if _, dup := ids[a.key]; dup || a.key == "" {
			dec.failf("identity %q empty or repeated", a.key)
			break
		}
		ids[a.key] = a
	}
	if err := dec.end(); err != nil {
		return fmt.Errorf("chain: load state: %w", err)
	}
	c.seed, c.nextSweep, c.nets, c.ids = tmp.seed, next, nets, ids
	return nil
}
