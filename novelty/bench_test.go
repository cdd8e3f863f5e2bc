package novelty

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

// BenchmarkProcess measures the steady state: 500 identities, each with its
// token, after ten days of history, re-reading their usual repositories from
// their usual places, which raises no signal and must allocate nothing.
func BenchmarkProcess(b *testing.B) {
	var evs []reposentry.Event
	for i := range 500 {
		who := fmt.Sprintf("u%d@acme.example", i)
		c := reposentry.Credential{Kind: reposentry.CredentialPATFineGrained, Hash: fmt.Sprintf("tok%dAAAABBBBCCCCDDDD", i)}
		evs = append(evs, routine(who, c, office, 0, 11)...)
	}
	slices.SortStableFunc(evs, func(x, y reposentry.Event) int { return x.Time.Compare(y.Time) })
	d := New(Config{})
	sigs := 0
	emit := func(reposentry.Signal) { sigs++ }
	for i := range evs {
		d.Process(&evs[i], emit)
	}
	i0, _ := slices.BinarySearchFunc(evs, at(10, 0), func(e reposentry.Event, t time.Time) int { return e.Time.Compare(t) })
	last := evs[i0:]
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

// BenchmarkMemoryPerIdentity reports the detector's heap per tracked
// identity, its credentials included, after a simulated organisation (2000
// identities, 30 days by default; see the mem.* flags).
func BenchmarkMemoryPerIdentity(b *testing.B) {
	evs, _ := simOrg(b, *memUsers, *memDays)
	b.ResetTimer()
	var perID float64
	var ids, creds int
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d := New(Config{})
		enginetest.Feed([]engine.Detector{d}, evs, time.Time{}, func(int, reposentry.Signal) {})
		runtime.GC()
		runtime.ReadMemStats(&after)
		ids, creds = len(d.(*detector).ids), len(d.(*detector).creds)
		perID = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(ids)
		runtime.KeepAlive(d)
	}
	b.ReportMetric(perID, "B/identity")
	b.ReportMetric(float64(ids), "identities")
	b.ReportMetric(float64(creds), "credentials")
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
