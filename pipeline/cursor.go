package pipeline

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/source"
)

// cursor walks the events of one input. head is valid after advance
// returned true and until the next advance.
type cursor interface {
	advance() (bool, error)
	head() *reposentry.Event
}

// streamCursor reads an input record by record with its own reader and
// parser, so an event's Raw (which aliases both) stays valid while the event
// waits at the head of the merge.
type streamCursor struct {
	h   *hunt
	in  source.Input
	rd  source.Reader
	p   *parser.Parser
	evs []reposentry.Event // events of the current record
	i   int
}

func (h *hunt) openStream(in source.Input) (*streamCursor, error) {
	rd, err := source.Open(in.Path, h.cfg.Source)
	if err != nil {
		return nil, fmt.Errorf("pipeline: open input %s: %w", in.Path, err)
	}
	c := &streamCursor{h: h, in: in, rd: rd, p: h.cfg.NewParser(), i: -1}
	h.stats.Files++
	h.open = append(h.open, c)
	h.stats.MaxOpen = max(h.stats.MaxOpen, len(h.open))
	return c, nil
}

// closeStream closes c and books the bytes it read.
func (h *hunt) closeStream(c *streamCursor) error {
	n := c.bytesRead()
	h.stats.Bytes += n
	h.doneBytes += n
	if i := slices.Index(h.open, c); i >= 0 {
		h.open = slices.Delete(h.open, i, i+1)
	}
	if err := c.rd.Close(); err != nil {
		return fmt.Errorf("pipeline: close input %s: %w", c.in.Path, err)
	}
	return nil
}

func (c *streamCursor) bytesRead() int64 {
	if p, ok := c.rd.(source.Progress); ok {
		return p.BytesRead()
	}
	return max(c.in.Size, 0)
}

func (c *streamCursor) head() *reposentry.Event { return &c.evs[c.i] }

// advance moves to the next event, reading and parsing records as needed;
// false at the end of the input.
func (c *streamCursor) advance() (bool, error) {
	c.i++
	for c.i >= len(c.evs) {
		rec, err := c.rd.Next()
		if err != nil {
			if err == io.EOF {
				c.evs = c.evs[:0]
				return false, nil
			}
			if se, ok := errors.AsType[*source.Error](err); ok {
				if err := c.h.record(); err != nil {
					return false, err
				}
				c.h.reject(se.Origin, se.Reason, se.Err)
				continue
			}
			return false, fmt.Errorf("pipeline: read input %s: %w", c.in.Path, err)
		}
		if err := c.h.record(); err != nil {
			return false, err
		}
		c.evs = c.p.Parse(rec, c.evs[:0], c.h.rejectFn)
		c.h.stats.Events += int64(len(c.evs))
		c.i = 0
	}
	return true, nil
}

// sortedRun holds the events of a file whose order exceeded the lateness,
// loaded whole and sorted by time.
type sortedRun struct {
	evs   []reposentry.Event
	order []int32 // indices into evs, in time order
	i     int
}

// loadSorted reads every event of in, copying each with its Raw (the
// parser's buffers are reused) into memory the run owns, and sorts them by
// time, ties in file order.
func (h *hunt) loadSorted(in source.Input) (*sortedRun, error) {
	c, err := h.openStream(in)
	if err != nil {
		return nil, err
	}
	var (
		evs  []reposentry.Event
		ends []int // end of each event's Raw in raws
		raws []byte
	)
	for {
		ok, err := c.advance()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		ev := c.head()
		raws = append(raws, ev.Raw...)
		ends = append(ends, len(raws))
		evs = append(evs, *ev)
	}
	if err := h.closeStream(c); err != nil {
		return nil, err
	}
	// raws has stopped growing: point each event at its bytes.
	off := 0
	for i := range evs {
		evs[i].Raw = raws[off:ends[i]:ends[i]]
		off = ends[i]
	}
	order := make([]int32, len(evs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return evs[a].Time.Compare(evs[b].Time) })
	h.stats.SortedRuns++
	return &sortedRun{evs: evs, order: order, i: -1}, nil
}

func (r *sortedRun) head() *reposentry.Event { return &r.evs[r.order[r.i]] }

func (r *sortedRun) advance() (bool, error) {
	r.i++
	if r.i >= len(r.order) {
		r.evs, r.order = nil, nil // let the run's memory go as soon as it is merged
		r.i = 0
		return false, nil
	}
	return true, nil
}
