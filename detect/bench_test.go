package detect

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
)

// mixedEvents returns a realistic day-to-day mix for actors identities: most
// reads are fetches and clones of each identity's own repositories from its
// two usual addresses, with pushes, browsing, logins and the odd archive
// download and credential creation. Nothing in it should raise a signal.
func mixedEvents(actors, n int) []reposentry.Event {
	rng := rand.New(rand.NewPCG(1, 2))
	repos := make([]string, 2000)
	for i := range repos {
		repos[i] = fmt.Sprintf("acme/repo-%04d", i)
	}
	type who struct {
		login, identity, tok string
		ips                  [2]netip.Addr
		repos                []string
	}
	people := make([]who, actors)
	for i := range people {
		p := &people[i]
		p.login = fmt.Sprintf("user%05d", i)
		p.identity = p.login + "@example.com"
		p.tok = fmt.Sprintf("tok%05d", i)
		p.ips[0] = netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 7})
		p.ips[1] = netip.AddrFrom4([4]byte{198, 51, byte(i % 256), 20})
		for range 15 {
			p.repos = append(p.repos, repos[rng.IntN(len(repos))])
		}
	}
	evs := make([]reposentry.Event, n)
	for i := range evs {
		p := &people[rng.IntN(actors)]
		e := &evs[i]
		*e = reposentry.Event{
			Platform: reposentry.PlatformGitHub, Outcome: reposentry.OutcomeSuccess,
			Actor: reposentry.Account{Login: p.login, Type: reposentry.ActorUser}, Identity: p.identity,
			Org: "acme", Repo: p.repos[rng.IntN(len(p.repos))], Visibility: reposentry.VisibilityPrivate,
			SourceIP: p.ips[rng.IntN(2)], Geo: reposentry.Geo{Country: "NL"},
			Credential: reposentry.Credential{Kind: reposentry.CredentialPATFineGrained, ID: p.tok},
		}
		e.ID.Set(fmt.Appendf(nil, "doc%07d", i))
		switch r := rng.IntN(1000); {
		case r < 400:
			e.Category, e.Action = reposentry.CategoryFetch, "git.fetch"
		case r < 550:
			e.Category, e.Action = reposentry.CategoryClone, "git.clone"
		case r < 700:
			e.Category, e.Action = reposentry.CategoryPush, "git.push"
		case r < 900:
			e.Category, e.Action = reposentry.CategoryBrowse, "repo.view"
		case r < 950:
			e.Category, e.Action = reposentry.CategoryArchiveDownload, "repo.download_zip"
		case r < 999:
			e.Category, e.Action, e.Repo = reposentry.CategoryLogin, "org.sso_response", ""
		default:
			e.Category, e.Action, e.Repo = reposentry.CategoryCredentialCreate, "public_key.create", ""
		}
	}
	return evs
}

// BenchmarkDetectors runs all detections over a mixed stream after a warm-up
// pass, so it measures the steady state: no signal, and no allocation.
func BenchmarkDetectors(b *testing.B) {
	const step = 100 * time.Millisecond
	tmpl := mixedEvents(2000, 200_000)
	dets := New(DefaultConfig())
	signals := 0
	emit := func(reposentry.Signal) { signals++ }
	var ev reposentry.Event
	var minute time.Time
	i := 0
	feed := func() {
		ev = tmpl[i%len(tmpl)]
		ev.Time = t0.Add(time.Duration(i) * step)
		i++
		if m := ev.Time.Truncate(time.Minute); m.After(minute) {
			minute = m
			for _, d := range dets {
				d.Advance(m, emit)
			}
		}
		for _, d := range dets {
			d.Process(&ev, emit)
		}
	}
	for range len(tmpl) {
		feed()
	}
	signals = 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		feed()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if signals != 0 {
		b.Errorf("the benign mix raised %d signals", signals)
	}
}

// BenchmarkMemoryPerActor reports the heap kept per tracked identity with
// 10,000 identities, each with 20 routine repositories, two networks and a
// country.
func BenchmarkMemoryPerActor(b *testing.B) {
	const actors = 10_000
	repos := make([]string, 500)
	for i := range repos {
		repos[i] = fmt.Sprintf("acme/repo-%04d", i)
	}
	ids := make([]string, actors)
	for i := range ids {
		ids[i] = fmt.Sprintf("user%05d@example.com", i)
	}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := newCore(DefaultConfig())
		var ev reposentry.Event
		for i, id := range ids {
			for j := range 20 {
				ev = reposentry.Event{Time: t0.Add(time.Duration(j) * time.Hour), Platform: reposentry.PlatformGitHub,
					Category: reposentry.CategoryClone, Outcome: reposentry.OutcomeSuccess, Identity: id,
					Actor: reposentry.Account{Login: id[:9]}, Repo: repos[(i*7+j)%len(repos)], Visibility: reposentry.VisibilityPrivate,
					SourceIP: netip.AddrFrom4([4]byte{198, 51, byte(j % 2), byte(i)}), Geo: reposentry.Geo{Country: "NL"},
					Credential: reposentry.Credential{Kind: reposentry.CredentialPATFineGrained, ID: id}}
				ev.ID.Set([]byte{byte(i), byte(i >> 8), byte(j)})
				c.observe(&ev)
			}
		}
		c.advance(t0.Add(30 * time.Hour))
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/actors, "B/actor")
		runtime.KeepAlive(c)
	}
}

// BenchmarkMemoryPerBot reports the heap kept per automation identity that
// reads 6,000 repositories, every one remembered as routine.
func BenchmarkMemoryPerBot(b *testing.B) {
	const bots, repos = 20, 6000
	names := make([]string, repos)
	for i := range names {
		names[i] = fmt.Sprintf("acme/service-%05d", i)
	}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := newCore(DefaultConfig())
		var ev reposentry.Event
		for i := range bots {
			id := fmt.Sprintf("ci%02d[bot]", i)
			for j, repo := range names {
				ev = reposentry.Event{Time: t0.Add(time.Duration(j) * time.Second), Platform: reposentry.PlatformGitHub,
					Category: reposentry.CategoryClone, Outcome: reposentry.OutcomeSuccess, Identity: id,
					Actor: reposentry.Account{Login: id, Type: reposentry.ActorBot}, Repo: repo, Visibility: reposentry.VisibilityPrivate,
					SourceIP: netip.AddrFrom4([4]byte{198, 51, 100, byte(j)}), Geo: reposentry.Geo{Country: "US"},
					Credential: reposentry.Credential{Kind: reposentry.CredentialApp, ID: "inst"}}
				ev.ID.Set([]byte{byte(i), byte(j >> 8), byte(j)})
				c.observe(&ev)
			}
			if n := len(c.actors[id].mem); n != repos {
				b.Fatalf("%s remembers %d repositories, want %d", id, n, repos)
			}
		}
		c.advance(t0.Add(30 * time.Hour))
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/bots, "B/bot")
		runtime.KeepAlive(c)
	}
}
