package engine

import (
	"time"

	"github.com/reposentry/reposentry"
)

// Engine puts events in event-time order and runs the detectors over them.
//
// # Ordering
//
// Push holds each event in a min-heap keyed by (event time, id hash, arrival
// sequence) until the watermark — the newest event time pushed minus
// Config.Lateness — passes it; events are then released in key order to the
// detectors. An event is late when its time is already behind the watermark
// at arrival: it is processed at once (never dropped) and counted in
// Stats.Late.
//
// Guarantee: if no event is late, that is every event arrives at most
// Lateness behind the newest event time pushed before it, the detectors see
// exactly the events sorted by the key, whatever their arrival order. Proof:
// an event with time t that is not late has t ≥ watermark, and everything
// released so far had a time below the watermark, hence a smaller key; so
// each event takes its sorted place. The key's second part is a hash of
// (platform, id), not arrival, so that events sharing a timestamp also come
// out in the same order (an id seen twice is a duplicate: the first copy to
// arrive is kept); events without id are keyed by a hash of their raw record
// and arrival only separates identical ones. Detectors being
// deterministic functions of the sequence of Process and Advance calls, the
// same events give the same signals in the same order, sorted or in
// newest-first pages or in hourly files read in any order; and the risk
// stage, fed the same signals in the same order, raises the same alerts.
//
// Advance is derived from the released events' times only (the first event
// in each new Tick interval advances the detectors to that interval's
// start), so it too is independent of arrival order, and it never goes
// back: a late event is processed without Advance.
//
// # Memory
//
// The engine holds the events within the lateness window (a slab of events
// reused through a free list, their raw records in arena chunks of
// Config.ChunkSize recycled once every event in them is released) and the id
// hashes of one to one and a half dedup windows (a hash table of 16-byte
// entries, at most half full, resized as the live ids call for). Neither
// grows with the total number of events; the detectors' own state grows
// with the active actors. After warm-up, Push and release allocate nothing.
//
// An Engine is not safe for concurrent use.
type Engine struct {
	cfg       Config
	detectors []Detector
	emit      func(reposentry.Signal)

	lateness int64 // ns
	tickNS   int64
	dedupOn  bool

	slots []slot // buffered events, addressed by heap items
	free  []int32
	heap  []item
	arena arena
	dedup dedup

	seq      uint64
	maxSeen  int64 // newest event time accepted
	released int64 // watermark: events before it were released; newer ones are buffered
	tick     int64 // time of the last Advance
	last     int64 // newest event time processed
	first    int64 // earliest event time accepted
	stats    Stats
	cur      *reposentry.Event // the event being processed, for emit
}

// Stats counts what the engine did.
type Stats struct {
	Pushed     int64 // events given to Push
	Duplicates int64 // dropped as repeats within the dedup window
	Late       int64 // arrived behind the watermark; processed at once
	Processed  int64 // events given to the detectors
	Signals    int64 // signals the detectors emitted
	Advances   int64 // Advance rounds sent to the detectors

	Buffered      int   // events held now, waiting for the watermark
	MaxBuffered   int   // most events held at once
	ArenaBytes    int64 // bytes of raw-record chunks held now
	MaxArenaBytes int64 // most bytes of chunks held at once
	DedupIDs      int   // id hashes remembered now

	// First and Last are the earliest and latest event times accepted
	// (not duplicates); zero before the first event.
	First, Last time.Time
}

type slot struct {
	ev    reposentry.Event
	chunk *chunk // holds ev.Raw; nil when Raw is empty
}

// item orders buffered events; see Engine.
type item struct {
	t   int64
	h   uint64
	seq uint64
	idx int32
}

func (a *item) less(b *item) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	if a.h != b.h {
		return a.h < b.h
	}
	return a.seq < b.seq
}

// New returns an engine that runs detectors over the events pushed to it and
// passes their signals to emit. Zero fields of cfg take their defaults (see
// Config).
func New(cfg Config, detectors []Detector, emit func(reposentry.Signal)) *Engine {
	cfg = cfg.WithDefaults()
	e := &Engine{
		cfg:       cfg,
		detectors: detectors,
		lateness:  int64(cfg.Lateness),
		tickNS:    int64(cfg.Tick),
		dedupOn:   cfg.DedupWindow > 0,
		arena:     arena{size: cfg.ChunkSize},
		maxSeen:   minTime,
		released:  minTime,
		tick:      minTime,
		last:      minTime,
		first:     maxTime,
	}
	if e.dedupOn {
		e.dedup.init(int64(cfg.DedupWindow))
	}
	// One closure for the engine's life, so passing emit to detectors
	// allocates nothing per event.
	e.emit = func(s reposentry.Signal) {
		e.stats.Signals++
		if s.Credential == "" && e.cur != nil {
			s.Credential = credentialOf(e.cur, s.Entity.ID)
		}
		if emit != nil {
			emit(s)
		}
	}
	return e
}

