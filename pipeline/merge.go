package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/source"
)

// plan is what the pre-scan learnt about one input.
type plan struct {
	in       source.Input
	ord      int // position among the inputs, to break ties
	min, max time.Time
	hasTimes bool // the pre-scan found at least one event time
	ordered  bool // every event within the lateness of the newest before it
	// unscanned marks inputs that cannot be read twice (stdin, pipes).
	unscanned bool
}

// prescan learns each input's time range and order, reading files in
// parallel with one parser per worker, and returns the plans sorted for the
// merge: unscanned inputs and files without events first (they cannot be
// placed), then files by earliest event time.
func (h *hunt) prescan(inputs []source.Input) ([]plan, error) {
	plans := make([]plan, len(inputs))
	var jobs []int
	for i, in := range inputs {
		plans[i] = plan{in: in, ord: i, unscanned: !canPrescan(in)}
		if !plans[i].unscanned {
			jobs = append(jobs, i)
			h.total += max(in.Size, 0)
			if h.cfg.PrescanSample <= 0 {
				h.total += max(in.Size, 0) // read whole by the pre-scan too
			}
		} else {
			h.total += max(in.Size, 0)
		}
	}
	if err := h.scanAll(plans, jobs); err != nil {
		return nil, err
	}
	slices.SortStableFunc(plans, func(a, b plan) int {
		ka, kb := a.hasTimes && !a.unscanned, b.hasTimes && !b.unscanned
		switch {
		case ka != kb:
			if !ka {
				return -1
			}
			return 1
		case !ka:
			return a.ord - b.ord
		}
		if c := a.min.Compare(b.min); c != 0 {
			return c
		}
		return a.ord - b.ord
	})
	return plans, nil
}

// scanAll runs scanFile over plans[jobs] on up to GOMAXPROCS goroutines,
// reporting progress from this goroutine while they run.
func (h *hunt) scanAll(plans []plan, jobs []int) error {
	if len(jobs) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	lateness := h.cfg.Engine.WithDefaults().Lateness
	var (
		read     atomic.Int64 // bytes read by the workers so far
		next     atomic.Int64 // index into jobs of the next file to scan
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	workers := min(runtime.GOMAXPROCS(0), len(jobs))
	for range workers {
		wg.Go(func() {
			p := h.cfg.NewParser()
			for {
				j := int(next.Add(1) - 1)
				if j >= len(jobs) || ctx.Err() != nil {
					return
				}
				pl := &plans[jobs[j]]
				if err := scanFile(ctx, p, pl, lateness, h.cfg.PrescanSample, h.cfg.Source, &read); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			if h.cfg.PrescanSample <= 0 { // a sample's few bytes are not counted in the total
				h.doneBytes += read.Load()
			}
			if firstErr != nil {
				return firstErr
			}
			if err := h.ctx.Err(); err != nil {
				return fmt.Errorf("pipeline: hunt stopped: %w", err)
			}
			h.progress()
			return nil
		case <-tick.C:
			if h.cfg.Progress != nil && h.cfg.PrescanSample <= 0 {
				h.cfg.Progress(h.doneBytes+read.Load(), h.total)
			}
		}
	}
}

// scanFile reads pl.in's event times into pl: those of its first sample
// records, or of all when sample is 0. Bad records are skipped here: the main
// pass reports them.
func scanFile(ctx context.Context, p *parser.Parser, pl *plan, lateness time.Duration, sample int, opt source.Options, read *atomic.Int64) error {
	rd, err := source.Open(pl.in.Path, opt)
	if err != nil {
		return fmt.Errorf("pipeline: pre-scan: open input %s: %w", pl.in.Path, err)
	}
	defer rd.Close()
	prog, _ := rd.(source.Progress)
	var reported int64
	book := func() {
		if prog != nil {
			n := prog.BytesRead()
			read.Add(n - reported)
			reported = n
		}
	}
	defer book()
	pl.ordered = true
	var newest time.Time
	onTime := func(t time.Time) {
		if !pl.hasTimes {
			pl.hasTimes, pl.min, pl.max, newest = true, t, t, t
			return
		}
		if t.Before(pl.min) {
			pl.min = t
		}
		if t.After(newest) {
			newest, pl.max = t, t
		} else if newest.Sub(t) > lateness {
			pl.ordered = false
		}
	}
	var first, last time.Time
	if sample > 0 {
		// A sample cannot see a whole newest-first file exceed the lateness,
		// but it sees its direction: a sample that ends earlier than it
		// starts marks the file for sorting.
		whole := onTime
		onTime = func(t time.Time) {
			if first.IsZero() {
				first = t
			}
			last = t
			whole(t)
		}
		defer func() {
			if last.Before(first) {
				pl.ordered = false
			}
		}()
	}
	for n := 1; sample <= 0 || n <= sample; n++ {
		rec, err := rd.Next()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			if _, ok := errors.AsType[*source.Error](err); ok {
				continue
			}
			return fmt.Errorf("pipeline: pre-scan: read input %s: %w", pl.in.Path, err)
		}
		p.Times(rec, onTime)
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("pipeline: hunt stopped: %w", err)
			}
			book()
		}
	}
	return nil
}

// merge reads the inputs in plan order, interleaving those whose time ranges
// overlap by the time of their next event.
func (h *hunt) merge(plans []plan) error {
	var q mergeQueue
	next := 0
	for {
		// Open every input that may hold an event before the frontier.
		for next < len(plans) && (len(q) == 0 || !plans[next].hasTimes || plans[next].unscanned ||
			!plans[next].min.After(q[0].c.head().Time)) {
			c, err := h.openPlan(plans[next])
			if err != nil {
				return err
			}
			ok, err := c.advance()
			if err != nil {
				return err
			}
			if ok {
				q.push(mergeItem{c: c, ord: plans[next].ord})
			} else if err := h.done(c); err != nil {
				return err
			}
			next++
		}
		if len(q) == 0 {
			return nil
		}
		top := q[0].c
		h.feed(top.head())
		ok, err := top.advance()
		if err != nil {
			return err
		}
		if ok {
			q.fix()
			continue
		}
		q.pop()
		if err := h.done(top); err != nil {
			return err
		}
	}
}

// openPlan opens an input for the merge: streamed, or loaded and sorted when
// its order exceeds the lateness.
func (h *hunt) openPlan(pl plan) (cursor, error) {
	if pl.unscanned || pl.ordered {
		return h.openStream(pl.in)
	}
	return h.loadSorted(pl.in)
}

// done releases a cursor the merge has finished with.
func (h *hunt) done(c cursor) error {
	if s, ok := c.(*streamCursor); ok {
		return h.closeStream(s)
	}
	return nil
}

// mergeQueue is a min-heap of cursors by the time of their head event, ties
// by input position.
type mergeQueue []mergeItem

type mergeItem struct {
	c   cursor
	ord int
}

func (q mergeQueue) less(i, j int) bool {
	if c := q[i].c.head().Time.Compare(q[j].c.head().Time); c != 0 {
		return c < 0
	}
	return q[i].ord < q[j].ord
}

func (q *mergeQueue) push(it mergeItem) {
	*q = append(*q, it)
	s := *q
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (q *mergeQueue) pop() {
	s := *q
	n := len(s) - 1
	s[0] = s[n]
	s[n] = mergeItem{}
	*q = s[:n]
	q.fix()
}

// fix restores the heap after the top's head changed.
func (q mergeQueue) fix() {
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(q) {
			return
		}
		m := l
		if r := l + 1; r < len(q) && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			return
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
}
