package detect

import (
	"net/netip"

	"github.com/reposentry/reposentry"
)

// read is one counted repository read kept in a window; everything a signal
// needs later is copied in, since the event itself is reused.
type read struct {
	t       int64 // unix nanoseconds
	repo    string
	cred    string
	country string
	ip      netip.Addr
	id      reposentry.EventID
	plat    reposentry.Platform
	kind    reposentry.CredentialKind
	flags   uint8
	tags    reposentry.RepoTags
}

const (
	flagNonPublic uint8 = 1 << iota
	flagArchive
	// flagNovel marks a read from a place or with a credential first seen
	// after the identity's learning period.
	flagNovel
	// flagSensitive marks a read of a repository tagged secrets, signing or
	// infrastructure (see sensitiveTags).
	flagSensitive
)

// repoCount is how many reads of one repository a window holds.
type repoCount struct {
	n, archives, novel uint32
	nonPublic          bool
	sensitive          bool // non-public and sensitive
}

// window counts the distinct repositories read in a sliding event-time
// window. The queue and map are reused across episodes and released only when
// the owner goes idle, so steady-state pushes allocate nothing; an idle
// window is 64 bytes of counts and nil pointers.
type window struct {
	q    *readQueue // nil while released
	refs map[string]repoCount
	// distinct, nonPublic, archives and novel count distinct repositories
	// (all, non-public, non-public downloaded as archive, non-public read
	// at least once in a novel context) in the window.
	distinct, nonPublic, archives, novel int
	// sensitive and sensNovel count the distinct non-public sensitive
	// repositories among nonPublic and novel, which bulk_read weighs more.
	sensitive, sensNovel int32
	// tier is the highest severity signalled in this episode; it resets when
	// the window empties, so a later spree signals again.
	tier reposentry.Severity
}

// readQueue holds a window's reads, oldest first from head.
type readQueue struct {
	buf  []read
	head int
}

func (w *window) len() int {
	if w.q == nil {
		return 0
	}
	return len(w.q.buf) - w.q.head
}

// push adds r, dropping the oldest read first when max reads are held.
func (w *window) push(r *read, max int) {
	if w.q == nil {
		w.q = &readQueue{}
	}
	if w.refs == nil {
		w.refs = make(map[string]repoCount, 16)
	}
	if w.len() >= max {
		w.pop()
	}
	q := w.q
	if q.head > 0 && len(q.buf) == cap(q.buf) {
		// Slide the live reads to the front instead of growing.
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf = q.buf[:n]
		q.head = 0
	}
	q.buf = append(q.buf, *r)
	c := w.refs[r.repo]
	if c.n == 0 {
		w.distinct++
		c.nonPublic = r.flags&flagNonPublic != 0
		c.sensitive = c.nonPublic && r.flags&flagSensitive != 0
		if c.nonPublic {
			w.nonPublic++
		}
		if c.sensitive {
			w.sensitive++
		}
	}
	c.n++
	if r.flags&flagArchive != 0 {
		if c.archives == 0 && c.nonPublic {
			w.archives++
		}
		c.archives++
	}
	if r.flags&flagNovel != 0 {
		if c.novel == 0 && c.nonPublic {
			w.novel++
			if c.sensitive {
				w.sensNovel++
			}
		}
		c.novel++
	}
	w.refs[r.repo] = c
}

// pop removes the oldest read.
func (w *window) pop() {
	q := w.q
	r := &q.buf[q.head]
	c := w.refs[r.repo]
	c.n--
	if r.flags&flagArchive != 0 {
		c.archives--
		if c.archives == 0 && c.nonPublic {
			w.archives--
		}
	}
	if r.flags&flagNovel != 0 {
		c.novel--
		if c.novel == 0 && c.nonPublic {
			w.novel--
			if c.sensitive {
				w.sensNovel--
			}
		}
	}
	if c.n == 0 {
		delete(w.refs, r.repo)
		w.distinct--
		if c.nonPublic {
			w.nonPublic--
		}
		if c.sensitive {
			w.sensitive--
		}
	} else {
		w.refs[r.repo] = c
	}
	*r = read{} // drop string references
	q.head++
	if q.head == len(q.buf) {
		q.buf = q.buf[:0]
		q.head = 0
	}
}

// expire drops reads older than cutoff and resets the episode when the window
// empties.
func (w *window) expire(cutoff int64) {
	for w.len() > 0 && w.q.buf[w.q.head].t < cutoff {
		w.pop()
	}
	if w.len() == 0 {
		w.tier = reposentry.SeverityInfo
	}
}

// release frees the buffers of an empty window.
func (w *window) release() {
	if w.len() == 0 {
		w.q, w.refs = nil, nil
	}
}

// weighted returns the window's non-public and novel counts with each
// sensitive repository counted weight times.
func (w *window) weighted(weight int) (nonPublic, novel int) {
	return w.nonPublic + (weight-1)*int(w.sensitive), w.novel + (weight-1)*int(w.sensNovel)
}

// reads returns the reads in the window, oldest first.
func (w *window) reads() []read {
	if w.q == nil {
		return nil
	}
	return w.q.buf[w.q.head:]
}
