package baseline

import (
	"fmt"
	"strings"
	"testing"

	"github.com/reposentry/reposentry"
)

// Habits of peers in TestVolumePeers: what they read beyond their routine.
const (
	habitNone   = iota
	habitDaily  // 9 new repositories on every other day (a release team)
	habitWeekly // 3 new repositories every day: 21 a week, never 8 a day
)

// peerHabit gives who's reads of day d under habit h; i tells peers apart.
func (g *gen) peerHabit(who string, d, i, h int) {
	switch {
	case d < 8: // learning: not counted in the peers' statistics
	case h == habitDaily && (d+i)%2 == 0:
		g.clones(who, d, 9, 0, fmt.Sprintf("rel%d", i))
	case h == habitWeekly:
		g.clones(who, d, 3, 0, fmt.Sprintf("rel%d", i))
	}
}

// TestVolumePeers checks the peer comparison of volume_anomaly's daily and
// weekly triggers: alice, alone in her group's habits so far, starts reading
// many new repositories. Her own history always says anomalous; her peers
// (three members of her repository group, in another department, and three
// colleagues of her department, each in a group of their own) can only
// silence that, when it is usual for them.
func TestVolumePeers(t *testing.T) {
	off := false
	for _, tc := range []struct {
		name      string
		dept      string // alice's and her colleagues' department; "" without a directory
		deptFrom  int    // first day the directory gives the department
		group     int    // habit of alice's repository-group peers
		colleague int    // habit of her department colleagues
		weekly    bool   // alice reads 3 new repositories a day for 7 days instead of 9 in one day
		burst     bool   // alice reads her 9 within half an hour instead of over the day
		lone      bool   // the repository-group peers work in another group: alice's has too few member-days
		cfg       Config
		want      string // the signal's trigger; "" for silent
		sev       reposentry.Severity
		baseline  []string // substrings of the signal's Baseline
		hourly    int      // hourly signals, which peers do not silence
	}{
		{name: "developer whose department and group rarely read 8 new repositories a day", dept: "Payments", want: "daily", sev: reposentry.SeverityLow,
			baseline: []string{"peers in group acme/alpha: 0.0% of ", " member-days read 8 or more new repositories", "peers in department Payments: 0.0% of "}},
		{name: "member of a department where it is common", dept: "Release Engineering", colleague: habitDaily},
		{name: "member of a repository group where it is common", dept: "Payments", group: habitDaily},
		{name: "no department: the home group alone decides", want: "daily", sev: reposentry.SeverityLow,
			baseline: []string{"peers in group acme/alpha: 0.0% of "}},
		{name: "no department and a group too new to compare: own history decides", lone: true, want: "daily", sev: reposentry.SeverityLow,
			baseline: []string{"peers in group acme/alpha: too few member-days yet to compare"}},
		{name: "too few member-days in the department: own history decides", dept: "Release Engineering", deptFrom: 19, colleague: habitDaily,
			want: "daily", sev: reposentry.SeverityLow,
			baseline: []string{"peers in department Release Engineering: too few member-days yet to compare"}},
		{name: "department peers off", dept: "Release Engineering", colleague: habitDaily, cfg: Config{DepartmentPeers: &off},
			want: "daily", sev: reposentry.SeverityLow, baseline: []string{"peers in group acme/alpha: 0.0% of "}},
		{name: "a week of slow reading, department rarely does it", dept: "Payments", weekly: true, want: "weekly", sev: reposentry.SeverityMedium,
			baseline: []string{"peers in department Payments: 0.0% of ", " member-days read 15 or more new repositories in 7 days"}},
		{name: "a week of slow reading, department does it every week", dept: "Release Engineering", colleague: habitWeekly, weekly: true},
		{name: "a burst in a department where 8 a day is common: the hourly trigger still speaks", dept: "Release Engineering", colleague: habitDaily,
			burst: true, hourly: 1},
		{name: "peers who read 3 a day make 15 a week usual, not 8 in a day", dept: "Release Engineering", colleague: habitWeekly,
			want: "daily", sev: reposentry.SeverityLow, baseline: []string{"peers in department Release Engineering: 0.0% of "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g gen
			dept := map[string]string{}
			if tc.dept != "" {
				dept[alice] = tc.dept
			}
			days := 22
			if tc.weekly {
				days = 28
			}
			for d := range days {
				g.routine(alice, "alpha", d, 1)
				if d >= 21 && tc.weekly {
					g.clones(alice, d, 3, 0, "")
				}
				for i := range 3 {
					p := fmt.Sprintf("peer%d@acme.example", i)
					dept[p] = "Engineering"
					g.routine(p, map[bool]string{false: "alpha", true: "omega"}[tc.lone], d, 1)
					g.peerHabit(p, d, i, tc.group)
					c := fmt.Sprintf("colleague%d@acme.example", i)
					if tc.dept != "" {
						dept[c] = tc.dept
					}
					g.routine(c, fmt.Sprintf("sec%d", i), d, 1)
					g.peerHabit(c, d, i, tc.colleague)
				}
			}
			switch {
			case tc.burst:
				g.burst(alice, 21, 10, 9, 30, false, 0)
			case !tc.weekly:
				g.clones(alice, 21, 9, 0, "")
			}
			evs := g.sorted()
			for i := range evs {
				if evs[i].Time.Before(at(tc.deptFrom, 0)) {
					continue
				}
				evs[i].Department = dept[evs[i].Identity]
			}
			hr, vol := hourly(run(tc.cfg, evs))
			if len(hr) != tc.hourly {
				t.Errorf("%d hourly signals, want %d", len(hr), tc.hourly)
			}
			if tc.want == "" {
				if len(vol) != 0 {
					t.Fatalf("volume signalled %s (%s), want silence", vol[0].Severity, vol[0].Baseline)
				}
				return
			}
			// Own history decides the severity: the same as with a rate
			// limit no population can exceed.
			_, own := hourly(run(Config{PeerRateMax: 1, DepartmentPeers: tc.cfg.DepartmentPeers}, evs))
			if len(vol) == 0 || len(own) == 0 {
				t.Fatalf("volume signals %d, with peers ignored %d; want both", len(vol), len(own))
			}
			s := vol[0]
			if s.Evidence["trigger"] != tc.want || s.Severity != tc.sev || own[0].Severity != s.Severity {
				t.Errorf("trigger %v severity %s (%s with peers ignored), want %s %s", s.Evidence["trigger"], s.Severity, own[0].Severity, tc.want, tc.sev)
			}
			for _, sub := range tc.baseline {
				if !strings.Contains(s.Baseline, sub) {
					t.Errorf("baseline %q, want it to contain %q", s.Baseline, sub)
				}
			}
			compared := tc.dept != "" && tc.cfg.DepartmentPeers == nil
			if d, ok := s.Evidence["department"]; compared != ok || ok && d != tc.dept {
				t.Errorf("evidence department = %v (present %v), want %q", d, ok, tc.dept)
			}
			if s.Evidence["peer_group"] != "acme/alpha" || tc.lone != (s.Evidence["peer_days"] == 0.0) {
				t.Errorf("evidence peer_group = %v of %v member-days, want acme/alpha, too few member-days: %v", s.Evidence["peer_group"], s.Evidence["peer_days"], tc.lone)
			}
		})
	}
}

