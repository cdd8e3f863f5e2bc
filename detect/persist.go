package detect

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"maps"
	"net/netip"
	"slices"

	"github.com/reposentry/reposentry"
)

// StateKey names the state shared by the detectors of one New call, as
// engine.Stateful reports it. The version changes with the encoding.
const StateKey = "detect/v2"

// stateMagic opens every saved state; stateVersion follows it and must equal
// the version in StateKey.
const (
	stateMagic   = "reposentry-detect-state\n"
	stateVersion = 2
)

// Bounds on what a state may hold, far above what the detectors keep with any
// sane configuration, so that a corrupt file is refused before it makes
// LoadState allocate much: lists grow only as their elements are read.
const (
	maxStateString  = 1 << 16 // bytes in one string
	maxStateActors  = 1 << 26
	maxStateCreds   = 1 << 24
	maxStateMem     = 1 << 20 // routine repositories of one identity
	maxStatePlaces  = 1 << 12 // countries, networks or credentials of one identity
	maxStateAccts   = 8       // accounts of one identity, as touch keeps them
	maxStateReads   = 1 << 20 // reads in one window, or event ids of one watch
	maxStateRepos   = 1 << 20 // repositories of one credential watch
	maxStateDeprov  = maxPendingDeprov
	maxStateCredUse = 8 // identities of one credential, as cred keeps them
	flushAt         = 32 << 10
)

// Actor flag bits in the saved state.
const (
	sfBot uint8 = 1 << iota
	sfAuto
	sfPrivileged
	sfNewJoiner
	sfActive
	sfInMap // false: an identity forgotten by ActorTTL but still named by a credential
	sfRare
)

// StateKey implements engine.Stateful: every detector of one New call
// returns the same key, since they share one state.
func (d *detector) StateKey() string { return StateKey }

// SaveState implements engine.Stateful. It writes the state shared by every
// detector of the New call, so the caller saves it once, from any of them.
// Everything that shapes later signals is kept, windows and credential
// watches included, so that a detector restored from it continues exactly as
// the one saved would have.
func (d *detector) SaveState(w io.Writer) error { return d.c.save(w) }

// LoadState implements engine.Stateful. It restores the shared state into
// every detector of the New call, so the caller loads it once, into any of
// them, before any of them has seen an event or an Advance. The detectors
// keep their own configuration: the state holds no settings.
func (d *detector) LoadState(r io.Reader) error { return d.c.load(r) }

// stateWriter appends the encoding to a buffer, flushed in chunks through a
// running checksum.
type stateWriter struct {
	w   io.Writer
	sum hash.Hash32
	buf []byte
	err error
}

func (e *stateWriter) flush() {
	if e.err == nil && len(e.buf) > 0 {
		e.sum.Write(e.buf)
		if _, err := e.w.Write(e.buf); err != nil {
			e.err = fmt.Errorf("detect: writing state: %w", err)
		}
	}
	e.buf = e.buf[:0]
}

func (e *stateWriter) uint(v uint64) {
	e.buf = binary.AppendUvarint(e.buf, v)
	if len(e.buf) >= flushAt {
		e.flush()
	}
}
func (e *stateWriter) int(v int64)  { e.buf = binary.AppendVarint(e.buf, v) }
func (e *stateWriter) byte(b uint8) { e.buf = append(e.buf, b) }
func (e *stateWriter) bytes(b []byte) {
	e.uint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}
func (e *stateWriter) str(s string) {
	e.uint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}
func (e *stateWriter) addr(ip netip.Addr) {
	b, _ := ip.MarshalBinary() // never fails
	e.bytes(b)
}

