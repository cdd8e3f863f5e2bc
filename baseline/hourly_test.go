package baseline

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
)

// developer is days of work whose busiest hour brings one or two new
// repositories: routine fetches, and three (even days) or four (odd days)
// clones of new repositories of the identity's own group a day, the fourth
// in the same hour as the first.
func (g *gen) developer(who string, from, days int) {
	g.routine(who, "alpha", from, days)
	for d := from; d < from+days; d++ {
		hours := []float64{10.2, 13.2, 15.2}
		if d%2 == 1 {
			hours = append(hours, 10.5)
		}
		for i, h := range hours {
			g.add(who, at(d, h), reposentry.CategoryClone, fmt.Sprintf("acme/alpha-dev%d-%d", d, i))
		}
	}
}

// burst clones n new repositories of the identity's own group on day d,
// evenly over minutes from hour h, each also downloaded as an archive when
// zip and tagged with tags.
func (g *gen) burst(who string, d int, h float64, n int, minutes float64, zip bool, tags reposentry.RepoTags) {
	for i := range n {
		t := at(d, h+minutes/60*float64(i)/float64(n))
		repo := fmt.Sprintf("acme/alpha-burst%d-%.0f-%d", d, h*100, i)
		g.add(who, t, reposentry.CategoryClone, repo).RepoTags = tags
		if zip {
			g.add(who, t.Add(30*time.Second), reposentry.CategoryArchiveDownload, repo).RepoTags = tags
		}
	}
}

// sorted puts the events of several identities in time order.
func (g *gen) sorted() []reposentry.Event {
	slices.SortStableFunc(g.evs, func(x, y reposentry.Event) int { return x.Time.Compare(y.Time) })
	return g.evs
}

// hourly splits alice's volume signals into those of the hourly window and
// the others (daily and weekly).
func hourly(sigs []reposentry.Signal) (hour, other []reposentry.Signal) {
	for _, s := range sigs {
		switch {
		case s.Entity.ID != alice || s.Rule != RuleVolume:
		case s.Evidence["trigger"] == "hourly":
			hour = append(hour, s)
		default:
			other = append(other, s)
		}
	}
	return hour, other
}

// TestHourlyVolume checks the hourly dimension of volume_anomaly: a burst
// of new reads against the identity's busiest hours. want lists the
// severities of alice's hourly signals in order (none: silent).
func TestHourlyVolume(t *testing.T) {
	low, medium := reposentry.SeverityLow, reposentry.SeverityMedium
	for _, tc := range []struct {
		name      string
		build     func(g *gen)
		want      []reposentry.Severity
		sensitive int // sensitive repositories the first hourly signal counts
	}{
		{"developer whose busiest hour brings 1-2 reads 9 in half an hour", func(g *gen) {
			g.developer(alice, 0, 21)
			g.burst(alice, 21, 10, 9, 30, false, 0)
		}, []reposentry.Severity{low}, 0},
		{"the same developer reads 9 spread over the day", func(g *gen) {
			g.developer(alice, 0, 21)
			g.burst(alice, 21, 9, 9, 8*60, false, 0)
		}, nil, 0},
		{"a burst astride a clock hour (10:45 to 11:15) is one burst", func(g *gen) {
			g.developer(alice, 0, 21)
			g.burst(alice, 21, 10.75, 9, 30, false, 0)
		}, []reposentry.Severity{low}, 0},
		{"a burst with archive downloads is medium", func(g *gen) {
			g.developer(alice, 0, 21)
			g.burst(alice, 21, 10, 9, 30, true, 0)
		}, []reposentry.Severity{medium}, 0},
		{"an archive after a burst escalates it once", func(g *gen) {
			g.developer(alice, 0, 21)
			g.burst(alice, 21, 10, 9, 30, false, 0)
			g.add(alice, at(21, 10.6), reposentry.CategoryArchiveDownload, "acme/alpha-burst21-1000-3")
		}, []reposentry.Severity{low, medium}, 0},
		{"secrets repositories are evidence, not severity", func(g *gen) {
			g.developer(alice, 0, 21)
			g.burst(alice, 21, 10, 9, 30, false, reposentry.TagSecrets)
		}, []reposentry.Severity{low}, 7},
		{"a second burst the same day signals nothing new", func(g *gen) {
			g.developer(alice, 0, 21)
			g.burst(alice, 21, 10, 9, 30, false, 0)
			g.burst(alice, 21, 14, 9, 30, false, 0)
		}, []reposentry.Severity{low}, 0},
		{"no new reads ever: five in an hour are below the floor", func(g *gen) {
			g.routine(alice, "alpha", 0, 21)
			g.burst(alice, 21, 10, 5, 20, false, 0)
		}, nil, 0},
		{"no new reads ever: six in an hour reach the floor", func(g *gen) {
			g.routine(alice, "alpha", 0, 21)
			g.burst(alice, 21, 10, 6, 20, false, 0)
		}, []reposentry.Severity{low}, 0},
		{"a burst after the daily rule signalled the day adds nothing", func(g *gen) {
			g.routine(alice, "alpha", 0, 21)
			g.burst(alice, 21, 9, 8, 90*8, false, 0) // daily: 8 in a day, median 0
			g.burst(alice, 21, 17.5, 6, 20, false, 0)
		}, nil, 0},
		{"learning: a new joiner's burst on its fourth day", func(g *gen) {
			g.developer(alice, 0, 3)
			g.burst(alice, 3, 10, 9, 30, false, 0)
		}, nil, 0},
		{"automation: a bot's burst", func(g *gen) {
			g.developer(alice, 0, 21)
			g.burst(alice, 21, 10, 9, 30, false, 0)
			for i := range g.evs {
				g.evs[i].Actor.Type = reposentry.ActorBot
			}
		}, nil, 0},
		{"release engineer whose busiest hour brings 8 reads 9 in an hour", func(g *gen) {
			g.routine(alice, "alpha", 0, 21)
			for d := range 21 {
				g.burst(alice, d, 10, 8, 40, false, 0)
			}
			g.burst(alice, 21, 10, 9, 40, false, 0)
		}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g gen
			tc.build(&g)
			evs := g.sorted()
			hour, other := hourly(run(Config{}, evs))
			var got []reposentry.Severity
			for _, s := range hour {
				got = append(got, s.Severity)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("hourly signals %v, want %v", got, tc.want)
			}
			if len(hour) > 0 && hour[0].Evidence["sensitive_repositories"] != tc.sensitive {
				t.Errorf("evidence sensitive_repositories = %v, want %v", hour[0].Evidence["sensitive_repositories"], tc.sensitive)
			}
			// The daily and weekly rule must signal as it does when the
			// hourly one cannot fire.
			off := Config{HourlyFloor: 255}
			if offHour, offOther := hourly(run(off, evs)); len(offHour) != 0 || fmt.Sprint(offOther) != fmt.Sprint(other) {
				t.Errorf("daily and weekly signals changed by the hourly rule:\n got %v\nwant %v", other, offOther)
			}
		})
	}
}

