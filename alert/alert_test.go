package alert

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var t0 = time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)

// sig builds a signal of rule for entity id at t0+d.
func sig(d time.Duration, id, rule string, sev reposentry.Severity, risk int, ids ...string) reposentry.Signal {
	return reposentry.Signal{
		Rule: rule, Title: "title of " + rule, Severity: sev, Risk: risk,
		Techniques: []string{reposentry.TechniqueCodeRepositories}, Tactics: []string{reposentry.TacticCollection},
		Time: t0.Add(d), FirstSeen: t0.Add(d - time.Minute), Observed: "observed " + rule,
		Explanation: rule + " explanation.",
		Entity:      reposentry.Entity{Type: "identity", ID: id, Accounts: []string{"github:" + strings.Split(id, "@")[0]}},
		EventIDs:    ids, Evidence: map[string]any{"rule": rule},
	}
}

func flush(cfg Config, sigs ...reposentry.Signal) []reposentry.Alert {
	a := New(cfg)
	for _, s := range sigs {
		a.Add(s)
	}
	var out []reposentry.Alert
	a.Flush(func(al reposentry.Alert) { out = append(out, al) })
	return out
}

func brief(alerts []reposentry.Alert) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, fmt.Sprintf("%s %s %s risk=%d signals=%d", a.Entity.ID, a.Rule, a.Severity, a.Risk, len(a.Signals)))
	}
	return out
}

