package baseline

import (
	"flag"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
	"github.com/reposentry/reposentry/engine/enginetest"
)

var (
	memUsers = flag.Int("mem.users", 2000, "identities in BenchmarkMemoryPerIdentity's simulated organisation")
	memDays  = flag.Int("mem.days", 30, "days in BenchmarkMemoryPerIdentity's simulated organisation")
)

// BenchmarkBaseline measures the steady state: 500 identities with three
// weeks of history re-reading their usual repositories, which raises no
// signal and must allocate nothing.
func BenchmarkBaseline(b *testing.B) {
	var g gen
	for i := range 500 {
		g.routine(fmt.Sprintf("u%d@acme.example", i), fmt.Sprintf("team%d", i%50), 0, 21)
	}
	slices.SortStableFunc(g.evs, func(x, y reposentry.Event) int { return x.Time.Compare(y.Time) })
	d := New(Config{})
	sigs := 0
	emit := func(reposentry.Signal) { sigs++ }
	for i := range g.evs {
		d.Process(&g.evs[i], emit)
	}
	lastDay := at(20, 0)
	i0, _ := slices.BinarySearchFunc(g.evs, lastDay, func(e reposentry.Event, t time.Time) int { return e.Time.Compare(t) })
	last := g.evs[i0:]
	sigs = 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Process(&last[i%len(last)], emit)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if sigs != 0 {
		b.Fatalf("%d signals from routine reads", sigs)
	}
}

// BenchmarkSimulatedOrg runs the detector over a simulated organisation of
// 300 identities and 21 days, signals included.
func BenchmarkSimulatedOrg(b *testing.B) {
	evs, _ := simOrg(b, 300, 21)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run(Config{}, evs)
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkMemoryPerIdentity reports the detector's heap per tracked
// identity after a simulated organisation (2000 identities, 30 days by
// default; see the mem.* flags).
func BenchmarkMemoryPerIdentity(b *testing.B) {
	evs, _ := simOrg(b, *memUsers, *memDays)
	ids := map[string]bool{}
	for i := range evs {
		ids[evs[i].ActorKey()] = true
	}
	b.ResetTimer()
	var perID float64
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d := New(Config{})
		enginetest.Feed([]engine.Detector{d}, evs, time.Time{}, func(int, reposentry.Signal) {})
		runtime.GC()
		runtime.ReadMemStats(&after)
		tracked := len(d.(*detector).ids)
		perID = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(tracked)
		runtime.KeepAlive(d)
	}
	b.ReportMetric(perID, "B/identity")
	b.ReportMetric(float64(len(ids)), "identities")
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