// save writes the state: the header, the clocks, pending deactivations, the
// identities, the credential watches and the credentials in use, and a
// checksum of all that.
func (c *core) save(w io.Writer) error {
	e := &stateWriter{w: w, sum: crc32.NewIEEE(), buf: make([]byte, 0, 2*flushAt)}
	if _, err := io.WriteString(w, stateMagic); err != nil {
		return fmt.Errorf("detect: writing state: %w", err)
	}
	e.uint(stateVersion)

	// Tables in a stable order, so that the same state saves to the same
	// bytes, with pointers turned into indexes.
	actors := slices.SortedFunc(maps.Values(c.actors), func(a, b *actor) int { return cmp.Compare(a.key, b.key) })
	creds := slices.SortedFunc(maps.Values(c.creds), func(a, b *credState) int { return cmp.Compare(a.key, b.key) })
	ai := make(map[*actor]int, len(actors))
	for i, a := range actors {
		ai[a] = i
	}
	inMap := len(actors)
	addActor := func(a *actor) {
		if _, ok := ai[a]; !ok {
			ai[a] = len(actors)
			actors = append(actors, a)
		}
	}
	var pends []*pending
	pi := map[*pending]int{}
	addPend := func(p *pending) {
		if _, ok := pi[p]; p != nil && !ok {
			pi[p] = len(pends)
			pends = append(pends, p)
			addActor(p.actor)
		}
	}
	for i := 0; i < inMap; i++ {
		addPend(actors[i].pend)
	}
	for _, cs := range creds {
		addPend(cs.pend)
		for _, a := range cs.actors {
			addActor(a)
		}
	}
	ref := func(p *pending) uint64 {
		if p == nil {
			return 0
		}
		return uint64(pi[p]) + 1
	}

	var fl uint8
	if c.started {
		fl = 1
	}
	e.byte(fl)
	e.int(c.dataStart)
	e.int(c.lastAdvance)
	e.int(c.lastFull)

	dk := slices.Sorted(maps.Keys(c.deprov))
	e.uint(uint64(len(dk)))
	for _, k := range dk {
		e.str(k)
		e.int(c.deprov[k].at)
		e.str(c.deprov[k].action)
	}

	e.uint(uint64(len(actors)))
	for i, a := range actors {
		e.actor(a, i < inMap, ref(a.pend))
	}

	e.uint(uint64(len(pends)))
	for _, p := range pends {
		e.int(p.start)
		e.int(p.end)
		e.str(p.action)
		e.str(p.detail)
		e.byte(uint8(p.kind))
		e.str(p.key)
		e.str(p.country)
		e.addr(p.ip)
		e.ref(p.created)
		e.uint(uint64(ai[p.actor]))
		e.uint(uint64(len(p.repos)))
		for _, r := range p.repos {
			e.str(r)
		}
		e.uint(uint64(len(p.reads)))
		for _, r := range p.reads {
			e.ref(r)
		}
		e.byte(boolByte(p.bot))
		e.byte(uint8(p.tier))
	}

	e.uint(uint64(len(creds)))
	for _, cs := range creds {
		e.str(cs.key)
		e.byte(uint8(cs.kind))
		e.byte(boolByte(cs.bot) | boolByte(cs.active)<<1)
		e.uint(uint64(len(cs.actors)))
		for _, a := range cs.actors {
			e.uint(uint64(ai[a]))
		}
		e.window(&cs.win)
		e.uint(ref(cs.pend))
	}
	e.flush()
	if e.err != nil {
		return e.err
	}
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], e.sum.Sum32())
	if _, err := w.Write(tail[:]); err != nil {
		return fmt.Errorf("detect: writing state: %w", err)
	}
	return nil
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func (e *stateWriter) ref(r evRef) {
	e.byte(uint8(r.plat))
	e.bytes(r.id.Bytes())
}

