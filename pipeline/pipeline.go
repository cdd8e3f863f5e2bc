// Package pipeline runs a hunt: it reads inputs, parses and enriches their
// events and feeds them to the engine in event-time order, so that a hunt
// gives the same alerts whether its inputs come as one sorted file, as
// hourly files in any order, or as API pages newest first.
//
// # Plan
//
// Hunt first pre-scans every regular file with Parser.Times (no events are
// built) to learn its earliest and latest event time and whether its events
// are ordered within the engine's lateness: each event no more than Lateness
// behind the newest one before it in the file. It then reads the files in
// order of earliest time with a k-way merge on their next event's time. A
// file is opened only when the merge frontier reaches its earliest time, so
// the files open at once are only those whose time ranges overlap. Merging
// sequences that are each ordered within the lateness yields a sequence
// ordered within the lateness (an event taken from one file is never more
// than Lateness behind an event already taken from another, because that
// event was the smallest head when taken), so the engine sees no late event
// and its ordering guarantee applies: the same events give the same signals.
//
// A file whose own order is not within the lateness (API pages saved newest
// first) is loaded whole, sorted by time and merged as one sorted run when
// the frontier reaches it: memory for it is bounded by that file's events
// (about 500 bytes each plus its raw JSON), not by the whole hunt.
//
// Stdin and other inputs that cannot be read twice (named pipes) are not
// pre-scanned: they are opened first and their events enter the merge in
// arrival order; the engine's lateness buffer orders them, and anything
// later than that is processed late and counted.
//
// With Config.Presorted the pre-scan is skipped and inputs are read one
// after the other in the order given.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/source"
)

// Config says how to run a hunt.
type Config struct {
	// Source tunes the input readers.
	Source source.Options
	// NewParser returns a parser; Hunt makes one per input open at once
	// and one per pre-scan worker. Required.
	NewParser func() *parser.Parser
	// Enrich fills identity, privilege and geo in place before the engine
	// sees the event. May be nil.
	Enrich func(*reposentry.Event)
	// Engine tunes ordering, lateness and dedup.
	Engine engine.Config
	// Detectors run over the events.
	Detectors []engine.Detector
	// OnSignal receives every signal the detectors emit. May be nil.
	OnSignal func(reposentry.Signal)
	// OnReject receives every record or event set aside, with where it came
	// from, the reason key counted in Stats.RejectedByReason, and the error.
	// May be nil.
	OnReject func(origin reposentry.Origin, reason string, err error)
	// Progress is called now and then with the input bytes read so far and
	// the total to read (each pre-scanned file is read twice; inputs of
	// unknown size count for nothing in total). It is called from the
	// goroutine running Hunt. May be nil.
	Progress func(done, total int64)
	// Presorted skips the pre-scan: inputs are read one after the other in
	// the order given, relying on the engine's lateness for local disorder.
	Presorted bool
	// PrescanSample bounds how many records of each file the pre-scan reads.
	// Zero reads every record, which makes the merge exact for any input at
	// the price of reading (and decompressing) every file twice. A sample
	// reads only each file's first records: the file's earliest time and
	// order are judged from them, which is exact for files that are each in
	// time order or in reverse order (streaming objects, exports, API
	// pages), and degrades to counted late events, never lost ones, for a
	// file whose later records go back in time beyond the lateness.
	PrescanSample int
}

// Stats summarises a hunt.
type Stats struct {
	Files    int   // inputs read
	Bytes    int64 // input bytes read in the main pass (compressed size for gzip)
	Records  int64 // records read, bad ones included
	Events   int64 // events parsed
	Rejected int64 // records and events set aside, by source and parser
	// RejectedByReason splits Rejected by reason key ("invalid_json",
	// "record_too_long", ...).
	RejectedByReason map[string]int64
	Late             int64 // events behind the lateness bound; processed anyway
	Duplicates       int64 // events dropped as repeats
	Signals          int64 // signals the detectors emitted
	// First and Last are the earliest and latest event times processed.
	First, Last time.Time

	SortedRuns int // files loaded and sorted because their order exceeded the lateness
	MaxOpen    int // most inputs open at once

	Prescan time.Duration // pre-scan phase
	Process time.Duration // reading, parsing, enrichment and detection
	Total   time.Duration

	// Engine is the engine's own account (buffer and memory high-water
	// marks among others).
	Engine engine.Stats
}

