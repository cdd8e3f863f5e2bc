// Package engine runs detections over events in event-time order, keyed by
// identity, with windows measured in event time and bounded lateness, so that
// batch hunts and streaming produce the same alerts from the same events.
package engine

import (
	"time"

	"github.com/reposentry/reposentry"
)

// Detector is one detection. The engine calls Process for every event in
// event-time order (ties broken by arrival); a detector keeps its own state,
// keyed by ev.ActorKey() or by credential, and reports findings through emit.
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
