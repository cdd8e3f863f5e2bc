package chain_test

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/chain"
	"github.com/reposentry/reposentry/engine/enginetest"
	"github.com/reposentry/reposentry/simulate"
)

// steadyEvents is ordinary work of n identities, past their learning
// period: sign-ins from their own network and reads of their usual
// repositories. Nothing in it may raise a signal.
func steadyEvents(n int) []reposentry.Event {
	var evs []reposentry.Event
	for i := range n {
		who := fmt.Sprintf("user%d@acme.example", i)
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 7})
		where := func(ev *reposentry.Event) { ev.Geo.Country, ev.SourceIP, ev.Geo.ASN = "DE", ip, 64501 }
		evs = append(evs, signIn(0, who, where))
		for k := range 4 {
			evs = append(evs, clone(time.Duration(k)*time.Second, who, fmt.Sprintf("acme/team%d-%d", i%50, k), where))
		}
	}
	for i := range evs {
		evs[i].ID.Set(fmt.Appendf(nil, "s%06d", i))
	}
	return evs
}

// BenchmarkChain measures events per second and allocations: "steady" is
// work that raises nothing (0 allocs/op expected), "simulator" a simulated
// organisation's three weeks with its attacks.
func BenchmarkChain(b *testing.B) {
	b.Run("steady", func(b *testing.B) {
		base := steadyEvents(1000)
		ds := chain.New(chain.DefaultConfig())
		emit := func(s reposentry.Signal) { b.Fatalf("unexpected signal %s: %s", s.Rule, s.Observed) }
		// Ten days of the same work first, so that learning is over.
		start := t0.Add(-10 * 24 * time.Hour)
		var ev reposentry.Event
		feed := func(i int, at time.Time) {
			ev = base[i%len(base)]
			ev.Time = at
			for _, d := range ds {
				d.Process(&ev, emit)
			}
		}
		for i := range 10 * len(base) {
			feed(i, start.Add(time.Duration(i)*time.Minute))
		}
		now := start.Add(time.Duration(10*len(base)) * time.Minute)
		tick := now
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			at := now.Add(time.Duration(i) * 100 * time.Millisecond)
			if at.Sub(tick) >= time.Minute {
				tick = at
				for _, d := range ds {
					d.Advance(at, emit)
				}
			}
			feed(i, at)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("simulator", func(b *testing.B) {
		dir := b.TempDir()
		if _, err := simulate.Run(simulate.Config{Users: 300, Days: 21, Seed: 1, Out: dir}); err != nil {
			b.Fatal(err)
		}
		evs := simEvents(b, dir)
		b.ReportAllocs()
		b.ResetTimer()
		var n int
		for i := 0; i < b.N; i++ {
			n += len(evs)
			enginetest.Run(chain.New(chain.DefaultConfig()), evs)
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkMemoryPerIdentity reports the heap kept per identity after its
// ordinary work (bytes/identity); the budget is 1 KiB.
func BenchmarkMemoryPerIdentity(b *testing.B) {
	const n = 5000
	evs := steadyEvents(n)
	var perID float64
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ds := chain.New(chain.DefaultConfig())
		emit := func(reposentry.Signal) {}
		for k := range evs {
			for _, d := range ds {
				d.Process(&evs[k], emit)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perID = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(ds)
	}
	b.ReportMetric(perID, "bytes/identity")
}