// Hunt runs the detectors over every event of inputs and returns what it
// did. Bad records are reported to Config.OnReject and counted, not fatal;
// an input that cannot be opened or read is an error, as is ctx ending. On
// error the returned Stats cover the work done until then.
func Hunt(ctx context.Context, inputs []source.Input, cfg Config) (Stats, error) {
	start := time.Now()
	if cfg.NewParser == nil {
		return Stats{}, errors.New("pipeline: Config.NewParser is nil")
	}
	if err := ctx.Err(); err != nil {
		return Stats{}, fmt.Errorf("pipeline: hunt stopped: %w", err)
	}
	h := &hunt{ctx: ctx, cfg: cfg, stats: Stats{RejectedByReason: map[string]int64{}}}
	h.eng = engine.New(cfg.Engine, cfg.Detectors, cfg.OnSignal)
	h.rejectFn = h.parserReject

	var plans []plan
	var err error
	if cfg.Presorted {
		plans = make([]plan, len(inputs))
		for i, in := range inputs {
			plans[i] = plan{in: in, ord: i, unscanned: true}
			h.total += max(in.Size, 0)
		}
		err = h.sequential(plans)
	} else {
		plans, err = h.prescan(inputs)
		h.stats.Prescan = time.Since(start)
		if err == nil {
			err = h.merge(plans)
		}
	}
	if err == nil {
		h.eng.Flush()
		h.progress()
	}
	h.closeAll()
	h.finish(start)
	return h.stats, err
}

// hunt is the state of one Hunt call.
type hunt struct {
	ctx      context.Context
	cfg      Config
	eng      *engine.Engine
	stats    Stats
	rejectFn func(parser.Rejection)

	open      []*streamCursor // open inputs, for progress and cleanup
	doneBytes int64           // bytes of finished reads (pre-scan, closed inputs)
	total     int64
	checks    int // records since the last cancellation and progress check
}

// checkEvery is how many records go between checks of ctx and reports of
// progress: rare enough to cost nothing, often enough to stop promptly.
const checkEvery = 1024

func (h *hunt) finish(start time.Time) {
	es := h.eng.Stats()
	h.stats.Engine = es
	h.stats.Late = es.Late
	h.stats.Duplicates = es.Duplicates
	h.stats.Signals = es.Signals
	h.stats.First, h.stats.Last = es.First, es.Last
	h.stats.Total = time.Since(start)
	h.stats.Process = h.stats.Total - h.stats.Prescan
}

// feed sends one event through enrichment to the engine.
func (h *hunt) feed(ev *reposentry.Event) {
	if h.cfg.Enrich != nil {
		h.cfg.Enrich(ev)
	}
	h.eng.Push(ev)
}

// record counts one record read and, every checkEvery records, checks for
// cancellation and reports progress.
func (h *hunt) record() error {
	h.stats.Records++
	h.checks++
	if h.checks < checkEvery {
		return nil
	}
	h.checks = 0
	if err := h.ctx.Err(); err != nil {
		return fmt.Errorf("pipeline: hunt stopped: %w", err)
	}
	h.progress()
	return nil
}

func (h *hunt) progress() {
	if h.cfg.Progress == nil {
		return
	}
	done := h.doneBytes
	for _, c := range h.open {
		done += c.bytesRead()
	}
	h.cfg.Progress(done, h.total)
}

func (h *hunt) reject(o reposentry.Origin, reason string, err error) {
	h.stats.Rejected++
	h.stats.RejectedByReason[reason]++
	if h.cfg.OnReject != nil {
		h.cfg.OnReject(o, reason, err)
	}
}

func (h *hunt) parserReject(r parser.Rejection) { h.reject(r.Origin, r.Reason, r.Err) }

// sequential reads the inputs one after the other, in the order given.
func (h *hunt) sequential(plans []plan) error {
	for _, pl := range plans {
		if err := h.ctx.Err(); err != nil {
			return fmt.Errorf("pipeline: hunt stopped: %w", err)
		}
		c, err := h.openStream(pl.in)
		if err != nil {
			return err
		}
		for {
			ok, err := c.advance()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			h.feed(c.head())
		}
		if err := h.closeStream(c); err != nil {
			return err
		}
	}
	return nil
}

// closeAll closes what an error left open.
func (h *hunt) closeAll() {
	for len(h.open) > 0 {
		_ = h.closeStream(h.open[len(h.open)-1]) // the hunt already failed; that error is the one to report
	}
}

// canPrescan reports whether in can be read twice: a regular file.
func canPrescan(in source.Input) bool {
	if in.Path == "-" {
		return false
	}
	fi, err := os.Stat(in.Path)
	return err == nil && fi.Mode().IsRegular()
}
