// Package store defines where the detectors' learnt state is kept between
// runs, so that yesterday's hunt (hunt --state DIR) informs today's and a
// daemon resumes after a restart. The state itself is opaque bytes written by
// engine.Stateful.SaveState under its StateKey; implementations live in
// subpackages (store/sqlite).
package store

import (
	"context"
	"time"
)

// StateStore keeps the detectors' learnt state between runs.
type StateStore interface {
	// Load returns the saved state for key, whether it exists, and when and
	// up to which event time it was saved. A missing key is not an error:
	// ok is false and meta is zero.
	Load(ctx context.Context, key string) (data []byte, meta Meta, ok bool, err error)
	// SaveAll replaces the states in one transaction: all or nothing, so a
	// crash mid-save leaves the previous run's state. Keys not in states are
	// kept as they were.
	SaveAll(ctx context.Context, states map[string][]byte, meta Meta) error
	// Close releases the store; it does not save anything.
	Close() error
}

// Meta describes a save.
type Meta struct {
	// SavedAt is the wall-clock time of the save; SaveAll uses the current
	// time when it is zero.
	SavedAt time.Time
	// EventsUntil is the event time of the last event the state includes,
	// zero if unknown; the next run can skip or warn about older events.
	EventsUntil time.Time
	// Runs is the number of runs recorded in the store, this one included.
	// It is computed by the store and ignored by SaveAll.
	Runs int
	// Events is, for SaveAll, the number of events this run has processed;
	// for Load, the total over all recorded runs.
	Events int64
}
