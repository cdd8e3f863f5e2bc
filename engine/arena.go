package engine

// arena holds the raw records of buffered events in chunks, so buffering an
// event copies its bytes without allocating. Events leave in time order, not
// in the order they were copied in, so each chunk counts the events that
// still point into it and is recycled when the count drops to zero.
type arena struct {
	size     int
	cur      *chunk   // chunk being filled
	spare    []*chunk // drained chunks kept for reuse
	live     int      // chunks holding records, cur included
	bytes    int64    // capacity of all chunks held
	maxBytes int64
}

type chunk struct {
	buf  []byte
	refs int
}

// minSpare is how many drained chunks are always kept. Beyond that, as many
// are kept as there are live chunks: events leave in bursts (a whole page
// when the watermark passes it) and must find their chunks again without
// allocating, while memory stays within twice what the lateness window
// needs and follows it down after a burst.
const minSpare = 2

// copy stores b and returns the stored copy with the chunk holding it, to be
// given back to release; nil, nil for an empty b.
func (a *arena) copy(b []byte) ([]byte, *chunk) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b) > a.size {
		// A record larger than a chunk gets a chunk of its own, dropped
		// when its event is released.
		c := a.alloc(len(b))
		c.buf = append(c.buf, b...)
		c.refs = 1
		return c.buf, c
	}
	if a.cur == nil || cap(a.cur.buf)-len(a.cur.buf) < len(b) {
		if a.cur != nil && a.cur.refs == 0 {
			a.recycle(a.cur)
		}
		a.cur = a.get()
	}
	c := a.cur
	off := len(c.buf)
	c.buf = append(c.buf, b...)
	c.refs++
	return c.buf[off:len(c.buf):len(c.buf)], c
}

// release gives back one reference taken by copy.
func (a *arena) release(c *chunk) {
	if c == nil {
		return
	}
	c.refs--
	if c.refs == 0 && c != a.cur {
		a.recycle(c)
	}
}

func (a *arena) get() *chunk {
	if n := len(a.spare); n > 0 {
		c := a.spare[n-1]
		a.spare[n-1] = nil
		a.spare = a.spare[:n-1]
		a.live++
		return c
	}
	return a.alloc(a.size)
}

func (a *arena) alloc(size int) *chunk {
	a.bytes += int64(size)
	a.maxBytes = max(a.maxBytes, a.bytes)
	a.live++
	return &chunk{buf: make([]byte, 0, size)}
}

func (a *arena) recycle(c *chunk) {
	a.live--
	keep := max(minSpare, a.live)
	for len(a.spare) > keep { // the window shrank: let surplus go
		n := len(a.spare) - 1
		a.bytes -= int64(cap(a.spare[n].buf))
		a.spare[n] = nil
		a.spare = a.spare[:n]
	}
	if cap(c.buf) == a.size && len(a.spare) < keep {
		c.buf = c.buf[:0]
		a.spare = append(a.spare, c)
		return
	}
	a.bytes -= int64(cap(c.buf))
}
