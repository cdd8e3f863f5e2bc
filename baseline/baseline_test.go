package baseline

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
)

// start is a Monday, as the simulator's default.
var start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// gen builds synthetic events in time order.
type gen struct {
	evs []reposentry.Event
}

// at is hour h (fractional) of day d.
func at(d int, h float64) time.Time {
	return start.AddDate(0, 0, d).Add(time.Duration(math.Round(h*3600)) * time.Second)
}

func (g *gen) add(who string, t time.Time, cat reposentry.Category, repo string) *reposentry.Event {
	ev := reposentry.Event{Time: t, Platform: reposentry.PlatformGitHub, Category: cat, Outcome: reposentry.OutcomeSuccess,
		Actor: reposentry.Account{Login: strings.Split(who, "@")[0], Type: reposentry.ActorUser}, Identity: who,
		Repo: repo, Org: "acme", Visibility: reposentry.VisibilityPrivate,
		Credential: reposentry.Credential{Kind: reposentry.CredentialPATFineGrained, ID: "tok-" + who}}
	ev.ID.Set(fmt.Appendf(nil, "e%d", len(g.evs)))
	ev.Action = map[reposentry.Category]string{reposentry.CategoryClone: "git.clone", reposentry.CategoryFetch: "git.fetch",
		reposentry.CategoryArchiveDownload: "repo.download_zip"}[cat]
	g.evs = append(g.evs, ev)
	return &g.evs[len(g.evs)-1]
}

// routine is days of ordinary work from day from on: fetches of four
// repositories of the identity's own group every hour from 09:00 to 16:00
// UTC, and a clone of one more of its group every third day.
func (g *gen) routine(who, group string, from, days int) {
	for d := from; d < from+days; d++ {
		for h := 9; h < 17; h++ {
			g.add(who, at(d, float64(h)+0.1), reposentry.CategoryFetch, fmt.Sprintf("acme/%s-svc%d", group, h%4))
		}
		if d%3 == 0 {
			g.add(who, at(d, 11.5), reposentry.CategoryClone, fmt.Sprintf("acme/%s-lib%d", group, d))
		}
	}
}

// clones reads n repositories of other groups on day d in working hours,
// downloading every zipEvery-th as an archive too (0: none).
func (g *gen) clones(who string, d, n, zipEvery int, tag string) {
	for i := range n {
		t := at(d, 10+float64(i)*6/float64(max(n, 1)))
		repo := fmt.Sprintf("acme/%s%d-repo%d-%d", []string{"beta", "gamma", "delta"}[i%3], i%3, d, i)
		if tag != "" {
			repo = fmt.Sprintf("acme/%s-repo%d-%d", tag, d, i)
		}
		g.add(who, t, reposentry.CategoryClone, repo)
		if zipEvery > 0 && i%zipEvery == 0 {
			g.add(who, t.Add(time.Minute), reposentry.CategoryArchiveDownload, repo)
		}
	}
}

// worst is the highest severity per rule among the signals about who.
func worst(sigs []reposentry.Signal, who string) map[string]reposentry.Severity {
	out := map[string]reposentry.Severity{}
	for _, s := range sigs {
		if s.Entity.ID == who {
			out[s.Rule] = max(out[s.Rule], s.Severity)
		}
	}
	return out
}

const alice = "alice@acme.example"

