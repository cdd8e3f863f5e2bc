package baseline

import (
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/directory"
	"github.com/reposentry/reposentry/engine"
	"github.com/reposentry/reposentry/engine/enginetest"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/github"
	"github.com/reposentry/reposentry/simulate"
	"github.com/reposentry/reposentry/simulate/simtest"
)

var (
	evalUsers = flag.Int("eval.users", 300, "identities in the evaluation's simulated organisation")
	evalDays  = flag.Int("eval.days", 21, "days in the evaluation's simulated organisation")
	evalDir   = flag.String("eval.dir", "", "evaluate an organisation already simulated into this folder (its github logs and labels) instead of simulating one; eval.days must match its days")
)

// simOrg runs the simulator into a temporary directory and returns its
// GitHub events sorted by time, enriched with identities as the enrich
// stage does, and the directory.
func simOrg(tb testing.TB, users, days int) ([]reposentry.Event, string) {
	tb.Helper()
	dir := tb.TempDir()
	if _, err := simulate.Run(simulate.Config{Users: users, Days: days, Seed: 1, Out: dir}); err != nil {
		tb.Fatalf("simulate %d users %d days: %v", users, days, err)
	}
	return simtest.Events(tb, parser.New(intern.New(0), github.New()), filepath.Join(dir, "github")), dir
}

// run feeds events to a fresh detector as the engine would, advancing
// every minute of event time, and returns the signals.
func run(cfg Config, evs []reposentry.Event) []reposentry.Signal {
	return enginetest.Run([]engine.Detector{New(cfg)}, evs)
}

// withDepartments sets each event's Department from the simulated
// directory as the identity resolver does: the user's department, else the
// first OU of its DN; empty for identities the directory does not know.
func withDepartments(tb testing.TB, evs []reposentry.Event, dir string) []reposentry.Event {
	tb.Helper()
	snap, err := directory.LoadLDIF(filepath.Join(dir, "directory", "directory.ldif"))
	if err != nil {
		tb.Fatalf("simulated directory: %v", err)
	}
	out := slices.Clone(evs)
	for i := range out {
		u, ok := snap.Lookup(out[i].Identity)
		if !ok {
			continue
		}
		out[i].Department = u.Department
		for rdn := range strings.SplitSeq(u.DN, ",") {
			if k, v, ok := strings.Cut(strings.TrimSpace(rdn), "="); out[i].Department == "" && ok && strings.EqualFold(k, "OU") {
				out[i].Department = "OU=" + v
			}
		}
	}
	return out
}

// TestSimulatedOrganisation runs the baselines over a simulated
// organisation, without a directory and with its departments (the second
// peer population of breadth and volume): every departing insider must get
// a medium or higher signal within its label's window, no benign
// look-alike may, and medium or higher signals must stay rare overall.
func TestSimulatedOrganisation(t *testing.T) {
	var evs []reposentry.Event
	dir := *evalDir
	if dir == "" {
		evs, dir = simOrg(t, *evalUsers, *evalDays)
	} else {
		evs = simtest.Events(t, parser.New(intern.New(0), github.New()), filepath.Join(dir, "github"))
	}
	for _, tc := range []struct {
		name string
		evs  []reposentry.Event
	}{{"no directory", evs}, {"directory departments", withDepartments(t, evs, dir)}} {
		t.Run(tc.name, func(t *testing.T) { evalOrg(t, tc.evs, dir) })
	}
}

// evalOrg is TestSimulatedOrganisation over one version of the events.
func evalOrg(t *testing.T, evs []reposentry.Event, dir string) {
	sigs := run(Config{}, evs)
	ids := map[string]bool{}
	for i := range evs {
		ids[evs[i].ActorKey()] = true
	}
	worst := func(l simtest.Label) (reposentry.Severity, []string) {
		start, end := l.Start, l.End
		sev := reposentry.SeverityInfo
		var rules []string
		for _, s := range sigs {
			if s.Entity.ID == strings.ToLower(l.Entity) && !s.Time.Before(start) && !s.Time.After(end.Add(time.Hour)) {
				sev = max(sev, s.Severity)
				rules = append(rules, s.Rule+"/"+s.Severity.String())
			}
		}
		return sev, rules
	}
	labelled := map[string]bool{}
	attacks, benign := simtest.Labels(t, filepath.Join(dir, "labels.jsonl")), simtest.Labels(t, filepath.Join(dir, "benign.jsonl"))
	for _, l := range append(slices.Clone(attacks), benign...) {
		labelled[strings.ToLower(l.Entity)] = true
	}
	for _, l := range attacks {
		sev, rules := worst(l)
		t.Logf("attack %-36s %-40s worst %-6s %v", l.Scenario, l.Entity, sev, rules)
		if l.Scenario == simulate.ScenarioInsider && sev < reposentry.SeverityMedium {
			t.Errorf("%s %s: worst signal %s in [%s, %s+1h], want medium or higher", l.Scenario, l.Entity, sev, l.Start, l.End)
		}
	}
	for _, l := range benign {
		sev, rules := worst(l)
		t.Logf("benign %-36s %-40s worst %-6s %v", l.Scenario, l.Entity, sev, rules)
		if sev >= reposentry.SeverityMedium {
			t.Errorf("benign %s %s: %v, want nothing at medium or above", l.Scenario, l.Entity, rules)
		}
	}
	perRule := map[string]int{}
	medium := 0
	for _, s := range sigs {
		perRule[s.Rule+"/"+s.Severity.String()]++
		if s.Rule == RuleVolume {
			perRule[fmt.Sprintf("%s[%v]", s.Rule, s.Evidence["trigger"])]++
		}
		if s.Severity >= reposentry.SeverityMedium {
			medium++
			if !labelled[s.Entity.ID] {
				t.Logf("unlabelled %s %s %s: %s", s.Entity.ID, s.Rule, s.Severity, s.Observed)
			}
		}
	}
	rate := float64(medium) / (float64(len(ids)) / 1000) / float64(*evalDays)
	t.Logf("%d events, %d identities, %d days: signals %v; %.2f medium+ per 1,000 identities per day", len(evs), len(ids), *evalDays, perRule, rate)
	if rate > 5 {
		t.Errorf("%.2f medium+ signals per 1,000 identities per day, want at most 5", rate)
	}
}
