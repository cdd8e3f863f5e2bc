package sigma

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// ev builds a GitHub event at t0+offset.
func ev(offset time.Duration, actor, action, repo string) reposentry.Event {
	e := reposentry.Event{Time: t0.Add(offset), Platform: reposentry.PlatformGitHub, Action: action,
		Actor: reposentry.Account{Login: actor}, Repo: repo}
	e.ID.Set(fmt.Appendf(nil, "%s-%s-%d", actor, action, offset/time.Second))
	return e
}

const baseRules = `title: read
name: read
id: read-1
logsource:
  product: github
detection:
  sel:
    action: [git.clone, git.fetch]
  condition: sel
---
title: token
name: token
logsource:
  product: github
detection:
  sel:
    action: personal_access_token.create
  condition: sel
---
title: visibility
name: public
logsource:
  product: github
detection:
  sel:
    action: repo.access
  condition: sel
`

func TestCorrelations(t *testing.T) {
	reads := func(actor string, n int, step time.Duration, distinct bool) []reposentry.Event {
		var out []reposentry.Event
		for i := range n {
			repo := "acme/r0"
			if distinct {
				repo = fmt.Sprintf("acme/r%d", i)
			}
			out = append(out, ev(time.Duration(i)*step, actor, "git.clone", repo))
		}
		return out
	}
	cases := []struct {
		name        string
		correlation string
		events      []reposentry.Event
		want        []string // "count@group" per signal
	}{
		{"event_count fires once per burst", "type: event_count\nrules: [read]\ngroup-by: [actor]\ntimespan: 10m\ncondition:\n  gte: 3",
			reads("a", 5, time.Minute, false), []string{"3@a"}},
		{"event_count window slides", "type: event_count\nrules: [read]\ngroup-by: [actor]\ntimespan: 2m\ncondition:\n  gte: 3",
			reads("a", 5, 90*time.Second, false), nil},
		{"event_count groups apart", "type: event_count\nrules: [read]\ngroup-by: [actor]\ntimespan: 10m\ncondition:\n  gte: 3",
			append(reads("a", 2, time.Second, false), reads("b", 2, time.Second, false)...), nil},
		{"event_count by id reference", "type: event_count\nrules: [read-1]\ngroup-by: [actor]\ntimespan: 10m\ncondition:\n  gt: 1",
			reads("a", 2, time.Second, false), []string{"2@a"}},
		{"value_count distinct", "type: value_count\nrules: [read]\ngroup-by: [actor]\ntimespan: 10m\ncondition:\n  field: repo\n  gte: 4",
			reads("a", 4, time.Second, true), []string{"4@a"}},
		{"value_count repeats do not count", "type: value_count\nrules: [read]\ngroup-by: [actor]\ntimespan: 10m\ncondition:\n  field: repo\n  gte: 2",
			reads("a", 6, time.Second, false), nil},
		{"value_count range judged at window end", "type: value_count\nrules: [read]\ngroup-by: [actor]\ntimespan: 10m\ncondition:\n  field: repo\n  gt: 1\n  lte: 3",
			reads("a", 3, time.Second, true), []string{"3@a"}},
		{"value_count range exceeded", "type: value_count\nrules: [read]\ngroup-by: [actor]\ntimespan: 10m\ncondition:\n  field: repo\n  gt: 1\n  lte: 3",
			reads("a", 5, time.Second, true), nil},
		{"event_count lt", "type: event_count\nrules: [read]\ngroup-by: [actor]\ntimespan: 10m\ncondition:\n  lt: 2",
			reads("a", 1, time.Second, false), []string{"1@a"}},
		{"temporal all rules", "type: temporal\nrules: [read, token]\ngroup-by: [actor]\ntimespan: 10m",
			[]reposentry.Event{ev(0, "a", "git.clone", "x/y"), ev(time.Minute, "a", "personal_access_token.create", "")}, []string{"2@a"}},
		{"temporal any order", "type: temporal\nrules: [read, token]\ngroup-by: [actor]\ntimespan: 10m",
			[]reposentry.Event{ev(0, "a", "personal_access_token.create", ""), ev(time.Minute, "a", "git.clone", "x/y")}, []string{"2@a"}},
		{"temporal too far apart", "type: temporal\nrules: [read, token]\ngroup-by: [actor]\ntimespan: 10m",
			[]reposentry.Event{ev(0, "a", "git.clone", "x/y"), ev(11*time.Minute, "a", "personal_access_token.create", "")}, nil},
		{"temporal other actor", "type: temporal\nrules: [read, token]\ngroup-by: [actor]\ntimespan: 10m",
			[]reposentry.Event{ev(0, "a", "git.clone", "x/y"), ev(time.Minute, "b", "personal_access_token.create", "")}, nil},
		{"temporal_ordered in order", "type: temporal_ordered\nrules: [token, read, public]\ngroup-by: [actor]\ntimespan: 1h",
			[]reposentry.Event{ev(0, "a", "personal_access_token.create", ""), ev(time.Minute, "a", "git.clone", "x/y"), ev(2*time.Minute, "a", "repo.access", "x/y")}, []string{"3@a"}},
		{"temporal_ordered out of order", "type: temporal_ordered\nrules: [token, read]\ngroup-by: [actor]\ntimespan: 1h",
			[]reposentry.Event{ev(0, "a", "git.clone", "x/y"), ev(time.Minute, "a", "personal_access_token.create", "")}, nil},
		{"temporal_ordered same rule twice", "type: temporal_ordered\nrules: [read, read]\ngroup-by: [actor]\ntimespan: 1h",
			[]reposentry.Event{ev(0, "a", "git.clone", "x/y")}, nil},
		{"temporal_ordered same rule twice, two events", "type: temporal_ordered\nrules: [read, read]\ngroup-by: [actor]\ntimespan: 1h",
			[]reposentry.Event{ev(0, "a", "git.clone", "x/y"), ev(time.Second, "a", "git.fetch", "x/y")}, []string{"2@a"}},
		{"aliases", "type: temporal\nrules: [read, token]\ngroup-by: [who]\ntimespan: 10m\naliases:\n  who:\n    read: actor\n    token: user",
			[]reposentry.Event{ev(0, "a", "git.clone", "x/y"), func() reposentry.Event {
				e := ev(time.Minute, "admin", "personal_access_token.create", "")
				e.TargetUser = "a"
				return e
			}()}, []string{"2@a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			yml := baseRules + "---\ntitle: corr\nid: corr-1\nlevel: high\ntags: [attack.t1213.003]\ncorrelation:\n" + indent(tc.correlation, "  ")
			rs := mustRuleSet(t, yml, Options{})
			var got []string
			for _, s := range Run(rs, tc.events) {
				if s.Rule != "sigma:corr-1" {
					t.Errorf("unexpected signal from %s: referenced rules must not fire on their own", s.Rule)
					continue
				}
				g := s.Evidence["group"].(map[string]any)
				var vals []string
				for _, k := range []string{"actor", "who"} {
					if v, ok := g[k]; ok {
						vals = append(vals, v.(string))
					}
				}
				got = append(got, fmt.Sprintf("%d@%s", s.Evidence["count"], strings.Join(vals, ",")))
				if s.Severity != reposentry.SeverityHigh || len(s.Techniques) != 1 || len(s.EventIDs) == 0 {
					t.Errorf("signal lacks severity, techniques or event ids: %+v", s)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("signals %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCorrelationGenerateAndSweep(t *testing.T) {
	yml := baseRules + "---\ntitle: corr\nid: corr-1\ncorrelation:\n  type: event_count\n  rules: [read]\n  group-by: [actor]\n  timespan: 5m\n  generate: true\n  condition:\n    gte: 100\n"
	rs := mustRuleSet(t, yml, Options{})
	d := NewDetector(rs)
	var sigs []reposentry.Signal
	emit := func(s reposentry.Signal) { sigs = append(sigs, s) }
	for i := range 50 {
		e := ev(time.Duration(i)*time.Second, fmt.Sprintf("actor-%d", i), "git.clone", "x/y")
		d.Process(&e, emit)
	}
	if len(sigs) != 50 {
		t.Errorf("generate: true: %d standalone signals, want 50", len(sigs))
	}
	cs := d.corrs[0]
	if len(cs.groups) != 50 {
		t.Fatalf("%d groups tracked, want 50", len(cs.groups))
	}
	d.Advance(t0.Add(4*time.Minute), emit)
	if len(cs.groups) != 50 {
		t.Errorf("groups swept before their timespan: %d left", len(cs.groups))
	}
	d.Advance(t0.Add(6*time.Minute), emit)
	if len(cs.groups) != 0 {
		t.Errorf("%d groups left after the timespan, want 0", len(cs.groups))
	}
}

func TestFilters(t *testing.T) {
	yml := baseRules + `---
title: ignore ci
logsource:
  product: github
filter:
  rules: [read, token]
  selection:
    actor|startswith: ci-
  condition: selection
---
title: okta only filter
logsource:
  product: okta
filter:
  rules: [public]
  selection:
    actor: a
  condition: selection
`
	rs := mustRuleSet(t, yml, Options{})
	cases := []struct {
		ev   reposentry.Event
		want string
	}{
		{ev(0, "ci-bot", "git.clone", "x/y"), ""},
		{ev(0, "alice", "git.clone", "x/y"), "sigma:read-1"},
		{ev(0, "ci-bot", "personal_access_token.create", ""), ""},
		{ev(0, "a", "repo.access", "x/y"), "sigma:public"}, // filter is for another logsource
	}
	for _, tc := range cases {
		var got []string
		e := tc.ev
		NewDetector(rs).Process(&e, func(s reposentry.Signal) { got = append(got, s.Rule) })
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%s by %s: signals %v, want %q", e.Action, e.Actor.Login, got, tc.want)
		}
	}
}

func TestRuleSignal(t *testing.T) {
	yml := "title: Made public\nid: pub-1\ndescription: A repository became public.\nlevel: critical\ntags: [attack.exfiltration, attack.t1567.001]\nlogsource:\n  product: github\ndetection:\n  sel:\n    action: repo.access\n    visibility: public\n  condition: sel\n"
	rs := mustRuleSet(t, yml, Options{})
	e := githubEvent(t, `{"action":"repo.access","actor":"jdoe","repo":"acme/api","visibility":"public","actor_ip":"198.51.100.7","_document_id":"doc-1"}`)
	e.Identity = "jane@acme.example"
	var sigs []reposentry.Signal
	NewDetector(rs).Process(&e, func(s reposentry.Signal) { sigs = append(sigs, s) })
	if len(sigs) != 1 {
		t.Fatalf("%d signals, want 1", len(sigs))
	}
	s := sigs[0]
	checks := []struct{ what, got, want string }{
		{"rule", s.Rule, "sigma:pub-1"},
		{"title", s.Title, "Made public"},
		{"severity", s.Severity.String(), "critical"},
		{"techniques", strings.Join(s.Techniques, ","), "T1567.001"},
		{"tactics", strings.Join(s.Tactics, ","), "TA0010"},
		{"entity", s.Entity.ID, "jane@acme.example"},
		{"accounts", strings.Join(s.Entity.Accounts, ","), "github:jdoe"},
		{"event ids", strings.Join(s.EventIDs, ","), "github:doc-1"},
		{"explanation", s.Explanation, "A repository became public. Matched: jdoe did repo.access on acme/api from 198.51.100.7."},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
}

// The Detector is what the engine runs.
var _ engine.Detector = (*Detector)(nil)