func TestSignals(t *testing.T) {
	low, medium, high := reposentry.SeverityLow, reposentry.SeverityMedium, reposentry.SeverityHigh
	cases := []struct {
		name  string
		build func(g *gen)
		want  map[string]reposentry.Severity
	}{
		{"departing insider reads other teams' repositories for 4 days with archives", func(g *gen) {
			g.routine(alice, "alpha", 0, 21)
			for d := 21; d < 25; d++ {
				g.clones(alice, d, 9, 4, "")
			}
		}, map[string]reposentry.Severity{RuleVolume: high, RuleBreadth: high}},
		{"new joiner reads widely in the first week", func(g *gen) {
			g.routine("bob@acme.example", "alpha", 0, 21)
			g.clones(alice, 10, 30, 0, "")
			g.clones(alice, 11, 30, 0, "")
			g.routine(alice, "alpha", 12, 5)
		}, map[string]reposentry.Severity{}},
		{"release day fetch storm: fetches are not new reads", func(g *gen) {
			g.routine(alice, "alpha", 0, 21)
			for i := range 120 {
				g.add(alice, at(21, 10+float64(i)/60), reposentry.CategoryFetch, fmt.Sprintf("acme/team%d-service", i))
			}
		}, map[string]reposentry.Severity{}},
		{"SRE incident: three repositories of another team", func(g *gen) {
			g.routine(alice, "alpha", 0, 21)
			g.clones(alice, 21, 3, 0, "")
		}, map[string]reposentry.Severity{}},
		{"SRE incident: ten infrastructure repositories of other teams in one day", func(g *gen) {
			g.routine(alice, "alpha", 0, 21)
			g.clones(alice, 21, 10, 0, "")
		}, map[string]reposentry.Severity{RuleVolume: low, RuleBreadth: low}},
		{"low and slow: three new repositories a day for ten days", func(g *gen) {
			g.routine(alice, "alpha", 0, 21)
			for d := 21; d < 31; d++ {
				g.clones(alice, d, 3, 0, "")
			}
		}, map[string]reposentry.Severity{RuleVolume: medium}},
		{"going from 0 to 2 new repositories is not an anomaly", func(g *gen) {
			g.routine(alice, "alpha", 0, 21)
			for d := 21; d < 25; d++ {
				g.clones(alice, d, 2, 0, "")
			}
		}, map[string]reposentry.Severity{}},
		{"read at 03:00, an hour never active", func(g *gen) {
			g.routine(alice, "alpha", 0, 21)
			g.add(alice, at(21, 3), reposentry.CategoryFetch, "acme/alpha-svc1")
		}, map[string]reposentry.Severity{RuleOffHours: low}},
		{"read at a usual hour", func(g *gen) {
			g.routine(alice, "alpha", 0, 21)
			g.add(alice, at(21, 10.5), reposentry.CategoryFetch, "acme/alpha-svc1")
		}, map[string]reposentry.Severity{}},
		{"dormant identity reads five repositories", func(g *gen) {
			g.routine(alice, "alpha", 0, 14)
			g.clones(alice, 50, 5, 0, "alpha")
		}, map[string]reposentry.Severity{RuleDormant: medium}},
		{"dormant identity reads four repositories", func(g *gen) {
			g.routine(alice, "alpha", 0, 14)
			g.clones(alice, 50, 4, 0, "alpha")
		}, map[string]reposentry.Severity{}},
		{"dormant credential of an active identity reads five repositories", func(g *gen) {
			g.add(alice, at(0, 9), reposentry.CategoryFetch, "acme/alpha-svc0").Credential.ID = "old-token"
			g.routine(alice, "alpha", 1, 40)
			for i := range 5 {
				g.add(alice, at(40, 15+float64(i)/10), reposentry.CategoryFetch, fmt.Sprintf("acme/alpha-lib%d", 3+i*3)).Credential.ID = "old-token"
			}
		}, map[string]reposentry.Severity{RuleDormant: medium}},
		{"bot clones everything every day", func(g *gen) {
			for d := range 20 {
				for i := range 50 {
					g.add(alice, at(d, float64(i)/3), reposentry.CategoryClone, fmt.Sprintf("acme/r%d-%d", d, i)).Actor.Type = reposentry.ActorBot
				}
			}
		}, map[string]reposentry.Severity{}},
		{"automation by behaviour: over 200 reads a day on three days", func(g *gen) {
			for d := range 12 {
				for i := range 250 {
					g.add(alice, at(d, float64(i)/12), reposentry.CategoryFetch, fmt.Sprintf("acme/r-%d", i))
				}
			}
			for d := 12; d < 16; d++ {
				g.clones(alice, d, 40, 4, "")
			}
		}, map[string]reposentry.Severity{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var g gen
			tc.build(&g)
			got := worst(run(Config{}, g.evs), alice)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("worst severity per rule = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPeerRate checks that breadth stays silent for an identity whose peers
// routinely read other groups' repositories, and speaks when they do not.
func TestPeerRate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		peersRoam  bool
		wantBreath bool
	}{{"peers read widely every other day", true, false}, {"peers never read widely", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			var g gen
			peers := []string{alice}
			for i := range 6 {
				peers = append(peers, fmt.Sprintf("peer%d@acme.example", i))
			}
			for d := range 22 {
				for i, p := range peers {
					g.routine(p, "sec", d, 1)
					if tc.peersRoam && p != alice && d >= 8 && (d+i)%2 == 0 {
						g.clones(p, d, 6, 0, fmt.Sprintf("x%d", i))
					}
				}
			}
			g.clones(alice, 22, 6, 0, "")
			sevs := worst(run(Config{}, g.evs), alice)
			if _, got := sevs[RuleBreadth]; got != tc.wantBreath {
				t.Errorf("breadth signalled: %v, want %v (signals %v)", got, tc.wantBreath, sevs)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	neg := DefaultConfig()
	neg.K = -1
	nan := DefaultConfig()
	nan.PeerRateMax = 2
	slots := DefaultConfig()
	slots.DormantMinRepos = dormSlots + 1
	ttl := DefaultConfig()
	ttl.IdentityTTL = 10 * 24 * time.Hour
	hour := DefaultConfig()
	hour.HourlyFloor = 256
	hourNeg := DefaultConfig()
	hourNeg.HourlyFloor = -1
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // substring of the error; "" for none
	}{
		{"defaults", DefaultConfig(), ""},
		{"zero value", Config{}, ""},
		{"negative k", neg, "baseline.k"},
		{"rate above 1", nan, "baseline.peer_rate_max"},
		{"too many dormant repositories", slots, "baseline.dormant_min_repos"},
		{"ttl shorter than dormancy", ttl, "baseline.identity_ttl"},
		{"hourly floor past a byte", hour, "baseline.hourly_floor"},
		{"negative hourly floor", hourNeg, "baseline.hourly_floor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestGroupPrefix(t *testing.T) {
	for _, tc := range []struct{ repo, want string }{
		{"acme/payments-api", "acme/payments"},
		{"acme/handbook", "acme/handbook"},
		{"acme/-odd", "acme/-odd"},
		{"noslash-repo", "noslash"},
		{"", ""},
	} {
		if got := groupPrefix(tc.repo); got != tc.want {
			t.Errorf("groupPrefix(%q) = %q, want %q", tc.repo, got, tc.want)
		}
	}
}

// TestTeamEvents checks that a team.add_repository event makes repositories
// of differently named prefixes one group, so reading them is not breadth.
func TestTeamEvents(t *testing.T) {
	for _, tc := range []struct {
		name string
		on   bool
		want bool
	}{{"team events used", true, false}, {"team events ignored", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			var g gen
			for i := range 6 {
				e := g.add("admin@acme.example", at(0, 8), reposentry.CategoryPermissionChange, fmt.Sprintf("acme/tool%d-x", i))
				e.Action, e.Detail = "team.add_repository", "platform"
			}
			e := g.add("admin@acme.example", at(0, 8), reposentry.CategoryPermissionChange, "acme/alpha-svc1")
			e.Action, e.Detail = "team.add_repository", "platform"
			g.routine(alice, "alpha", 0, 21)
			for i := range 6 {
				g.add(alice, at(21, 10+float64(i)/10), reposentry.CategoryClone, fmt.Sprintf("acme/tool%d-x", i))
			}
			on := tc.on
			_, got := worst(run(Config{TeamEvents: &on}, g.evs), alice)[RuleBreadth]
			if got != tc.want {
				t.Errorf("breadth signalled: %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDepartmentPeers checks the directory department as a second peer
// population for breadth: alice, whose repository-group peers never read
// widely, reads six repositories of other teams. Whether that signals
// depends on her department's habits, and on there being a department.
func TestDepartmentPeers(t *testing.T) {
	off := false
	for _, tc := range []struct {
		name      string
		dept      string // alice's department; "" without a directory
		deptRoams bool   // her department's other members read widely every other day
		cfg       Config
		want      bool
		baseline  string // substring of the signal's Baseline when it fires
	}{
		{"engineer whose department rarely reads widely", "Payments", false, Config{}, true,
			"peers in department Payments: 0.0% of "},
		{"security engineer whose department routinely reads widely", "Security", true, Config{}, false, ""},
		{"release engineer whose department routinely reads widely", "Release Engineering", true, Config{}, false, ""},
		{"no department: the home group alone decides", "", true, Config{}, true, "its peers do this on 0.0% of"},
		{"department peers off", "Security", true, Config{DepartmentPeers: &off}, true, "its peers do this on 0.0% of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g gen
			dept := map[string]string{alice: tc.dept}
			for d := range 22 {
				g.routine(alice, "alpha", d, 1)
				for i := range 3 {
					// Repository-group peers, in another department.
					p := fmt.Sprintf("peer%d@acme.example", i)
					dept[p] = "Engineering"
					g.routine(p, "alpha", d, 1)
					// Department colleagues, each in a group of their own.
					c := fmt.Sprintf("colleague%d@acme.example", i)
					if tc.dept != "" {
						dept[c] = tc.dept
					}
					g.routine(c, fmt.Sprintf("sec%d", i), d, 1)
					if tc.deptRoams && d >= 8 && (d+i)%2 == 0 {
						g.clones(c, d, 6, 0, fmt.Sprintf("x%d", i))
					}
				}
			}
			g.clones(alice, 22, 6, 0, "")
			for i := range g.evs {
				g.evs[i].Department = dept[g.evs[i].Identity]
			}
			var got *reposentry.Signal
			for _, s := range run(tc.cfg, g.evs) {
				if s.Entity.ID == alice && s.Rule == RuleBreadth {
					got = &s
					break
				}
			}
			if (got != nil) != tc.want {
				t.Fatalf("breadth signalled: %v, want %v", got != nil, tc.want)
			}
			if got == nil {
				return
			}
			if !strings.Contains(got.Baseline, tc.baseline) {
				t.Errorf("baseline %q, want it to contain %q", got.Baseline, tc.baseline)
			}
			compared := tc.dept != "" && tc.cfg.DepartmentPeers == nil
			if d, ok := got.Evidence["department"]; compared != ok || ok && d != tc.dept {
				t.Errorf("evidence department = %v (present %v), want %q", d, ok, tc.dept)
			}
			if strings.Contains(got.Baseline, "department") != compared {
				t.Errorf("baseline %q names a department: %v, want %v", got.Baseline, !compared, compared)
			}
		})
	}
}

// TestDepartmentBound checks that the departments followed stay bounded.
func TestDepartmentBound(t *testing.T) {
	d := New(Config{}).(*detector)
	for i := range maxDepartments + 10 {
		d.deptStat(fmt.Sprintf("dept%d", i), true)
	}
	if len(d.depts) != maxDepartments {
		t.Fatalf("%d departments followed, want at most %d", len(d.depts), maxDepartments)
	}
	if d.deptStat("dept0", true) == nil || d.deptStat("new", true) != nil {
		t.Fatal("past the bound, known departments must still count and new ones must not")
	}
}
