package enginetest

import (
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
)

// logger records the calls it gets and signals once per event and once per
// Advance.
type logger struct{ log []string }

func (l *logger) Name() string { return "test.logger" }

func (l *logger) Process(ev *reposentry.Event, emit func(reposentry.Signal)) {
	l.log = append(l.log, "process "+ev.Time.Format("15:04:05"))
	emit(reposentry.Signal{Rule: "process", Time: ev.Time})
}

func (l *logger) Advance(now time.Time, emit func(reposentry.Signal)) {
	l.log = append(l.log, "advance "+now.Format("15:04:05"))
	emit(reposentry.Signal{Rule: "advance", Time: now})
}

func TestFeed(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 10, 0, time.UTC)
	evs := []reposentry.Event{{Time: t0}, {Time: t0.Add(20 * time.Second)}, {Time: t0.Add(70 * time.Second)}}
	var l logger
	var got []string
	tick := Feed(nil, nil, time.Time{}, func(int, reposentry.Signal) { t.Error("signal without detectors") })
	tick = Feed(dets(&l), evs, tick, func(i int, s reposentry.Signal) {
		got = append(got, s.Rule+"@"+string(rune('0'+i)))
	})
	if want := "advance 09:00:00,process 09:00:10,process 09:00:30,advance 09:01:00,process 09:01:20"; strings.Join(l.log, ",") != want {
		t.Errorf("calls %s, want %s", strings.Join(l.log, ","), want)
	}
	if want := "advance@0,process@0,process@1,advance@2,process@2"; strings.Join(got, ",") != want {
		t.Errorf("signals by event %s, want %s", strings.Join(got, ","), want)
	}
	if !tick.Equal(t0.Truncate(time.Minute).Add(time.Minute)) {
		t.Errorf("tick %s, want the last minute advanced to", tick)
	}
	if n := len(Run(dets(&logger{}), evs)); n != 5 {
		t.Errorf("Run: %d signals, want 5", n)
	}
	by := ByEvent(t, dets(&logger{}), evs, 10)
	if len(by[10]) != 2 || len(by[11]) != 1 || len(by[12]) != 2 {
		t.Errorf("ByEvent %v, want signals keyed 10, 11, 12", by)
	}
}

// dets converts loggers to the engine's detector type.
func dets(ls ...*logger) []engine.Detector {
	out := make([]engine.Detector, len(ls))
	for i, l := range ls {
		out[i] = l
	}
	return out
}
