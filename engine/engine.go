// Package engine runs detections over events in event-time order, keyed by
// identity, with windows measured in event time and bounded lateness, so that
// batch hunts and streaming produce the same alerts from the same events.
package engine

import (
	"fmt"
	"io"
	"time"

	"github.com/reposentry/reposentry"
)

// Stateful is implemented by detectors whose learnt state (baselines,
// first-seen sets, routine repositories) can be saved and restored, so that
// yesterday's hunt informs today's (hunt --state) and a daemon resumes after
// a restart. Detectors that share one state return the same StateKey; the
// caller saves each key once, from any of them, and loads it into each.
type Stateful interface {
	// StateKey names the state, e.g. "detect/v1": the version changes
	// when the encoding does, so old state is refused, not misread.
	StateKey() string
	// SaveState writes the state at the current event time.
	SaveState(w io.Writer) error
	// LoadState replaces the state of a detector that has seen no event
	// yet with what SaveState wrote.
	LoadState(r io.Reader) error
}

// Detector is one detection. The engine calls Process for every event in
// event-time order (ties broken by event id, then arrival: see Engine); a
// detector keeps its own state, keyed by ev.ActorKey() or by credential, and
// reports findings through emit.
//
// Process must not keep ev or any slice in it (Raw) beyond the call; strings
// in the event are safe to keep.
type Detector interface {
	// Name is the rule id, e.g. "github.bulk_read".
	Name() string
	Process(ev *reposentry.Event, emit func(reposentry.Signal))
	// Advance tells the detector that event time has reached now, so it
	// can emit what was pending and forget state older than its windows.
	Advance(now time.Time, emit func(reposentry.Signal))
}

// Config tunes an Engine. The zero value gives the defaults.
type Config struct {
	// Lateness is how far an event may lag behind the newest event time
	// seen and still be processed in its place. Zero means the default,
	// 15 minutes; a negative value means no lateness: only the events at
	// the newest time seen are held (more may share it) and any event older
	// than that is late.
	Lateness time.Duration `yaml:"lateness"`
	// DedupWindow is how long, in event time, an event id is remembered to
	// drop repeats: GitHub streaming delivers at least once. Zero means the
	// default, 2 hours; a negative value turns deduplication off.
	DedupWindow time.Duration `yaml:"dedup_window"`
	// Tick is the event-time step at which detectors get Advance. Zero
	// means the default, 1 minute.
	Tick time.Duration `yaml:"tick"`
	// FlushMargin is added to the last event time for the Advance that
	// Flush sends, so that every window of every detector closes. Zero
	// means the default, 30 days.
	FlushMargin time.Duration `yaml:"flush_margin"`
	// ChunkSize is the size of the arena chunks that hold buffered events'
	// raw records. Zero means the default, 1 MiB.
	ChunkSize int `yaml:"chunk_size"`
}

// Defaults applied by New for zero Config fields.
const (
	DefaultLateness    = 15 * time.Minute
	DefaultDedupWindow = 2 * time.Hour
	DefaultTick        = time.Minute
	DefaultFlushMargin = 30 * 24 * time.Hour
	DefaultChunkSize   = 1 << 20
)

// DefaultConfig returns the configuration New uses for a zero Config, with
// every default spelt out.
func DefaultConfig() Config { return Config{}.WithDefaults() }

// Validate reports the first setting that cannot work, naming its key as
// written in a configuration file ("engine.tick").
func (c Config) Validate() error {
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"lateness", c.Lateness}, {"dedup_window", c.DedupWindow}, {"tick", c.Tick}, {"flush_margin", c.FlushMargin}} {
		if d.v > maxDuration {
			return fmt.Errorf("engine.%s: %v is longer than the %v the engine can measure", d.key, d.v, maxDuration)
		}
	}
	if c.Tick < 0 {
		return fmt.Errorf("engine.tick: %v is negative; give a positive step or 0 for the default %v", c.Tick, DefaultTick)
	}
	if c.FlushMargin < 0 {
		return fmt.Errorf("engine.flush_margin: %v is negative; give a positive margin or 0 for the default %v", c.FlushMargin, DefaultFlushMargin)
	}
	if c.ChunkSize < 0 || c.ChunkSize > maxChunkSize {
		return fmt.Errorf("engine.chunk_size: %d is outside 0 (default %d) to %d bytes", c.ChunkSize, DefaultChunkSize, maxChunkSize)
	}
	return nil
}

// maxChunkSize keeps a configured chunk from exhausting memory on its own.
const maxChunkSize = 1 << 30

// WithDefaults returns c with every zero field set to its default and
// negative durations set to zero (none), as New uses it.
func (c Config) WithDefaults() Config {
	c.Lateness = durationOr(c.Lateness, DefaultLateness)
	c.DedupWindow = durationOr(c.DedupWindow, DefaultDedupWindow)
	c.Tick = durationOr(c.Tick, DefaultTick)
	if c.Tick == 0 {
		c.Tick = DefaultTick // a zero tick has no boundaries to cross
	}
	c.FlushMargin = durationOr(c.FlushMargin, DefaultFlushMargin)
	if c.ChunkSize <= 0 {
		c.ChunkSize = DefaultChunkSize
	}
	return c
}

// maxDuration bounds configured durations so that event-time arithmetic
// (clamped to ±2^62 ns) cannot overflow.
const maxDuration = time.Duration(1 << 61)

func durationOr(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	case d > maxDuration:
		return maxDuration
	}
	return d
}