// TestHourlyWindow checks the window's bookkeeping: quarters leave it as
// time passes, the day's busiest hour is kept and late events count.
func TestHourlyWindow(t *testing.T) {
	base := at(0, 10).Unix()
	for _, tc := range []struct {
		name     string
		offsets  []int64 // seconds after 10:00 of new reads, in order
		wantNow  int
		wantPeak uint8
	}{
		{"three in one quarter", []int64{0, 60, 120}, 3, 3},
		{"spread over four quarters stays in the window", []int64{0, 900, 1800, 2700}, 4, 4},
		{"the fifth quarter pushes the first out", []int64{0, 900, 1800, 2700, 3600}, 4, 4},
		{"two hours later the window holds one; the peak stays", []int64{0, 60, 120, 7200}, 1, 3},
		{"a late read counts in the newest quarter", []int64{3600, 3000, 1000}, 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &ident{}
			a.curDay = a.dayOf(base)
			for _, o := range tc.offsets {
				a.countHour(base+o, true, false, false)
			}
			if got := a.hourNew(); got != tc.wantNow {
				t.Errorf("window holds %d, want %d", got, tc.wantNow)
			}
			if got := a.hourPeak[histSlot(a.curDay)]; got != tc.wantPeak {
				t.Errorf("busiest hour %d, want %d", got, tc.wantPeak)
			}
		})
	}
}

// TestStateRoundTripHourly cuts a developer's burst at each of its reads:
// the hourly window is saved, so the restored detector raises exactly the
// signals of an uninterrupted run (low at the seventh read, medium at the
// archive download).
func TestStateRoundTripHourly(t *testing.T) {
	var g gen
	g.developer(alice, 0, 21)
	g.burst(alice, 21, 10, 9, 30, false, reposentry.TagSigning)
	g.add(alice, at(21, 10.6), reposentry.CategoryArchiveDownload, "acme/alpha-burst21-1000-3")
	evs := g.sorted()
	whole := feed(t, New(Config{}), evs, 0)
	first := slices.IndexFunc(evs, func(e reposentry.Event) bool { return e.Repo == "acme/alpha-burst21-1000-0" })
	hours := 0
	for i := first; i < len(evs); i++ {
		for _, s := range whole[i] {
			hours += strings.Count(s, `"trigger":"hourly"`)
		}
	}
	if hours != 2 {
		t.Fatalf("the uninterrupted run raised %d hourly signals during the burst, want 2", hours)
	}
	for k := first; k < len(evs); k++ {
		t.Run(fmt.Sprintf("cut before event %d", k), func(t *testing.T) {
			d := New(Config{})
			feed(t, d, evs[:k], 0)
			r, _ := roundTrip(t, d, Config{})
			got := feed(t, r, evs[k:], k)
			for i := k; i < len(evs); i++ {
				if w, g := strings.Join(whole[i], "\n"), strings.Join(got[i], "\n"); w != g {
					t.Fatalf("event %d: signals differ after the cut\nwant %s\ngot  %s", i, w, g)
				}
			}
		})
	}
}
