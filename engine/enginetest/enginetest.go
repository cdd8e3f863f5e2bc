// Package enginetest drives detectors in tests and benchmarks the way the
// engine does with its default tick: events in the order given, and an
// Advance to every new minute of event time before the first event of that
// minute. It is what the detection packages' state round-trip, simulated
// organisation and memory tests share.
package enginetest

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
)

// Feed gives evs to dets, advancing them at every new minute after tick
// (the zero time at the start of a stream), and passes each signal to emit
// with the index in evs of the event during or before which it was raised.
// It returns the minute last advanced to, for a continuation.
func Feed(dets []engine.Detector, evs []reposentry.Event, tick time.Time, emit func(i int, s reposentry.Signal)) time.Time {
	var cur int
	sink := func(s reposentry.Signal) { emit(cur, s) }
	for i := range evs {
		cur = i
		if t := evs[i].Time.Truncate(time.Minute); t.After(tick) {
			tick = t
			for _, d := range dets {
				d.Advance(t, sink)
			}
		}
		for _, d := range dets {
			d.Process(&evs[i], sink)
		}
	}
	return tick
}

// Run feeds evs to dets from the start of a stream and returns every
// signal in the order raised.
func Run(dets []engine.Detector, evs []reposentry.Event) []reposentry.Signal {
	var out []reposentry.Signal
	Feed(dets, evs, time.Time{}, func(_ int, s reposentry.Signal) { out = append(out, s) })
	return out
}

// ByEvent feeds evs to dets from the start of a stream and returns the
// signals as JSON by the index of the event that raised them, counting from
// from: what a state round-trip test compares between an uninterrupted run
// and one resumed from saved state at event from.
func ByEvent(tb testing.TB, dets []engine.Detector, evs []reposentry.Event, from int) map[int][]string {
	tb.Helper()
	out := map[int][]string{}
	Feed(dets, evs, time.Time{}, func(i int, s reposentry.Signal) {
		b, err := json.Marshal(s)
		if err != nil {
			tb.Fatalf("marshal signal: %v", err)
		}
		out[from+i] = append(out[from+i], string(b))
	})
	return out
}

// Save returns d's saved state; d must be an engine.Stateful.
func Save(tb testing.TB, d engine.Detector) []byte {
	tb.Helper()
	s, ok := d.(engine.Stateful)
	if !ok {
		tb.Fatalf("detector %s does not save state", d.Name())
	}
	var buf bytes.Buffer
	if err := s.SaveState(&buf); err != nil {
		tb.Fatalf("save state of %s: %v", d.Name(), err)
	}
	return buf.Bytes()
}
