package sink

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

var t0 = time.Date(2026, 1, 13, 2, 11, 5, 0, time.UTC)

// fixedAlerts are in an order the table must change: low first, two
// criticals out of time order.
func fixedAlerts() []reposentry.Alert {
	return []reposentry.Alert{
		{
			ID: "a-3", Rule: "github.first_seen_country", Title: "First access from a new country", Severity: reposentry.SeverityLow, Risk: 30,
			Techniques: []string{reposentry.TechniqueValidAccounts}, Tactics: []string{reposentry.TacticInitialAccess},
			Entity:    reposentry.Entity{Type: "identity", ID: "kwame.mensah@acme.example", Accounts: []string{"github:kwame-acme"}},
			FirstSeen: t0.Add(20 * time.Hour), LastSeen: t0.Add(21 * time.Hour),
			EventIDs:    []string{"github:Zq3kLr8TmQ2wXy7pVb1cDe"},
			Explanation: "kwame-acme read 3 repositories from SG, a country never seen for this identity in 7 days.",
			Evidence: map[string]any{"country": "SG", "non_public_repositories": 3,
				"credentials": []map[string]any{{"kind": "ssh_key"}, {"kind": "oauth", "id": "77120044"}}},
		},
		{
			ID: "a-2", Rule: "github.exfil_path", Title: "Private repository made public after bulk reads", Severity: reposentry.SeverityCritical, Risk: 90,
			Entity:    reposentry.Entity{Type: "identity", ID: "mallory.reed@acme.example", Accounts: []string{"github:mallory-acme"}},
			FirstSeen: t0.Add(30 * time.Minute), LastSeen: t0.Add(35 * time.Minute),
			Explanation: "A repository & the org's fork policy were opened <25 minutes> after a bulk clone by the same identity.",
			// The risk stage's shape: per-rule evidence; the largest count wins.
			Evidence: map[string]any{"signal_count": 3, "by_rule": map[string]any{
				"bulk_read":                map[string]any{"non_public_repositories": 15, "countries": []any{"BR"}},
				"new_credential_bulk_read": map[string]any{"non_public_repositories": 30.0, "credential": map[string]any{"kind": "pat_fine_grained"}},
			}},
		},
		{
			ID: "a-1", Rule: "github.mass_clone", Title: "Mass cloning of private repositories", Severity: reposentry.SeverityCritical, Risk: 95,
			Techniques: []string{reposentry.TechniqueCodeRepositories, reposentry.TechniqueAdditionalCreds},
			Tactics:    []string{reposentry.TacticCollection},
			Entity:     reposentry.Entity{Type: "identity", ID: "mallory.reed@acme.example", Accounts: []string{"github:mallory-acme", "okta:mreed"}},
			FirstSeen:  t0.In(time.FixedZone("CET", 3600)), LastSeen: t0.Add(18 * time.Minute),
			EventIDs: []string{"github:Pp0aXc4Ld9sQe2Vt6Rn8Yw", "github:Zq3kLr8TmQ2wXy7pVb1cDe"},
			Explanation: "mallory-acme cloned 41 distinct private repositories in 18 minutes with a fine-grained token granted " +
				"minutes earlier, from BR, a country never seen for this identity; her usual daily maximum is 4.",
			Signals: []reposentry.Signal{{Rule: "github.mass_clone", Severity: reposentry.SeverityCritical, Risk: 95, Time: t0,
				Observed: "41 distinct private repositories in 18m", Baseline: "at most 4 a day",
				Evidence: map[string]any{"credential": map[string]any{"kind": "pat_fine_grained", "id": "kq1m0Yc4v3Jd1n8T0p2r+Qm7cV9wZs6yXh5bLaR4Ee0="}}}},
			Evidence: map[string]any{"repositories": []any{"acme/a", "acme/b", "acme/c"}, "countries": []string{"BR"}},
		},
	}
}

func TestJSONL(t *testing.T) {
	var buf bytes.Buffer
	s := NewJSONL(&buf)
	for _, a := range fixedAlerts() {
		if err := s.Write(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Every line is one alert object with the contract's keys.
	for i, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not a JSON object: %v", i+1, err)
		}
		for _, k := range []string{"id", "rule", "title", "severity", "risk", "techniques", "tactics", "entity",
			"first_seen", "last_seen", "event_ids", "explanation", "signals", "evidence"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks key %q", i+1, k)
			}
		}
	}
	golden(t, "alerts.jsonl", buf.Bytes())
}

func TestTable(t *testing.T) {
	tests := []struct {
		name   string
		color  bool
		alerts []reposentry.Alert
	}{
		{"table.txt", false, fixedAlerts()},
		{"table_color.txt", true, fixedAlerts()},
		{"table_empty.txt", false, nil},
		// An updated alert replaces the earlier version of the same id.
		{"table_updated.txt", false, append(fixedAlerts()[:1], func() reposentry.Alert {
			a := fixedAlerts()[0]
			a.Severity, a.Risk, a.Explanation = reposentry.SeverityMedium, 55, "Updated: now 5 repositories from SG."
			return a
		}())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			s := NewTable(&buf, tt.color)
			for _, a := range tt.alerts {
				if err := s.Write(a); err != nil {
					t.Fatal(err)
				}
			}
			if buf.Len() != 0 {
				t.Fatalf("table wrote %d bytes before Close", buf.Len())
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, buf.Bytes())
		})
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  []string
	}{
		{"a bb ccc dddd", 6, []string{"a bb", "ccc", "dddd"}},
		{"averyveryverylongword x", 5, []string{"averyveryverylongword", "x"}},
		{"", 10, nil},
		{"  spaced   out  ", 20, []string{"spaced out"}},
	}
	for _, tt := range tests {
		got := wrap(tt.in, tt.width)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
		for _, l := range got {
			if len(l) > tt.width && strings.Contains(l, " ") {
				t.Errorf("wrap(%q, %d): line %q is too long", tt.in, tt.width, l)
			}
		}
	}
}

