// Package intern deduplicates the low-cardinality strings of the hot path
// (actors, repositories, organisations, actions, countries) so that parsing a
// record allocates nothing once its values have been seen, and so that state
// kept by detections does not pin the parsers' reused buffers.
package intern

// Table maps byte strings to one shared string. It is not safe for
// concurrent use; give each parsing goroutine its own.
type Table struct {
	m   map[string]string
	max int
}

// New returns a table that forgets everything once it holds max entries, so
// a stream of unique values (ids, timestamps wrongly interned) cannot grow it
// without bound. Strings already handed out stay valid.
func New(max int) *Table {
	if max <= 0 {
		max = 1 << 16
	}
	return &Table{m: make(map[string]string, 1024), max: max}
}

// Bytes returns the shared string equal to b, allocating only the first time
// a value is seen.
func (t *Table) Bytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := t.m[string(b)]; ok { // no allocation: the compiler special-cases this lookup
		return s
	}
	if len(t.m) >= t.max {
		clear(t.m)
	}
	s := string(b)
	t.m[s] = s
	return s
}

// String returns the shared copy of s.
func (t *Table) String(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := t.m[s]; ok {
		return v
	}
	if len(t.m) >= t.max {
		clear(t.m)
	}
	t.m[s] = s
	return s
}

// Len reports how many strings the table holds.
func (t *Table) Len() int { return len(t.m) }
