package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// runCmd runs one command line in-process and returns its exit code and
// outputs.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

type statsJSON struct {
	Records          int64            `json:"records"`
	Parsed           int64            `json:"parsed"`
	Rejected         int64            `json:"rejected"`
	RejectedByReason map[string]int64 `json:"rejected_by_reason"`
	Alerts           int              `json:"alerts"`
	AlertsBySeverity map[string]int   `json:"alerts_by_severity"`
	Duplicates       int64            `json:"duplicates"`
}

func readStats(t *testing.T, path string) statsJSON {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s statsJSON
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("stats %s: %v\n%s", path, err, b)
	}
	return s
}

// TestHuntExamples runs the README's main command and compares the alerts
// with the golden file: what the bundled examples promise (examples/README.md).
func TestHuntExamples(t *testing.T) {
	dir := t.TempDir()
	stats := filepath.Join(dir, "stats.json")
	code, out, errOut := runCmd(t, "hunt", "--quiet", "--format", "jsonl", "--stats", stats,
		"--config", "../../examples/reposentry.yaml", "../../examples/logs")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	s := readStats(t, stats)
	if s.Records != 2987 || s.Parsed != 2987 || s.Rejected != 0 {
		t.Errorf("stats = %+v, want 2987 records parsed, none rejected", s)
	}
	if s.Alerts != strings.Count(out, "\n") {
		t.Errorf("stats say %d alerts, output has %d lines", s.Alerts, strings.Count(out, "\n"))
	}
	golden(t, "testdata/examples.alerts.jsonl", []byte(out))

	// Every alert honours the architecture.md contract.
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var a map[string]any
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"id", "rule", "title", "severity", "risk", "techniques", "tactics", "entity",
			"first_seen", "last_seen", "event_ids", "explanation", "signals", "evidence"} {
			if _, ok := a[k]; !ok {
				t.Errorf("alert %v lacks %q", a["id"], k)
			}
		}
		for _, id := range a["event_ids"].([]any) {
			if !strings.HasPrefix(id.(string), "github:") {
				t.Errorf("event id %q is not github:<_document_id>", id)
			}
		}
	}
}

