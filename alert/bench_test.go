package alert

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
)

// BenchmarkAggregate measures the risk stage on a month of weak signals
// from 2,000 identities (three a day each, every one below the alerting
// severity, so they accumulate), closing incidents as event time advances:
// signals per second and the heap the ledgers hold per identity.
func BenchmarkAggregate(b *testing.B) {
	const ids, days = 2000, 30
	rules := []string{"off_hours", "new_client", "privileged_session", "first_seen_location"}
	var sigs []reposentry.Signal
	for d := range days {
		for i := range ids {
			for k := range 3 {
				at := time.Duration(d)*day + time.Duration(i%600)*time.Minute + time.Duration(k)*3*time.Hour
				s := sig(at, fmt.Sprintf("u%d@acme.example", i), rules[(i+d+k)%len(rules)], reposentry.SeverityLow, 10+(i+k)%25)
				s.Credential = fmt.Sprintf("pat_classic:%d", i)
				sigs = append(sigs, s)
			}
		}
	}
	sortByTime(sigs)
	b.ReportAllocs()
	b.ResetTimer()
	var perID float64
	alerts := 0
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		a := New(DefaultConfig())
		alerts = 0
		for _, s := range sigs {
			a.Add(s)
			a.Advance(s.Time, func(reposentry.Alert) { alerts++ })
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perID = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / ids
		a.Flush(func(reposentry.Alert) { alerts++ })
	}
	b.ReportMetric(float64(len(sigs))*float64(b.N)/b.Elapsed().Seconds(), "signals/s")
	b.ReportMetric(perID, "B/identity")
	b.ReportMetric(float64(alerts), "alerts")
}