func (e *stateWriter) actor(a *actor, inMap bool, pend uint64) {
	e.str(a.key)
	var fl uint8
	for _, f := range [...]struct {
		on  bool
		bit uint8
	}{{a.bot, sfBot}, {a.auto, sfAuto}, {a.privileged, sfPrivileged}, {a.newJoiner, sfNewJoiner},
		{a.active, sfActive}, {inMap, sfInMap}, {a.rare != nil, sfRare}} {
		if f.on {
			fl |= f.bit
		}
	}
	e.byte(fl)
	e.int(a.first)
	e.int(a.last)
	autoDays, autoDay := uint8(0), int32(-1)
	if x := a.rare; x != nil {
		autoDays, autoDay = x.autoDays, x.autoDay
	}
	e.byte(autoDays)
	e.int(int64(autoDay))
	e.uint(uint64(a.hours))
	e.int(a.lastBulk)
	e.uint(uint64(a.lastBulkCount))
	e.uint(uint64(len(a.accounts)))
	for _, acc := range a.accounts {
		e.byte(uint8(acc.plat))
		e.str(acc.login)
	}
	e.uint(uint64(len(a.mem)))
	for _, m := range a.mem {
		e.buf = binary.LittleEndian.AppendUint64(e.buf, m.h)
		e.uint(uint64(m.first))
		e.uint(uint64(m.last))
	}
	// Every place is written as a name and a network key, one of them
	// empty.
	e.uint(uint64(len(a.countries)))
	for i := range a.countries {
		e.place(a.countries[i].country, 0, &a.countries[i].place)
	}
	e.uint(uint64(len(a.networks)))
	for i := range a.networks {
		e.place("", a.networks[i].key, &a.networks[i].place)
	}
	e.uint(uint64(len(a.creds)))
	for i := range a.creds {
		e.place(a.creds[i].country, 0, &a.creds[i].place)
	}
	if x := a.rare; x != nil {
		e.int(x.privAt)
		e.byte(uint8(x.privTier))
		e.str(x.owner)
		e.int(x.ownerAt)
		e.int(x.disAt)
		e.byte(uint8(x.disTier))
		e.int(x.deprovAt)
		e.str(x.deprovBy)
	}
	e.window(&a.win)
	e.uint(pend)
}

func (e *stateWriter) place(name string, key uint64, p *place) {
	e.str(name)
	e.uint(key)
	e.int(p.first)
	e.int(p.last)
	e.byte(uint8(p.sev))
	e.byte(p.unread)
	e.byte(boolByte(p.vouched))
}

// window writes the live reads, oldest first, and the episode's tier; the
// counts are rebuilt from the reads on load.
func (e *stateWriter) window(w *window) {
	e.byte(uint8(w.tier))
	reads := w.reads()
	e.uint(uint64(len(reads)))
	for i := range reads {
		r := &reads[i]
		e.int(r.t)
		e.str(r.repo)
		e.str(r.cred)
		e.str(r.country)
		e.addr(r.ip)
		e.ref(evRef{id: r.id, plat: r.plat})
		e.byte(uint8(r.kind))
		e.byte(r.flags)
		e.uint(uint64(r.tags))
	}
}

// stateReader decodes a state, keeping the first error; after one every read
// returns zero values, so decoding stops at the next check.
type stateReader struct {
	r *bufio.Reader
	// crc is the running IEEE CRC-32 of what was read, inverted (the
	// table-driven register), so that bytes fold in without a call.
	crc  uint32
	err  error
	strs map[string]string // one copy of each string read (repositories recur)
	tmp  []byte
}

func (d *stateReader) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("detect: loading state: "+format, args...)
	}
}

// ReadByte feeds the checksum; binary.ReadUvarint reads through it.
func (d *stateReader) ReadByte() (byte, error) {
	b, err := d.r.ReadByte()
	if err == nil {
		d.crc = crc32.IEEETable[byte(d.crc)^b] ^ d.crc>>8
	}
	return b, err
}

func (d *stateReader) eof(err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		d.fail("truncated")
		return
	}
	d.fail("%v", err)
}

func (d *stateReader) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d)
	if err != nil {
		d.eof(err)
	}
	return v
}

func (d *stateReader) int() int64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(d)
	if err != nil {
		d.eof(err)
	}
	return v
}

func (d *stateReader) byte() uint8 {
	if d.err != nil {
		return 0
	}
	b, err := d.ReadByte()
	if err != nil {
		d.eof(err)
	}
	return b
}

// count reads a length and refuses one above max.
func (d *stateReader) count(what string, max int) int {
	n := d.uint()
	if n > uint64(max) {
		d.fail("%s: %d is more than the %d allowed", what, n, max)
		return 0
	}
	return int(n)
}