// TestHuntOrderIndependent re-delivers the examples' events as hourly NDJSON
// files with shuffled names, plus a duplicated file (at-least-once
// streaming), and expects the very same alerts.
func TestHuntOrderIndependent(t *testing.T) {
	code, want, errOut := runCmd(t, "hunt", "--quiet", "--format", "jsonl",
		"--config", "../../examples/reposentry.yaml", "../../examples/logs")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}

	// Collect every event of the examples with its time.
	dir := t.TempDir()
	events := exampleEvents(t)
	byHour := map[int64][][]byte{}
	for _, e := range events {
		h := e.ms / 3_600_000
		byHour[h] = append(byHour[h], e.raw)
	}
	hours := make([]int64, 0, len(byHour))
	for h := range byHour {
		hours = append(hours, h)
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i] < hours[j] })
	r := rand.New(rand.NewPCG(1, 2))
	names := r.Perm(len(hours))
	for i, h := range hours {
		var buf bytes.Buffer
		for _, l := range byHour[h] {
			buf.Write(l)
			buf.WriteByte('\n')
		}
		name := filepath.Join(dir, fmt.Sprintf("part-%04d.ndjson", names[i]))
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if i == len(hours)/2 { // one hour delivered twice
			if err := os.WriteFile(name+".again", buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	stats := filepath.Join(t.TempDir(), "stats.json")
	code, got, errOut := runCmd(t, "hunt", "--quiet", "--format", "jsonl", "--stats", stats,
		"--config", "../../examples/reposentry.yaml", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got != want {
		t.Errorf("alerts differ when the same events arrive as shuffled hourly files\nwant:\n%s\ngot:\n%s", want, got)
	}
	s := readStats(t, stats)
	if s.Duplicates == 0 {
		t.Errorf("the twice-delivered hour was not counted as duplicates: %+v", s)
	}
}

type timedEvent struct {
	ms  int64
	raw []byte
}

// exampleEvents reads every GitHub event of examples/logs as a bare JSON
// object, unwrapping the API page and the HEC envelopes.
func exampleEvents(t *testing.T) []timedEvent {
	t.Helper()
	var out []timedEvent
	add := func(raw json.RawMessage) {
		var head struct {
			TS int64 `json:"@timestamp"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.TS == 0 {
			t.Fatalf("example event without @timestamp: %s", raw)
		}
		out = append(out, timedEvent{head.TS, append([]byte(nil), raw...)})
	}
	err := filepath.Walk("../../examples/logs", func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if _, err := buf.ReadFrom(zr); err != nil {
				return err
			}
			b = buf.Bytes()
		}
		if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
			var page []json.RawMessage
			if err := json.Unmarshal(t, &page); err != nil {
				return err
			}
			for _, e := range page {
				add(e)
			}
			return nil
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var env struct {
				Event json.RawMessage `json:"event"`
			}
			if json.Unmarshal(line, &env) == nil && len(env.Event) > 0 && env.Event[0] == '{' {
				add(env.Event)
			} else {
				add(line)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2987 {
		t.Fatalf("read %d example events, want 2987", len(out))
	}
	return out
}

// TestHuntBadInput feeds every kind of bad input the foundation issue names
// and expects each to be reported with its file and line, counted by
// reason, and the good records around it processed.
func TestHuntBadInput(t *testing.T) {
	dir := t.TempDir()
	good := func(id string, ms int64) string {
		return fmt.Sprintf(`{"@timestamp":%d,"_document_id":"%s","action":"git.clone","actor":"alice","repo":"acme/api","repository_public":false,"org":"acme"}`, ms, id)
	}
	base := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC).UnixMilli()
	lines := []string{
		good("good-1", base),
		`{"@timestamp":` + fmt.Sprint(base+1000) + `,"action":"git.clone","actor":"al`, // truncated JSON
		`{"_document_id":"no-time","action":"git.clone","actor":"alice"}`,
		`{"@timestamp":` + fmt.Sprint(base+2000) + `,"_document_id":"no-action","actor":"alice"}`,
		`{"@timestamp":` + fmt.Sprint(base+3000) + `,"_document_id":"bad-utf8","action":"git.clone","actor":"al` + "\xff\xfe" + `ice"}`,
		`{"@timestamp":"yesterday","_document_id":"bad-time","action":"git.clone","actor":"alice"}`,
		`{"@timestamp":` + fmt.Sprint(base+4000) + `,"_document_id":"wrong-type","action":42,"actor":"alice"}`,
		`{"@timestamp":` + fmt.Sprint(base+5000) + `,"_document_id":"huge","action":"git.clone","pad":"` + strings.Repeat("x", 2<<20) + `"}`,
		good("good-2", base+6000),
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a-mixed.ndjson", []byte(strings.Join(lines, "\n")+"\n"))
	write("b-empty.json", nil)
	write("c-binary.bin", append([]byte{0x7f, 'E', 'L', 'F', 0, 0, 0, 1}, bytes.Repeat([]byte{0}, 100)...))
	// A gzip file cut short after its first complete line.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for i := range 200 {
		fmt.Fprintln(zw, good(fmt.Sprintf("gz-%03d", i), base+int64(10000+i)))
	}
	zw.Close()
	write("d-truncated.json.gz", gz.Bytes()[:gz.Len()/2])

	cfg := filepath.Join(dir, "..", "cfg.yaml")
	if err := os.WriteFile(cfg, []byte("input:\n  max_record_bytes: 1048576\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stats := filepath.Join(t.TempDir(), "stats.json")
	code, _, errOut := runCmd(t, "hunt", "--format", "jsonl", "--stats", stats, "--config", cfg, dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	s := readStats(t, stats)
	wantReasons := []string{"invalid_json", "missing_time", "missing_action", "invalid_utf8", "invalid_time",
		"record_too_long", "binary_file", "truncated_gzip"}
	for _, r := range wantReasons {
		if s.RejectedByReason[r] == 0 {
			t.Errorf("no rejection counted for %s: %v", r, s.RejectedByReason)
		}
	}
	if s.Parsed < 3 { // good-1, good-2 and the gzip lines before the cut
		t.Errorf("parsed %d events, want the good ones around the bad (>= 3)", s.Parsed)
	}
	for _, want := range []string{
		filepath.Join(dir, "a-mixed.ndjson") + ":2",
		filepath.Join(dir, "a-mixed.ndjson") + ":8",
		filepath.Join(dir, "c-binary.bin"),
		filepath.Join(dir, "d-truncated.json.gz"),
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not name %s:\n%s", want, errOut)
		}
	}
	// "wrong-type" (action as a number) is kept or rejected, never a crash:
	// it must be accounted for one way or the other.
	if s.Parsed+s.Rejected < int64(len(lines))-1 {
		t.Errorf("records unaccounted for: parsed %d + rejected %d", s.Parsed, s.Rejected)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"hunt"}, 2, "no PATH"},
		{[]string{"hunt", "--format", "xml", "x"}, 2, "--format"},
		{[]string{"hunt", "--no-such-flag", "x"}, 2, "no-such-flag"},
		{[]string{"hunt", "/does/not/exist"}, 1, "/does/not/exist"},
		{[]string{"hunt", t.TempDir()}, 1, "no input files"},
		{[]string{"hunt", "--config", "/does/not/exist.yaml", "."}, 1, "exist.yaml"},
		{[]string{"simulate"}, 2, "--out"},
		{[]string{"evaluate", "x.jsonl"}, 2, "--labels"},
	} {
		code, _, errOut := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestSimulateHuntEvaluate runs the measuring loop of the README on a small
// organisation: simulate, hunt every source with the directory snapshot and
// the identity mapping the simulator writes, evaluate. The scenarios the
// foundation, the directory and the identity providers' logs cover are
// caught, and nothing else alerts.
func TestSimulateHuntEvaluate(t *testing.T) {
	dir := t.TempDir()
	org := filepath.Join(dir, "org")
	if code, _, e := runCmd(t, "simulate", "--users", "300", "--days", "21", "--seed", "1", "--out", org); code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, e)
	}
	cfg := filepath.Join(dir, "reposentry.yaml")
	yaml := fmt.Sprintf("identity_map: %s\ndirectory:\n  snapshot: %s\n",
		filepath.Join(org, "identities.csv"), filepath.Join(org, "directory", "directory.ldif"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	alerts := filepath.Join(dir, "alerts.jsonl")
	stats := filepath.Join(dir, "stats.json")
	args := []string{"hunt", "--quiet", "--config", cfg, "--format", "jsonl", "--out", alerts, "--stats", stats}
	for _, src := range []string{"github", "github-api", "okta", "entra"} {
		args = append(args, filepath.Join(org, src))
	}
	if code, _, e := runCmd(t, args...); code != 0 {
		t.Fatalf("hunt: exit %d: %s", code, e)
	}
	if s := readStats(t, stats); s.Rejected != 0 || s.Duplicates == 0 {
		t.Errorf("hunt stats %+v: want no rejection and the API pages' repeats recognised", s)
	}
	code, out, e := runCmd(t, "evaluate", "--format", "json", "--labels", filepath.Join(org, "labels.jsonl"), alerts)
	if code != 0 {
		t.Fatalf("evaluate: exit %d: %s", code, e)
	}
	var rep struct {
		FalsePositives int `json:"false_positives"`
		Scenarios      []struct {
			Scenario string  `json:"scenario"`
			Labels   int     `json:"labels"`
			Recall   float64 `json:"recall"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("evaluate output: %v\n%s", err, out)
	}
	want := map[string]bool{"lapsus_mass_clone": true, "scattered_spider": true, "stolen_ci_token": true,
		"privileged_domain_admin_reads_code": true}
	for _, sc := range rep.Scenarios {
		if want[sc.Scenario] && (sc.Labels == 0 || sc.Recall < 1) {
			t.Errorf("scenario %s: %d labels, recall %.2f; want every label detected", sc.Scenario, sc.Labels, sc.Recall)
		}
		delete(want, sc.Scenario)
	}
	for sc := range want {
		t.Errorf("scenario %s missing from the simulated organisation", sc)
	}
	if rep.FalsePositives != 0 {
		t.Errorf("%d false alerts on the simulated organisation, want none", rep.FalsePositives)
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test -update rewrites it)\ngot:\n%s", path, got)
	}
}

// TestRulesCommands runs rules list, validate and test over the built-in
// pack and a folder of user rules holding one good rule with examples and
// one broken rule: the broken one is reported with its file and line and
// never stops the good one, in hunt too.
func TestRulesCommands(t *testing.T) {
	dir := t.TempDir()
	good := `title: Repository archived
id: 7d1f8a4c-0000-4000-8000-000000000001
name: repo_archived
description: A repository was archived.
tags: [attack.impact]
level: medium
logsource: {product: github, service: audit}
detection:
  sel: {action: repo.archived}
  condition: sel
`
	bad := "title: Broken\nid: 7d1f8a4c-0000-4000-8000-000000000002\nlogsource: {product: github}\ndetection:\n  sel: {action|nosuchmodifier: x}\n  condition: sel\n"
	ev := func(id, action string) string {
		return fmt.Sprintf(`{"@timestamp":1767609500000,"_document_id":"%s","action":"%s","actor":"alice","org":"acme","repo":"acme/api"}`, id, action)
	}
	files := map[string]string{
		"repo_archived.yml":           good,
		"repo_archived.match.jsonl":   ev("a1", "repo.archived") + "\n",
		"repo_archived.nomatch.jsonl": ev("a2", "repo.create") + "\n",
		"broken.yml":                  bad,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	code, out, _ := runCmd(t, "rules", "list", dir)
	if code != 0 || !strings.Contains(out, "Repository archived") || !strings.Contains(out, "GitHub Bulk Repository Read") {
		t.Errorf("rules list: exit %d, output lacks the user or the built-in rules:\n%s", code, out)
	}
	code, out, _ = runCmd(t, "rules", "validate", dir)
	if code != 1 || !strings.Contains(out, "broken.yml:5") || !strings.Contains(out, "nosuchmodifier") {
		t.Errorf("rules validate: exit %d, want 1 naming broken.yml:5 and the modifier:\n%s", code, out)
	}
	if code, out, _ = runCmd(t, "rules", "validate"); code != 0 || !strings.Contains(out, "all rules valid") {
		t.Errorf("rules validate on the built-in pack: exit %d:\n%s", code, out)
	}
	code, out, _ = runCmd(t, "rules", "test", "--builtin=false", dir)
	if code != 1 || !strings.Contains(out, "ok    repo_archived.yml") || !strings.Contains(out, "FAIL") {
		t.Errorf("rules test: exit %d, want the good rule passing and the broken one failing:\n%s", code, out)
	}
	if code, out, _ = runCmd(t, "rules", "test"); code != 0 || strings.Contains(out, "FAIL") {
		t.Errorf("rules test on the built-in pack: exit %d:\n%s", code, out)
	}

	// hunt loads the good user rule despite the broken one, and it fires.
	logs := filepath.Join(t.TempDir(), "audit.ndjson")
	if err := os.WriteFile(logs, []byte(ev("h1", "repo.archived")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "hunt", "--format", "jsonl", "--rules", dir, logs)
	if code != 0 || !strings.Contains(errOut, "broken.yml") || !strings.Contains(out, "sigma:7d1f8a4c-0000-4000-8000-000000000001") {
		t.Errorf("hunt --rules: exit %d; stderr must report broken.yml and stdout hold the user rule's alert\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestHuntStateCarriesHistory hunts a simulated organisation in two halves
// with --state and expects the second half's alerts to be those a single
// hunt over everything raises in that half: what the first run learnt
// (baselines, first-seen places, routine repositories, automation) informs
// the second. Without the state, the second half is a cold start and says so.
func TestHuntStateCarriesHistory(t *testing.T) {
	dir := t.TempDir()
	org := filepath.Join(dir, "org")
	if code, _, e := runCmd(t, "simulate", "--users", "300", "--days", "21", "--seed", "1", "--out", org); code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, e)
	}
	cfg := filepath.Join(dir, "reposentry.yaml")
	yaml := fmt.Sprintf("identity_map: %s\ndirectory:\n  snapshot: %s\n",
		filepath.Join(org, "identities.csv"), filepath.Join(org, "directory", "directory.ldif"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	// Split every source by day at the cut.
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	cut := start.AddDate(0, 0, 13)
	var before, after []string
	for d := start; d.Before(start.AddDate(0, 0, 21)); d = d.AddDate(0, 0, 1) {
		paths := []string{
			filepath.Join(org, "github", d.Format("2006/01/02")),
			filepath.Join(org, "okta", d.Format(time.DateOnly)+".ndjson"),
			filepath.Join(org, "entra", d.Format(time.DateOnly)+".json"),
		}
		for _, p := range paths {
			if _, err := os.Stat(p); err != nil {
				continue
			}
			if d.Before(cut) {
				before = append(before, p)
			} else {
				after = append(after, p)
			}
		}
	}
	hunt := func(state string, paths []string) (alerts []map[string]any, stderr string) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "alerts.jsonl")
		args := []string{"hunt", "--config", cfg, "--format", "jsonl", "--out", out}
		if state != "" {
			args = append(args, "--state", state)
		}
		code, _, e := runCmd(t, append(args, paths...)...)
		if code != 0 {
			t.Fatalf("hunt: exit %d: %s", code, e)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if l == "" {
				continue
			}
			var a map[string]any
			if err := json.Unmarshal([]byte(l), &a); err != nil {
				t.Fatal(err)
			}
			alerts = append(alerts, a)
		}
		return alerts, e
	}
	// The alerts of the second half, as "rule entity severity", for those
	// starting an hour past the cut (an incident may straddle it).
	keys := func(alerts []map[string]any) []string {
		var out []string
		for _, a := range alerts {
			first, _ := time.Parse(time.RFC3339, a["first_seen"].(string))
			if first.Before(cut.Add(time.Hour)) {
				continue
			}
			out = append(out, fmt.Sprintf("%s %s %s", a["rule"], a["entity"].(map[string]any)["id"], a["severity"]))
		}
		sort.Strings(out)
		return out
	}

	whole, _ := hunt("", append(append([]string{}, before...), after...))
	want := keys(whole)
	if len(want) == 0 {
		t.Fatal("the single hunt raised no alert in the second half: the test shows nothing")
	}
	state := filepath.Join(dir, "state")
	if _, e := hunt(state, before); !strings.Contains(e, "cold start") {
		t.Errorf("first run does not say it is a cold start:\n%s", e)
	}
	second, e := hunt(state, after)
	if !strings.Contains(e, "resumed from run 1") {
		t.Errorf("second run does not say it resumed:\n%s", e)
	}
	if got := keys(second); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("second half with --state:\n%s\nwant (single hunt):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, e := hunt("", after); !strings.Contains(e, "cold start") {
		t.Errorf("a second half without state does not say it is a cold start:\n%s", e)
	}
}

// TestHuntDirectoryUnreachable: a live directory that cannot be read is an
// error naming it, unless a last good snapshot is configured (then that
// serves and the summary says how stale it is) or directory.optional is set.
func TestHuntDirectoryUnreachable(t *testing.T) {
	dir := t.TempDir()
	org := filepath.Join(dir, "org")
	if code, _, e := runCmd(t, "simulate", "--users", "40", "--days", "4", "--seed", "1", "--out", org); code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, e)
	}
	ldap := "  ldap:\n    url: ldap://127.0.0.1:1\n    base_dn: DC=acme,DC=example\n    timeout: 1s\n"
	for _, tc := range []struct {
		name, extra string
		code        int
		want        string
	}{
		{"unreachable", "", 1, "127.0.0.1:1"},
		{"last good snapshot", "  snapshot: " + filepath.Join(org, "directory", "directory.ldif") + "\n", 0, "using the last good snapshot"},
		{"optional", "  optional: true\n", 0, "directory not used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each waits out the retries' backoff (about 7 s)
			cfg := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(cfg, []byte("directory:\n"+tc.extra+ldap), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, e := runCmd(t, "hunt", "--config", cfg, "--format", "jsonl", filepath.Join(org, "github"))
			if code != tc.code || !strings.Contains(e, tc.want) {
				t.Errorf("exit %d, want %d; stderr lacks %q:\n%s", code, tc.code, tc.want, e)
			}
		})
	}
}

// TestBench runs the benchmark command on a small simulated organisation:
// every variant hunts every event, and memory is reported per detection
// package, including the session chains fed by the identity providers' logs.
func TestBench(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	code, stdout, e := runCmd(t, "bench", "--users", "60", "--days", "8", "--json", out)
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, e)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("bench --json: %v", err)
	}
	if rep.Events == 0 || rep.Identities < 60 {
		t.Fatalf("bench hunted %d events of %d identities", rep.Events, rep.Identities)
	}
	for _, r := range []struct {
		name string
		res  int
	}{{"hunt", rep.Hunt.Events}, {"presorted", rep.HuntPresorted.Events}, {"gzip", rep.HuntGzip.Events},
		{"no baseline", rep.HuntNoBaseline.Events}, {"foundation", rep.HuntFoundation.Events}, {"ceiling", rep.Ceiling.Events}} {
		if int64(r.res) != rep.Events {
			t.Errorf("%s run saw %d events, want %d", r.name, r.res, rep.Events)
		}
	}
	for _, pkg := range []string{"detect", "baseline", "novelty", "chain", "alert"} {
		if rep.DetectionBytes[pkg] <= 0 {
			t.Errorf("detection state of %s: %d bytes, want some (all: %v)", pkg, rep.DetectionBytes[pkg], rep.DetectionBytes)
		}
	}
	if rep.DetectionPerIdentity <= 0 || rep.DetectionPerIdentity > rep.BytesPerIdentity {
		t.Errorf("detection state %.0f B per identity of %.0f B in all", rep.DetectionPerIdentity, rep.BytesPerIdentity)
	}
	if !strings.Contains(stdout, "detection state: ") {
		t.Errorf("bench output lacks the detection state line:\n%s", stdout)
	}
}

// TestHuntStateSkipsHuntedFiles: with --state, a file hunted before is not
// hunted again (its events would count twice in what detections learn),
// the summary says so, and a file that changed since is hunted again.
func TestHuntStateSkipsHuntedFiles(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if err := os.CopyFS(logs, os.DirFS(filepath.Join("..", "..", "examples", "logs"))); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	cfg := filepath.Join("..", "..", "examples", "reposentry.yaml")
	hunt := func() (statsJSON, string) {
		t.Helper()
		stats := filepath.Join(dir, "stats.json")
		code, _, e := runCmd(t, "hunt", "--state", state, "--config", cfg, "--format", "jsonl", "--out", filepath.Join(dir, "alerts.jsonl"), "--stats", stats, logs)
		if code != 0 {
			t.Fatalf("hunt: exit %d: %s", code, e)
		}
		return readStats(t, stats), e
	}
	first, _ := hunt()
	if first.Records == 0 || first.Alerts != 3 {
		t.Fatalf("first hunt: %+v, want the examples' 3 alerts", first)
	}
	again, stderr := hunt()
	if again.Records != 0 || again.Alerts != 0 || !strings.Contains(stderr, "files already hunted with this state were skipped") {
		t.Errorf("second hunt of the same files: %+v, want nothing read and a note:\n%s", again, stderr)
	}
	page := filepath.Join(logs, "github-api-page.json")
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(page, later, later); err != nil {
		t.Fatal(err)
	}
	changed, _ := hunt()
	if changed.Records == 0 || changed.Records >= first.Records {
		t.Errorf("after one file changed: %d records read, want that file's only (of %d)", changed.Records, first.Records)
	}
}
