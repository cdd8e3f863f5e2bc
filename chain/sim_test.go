package chain_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/chain"
	"github.com/reposentry/reposentry/engine/enginetest"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/entra"
	"github.com/reposentry/reposentry/parser/github"
	"github.com/reposentry/reposentry/parser/okta"
	"github.com/reposentry/reposentry/simulate"
	"github.com/reposentry/reposentry/simulate/simtest"
)

// simEvents parses the simulator's Okta, Entra and GitHub logs with the real
// parsers, resolves identities as the enricher would and sorts by time.
func simEvents(tb testing.TB, dir string) []reposentry.Event {
	p := parser.New(intern.New(0), github.New(), okta.New(), entra.New())
	return simtest.Events(tb, p, filepath.Join(dir, "okta"), filepath.Join(dir, "entra"), filepath.Join(dir, "github"))
}

// TestSimulator runs a simulated organisation through the real parsers and
// the detections: every account takeover that signs in through the
// identity provider gets a chain signal in its window, and the look-alikes
// get none of high severity.
func TestSimulator(t *testing.T) {
	dir := t.TempDir()
	if _, err := simulate.Run(simulate.Config{Users: 300, Days: 21, Seed: 1, Out: dir}); err != nil {
		t.Fatalf("simulate: %v", err)
	}
	evs := simEvents(t, dir)
	sigs := enginetest.Run(chain.New(chain.DefaultConfig()), evs)
	labels := simtest.Labels(t, filepath.Join(dir, "labels.jsonl"))
	benign := simtest.Labels(t, filepath.Join(dir, "benign.jsonl"))

	byRule := map[string]map[string]int{}
	for _, s := range sigs {
		if byRule[s.Rule] == nil {
			byRule[s.Rule] = map[string]int{}
		}
		byRule[s.Rule][s.Severity.String()]++
	}
	t.Logf("%d events, signals by rule and severity: %v", len(evs), byRule)
	for _, s := range sigs {
		if s.Severity < reposentry.SeverityHigh {
			t.Logf("  %s %s %s: %s", s.Rule, s.Severity, s.Entity.ID, s.Observed)
		}
	}

	chainFor := func(l simtest.Label, minSev reposentry.Severity) []reposentry.Signal {
		var out []reposentry.Signal
		for _, s := range sigs {
			if s.Rule == chain.RuleRiskyChain && s.Entity.ID == l.Entity && s.Severity >= minSev &&
				!s.Time.Before(l.Start) && !s.Time.After(l.End.Add(time.Hour)) {
				out = append(out, s)
			}
		}
		return out
	}
	want := map[string]bool{simulate.ScenarioLapsus: true, simulate.ScenarioScatteredSp: true}
	seen := map[string]bool{}
	for _, l := range labels {
		got := chainFor(l, reposentry.SeverityHigh)
		t.Logf("%s %s: %d high/critical chain signals", l.Scenario, l.Entity, len(got))
		for _, s := range got {
			t.Logf("  %s %s: %s", s.Severity, s.Time.Format(time.RFC3339), s.Observed)
		}
		if want[l.Scenario] {
			seen[l.Scenario] = true
			if len(got) == 0 {
				t.Errorf("%s (%s, %s to %s): no chain signal", l.Scenario, l.Entity, l.Start, l.End)
			}
		}
	}
	for sc := range want {
		if !seen[sc] {
			t.Errorf("the simulator wrote no %s label", sc)
		}
	}
	for _, l := range benign {
		for _, s := range sigs {
			if s.Rule == chain.RuleRiskyChain && s.Entity.ID == l.Entity && s.Severity >= reposentry.SeverityHigh {
				t.Errorf("benign %s (%s): %s chain signal at %s: %s", l.Scenario, l.Entity, s.Severity, s.Time, s.Observed)
			}
		}
	}
}
