package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
)

const day = 24 * time.Hour

// withCred sets the credential a signal's event used.
func withCred(s reposentry.Signal, cred string) reposentry.Signal {
	s.Credential = cred
	return s
}

// daily returns n signals of rule for id, one a day from t0+start.
func daily(n int, start time.Duration, id, rule string, risk int) []reposentry.Signal {
	out := make([]reposentry.Signal, n)
	for i := range out {
		out[i] = sig(start+time.Duration(i)*day, id, rule, reposentry.SeverityLow, risk, "github:"+rule+string(rune('a'+i%26)))
	}
	return out
}

// lowAndSlow is APT41's shape: a different weak signal on each of four
// days, none alerting on its own.
func lowAndSlow(id string, gap time.Duration) []reposentry.Signal {
	low := reposentry.SeverityLow
	return []reposentry.Signal{
		sig(0, id, "off_hours", low, 10, "github:e1"),
		sig(gap, id, "volume_anomaly", low, 35, "github:e2"),
		sig(2*gap, id, "credential_new_origin", low, 35, "github:e3"),
		sig(3*gap, id, "breadth", low, 35, "github:e4"),
		sig(3*gap+time.Hour, id, "first_seen_location", low, 30, "github:e5"),
	}
}

func TestAccumulatedRisk(t *testing.T) {
	const alice, bob = "alice@example.com", "bob@example.com"
	low, med := reposentry.SeverityLow, reposentry.SeverityMedium
	off := DefaultConfig()
	off.Accumulation.Disabled = true
	tests := []struct {
		name string
		cfg  Config
		sigs []reposentry.Signal
		want []string
	}{
		{"different weak rules on consecutive days add up", DefaultConfig(), lowAndSlow(alice, day),
			[]string{alice + " accumulated_risk medium risk=75 signals=5"}},
		{"the same rules three weeks apart decay away", DefaultConfig(), lowAndSlow(alice, 7*day), nil},
		{"accumulation disabled", off, lowAndSlow(alice, day), nil},
		{"one habit every day for a month stays below", DefaultConfig(), daily(30, 0, alice, "privileged_session", 30), nil},
		{"two habits every day for a month stay below", DefaultConfig(),
			append(daily(30, 0, alice, "privileged_session", 30), daily(30, 3*time.Hour, alice, "off_hours", 10)...), nil},
		{"three habits every day for a month stay below", DefaultConfig(),
			append(append(daily(30, 0, alice, "privileged_session", 30), daily(30, 3*time.Hour, alice, "off_hours", 20)...),
				daily(30, 5*time.Hour, alice, "new_client", 30)...),
			nil},
		{"the same rules on scattered days still add up", DefaultConfig(),
			[]reposentry.Signal{sig(0, alice, "breadth", low, 35), sig(3*day, alice, "breadth", low, 35),
				sig(4*day, alice, "off_hours", low, 20), sig(5*day, alice, "credential_new_origin", low, 35),
				sig(6*day, alice, "breadth", low, 35), sig(6*day+time.Hour, alice, "new_client", low, 30)},
			[]string{alice + " accumulated_risk medium risk=75 signals=4"}},
		{"risk is per identity", DefaultConfig(), append(lowAndSlow(alice, day)[:3], lowAndSlow(bob, day)[3:]...), nil},
		{"an incident alerting on its own carries what came before", DefaultConfig(),
			append(lowAndSlow(alice, day)[:4], sig(3*day+time.Hour, alice, "bulk_read", med, 60, "github:b1")),
			[]string{alice + " bulk_read high risk=74 signals=2"}},
		{"one incident's own signals add nothing to its alert", DefaultConfig(),
			[]reposentry.Signal{sig(0, alice, "bulk_read", reposentry.SeverityHigh, 77), sig(time.Minute, alice, "breadth", low, 40)},
			[]string{alice + " bulk_read high risk=86 signals=2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := brief(flush(tc.cfg, tc.sigs...))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestAccumulatedAlertExplains: the alert lists every contributing rule
// with what it saw against what is normal, and all their event ids.
func TestAccumulatedAlertExplains(t *testing.T) {
	sigs := lowAndSlow("alice@example.com", day)
	sigs[1].Baseline = "a median of 1 a day"
	alerts := flush(DefaultConfig(), sigs...)
	if len(alerts) != 1 {
		t.Fatalf("got %d alerts, want 1", len(alerts))
	}
	al := alerts[0]
	for _, want := range []string{"accumulated risk 75", "threshold 70", "from 5 rules", "off_hours ×1", "volume_anomaly ×1",
		"observed volume_anomaly against a median of 1 a day", "credential_new_origin", "breadth", "first_seen_location"} {
		if !strings.Contains(al.Explanation, want) {
			t.Errorf("explanation lacks %q:\n%s", want, al.Explanation)
		}
	}
	if got := strings.Join(al.EventIDs, ","); got != "github:e1,github:e2,github:e3,github:e4,github:e5" {
		t.Errorf("event ids %s, want every contributing signal's", got)
	}
	if !al.FirstSeen.Equal(t0.Add(3*day)) || !al.LastSeen.Equal(t0.Add(3*day+time.Hour)) {
		t.Errorf("first/last seen %s/%s, want the crossing incident's start and end", al.FirstSeen, al.LastSeen)
	}
	ev := al.Evidence["accumulated_risk"].(map[string]any)
	if c := ev["contributions"].([]map[string]any); len(c) != 5 || c[0]["rule"] == "off_hours" {
		t.Errorf("contributions %v, want 5 with the strongest first", c)
	}
}

// TestAccumulatedRealerts: after an accumulated-risk alert the entity alerts
// again only when its risk rises Step above the last alert's, decayed.
func TestAccumulatedRealerts(t *testing.T) {
	const alice = "alice@example.com"
	low := reposentry.SeverityLow
	sigs := lowAndSlow(alice, day)
	more := append(sigs, sig(3*day+4*time.Hour, alice, "new_client", low, 10, "github:n1"))
	if got := brief(flush(DefaultConfig(), more...)); len(got) != 1 {
		t.Errorf("a small rise the same day re-alerted: %v", got)
	}
	more = append(sigs, sig(3*day+4*time.Hour, alice, "dormant_reactivated", low, 50, "github:d1"),
		sig(3*day+5*time.Hour, alice, "new_organisation", low, 40, "github:o1"))
	if got := brief(flush(DefaultConfig(), more...)); len(got) != 2 || !strings.Contains(got[1], "high") {
		t.Errorf("a rise of more than a step: %v, want a second, high alert", got)
	}
}

// TestAccumulatedQuietAfterAlert: an entity that alerted within a
// half-life is already in front of an analyst, so accumulated risk does not
// alert about it again; later it does.
func TestAccumulatedQuietAfterAlert(t *testing.T) {
	const alice = "alice@example.com"
	for _, tc := range []struct {
		name  string
		first time.Duration // of the bulk_read alert, relative to the low-and-slow days
		want  []string
	}{
		{"an alert hours before the crossing", 2*day + 12*time.Hour, []string{alice + " bulk_read medium risk=50 signals=1"}},
		{"an alert a week before", -7 * day, []string{alice + " bulk_read medium risk=50 signals=1", alice + " accumulated_risk medium risk=77 signals=6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sigs := append([]reposentry.Signal{sig(tc.first, alice, "bulk_read", reposentry.SeverityMedium, 50)}, lowAndSlow(alice, day)...)
			sortByTime(sigs)
			if got := brief(flush(DefaultConfig(), sigs...)); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestSharedCredential: a credential used by several identities accumulates
// their signals; one used by one identity alerts as that identity only.
func TestSharedCredential(t *testing.T) {
	const key = "deploy_key:SHA256:abc"
	var shared, single []reposentry.Signal
	for i, s := range lowAndSlow("", day) {
		who := []string{"ci-a", "ci-b"}[i%2]
		a, b := s, s
		a.Entity.ID, b.Entity.ID = who, "alice@example.com"
		shared = append(shared, withCred(a, key))
		single = append(single, withCred(b, key))
	}
	got := flush(DefaultConfig(), shared...)
	if len(got) != 1 || got[0].Entity.Type != "credential" || got[0].Entity.ID != key || got[0].Rule != RuleAccumulatedRisk {
		t.Errorf("shared credential: %v, want one accumulated_risk alert about %s", brief(got), key)
	}
	got = flush(DefaultConfig(), single...)
	if len(got) != 1 || got[0].Entity.Type != "identity" {
		t.Errorf("one identity's credential: %v, want the identity's alert only", brief(got))
	}
}

func TestAccumulationValidate(t *testing.T) {
	tests := []struct {
		edit func(*Accumulation)
		want string
	}{
		{func(*Accumulation) {}, ""},
		{func(a *Accumulation) { a.HalfLife = -time.Hour }, "half_life is negative"},
		{func(a *Accumulation) { a.Threshold = 101 }, "threshold 101"},
		{func(a *Accumulation) { a.Step = -1 }, "step -1"},
		{func(a *Accumulation) { a.MaxEntities = -1 }, "max_entities -1"},
	}
	for _, tc := range tests {
		c := DefaultConfig()
		tc.edit(&c.Accumulation)
		err := c.Validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate() = %v, want %q", err, tc.want)
		}
	}
}

// TestEvictLeastRisk: past MaxEntities the entity with the least risk goes.
func TestEvictLeastRisk(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Accumulation.MaxEntities = 2
	a := New(cfg)
	a.Add(sig(0, "a", "breadth", reposentry.SeverityLow, 40))
	a.Add(sig(time.Minute, "b", "off_hours", reposentry.SeverityLow, 10))
	a.Add(sig(2*time.Minute, "c", "breadth", reposentry.SeverityLow, 30))
	if _, ok := a.acc.ledgers["identity\x00b"]; ok || len(a.acc.ledgers) != 2 {
		t.Errorf("ledgers after eviction: %v, want a and c", a.acc.ledgers)
	}

	// Full at 16, an eighth goes at once: the two with the least risk.
	cfg.Accumulation.MaxEntities = 16
	a = New(cfg)
	for i := range 17 {
		a.Add(sig(time.Duration(i)*time.Minute, fmt.Sprintf("u%02d", i), "breadth", reposentry.SeverityLow, 10+i))
	}
	_, low0 := a.acc.ledgers["identity\x00u00"]
	_, low1 := a.acc.ledgers["identity\x00u01"]
	if len(a.acc.ledgers) != 15 || low0 || low1 {
		t.Errorf("%d ledgers after eviction (u00 kept %v, u01 kept %v), want 15 without the two least risky", len(a.acc.ledgers), low0, low1)
	}
}

// TestStateCarriesRisk: risk accumulated before a save counts after a load,
// at every cut point, exactly as in one uninterrupted run.
func TestStateCarriesRisk(t *testing.T) {
	sigs := append(lowAndSlow("alice@example.com", day), daily(10, 2*time.Hour, "bob@example.com", "privileged_session", 30)...)
	sigs = append(sigs, withCred(sig(5*day, "carol@example.com", "breadth", reposentry.SeverityLow, 40), "pat_classic:x"))
	sortByTime(sigs)
	want, _ := json.Marshal(run(t, nil, sigs))
	for k := range sigs {
		if k > 0 && sigs[k].Time.Sub(sigs[k-1].Time) <= DefaultConfig().IncidentGap {
			continue // a cut inside an incident splits it, as any end of input does
		}
		a := New(DefaultConfig())
		var alerts []reposentry.Alert
		for _, s := range sigs[:k] {
			a.Add(s)
		}
		a.Flush(func(al reposentry.Alert) { alerts = append(alerts, al) })
		var buf bytes.Buffer
		if err := a.SaveState(&buf); err != nil {
			t.Fatal(err)
		}
		saved := buf.Bytes()
		alerts = append(alerts, run(t, saved, sigs[k:])...)
		if got, _ := json.Marshal(alerts); !bytes.Equal(got, want) {
			t.Errorf("cut at %d: alerts differ:\n%s\nwant\n%s", k, got, want)
		}
	}
}

func sortByTime(s []reposentry.Signal) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].Time.Before(s[j-1].Time); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// run feeds sigs to a fresh aggregator loaded with state (when not nil).
func run(t *testing.T, state []byte, sigs []reposentry.Signal) []reposentry.Alert {
	t.Helper()
	a := New(DefaultConfig())
	if state != nil {
		if err := a.LoadState(bytes.NewReader(state)); err != nil {
			t.Fatal(err)
		}
	}
	var out []reposentry.Alert
	for _, s := range sigs {
		a.Add(s)
	}
	a.Flush(func(al reposentry.Alert) { out = append(out, al) })
	return out
}

func TestLoadStateRefuses(t *testing.T) {
	a := New(DefaultConfig())
	for _, s := range lowAndSlow("alice@example.com", day) {
		a.Add(s)
	}
	a.Flush(func(reposentry.Alert) {})
	var buf bytes.Buffer
	if err := a.SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "want the magic"},
		{"other magic", []byte("RSBL\x01"), "want the magic"},
		{"wrong version", append([]byte(stateMagic), 9), "state version 9"},
		{"truncated", good[:len(good)-3], "truncated"},
		{"trailing bytes", append(append([]byte{}, good...), 1), "unexpected bytes"},
		{"absurd ledger count", append([]byte(stateMagic), 3, 0, 0xff, 0xff, 0xff, 0xff, 0x0f), "ledgers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := New(DefaultConfig()).LoadState(bytes.NewReader(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadState = %v, want an error with %q", err, tc.want)
			}
		})
	}
	if err := a.LoadState(bytes.NewReader(good)); err == nil {
		t.Error("LoadState into an aggregator with signals succeeded")
	}
}

func FuzzLoadState(f *testing.F) {
	a := New(DefaultConfig())
	for _, s := range lowAndSlow("alice@example.com", day) {
		a.Add(withCred(s, "pat_classic:x"))
	}
	a.Flush(func(reposentry.Alert) {})
	var buf bytes.Buffer
	if err := a.SaveState(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(stateMagic + "\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := New(DefaultConfig())
		if err := b.LoadState(bytes.NewReader(data)); err != nil {
			return
		}
		// A state that loads must work: accumulate, alert, save again.
		for _, s := range lowAndSlow("alice@example.com", day) {
			b.Add(s)
		}
		b.Flush(func(reposentry.Alert) {})
		if err := b.SaveState(&bytes.Buffer{}); err != nil {
			t.Fatalf("save after load: %v", err)
		}
	})
}

// TestGoldenAccumulatedAlert pins the JSON of an accumulated-risk alert.
func TestGoldenAccumulatedAlert(t *testing.T) {
	sigs := lowAndSlow("alice@example.com", day)
	for i := range sigs {
		sigs[i].Baseline = "baseline of " + sigs[i].Rule
	}
	alerts := flush(DefaultConfig(), sigs...)
	if len(alerts) != 1 {
		t.Fatalf("got %d alerts, want 1", len(alerts))
	}
	raw, err := json.MarshalIndent(alerts[0], "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	raw = append(raw, '\n')
	golden(t, "accumulated.golden.json", raw)
}

// TestAccumulatedEvidence: an incident that alerts on its own says what its
// entity accumulated before it, and only then.
func TestAccumulatedEvidence(t *testing.T) {
	const alice = "alice@example.com"
	med := reposentry.SeverityMedium
	before := flush(DefaultConfig(), append(lowAndSlow(alice, day)[:4], sig(3*day+time.Hour, alice, "bulk_read", med, 60))...)
	alone := flush(DefaultConfig(), sig(0, alice, "bulk_read", reposentry.SeverityHigh, 77), sig(time.Minute, alice, "breadth", reposentry.SeverityLow, 40))
	for _, tc := range []struct {
		name   string
		alerts []reposentry.Alert
		want   bool
	}{{"after days of weak signals", before, true}, {"an incident on its own", alone, false}} {
		if len(tc.alerts) != 1 {
			t.Fatalf("%s: %d alerts, want 1", tc.name, len(tc.alerts))
		}
		_, got := tc.alerts[0].Evidence["accumulated_risk"]
		if got != tc.want || strings.Contains(tc.alerts[0].Explanation, "Accumulated risk across incidents") != tc.want {
			t.Errorf("%s: accumulated risk in evidence %v, want %v: %s", tc.name, got, tc.want, tc.alerts[0].Explanation)
		}
	}
}