// raw reads n bytes into a buffer reused by the next call.
func (d *stateReader) raw(what string, max int) []byte {
	n := d.count(what, max)
	if d.err != nil {
		return nil
	}
	if cap(d.tmp) < n {
		d.tmp = make([]byte, n)
	}
	b := d.tmp[:n]
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.eof(err)
		return nil
	}
	d.sumBytes(b)
	return b
}

func (d *stateReader) sumBytes(b []byte) { d.crc = ^crc32.Update(^d.crc, crc32.IEEETable, b) }

func (d *stateReader) str(what string) string {
	b := d.raw(what, maxStateString)
	if len(b) == 0 {
		return ""
	}
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	d.strs[s] = s
	return s
}

func (d *stateReader) addr() netip.Addr {
	var ip netip.Addr
	if b := d.raw("address", 16+maxStateString); d.err == nil {
		if err := ip.UnmarshalBinary(b); err != nil {
			d.fail("address %x: %v", b, err)
		}
	}
	return ip
}

func (d *stateReader) ref() evRef {
	var r evRef
	r.plat = d.platform()
	if b := d.raw("event id", reposentry.MaxEventIDLen); d.err == nil {
		r.id.Set(b)
	}
	return r
}

func (d *stateReader) platform() reposentry.Platform {
	p := d.byte()
	if p > uint8(reposentry.PlatformEntra) {
		d.fail("platform %d is unknown", p)
	}
	return reposentry.Platform(p)
}

func (d *stateReader) severity() reposentry.Severity {
	s := d.byte()
	if s > uint8(reposentry.SeverityCritical) {
		d.fail("severity %d is unknown", s)
	}
	return reposentry.Severity(s)
}

func (d *stateReader) kind() reposentry.CredentialKind {
	k := d.byte()
	if k > uint8(reposentry.CredentialDeployKey) {
		d.fail("credential kind %d is unknown", k)
	}
	return reposentry.CredentialKind(k)
}

// load replaces the state of a core that has seen nothing with a saved one.
// On error the core is left as it was.
func (c *core) load(r io.Reader) error {
	if c.started || c.lastEv != nil || c.lastAdvance != 0 || len(c.actors) > 0 || len(c.deprov) > 0 {
		return errors.New("detect: loading state: the detectors have already seen events or a state; load into fresh ones from detect.New")
	}
	d := &stateReader{r: bufio.NewReader(r), crc: ^uint32(0), strs: map[string]string{}}
	magic := make([]byte, len(stateMagic))
	if _, err := io.ReadFull(d.r, magic); err != nil || string(magic) != stateMagic {
		return fmt.Errorf("detect: loading state: want a state starting %q, found %q", stateMagic, magic)
	}
	if v := d.uint(); d.err == nil && v != stateVersion {
		return fmt.Errorf("detect: loading state: version %d, want %d (%s)", v, stateVersion, StateKey)
	}
	n := newCore(c.cfg) // the caller's settings, applied afresh

	fl := d.byte()
	n.started = fl&1 != 0
	n.dataStart = d.int()
	n.lastAdvance = d.int()
	n.lastFull = d.int()

	for range d.count("pending deactivations", maxStateDeprov) {
		k := d.str("deactivated name")
		n.deprov[k] = deprov{at: d.int(), action: d.str("deactivation")}
	}

	actors, pendRefs := d.actors(n)
	if d.err != nil {
		return d.err
	}
	pends := d.pendings(actors)
	for i, pr := range pendRefs {
		if pr > uint64(len(pends)) {
			d.fail("identity %q: credential watch %d of %d", actors[i].key, pr, len(pends))
			break
		}
		if pr > 0 {
			actors[i].pend = pends[pr-1]
		}
	}
	d.creds(n, actors, pends)

	if d.err != nil {
		return d.err
	}
	want := ^d.crc
	var tail [4]byte
	if _, err := io.ReadFull(d.r, tail[:]); err != nil {
		return errors.New("detect: loading state: truncated before its checksum")
	}
	if got := binary.BigEndian.Uint32(tail[:]); got != want {
		return fmt.Errorf("detect: loading state: checksum %08x, computed %08x: the state is corrupt", got, want)
	}
	if _, err := d.r.ReadByte(); err != io.EOF {
		return errors.New("detect: loading state: data after the checksum")
	}
	*c = *n
	return nil
}