// TestPeerStatCount checks a peer population's bookkeeping: each kind is
// counted apart, rates wait for minPeerDays and the counts halve together
// past peerDecayDays, keeping the rates.
func TestPeerStatCount(t *testing.T) {
	var ps peerStat
	for i := range minPeerDays - 1 {
		ps.count(memberDay{wide: i%2 == 0, daily: i%4 == 0, weekly: true})
	}
	if _, _, ok := ps.rate(peerDaily); ok {
		t.Fatalf("rate trusted after %v member-days, want at least %d", ps.days, minPeerDays)
	}
	ps.count(memberDay{})
	for _, tc := range []struct {
		k    peerKind
		want float64
	}{{peerWide, 10.0 / 20}, {peerDaily, 5.0 / 20}, {peerWeekly, 19.0 / 20}} {
		if rate, days, ok := ps.rate(tc.k); !ok || days != minPeerDays || rate != tc.want {
			t.Errorf("kind %d: rate %v of %v days (ok %v), want %v of %d", tc.k, rate, days, ok, tc.want, minPeerDays)
		}
	}
	ps = peerStat{days: peerDecayDays, wide: 100, daily: 200, weekly: 300}
	ps.count(memberDay{daily: true})
	if want := (peerStat{days: float64(peerDecayDays+1) / 2, wide: 50, daily: 100.5, weekly: 150}); ps != want {
		t.Errorf("after decay %+v, want %+v", ps, want)
	}
}

// TestOwnDaysLeftOut checks that volume compares with the peers' days, not
// the identity's own: alice, in a department of two, reads 9 new
// repositories on each of three days. Counting her own first two days
// would make reading 8 a day look usual for her department by the third.
func TestOwnDaysLeftOut(t *testing.T) {
	var g gen
	colleague := "colleague@acme.example"
	for d := range 24 {
		g.routine(alice, "alpha", d, 1)
		g.routine(colleague, "beta", d, 1)
		if d >= 21 {
			g.clones(alice, d, 9, 0, "")
		}
	}
	evs := g.sorted()
	for i := range evs {
		evs[i].Department = "Solo"
	}
	det := New(Config{}).(*detector)
	last := 0
	for i := range evs {
		if evs[i].Time.Before(at(23, 12)) {
			det.Process(&evs[i], func(reposentry.Signal) {})
			last = i
		}
	}
	a := det.ids[alice]
	p := det.peersOf(a, &evs[last])
	p.own = det.ownWeek(a)
	if p.own.days != weekDays-1 {
		t.Errorf("own member-days %v, want %d", p.own.days, weekDays-1)
	}
	for _, tc := range []struct {
		k       peerKind
		ownHits float64
		usual   bool // whether alice's own days alone would make it usual
	}{{peerDaily, 2, true}, {peerWide, 2, true}, {peerWeekly, 1, false}} { // 18 in the week by day 22
		if got := p.own.hits(tc.k); got != tc.ownHits {
			t.Errorf("kind %d: own hits %v, want %v", tc.k, got, tc.ownHits)
		}
		raw, _, ok := p.dept.rate(tc.k)
		if !ok || (raw > det.cfg.PeerRateMax) != tc.usual {
			t.Errorf("kind %d: the department's rate with alice's days %v (ok %v), want above %v: %v", tc.k, raw, ok, det.cfg.PeerRateMax, tc.usual)
		}
		if rate, _, ok := p.rate(p.dept, tc.k); !ok || rate != 0 {
			t.Errorf("kind %d: the department's rate without alice's days %v (ok %v), want 0", tc.k, rate, ok)
		}
	}
}