func fixedSummary() Summary {
	return Summary{
		Records: 1234567, Parsed: 1234500, Rejected: 67,
		RejectedByReason: map[string]int64{"missing_time": 40, "invalid_json": 20, "unknown_platform": 7},
		Alerts:           4, AlertsBySeverity: map[string]int{"critical": 2, "low": 1, "medium": 1},
		Files: 12, Bytes: 734003200, Late: 3, Duplicates: 100,
		FirstEvent: time.Date(2026, 1, 5, 0, 0, 1, 0, time.UTC), LastEvent: time.Date(2026, 1, 14, 23, 58, 0, 0, time.UTC),
		Elapsed: 2345 * time.Millisecond, EventsPerSecond: 526439.6,
		Notes: []string{"examples/github-api-page.json: page is newest first"},
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		name string
		s    Summary
	}{
		{"summary_full", fixedSummary()},
		{"summary_empty", Summary{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var text, js bytes.Buffer
			if err := tt.s.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := tt.s.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".txt", text.Bytes())
			golden(t, tt.name+".json", js.Bytes())

			var m map[string]any
			if err := json.Unmarshal(js.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"records", "parsed", "rejected", "rejected_by_reason", "alerts", "alerts_by_severity", "late", "duplicates"} {
				if _, ok := m[k]; !ok {
					t.Errorf("summary JSON lacks %q", k)
				}
			}
			if _, ok := m["rejected_by_reason"].(map[string]any); !ok {
				t.Errorf("rejected_by_reason = %v, want an object", m["rejected_by_reason"])
			}
		})
	}
}

func TestNum(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := num(n); got != want {
			t.Errorf("num(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestRenderProgress(t *testing.T) {
	tests := []struct {
		bytes, total, events int64
		elapsed              time.Duration
		want                 string
	}{
		{0, 1 << 20, 0, 0, "[>                             ]   0%  0 B/1.0 MiB  0 events  0 ev/s  0:00"},
		{512 << 10, 1 << 20, 50000, 2 * time.Second, "[===============>              ]  50%  512.0 KiB/1.0 MiB  50,000 events  25,000 ev/s  0:02"},
		{1 << 20, 1 << 20, 100000, 3725 * time.Second, "[==============================] 100%  1.0 MiB/1.0 MiB  100,000 events  27 ev/s  1:02:05"},
		{2 << 20, 1 << 20, 1, time.Second, "[==============================] 100%  2.0 MiB/1.0 MiB  1 events  1 ev/s  0:01"},
		{3000, 0, 10, time.Second, "2.9 KiB read  10 events  10 ev/s  0:01"},
	}
	for _, tt := range tests {
		if got := renderProgress(tt.bytes, tt.total, tt.events, tt.elapsed); got != tt.want {
			t.Errorf("renderProgress(%d, %d, %d, %v) =\n%q, want\n%q", tt.bytes, tt.total, tt.events, tt.elapsed, got, tt.want)
		}
	}
}

func TestProgressThrottleAndDone(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := NewProgress(&buf, 1000)
	p.now = func() time.Time { return clock }
	p.start = clock

	steps := []struct {
		advance time.Duration
		bytes   int64
		drawn   bool
	}{
		{0, 100, true},                       // first update always draws
		{50 * time.Millisecond, 200, false},  // within 100 ms: skipped
		{60 * time.Millisecond, 300, true},   // 110 ms since the last draw
		{10 * time.Millisecond, 400, false},  // skipped
		{200 * time.Millisecond, 1000, true}, // drawn
	}
	for i, s := range steps {
		clock = clock.Add(s.advance)
		before := buf.Len()
		p.Update(s.bytes, s.bytes/10)
		if drawn := buf.Len() > before; drawn != s.drawn {
			t.Fatalf("step %d: drawn = %v, want %v", i, drawn, s.drawn)
		}
		if s.drawn && !strings.HasPrefix(buf.String()[before:], "\r[") {
			t.Fatalf("step %d: redraw %q does not start with a carriage return", i, buf.String()[before:])
		}
	}
	before := buf.Len()
	p.Done()
	cleared := buf.String()[before:]
	if !strings.HasPrefix(cleared, "\r") || !strings.HasSuffix(cleared, "\r") || strings.TrimSpace(cleared) != "" {
		t.Fatalf("Done wrote %q, want a blanked line", cleared)
	}
	before = buf.Len()
	clock = clock.Add(time.Second)
	p.Update(1000, 100)
	if buf.Len() != before {
		t.Fatal("Update after Done drew the bar")
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("IsTerminal reports a regular file as a terminal")
	}
}

// BenchmarkProgressUpdate measures the cost of an update that the throttle
// skips, which is what nearly every per-record call is.
func BenchmarkProgressUpdate(b *testing.B) {
	p := NewProgress(io.Discard, 1<<30)
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		n++
		p.Update(n*100, n)
	}
}