// actors reads the identities into n, returning them in saved order with
// the index+1 of each one's credential watch (0: none).
func (d *stateReader) actors(n *core) ([]*actor, []uint64) {
	cnt := d.count("identities", maxStateActors)
	var actors []*actor
	var pendRefs []uint64
	for i := 0; i < cnt && d.err == nil; i++ {
		a := &actor{key: d.str("identity")}
		fl := d.byte()
		a.bot, a.auto, a.privileged = fl&sfBot != 0, fl&sfAuto != 0, fl&sfPrivileged != 0
		a.newJoiner, a.active = fl&sfNewJoiner != 0, fl&sfActive != 0
		a.first, a.last = d.int(), d.int()
		autoDays, day := d.byte(), d.int()
		if int64(int32(day)) != day {
			d.fail("identity %q: day %d out of range", a.key, day)
		}
		if autoDays != 0 || day != -1 {
			x := a.extra()
			x.autoDays, x.autoDay = autoDays, int32(day)
		}
		hours := d.uint()
		if hours >= 1<<24 {
			d.fail("identity %q: hours %#x name more than 24 hours", a.key, hours)
		}
		a.hours = uint32(hours)
		a.lastBulk = d.int()
		a.lastBulkCount = int32(d.count("bulk read repositories", maxStateReads))
		for range d.count("accounts", maxStateAccts) {
			a.accounts = append(a.accounts, account{plat: d.platform(), login: d.str("login")})
		}
		d.mem(a)
		a.countries = d.namedPlaces()
		a.networks = d.networks()
		a.creds = d.namedPlaces()
		if fl&sfRare != 0 {
			x := a.extra()
			x.privAt, x.privTier = d.int(), d.severity()
			x.owner, x.ownerAt = d.str("owner"), d.int()
			x.disAt, x.disTier = d.int(), d.severity()
			x.deprovAt, x.deprovBy = d.int(), d.str("deactivation")
		}
		d.window(&a.win, n.cfg.MaxWindowReads)
		pr := d.uint()
		if d.err != nil {
			break
		}
		if fl&sfInMap != 0 {
			if n.actors[a.key] != nil {
				d.fail("identity %q saved twice", a.key)
				break
			}
			n.actors[a.key] = a
		}
		if a.active {
			n.active = append(n.active, a)
		}
		actors, pendRefs = append(actors, a), append(pendRefs, pr)
	}
	return actors, pendRefs
}

// place reads one place of a list: its name and its network key.
func (d *stateReader) place() (string, uint64, place) {
	name, key := d.str("place"), d.uint()
	p := place{first: d.int(), last: d.int(), sev: d.severity(), unread: d.byte()}
	switch v := d.byte(); v {
	case 0, 1:
		p.vouched = v == 1
	default:
		d.fail("place %q: vouched flag %d is neither 0 nor 1", name, v)
	}
	return name, key, p
}

// namedPlaces reads a list of countries or credentials.
func (d *stateReader) namedPlaces() []namedPlace {
	var l []namedPlace
	for range d.count("places", maxStatePlaces) {
		name, key, p := d.place()
		if key != 0 && d.err == nil {
			d.fail("place %q has network key %#x", name, key)
		}
		l = append(l, namedPlace{place: p, country: name})
	}
	return fit(l)
}

// networks reads a list of networks.
func (d *stateReader) networks() []network {
	var l []network
	for range d.count("places", maxStatePlaces) {
		name, key, p := d.place()
		if name != "" && d.err == nil {
			d.fail("network %#x named %q", key, name)
		}
		l = append(l, network{place: p, key: key})
	}
	return fit(l)
}

// fit returns s in an allocation of its length when append's doubling left
// much of it unused: restored lists are kept for as long as the identity.
func fit[T any](s []T) []T {
	if cap(s)-len(s) <= len(s)/8 {
		return s
	}
	return slices.Clone(s)
}