func TestAggregate(t *testing.T) {
	const alice, bob = "alice@example.com", "bob@example.com"
	low, med, high, crit := reposentry.SeverityLow, reposentry.SeverityMedium, reposentry.SeverityHigh, reposentry.SeverityCritical
	strict := DefaultConfig()
	strict.MinSeverity = high
	noContext := DefaultConfig()
	noContext.ContextRules = []string{}
	tests := []struct {
		name string
		cfg  Config
		sigs []reposentry.Signal
		want []string
	}{
		{"single low signal does not alert", DefaultConfig(),
			[]reposentry.Signal{sig(0, alice, "first_seen_location", low, 20)}, nil},
		{"repeated low signals of one rule do not alert", DefaultConfig(),
			[]reposentry.Signal{sig(0, alice, "first_seen_location", low, 20), sig(time.Hour, alice, "first_seen_location", low, 20),
				sig(2*time.Hour, alice, "first_seen_location", low, 20)}, nil},
		{"single medium alerts", DefaultConfig(),
			[]reposentry.Signal{sig(0, alice, "bulk_read", med, 50)},
			[]string{alice + " bulk_read medium risk=50 signals=1"}},
		{"low signals of different rules accumulate", DefaultConfig(),
			[]reposentry.Signal{sig(0, alice, "a", low, 40), sig(time.Minute, alice, "b", low, 40), sig(2*time.Minute, alice, "c", low, 40)},
			[]string{alice + " a medium risk=78 signals=3"}},
		{"signals within the gap merge; most severe rule leads", DefaultConfig(),
			[]reposentry.Signal{sig(0, alice, "bulk_read", med, 50), sig(30*time.Minute, alice, "exfil_path_opened", high, 85),
				sig(time.Hour, alice, "bulk_read", high, 75)},
			[]string{alice + " exfil_path_opened high risk=97 signals=3"}},
		{"signals beyond the gap are separate incidents", DefaultConfig(),
			[]reposentry.Signal{sig(0, alice, "bulk_read", med, 50), sig(3*time.Hour, alice, "bulk_read", crit, 90)},
			[]string{alice + " bulk_read medium risk=50 signals=1", alice + " bulk_read critical risk=90 signals=1"}},
		{"entities are sorted by first seen then id", DefaultConfig(),
			[]reposentry.Signal{sig(time.Hour, bob, "bulk_read", med, 50), sig(time.Hour, alice, "bulk_read", med, 50),
				sig(0, "zed@example.com", "privileged_read", high, 70)},
			[]string{"zed@example.com privileged_read high risk=70 signals=1", alice + " bulk_read medium risk=50 signals=1",
				bob + " bulk_read medium risk=50 signals=1"}},
		{"min severity high drops a lone medium", strict,
			[]reposentry.Signal{sig(0, alice, "bulk_read", med, 50)}, nil},
		{"context raises another rule's alert", DefaultConfig(),
			[]reposentry.Signal{sig(0, alice, "first_seen_location", low, 20), sig(time.Minute, alice, "bulk_read", med, 50)},
			[]string{alice + " bulk_read high risk=60 signals=2"}},
		{"context raises up to critical", DefaultConfig(),
			[]reposentry.Signal{sig(0, alice, "first_seen_location", high, 75), sig(time.Minute, alice, "bulk_read", crit, 90)},
			[]string{alice + " bulk_read critical risk=98 signals=2"}},
		{"context leading raises the other rule's severity", DefaultConfig(),
			[]reposentry.Signal{sig(0, alice, "first_seen_location", high, 75), sig(time.Minute, alice, "bulk_read", med, 50)},
			[]string{alice + " first_seen_location high risk=88 signals=2"}},
		{"context does not lift a signal that would not alert", DefaultConfig(),
			[]reposentry.Signal{sig(0, alice, "first_seen_location", low, 20), sig(time.Minute, alice, "new_network", low, 20)},
			nil},
		{"context in another incident does not raise", DefaultConfig(),
			[]reposentry.Signal{sig(0, alice, "first_seen_location", low, 20), sig(3*time.Hour, alice, "bulk_read", med, 50)},
			[]string{alice + " bulk_read medium risk=50 signals=1"}},
		{"no context rules configured", noContext,
			[]reposentry.Signal{sig(0, alice, "first_seen_location", low, 20), sig(time.Minute, alice, "bulk_read", med, 50)},
			[]string{alice + " bulk_read medium risk=60 signals=2"}},
		{"risk is capped at 100", DefaultConfig(),
			[]reposentry.Signal{sig(0, alice, "a", crit, 100), sig(time.Minute, alice, "b", crit, 100)},
			[]string{alice + " a critical risk=100 signals=2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := brief(flush(tc.cfg, tc.sigs...))
			if !slices.Equal(got, tc.want) {
				t.Errorf("alerts:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

func TestAdvanceClosesIdleIncidents(t *testing.T) {
	a := New(DefaultConfig())
	a.Add(sig(0, "alice@example.com", "bulk_read", reposentry.SeverityHigh, 75))
	a.Add(sig(90*time.Minute, "bob@example.com", "bulk_read", reposentry.SeverityHigh, 75))
	var got []string
	out := func(al reposentry.Alert) { got = append(got, al.Entity.ID) }
	steps := []struct {
		now  time.Duration
		want []string
	}{
		{2 * time.Hour, nil},
		// Idle incidents are looked for once a minute of event time.
		{2*time.Hour + time.Second, nil},
		{2*time.Hour + time.Minute, []string{"alice@example.com"}},
		{3 * time.Hour, []string{"alice@example.com"}},
		{4 * time.Hour, []string{"alice@example.com", "bob@example.com"}},
	}
	for _, st := range steps {
		a.Advance(t0.Add(st.now), out)
		if !slices.Equal(got, st.want) {
			t.Errorf("after Advance(t0+%s): %q, want %q", st.now, got, st.want)
		}
	}
	a.Flush(out)
	if len(got) != 2 {
		t.Errorf("Flush after everything closed emitted more: %q", got)
	}
}

func TestEventIDsAndIdentity(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxEventIDs = 3
	s1 := sig(0, "alice@example.com", "bulk_read", reposentry.SeverityHigh, 75, "github:a", "github:b")
	s2 := sig(time.Minute, "alice@example.com", "privileged_read", reposentry.SeverityHigh, 70, "github:b", "github:c", "github:d")
	got := flush(cfg, s1, s2)
	if len(got) != 1 {
		t.Fatalf("got %d alerts, want 1", len(got))
	}
	if want := []string{"github:a", "github:b", "github:c"}; !slices.Equal(got[0].EventIDs, want) {
		t.Errorf("event ids %q, want %q", got[0].EventIDs, want)
	}
	again := flush(cfg, s1, s2)
	if again[0].ID != got[0].ID || len(got[0].ID) != 32 {
		t.Errorf("alert id %q not deterministic (second run %q)", got[0].ID, again[0].ID)
	}
	s1.Time = s1.Time.Add(time.Second)
	if other := flush(cfg, s1, s2); other[0].ID == got[0].ID {
		t.Error("alert id ignores the first signal's time")
	}
}

func TestCombinedRisk(t *testing.T) {
	tests := []struct {
		risks []int
		rules []string
		want  int
	}{
		{[]int{20}, []string{"a"}, 20},
		{[]int{50, 50}, []string{"a", "b"}, 75},
		{[]int{50, 50}, []string{"a", "a"}, 63},
		{[]int{150, -5}, []string{"a", "b"}, 100},
		{nil, nil, 0},
	}
	for _, tc := range tests {
		var sigs []reposentry.Signal
		for i, r := range tc.risks {
			sigs = append(sigs, reposentry.Signal{Rule: tc.rules[i], Risk: r})
		}
		if got := CombinedRisk(sigs); got != tc.want {
			t.Errorf("CombinedRisk(%v %v) = %d, want %d", tc.risks, tc.rules, got, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"defaults", func(*Config) {}, ""},
		{"negative gap", func(c *Config) { c.IncidentGap = -time.Hour }, "incident_gap is negative"},
		{"threshold above 100", func(c *Config) { c.RiskThreshold = 101 }, "outside 0-100"},
		{"negative cap", func(c *Config) { c.MaxEventIDs = -1 }, "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestGoldenAlert pins the JSON of a merged alert and checks it has every key
// of the architecture.md contract.
func TestGoldenAlert(t *testing.T) {
	const alice = "alice@example.com"
	bulk := sig(0, alice, "bulk_read", reposentry.SeverityHigh, 77, "github:Zq3kLr8TmQ2wXy7pVb1cDe", "github:Pp0aXc4Ld9sQe2Vt6Rn8Yw")
	bulk.Title = "Bulk read of non-public repositories"
	bulk.Explanation = "alice@example.com read 32 distinct non-public repositories in 10m."
	loc := sig(-2*time.Minute, alice, "first_seen_location", reposentry.SeverityMedium, 45, "github:Zq3kLr8TmQ2wXy7pVb1cDe")
	loc.Techniques = []string{reposentry.TechniqueValidAccounts, reposentry.TechniqueCodeRepositories}
	loc.Tactics = []string{reposentry.TacticInitialAccess, reposentry.TacticCollection}
	loc.Entity.Accounts = []string{"github:alice", "okta:alice@example.com"}
	loc.Explanation = "alice@example.com read acme/payments-core from 203.0.113.9 (BR), a country never seen."
	alerts := flush(DefaultConfig(), bulk, loc)
	if len(alerts) != 1 {
		t.Fatalf("got %d alerts, want 1", len(alerts))
	}
	raw, err := json.Marshal(alerts[0])
	if err != nil {
		t.Fatalf("marshal alert: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("alert JSON does not parse back: %v", err)
	}
	for _, k := range []string{"id", "rule", "title", "severity", "risk", "techniques", "tactics", "entity", "first_seen",
		"last_seen", "event_ids", "explanation", "signals", "evidence"} {
		if _, ok := m[k]; !ok {
			t.Errorf("alert JSON lacks %q", k)
		}
	}
	if _, err := time.Parse(time.RFC3339, m["first_seen"].(string)); err != nil {
		t.Errorf("first_seen is not RFC 3339: %v", err)
	}
	var got bytes.Buffer
	if err := json.Indent(&got, raw, "", "  "); err != nil {
		t.Fatalf("indent alert: %v", err)
	}
	got.WriteByte('\n')
	golden(t, "alert.golden.json", got.Bytes())
}

func TestConfigYAML(t *testing.T) {
	cfg := DefaultConfig()
	if err := yaml.Unmarshal([]byte("incident_gap: 90m\nmin_severity: high\nrisk_threshold: 70\n"), &cfg); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	want := DefaultConfig()
	want.IncidentGap, want.MinSeverity, want.RiskThreshold = 90*time.Minute, reposentry.SeverityHigh, 70
	if err := yaml.Unmarshal([]byte("context_rules: [first_seen_location, privileged_read]\n"), &cfg); err != nil {
		t.Fatalf("unmarshal context_rules: %v", err)
	}
	want.ContextRules = []string{"first_seen_location", "privileged_read"}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("decoded %+v, want %+v", cfg, want)
	}
	if err := yaml.Unmarshal([]byte("min_severity: severe\n"), &cfg); err == nil {
		t.Error("an unknown severity was accepted")
	}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatalf("write golden: %v", err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden:\n%s", file, got)
	}
}