// Push accepts one event. The engine copies the event, Raw included, so the
// caller may reuse ev and its buffers as soon as Push returns. Push may run
// detectors (on this event if it is late, and on the buffered events the new
// watermark releases).
func (e *Engine) Push(ev *reposentry.Event) {
	e.stats.Pushed++
	t := unixNano(ev.Time)
	h, hasID := eventHash(ev)
	newest := max(t, e.maxSeen)
	if e.dedupOn && hasID && e.dedup.seen(h, t, newest) {
		e.stats.Duplicates++
		return
	}
	e.maxSeen = newest
	e.first = min(e.first, t)
	if t < e.released {
		e.stats.Late++
		e.process(ev, t)
		return
	}
	e.buffer(ev, t, h)
	if wm := e.maxSeen - e.lateness; wm > e.released {
		e.released = wm
		e.release(wm)
	}
}

// Flush releases every buffered event in order and then advances the
// detectors to the last event time plus Config.FlushMargin, so that every
// window closes and its pending signals are emitted. Call it at the end of
// the input. Events pushed after Flush are processed as late.
func (e *Engine) Flush() {
	e.released = maxTime
	e.release(maxTime)
	if e.last == minTime {
		return
	}
	now := e.last + int64(e.cfg.FlushMargin)
	if now > e.tick {
		e.advance(now)
	}
}

// Stats returns the counts so far.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Buffered = len(e.heap)
	s.ArenaBytes = e.arena.bytes
	s.MaxArenaBytes = e.arena.maxBytes
	s.DedupIDs = e.dedup.len()
	if e.stats.Pushed > e.stats.Duplicates {
		s.First = time.Unix(0, e.first).UTC()
		s.Last = time.Unix(0, e.maxSeen).UTC()
	}
	return s
}

// buffer copies ev into a free slot and its raw record into the arena.
func (e *Engine) buffer(ev *reposentry.Event, t int64, h uint64) {
	var idx int32
	if n := len(e.free); n > 0 {
		idx = e.free[n-1]
		e.free = e.free[:n-1]
	} else {
		e.slots = append(e.slots, slot{})
		idx = int32(len(e.slots) - 1)
	}
	s := &e.slots[idx]
	s.ev = *ev
	s.ev.Raw, s.chunk = e.arena.copy(ev.Raw)
	e.seq++
	e.heapPush(item{t: t, h: h, seq: e.seq, idx: idx})
	if n := len(e.heap); n > e.stats.MaxBuffered {
		e.stats.MaxBuffered = n
	}
}

// release processes, in key order, the buffered events older than wm.
func (e *Engine) release(wm int64) {
	for len(e.heap) > 0 && e.heap[0].t < wm {
		it := e.heapPop()
		s := &e.slots[it.idx]
		e.process(&s.ev, it.t)
		e.arena.release(s.chunk)
		*s = slot{} // drop references so released memory can be collected
		e.free = append(e.free, it.idx)
	}
}

func (e *Engine) process(ev *reposentry.Event, t int64) {
	if b := floorTo(t, e.tickNS); b > e.tick {
		e.advance(b)
	}
	if t > e.last {
		e.last = t
	}
	e.stats.Processed++
	e.cur = ev
	for _, d := range e.detectors {
		d.Process(ev, e.emit)
	}
	e.cur = nil
}

// credentialOf names the credential ev used, as "<kind>:<key>", for a signal
// about entity raised while processing ev: the risk stage accumulates risk
// per credential as well as per identity. Empty when the signal is about
// someone else, for sessions, and for app tokens, which rotate hourly.
func credentialOf(ev *reposentry.Event, entity string) string {
	k := ev.Credential.Key()
	if k == "" || ev.Credential.Kind == reposentry.CredentialApp || entity != ev.ActorKey() {
		return ""
	}
	return ev.Credential.Kind.String() + ":" + k
}

func (e *Engine) advance(now int64) {
	e.tick = now
	e.stats.Advances++
	at := time.Unix(0, now).UTC()
	for _, d := range e.detectors {
		d.Advance(at, e.emit)
	}
}

func (e *Engine) heapPush(it item) {
	e.heap = append(e.heap, it)
	h := e.heap
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].less(&h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (e *Engine) heapPop() item {
	h := e.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	e.heap = h
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h[r].less(&h[l]) {
			m = r
		}
		if !h[m].less(&h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top
}

// Event times are clamped to ±2^62 ns (years 1824 to 2116) so that adding or
// subtracting a configured duration (at most 2^61) cannot overflow.
const (
	minTime = -(1 << 62)
	maxTime = 1 << 62
)

func unixNano(t time.Time) int64 {
	const limit = maxTime / 1_000_000_000
	s := t.Unix()
	switch {
	case s <= -limit:
		return minTime
	case s >= limit:
		return maxTime
	}
	return s*1e9 + int64(t.Nanosecond())
}

// floorTo rounds t down to a multiple of step, also for negative t.
func floorTo(t, step int64) int64 {
	r := t % step
	if r < 0 {
		r += step
	}
	return t - r
}

// eventHash returns a hash of the event's platform and id, and whether the
// event has an id. An event without one is hashed by its raw record, which
// keeps ties between such events independent of arrival order.
func eventHash(ev *reposentry.Event) (uint64, bool) {
	h := uint64(fnvOffset)
	h = (h ^ uint64(ev.Platform)) * fnvPrime
	if !ev.ID.IsZero() {
		return fnvBytes(h, ev.ID.Bytes()), true
	}
	return fnvBytes(h, ev.Raw), false
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnvBytes continues an FNV-1a hash: stable across runs, unlike maphash,
// which keeps the tie order of equal timestamps reproducible.
func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}