// mem reads the routine memory, which must be sorted by hash for the
// binary search that looks it up.
func (d *stateReader) mem(a *actor) {
	var b [8]byte
	for i := range d.count("routine repositories", maxStateMem) {
		if d.err != nil {
			return
		}
		if _, err := io.ReadFull(d.r, b[:]); err != nil {
			d.eof(err)
			return
		}
		d.sumBytes(b[:])
		m := memEntry{h: binary.LittleEndian.Uint64(b[:])}
		first, last := d.uint(), d.uint()
		if first > 1<<32-1 || last > 1<<32-1 {
			d.fail("identity %q: routine repository time %d or %d out of range", a.key, first, last)
			return
		}
		m.first, m.last = uint32(first), uint32(last)
		if i > 0 && a.mem[i-1].h >= m.h {
			d.fail("identity %q: routine repositories not sorted", a.key)
			return
		}
		a.mem = append(a.mem, m)
	}
	a.mem = fit(a.mem)
}

// window reads a window's reads and tier, rebuilding its counts by pushing
// the reads again.
func (d *stateReader) window(w *window, max int) {
	tier := d.severity()
	var r read
	for range d.count("window reads", maxStateReads) {
		r.t = d.int()
		r.repo, r.cred, r.country = d.str("repository"), d.str("credential"), d.str("country")
		r.ip = d.addr()
		ref := d.ref()
		r.id, r.plat = ref.id, ref.plat
		r.kind, r.flags = d.kind(), d.byte()
		tags := d.uint()
		if tags > 1<<16-1 {
			d.fail("repository tags %#x out of range", tags)
		}
		r.tags = reposentry.RepoTags(tags)
		if d.err != nil {
			return
		}
		w.push(&r, max)
	}
	w.tier = tier
}

// pendings reads the credential watches.
func (d *stateReader) pendings(actors []*actor) []*pending {
	var out []*pending
	for range d.count("credential watches", maxStateActors) {
		p := &pending{start: d.int(), end: d.int(), action: d.str("credential action"), detail: d.str("detail"),
			kind: d.kind(), key: d.str("credential"), country: d.str("country"), ip: d.addr(), created: d.ref()}
		ai := d.uint()
		if d.err == nil && ai >= uint64(len(actors)) {
			d.fail("credential watch: identity %d of %d", ai, len(actors))
		}
		if d.err != nil {
			return nil
		}
		p.actor = actors[ai]
		for range d.count("watched repositories", maxStateRepos) {
			p.repos = append(p.repos, d.str("repository"))
		}
		for range d.count("watched reads", maxStateReads) {
			p.reads = append(p.reads, d.ref())
		}
		p.bot, p.tier = d.byte() != 0, d.severity()
		if d.err != nil {
			return nil
		}
		out = append(out, p)
	}
	return out
}

// creds reads the credentials in use into n.
func (d *stateReader) creds(n *core, actors []*actor, pends []*pending) {
	for range d.count("credentials", maxStateCreds) {
		cs := &credState{key: d.str("credential"), kind: d.kind()}
		fl := d.byte()
		cs.bot, cs.active = fl&1 != 0, fl&2 != 0
		for range d.count("credential identities", maxStateCredUse) {
			ai := d.uint()
			if d.err == nil && ai >= uint64(len(actors)) {
				d.fail("credential %q: identity %d of %d", cs.key, ai, len(actors))
			}
			if d.err != nil {
				return
			}
			cs.actors = append(cs.actors, actors[ai])
		}
		d.window(&cs.win, n.cfg.MaxWindowReads)
		pr := d.uint()
		if d.err == nil && pr > uint64(len(pends)) {
			d.fail("credential %q: credential watch %d of %d", cs.key, pr, len(pends))
		}
		if d.err != nil {
			return
		}
		if pr > 0 {
			cs.pend = pends[pr-1]
		}
		if n.creds[cs.key] != nil {
			d.fail("credential %q saved twice", cs.key)
			return
		}
		n.creds[cs.key] = cs
		if cs.active {
			n.activeCred = append(n.activeCred, cs)
		}
	}
}
