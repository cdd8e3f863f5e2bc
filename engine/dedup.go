package engine

// dedup remembers the id hashes of recent events. Time is cut into buckets
// of half the dedup window and the last dedupBuckets buckets, counted from
// the newest event time, are live: an id is thus remembered for between one
// and one and a half windows, and memory is bounded by the events of that
// span.
//
// The hashes sit in one open-addressing table (linear probing) of entries
// tagged with their bucket, so a lookup costs about one cache miss, where a
// set per bucket would cost one per bucket. Entries of buckets that fell out
// of the ring are dead: lookups step over them and inserts reuse them. When
// occupied slots pass half the table, live entries are copied into a second
// table kept for the purpose (doubled or halved only when the live count
// calls for it), so steady state allocates nothing.
type dedup struct {
	width  int64 // bucket width, ns
	newest int64 // newest bucket number
	tab    []dedupEntry
	spare  []dedupEntry // rebuild target, same length as tab once used
	used   int          // non-empty slots, dead ones included
	counts [dedupBuckets]int
}

// dedupEntry is a remembered hash; h == 0 marks an empty slot.
type dedupEntry struct {
	h uint64
	b int64 // bucket number
}

const (
	dedupBuckets  = 3
	minDedupSlots = 1 << 10
)

func (d *dedup) init(window int64) {
	d.width = max(window/(dedupBuckets-1), 1)
	d.newest = minTime
	d.tab = make([]dedupEntry, minDedupSlots)
}

// seen reports whether h is remembered in a live bucket, and remembers it
// under the bucket of t if not; newest is the newest event time, t included.
func (d *dedup) seen(h uint64, t, newest int64) bool {
	if h == 0 {
		h = 1 // 0 marks empty slots
	}
	if nb := floorDiv(newest, d.width); nb > d.newest {
		for b := max(d.newest+1, nb-dedupBuckets+1); b <= nb; b++ {
			d.counts[bucketSlot(b)] = 0 // the bucket that slot held fell out of the ring
		}
		d.newest = nb
	}
	oldest := d.newest - dedupBuckets + 1
	mask := len(d.tab) - 1
	for i := int(h) & mask; d.tab[i].h != 0; i = (i + 1) & mask {
		if e := &d.tab[i]; e.h == h && e.b >= oldest {
			return true
		}
	}
	if 2*(d.used+1) > len(d.tab) {
		d.rebuild(oldest)
		mask = len(d.tab) - 1
	}
	// An event older than the ring is remembered in its oldest bucket.
	b := max(floorDiv(t, d.width), oldest)
	d.counts[bucketSlot(b)]++
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := &d.tab[i]
		if e.h == 0 {
			d.used++
		} else if e.b >= oldest {
			continue
		}
		*e = dedupEntry{h: h, b: b}
		return false
	}
}

// rebuild copies the live entries into a table sized for them: the same
// size when they fill a quarter or less of it and more than an eighth,
// else doubled or halved.
func (d *dedup) rebuild(oldest int64) {
	live := d.len()
	n := len(d.tab)
	switch {
	case live*4 > n:
		n *= 2
	case live*8 < n && n > minDedupSlots:
		n /= 2
	}
	if len(d.spare) != n {
		d.spare = make([]dedupEntry, n)
	} else {
		clear(d.spare)
	}
	mask := n - 1
	for _, e := range d.tab {
		if e.h == 0 || e.b < oldest {
			continue
		}
		i := int(e.h) & mask
		for d.spare[i].h != 0 {
			i = (i + 1) & mask
		}
		d.spare[i] = e
	}
	d.tab, d.spare = d.spare, d.tab
	if len(d.spare) != len(d.tab) {
		d.spare = nil // sized anew at the next rebuild
	}
	d.used = live
}

// len returns the number of ids remembered in live buckets.
func (d *dedup) len() int {
	n := 0
	for _, c := range d.counts {
		n += c
	}
	return n
}

func bucketSlot(b int64) int { return int(b - floorTo(b, dedupBuckets)) }

// floorDiv divides rounding toward negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
