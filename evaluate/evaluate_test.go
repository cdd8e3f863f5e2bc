package evaluate

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry/simulate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	labelJane = `{"scenario":"lapsus_mass_clone","entity":"Jane@Acme.example","start":"2026-01-15T02:00:00Z","end":"2026-01-15T04:00:00Z","event_ids":["github:x"]}`
	labelBob  = `{"scenario":"stolen_ci_token","entity":"bob@acme.example","start":"2026-01-16T02:00:00Z","end":"2026-01-16T03:00:00Z","event_ids":["github:y"]}`
	benignNew = `{"scenario":"new_joiner_wide_clone","entity":"new@acme.example","start":"2026-01-20T09:00:00Z","end":"2026-01-20T17:00:00Z","event_ids":[],"lookalike_of":"lapsus_mass_clone"}`
)

// al builds one alert line.
func al(id, entity, first, last string, signals ...string) string {
	var sig []string
	for _, s := range signals {
		sig = append(sig, `{"time":"`+s+`"}`)
	}
	return `{"id":"` + id + `","rule":"r","entity":{"type":"identity","id":"` + entity + `"},"first_seen":"` + first +
		`","last_seen":"` + last + `","signals":[` + strings.Join(sig, ",") + `]}`
}

func TestScore(t *testing.T) {
	tests := []struct {
		name           string
		labels, alerts []string
		benign         []string
		opt            Options
		tp, fp, missed int
		precision      float64
		recall         float64
		ttdMedian      float64
		lookalikeHits  int     // false alerts attributed to a look-alike
		rate           float64 // -1: no rate expected
	}{
		{name: "true positive, entity case differs", labels: []string{labelJane},
			alerts: []string{al("a", "jane@acme.EXAMPLE", "2026-01-15T02:30:00Z", "2026-01-15T03:00:00Z")},
			tp:     1, precision: 1, recall: 1, ttdMedian: 1800, rate: -1},
		{name: "false positive on another identity", labels: []string{labelJane},
			alerts: []string{al("a", "mallory@acme.example", "2026-01-15T02:30:00Z", "2026-01-15T03:00:00Z")},
			fp:     1, missed: 1, rate: -1},
		{name: "miss without alerts", labels: []string{labelJane, labelBob}, missed: 2, rate: -1},
		{name: "alert starting exactly at end plus slack counts", labels: []string{labelJane},
			alerts: []string{al("a", "jane@acme.example", "2026-01-15T05:00:00Z", "2026-01-15T05:10:00Z")},
			tp:     1, precision: 1, recall: 1, ttdMedian: 3 * 3600, rate: -1},
		{name: "alert starting just after end plus slack is false", labels: []string{labelJane},
			alerts: []string{al("a", "jane@acme.example", "2026-01-15T05:00:00.001Z", "2026-01-15T05:10:00Z")},
			fp:     1, missed: 1, rate: -1},
		{name: "custom slack", labels: []string{labelJane}, opt: Options{Slack: 10 * time.Minute},
			alerts: []string{al("a", "jane@acme.example", "2026-01-15T04:20:00Z", "2026-01-15T04:30:00Z")},
			fp:     1, missed: 1, rate: -1},
		{name: "alert ending exactly at start overlaps", labels: []string{labelJane},
			alerts: []string{al("a", "jane@acme.example", "2026-01-15T01:00:00Z", "2026-01-15T02:00:00Z")},
			tp:     1, precision: 1, recall: 1, ttdMedian: 0, rate: -1},
		{name: "alert ending before start is false", labels: []string{labelJane},
			alerts: []string{al("a", "jane@acme.example", "2026-01-15T01:00:00Z", "2026-01-15T01:59:59Z")},
			fp:     1, missed: 1, rate: -1},
		{name: "earliest signal time is the detection time", labels: []string{labelJane},
			alerts: []string{al("a", "jane@acme.example", "2026-01-15T03:00:00Z", "2026-01-15T03:30:00Z",
				"2026-01-15T03:20:00Z", "2026-01-15T02:10:00Z")},
			tp: 1, precision: 1, recall: 1, ttdMedian: 600, rate: -1},
		{name: "median over two labels", labels: []string{labelJane, labelBob},
			alerts: []string{al("a", "jane@acme.example", "2026-01-15T02:10:00Z", "2026-01-15T02:20:00Z"),
				al("b", "bob@acme.example", "2026-01-16T02:30:00Z", "2026-01-16T02:40:00Z")},
			tp: 2, precision: 1, recall: 1, ttdMedian: 1200, rate: -1},
		{name: "look-alike draws the false alert", labels: []string{labelJane}, benign: []string{benignNew},
			alerts: []string{al("a", "new@acme.example", "2026-01-20T10:00:00Z", "2026-01-20T11:00:00Z")},
			fp:     1, missed: 1, lookalikeHits: 1, rate: -1},
		{name: "duplicate alert lines are one alert", labels: []string{labelJane},
			alerts: []string{al("a", "jane@acme.example", "2026-01-15T06:00:00Z", "2026-01-15T06:00:00Z"),
				al("a", "jane@acme.example", "2026-01-15T03:00:00Z", "2026-01-15T06:30:00Z")},
			tp: 1, precision: 1, recall: 1, ttdMedian: 3600, rate: -1},
		{name: "rate per 1,000 identities per day", labels: []string{labelJane},
			opt: Options{Identities: 500, Days: 10},
			alerts: []string{al("a", "x@acme.example", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
				al("b", "y@acme.example", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
				al("c", "z@acme.example", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")},
			fp: 3, missed: 1, rate: 3 / 0.5 / 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var benign *strings.Reader
			if tc.benign != nil {
				benign = strings.NewReader(strings.Join(tc.benign, "\n"))
			} else {
				benign = strings.NewReader("")
			}
			rep, err := RunWithOptions(strings.NewReader(strings.Join(tc.labels, "\n")), benign,
				strings.NewReader(strings.Join(tc.alerts, "\n")), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if rep.TruePositives != tc.tp || rep.FalsePositives != tc.fp || rep.Missed != tc.missed {
				t.Errorf("tp/fp/missed = %d/%d/%d, want %d/%d/%d", rep.TruePositives, rep.FalsePositives, rep.Missed, tc.tp, tc.fp, tc.missed)
			}
			if !near(rep.Precision, tc.precision) || !near(rep.Recall, tc.recall) {
				t.Errorf("precision/recall = %v/%v, want %v/%v", rep.Precision, rep.Recall, tc.precision, tc.recall)
			}
			if !near(rep.TTDMedianSeconds, tc.ttdMedian) {
				t.Errorf("ttd median = %v, want %v", rep.TTDMedianSeconds, tc.ttdMedian)
			}
			hits := 0
			for _, fa := range rep.FalseAlerts {
				if fa.Lookalike != "" {
					hits++
				}
			}
			if hits != tc.lookalikeHits {
				t.Errorf("look-alike false alerts = %d, want %d", hits, tc.lookalikeHits)
			}
			switch {
			case tc.rate < 0 && rep.FalsePer1000IdentityDays != nil:
				t.Errorf("rate = %v, want none", *rep.FalsePer1000IdentityDays)
			case tc.rate >= 0 && (rep.FalsePer1000IdentityDays == nil || !near(*rep.FalsePer1000IdentityDays, tc.rate)):
				t.Errorf("rate = %v, want %v", rep.FalsePer1000IdentityDays, tc.rate)
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestInputErrors(t *testing.T) {
	tests := []struct {
		name, labels, alerts, want string
	}{
		{"label not JSON", labelJane + "\n{nope", "", "labels line 2"},
		{"bad label time", `{"scenario":"s","entity":"e","start":"yesterday"}`, "", "labels line 1"},
		{"alert not JSON", labelJane, "\n\n[", "alerts line 3"},
		{"label without entity", `{"scenario":"s","start":"2026-01-15T02:00:00Z","end":"2026-01-15T03:00:00Z"}`, "", "labels record 1"},
		{"label ending before it starts", labelBob + "\n" + `{"scenario":"s","entity":"e","start":"2026-01-15T02:00:00Z","end":"2026-01-15T01:00:00Z"}`, "", "labels record 2"},
		{"alert without entity", labelJane, `{"id":"a9","first_seen":"2026-01-15T02:30:00Z"}`, `"a9"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(strings.NewReader(tc.labels), nil, strings.NewReader(tc.alerts))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestOptionsFromMeta(t *testing.T) {
	opt, err := OptionsFromMeta(filepath.Join("testdata", "labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if opt.Identities != 2000 || opt.Days != 30 {
		t.Errorf("options = %+v, want 2000 identities and 30 days", opt)
	}
	_, err = OptionsFromMeta(filepath.Join(t.TempDir(), "labels.jsonl"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing meta.json: error = %v, want fs.ErrNotExist", err)
	}
}

// TestGolden renders the fixture's report as a table and as JSON.
func TestGolden(t *testing.T) {
	open := func(name string) *os.File {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	opt, err := OptionsFromMeta(filepath.Join("testdata", "labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := RunWithOptions(open("labels.jsonl"), open("benign.jsonl"), open("alerts.jsonl"), opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct {
		file  string
		write func(*bytes.Buffer) error
	}{
		{"report.table.golden", func(b *bytes.Buffer) error { return rep.WriteTable(b) }},
		{"report.json.golden", func(b *bytes.Buffer) error { return rep.WriteJSON(b) }},
	} {
		var got bytes.Buffer
		if err := g.write(&got); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", g.file)
		if *update {
			if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", g.file, got.Bytes(), want)
		}
	}
}

// FuzzRun feeds arbitrary alert input: Run must not panic, and a report it
// returns must add up.
func FuzzRun(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "alerts.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(al("a", "jane@acme.example", "2026-01-15T02:30:00Z", "2026-01-15T01:00:00Z", "2026-01-15T09:00:00Z")))
	labels := labelJane + "\n" + labelBob
	f.Fuzz(func(t *testing.T, alerts []byte) {
		rep, err := Run(strings.NewReader(labels), strings.NewReader(benignNew), bytes.NewReader(alerts))
		if err != nil {
			return
		}
		if rep.TruePositives+rep.FalsePositives != rep.Alerts || rep.Detected+rep.Missed != rep.Labels {
			t.Fatalf("counts do not add up: %+v", rep)
		}
		if rep.Precision < 0 || rep.Precision > 1 || rep.Recall < 0 || rep.Recall > 1 || rep.TTDMedianSeconds < 0 {
			t.Fatalf("out of range: %+v", rep)
		}
		if err := rep.WriteTable(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}

// TestEverySimulatedScenarioListed scores one label of every scenario the
// simulator plans, with one look-alike alerting, and expects each scenario
// in the report and, by its full name, in the table: an undetected scenario
// is listed with recall 0, not left out.
func TestEverySimulatedScenarioListed(t *testing.T) {
	const trip = `{"scenario":"` + simulate.BenignTokenOnTrip + `","entity":"trip@acme.example","start":"2026-01-21T08:00:00Z","end":"2026-01-23T17:00:00Z","event_ids":["github:t"],"lookalike_of":"` + simulate.ScenarioTokenTheft + `"}`
	var labels []string
	for i, sc := range simulate.Scenarios {
		labels = append(labels, `{"scenario":"`+sc+`","entity":"victim`+strconv.Itoa(i)+`@acme.example","start":"2026-01-15T02:00:00Z","end":"2026-01-15T04:00:00Z","event_ids":["github:x"]}`)
	}
	alerts := []string{
		al("a", "victim0@acme.example", "2026-01-15T02:30:00Z", "2026-01-15T03:00:00Z"),
		al("b", "trip@acme.example", "2026-01-22T01:00:00Z", "2026-01-22T02:00:00Z"),
	}
	rep, err := Run(strings.NewReader(strings.Join(labels, "\n")), strings.NewReader(trip), strings.NewReader(strings.Join(alerts, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	got := map[string]ScenarioResult{}
	for _, s := range rep.Scenarios {
		got[s.Scenario] = s
	}
	// Every other scenario: one label, no alert.
	type want struct {
		recall         float64
		lookalikeFalse int
	}
	wants := map[string]want{simulate.Scenarios[0]: {1, 0}, simulate.ScenarioTokenTheft: {0, 1}}
	for _, sc := range simulate.Scenarios {
		w := wants[sc]
		t.Run(sc, func(t *testing.T) {
			s, ok := got[sc]
			if !ok {
				t.Fatalf("not in the report's scenarios")
			}
			if s.Labels != 1 || !near(s.Recall, w.recall) || s.LookalikeFalse != w.lookalikeFalse {
				t.Errorf("labels %d, recall %v, look-alike false alerts %d; want 1, %v, %d", s.Labels, s.Recall, s.LookalikeFalse,
					w.recall, w.lookalikeFalse)
			}
			if !strings.Contains(table.String(), "\n"+sc+" ") {
				t.Errorf("table lacks a row for %s:\n%s", sc, table.String())
			}
		})
	}
}
