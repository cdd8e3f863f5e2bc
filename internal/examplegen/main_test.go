package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// readTree returns every file under dir by its slash path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	na, err := generate(a)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := generate(b)
	if err != nil {
		t.Fatal(err)
	}
	if na != nb {
		t.Fatalf("event counts differ: %d and %d", na, nb)
	}
	fa, fb := readTree(t, a), readTree(t, b)
	if len(fa) != len(fb) {
		t.Fatalf("file counts differ: %d and %d", len(fa), len(fb))
	}
	for name, data := range fa {
		if !bytes.Equal(data, fb[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// loaded is one generated event with where it came from.
type loaded struct {
	file string
	m    map[string]any
}

func (l loaded) str(k string) string { s, _ := l.m[k].(string); return s }

func (l loaded) time() time.Time { return time.UnixMilli(int64(l.m["@timestamp"].(float64))).UTC() }

// loadAll parses every generated file in its delivery shape.
func loadAll(t *testing.T, dir string) []loaded {
	t.Helper()
	var out []loaded
	for name, data := range readTree(t, dir) {
		switch {
		case name == pageFile:
			var page []map[string]any
			if err := json.Unmarshal(data, &page); err != nil {
				t.Fatalf("%s is not a JSON array: %v", name, err)
			}
			if len(page) == 0 || len(page) > pageMax {
				t.Fatalf("%s holds %d events, want 1 to %d", name, len(page), pageMax)
			}
			for i, m := range page {
				if i > 0 && m["@timestamp"].(float64) > page[i-1]["@timestamp"].(float64) {
					t.Fatalf("%s: event %d is newer than the one before; pages are newest first", name, i)
				}
				out = append(out, loaded{name, m})
			}
		case name == hecFile:
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var env struct {
					Time  json.Number    `json:"time"`
					Event map[string]any `json:"event"`
				}
				if err := json.Unmarshal(sc.Bytes(), &env); err != nil || env.Event == nil {
					t.Fatalf("%s: line is not a HEC envelope (%v): %s", name, err, sc.Bytes())
				}
				out = append(out, loaded{name, env.Event})
			}
		case strings.HasPrefix(name, streamDir+"/") && strings.HasSuffix(name, ".json.gz"):
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			dec := json.NewDecoder(zr)
			for dec.More() {
				var m map[string]any
				if err := dec.Decode(&m); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				ev := loaded{name, m}
				// The object key's date and hour prefix holds the event.
				if want := streamDir + "/" + ev.time().Truncate(batchEvery).Format("2006/01/02/15") + "/"; !strings.HasPrefix(name, want) {
					t.Fatalf("%s holds an event of %s, want it under %s", name, ev.time(), want)
				}
				out = append(out, ev)
			}
		default:
			t.Fatalf("unexpected file %s", name)
		}
	}
	return out
}

func TestShapes(t *testing.T) {
	dir := t.TempDir()
	if _, err := generate(dir); err != nil {
		t.Fatal(err)
	}
	evs := loadAll(t, dir)
	if len(evs) < 2000 || len(evs) > 10000 {
		t.Fatalf("%d events, want a few thousand", len(evs))
	}
	ids := map[string]bool{}
	for _, e := range evs {
		id := e.str("_document_id")
		if len(id) != 22 || ids[id] {
			t.Fatalf("%s: _document_id %q is not a unique 22-character id", e.file, id)
		}
		ids[id] = true
		if e.m["@timestamp"] != e.m["created_at"] {
			t.Fatalf("%s: @timestamp %v != created_at %v", e.file, e.m["@timestamp"], e.m["created_at"])
		}
		if e.str("org") != orgName || e.str("business") != businessName || e.str("actor") == "" {
			t.Fatalf("%s: event lacks org, business or actor: %v", e.file, e.m)
		}
		if loc, _ := e.m["actor_location"].(map[string]any); loc == nil || loc["country_code"] == "" {
			t.Fatalf("%s: event lacks actor_location.country_code: %v", e.file, e.m)
		}
		if strings.HasPrefix(e.str("action"), "git.") {
			if _, ok := e.m["repository_public"].(bool); !ok || e.str("transport_protocol_name") == "" {
				t.Fatalf("%s: Git event lacks repository_public or transport: %v", e.file, e.m)
			}
			tok := e.str("hashed_token") != ""
			if http := e.str("transport_protocol_name") == "http"; http != tok || tok != (e.str("programmatic_access_type") != "") {
				t.Fatalf("%s: HTTP Git events carry a token, SSH ones none: %v", e.file, e.m)
			}
		}
	}
	// Delivery files split the days in name order, so walking examples/
	// reads events in time order from one file to the next.
	last := map[string]time.Time{}
	first := map[string]time.Time{}
	for _, e := range evs {
		f := e.file
		if strings.HasPrefix(f, streamDir) {
			f = streamDir
		}
		if tm := e.time(); first[f].IsZero() || tm.Before(first[f]) {
			first[f] = tm
		}
		if tm := e.time(); tm.After(last[f]) {
			last[f] = tm
		}
	}
	if !last[pageFile].Before(first[hecFile]) || !last[hecFile].Before(first[streamDir]) {
		t.Fatalf("delivery files overlap in time: page %s..%s, hec %s..%s, stream from %s",
			first[pageFile], last[pageFile], first[hecFile], last[hecFile], first[streamDir])
	}
}

// TestStory checks that each scenario the README promises is in the data.
func TestStory(t *testing.T) {
	dir := t.TempDir()
	if _, err := generate(dir); err != nil {
		t.Fatal(err)
	}
	evs := loadAll(t, dir)
	slices.SortFunc(evs, func(a, b loaded) int { return a.time().Compare(b.time()) })
	learningEnd := start.AddDate(0, 0, 7)
	by := func(actor string, f func(loaded) bool) []loaded {
		var out []loaded
		for _, e := range evs {
			if e.str("actor") == actor && f(e) {
				out = append(out, e)
			}
		}
		return out
	}
	private := func(e loaded) bool {
		return e.m["repository_public"] == false || e.str("visibility") == "private" || e.str("visibility") == "internal"
	}

	// (a) a token granted, then 40 distinct private clones with it from a
	// new country within 20 minutes, plus archive downloads.
	grants := by("mallory-acme", func(e loaded) bool { return e.str("action") == "personal_access_token.access_granted" })
	if len(grants) != 1 || grants[0].time().Before(learningEnd) {
		t.Fatalf("mallory-acme token grants: %d, want one after the learning period", len(grants))
	}
	hash := grants[0].str("hashed_token")
	withToken := by("mallory-acme", func(e loaded) bool { return e.str("hashed_token") == hash })
	repos := map[string]bool{}
	zips := 0
	for _, e := range withToken {
		if e.time().Sub(grants[0].time()) > 20*time.Minute {
			t.Fatalf("token used %s after the grant, want within 20 minutes", e.time().Sub(grants[0].time()))
		}
		if e.str("action") == "git.clone" && private(e) {
			repos[e.str("repo")] = true
		}
		if e.str("action") == "repo.download_zip" {
			zips++
		}
		if e.m["actor_location"].(map[string]any)["country_code"] == "US" {
			t.Fatal("the attacker's reads come from mallory-acme's home country")
		}
	}
	if len(repos) != 40 || zips == 0 {
		t.Fatalf("attack: %d distinct private clones and %d zips, want 40 and some", len(repos), zips)
	}
	// (b) the exfiltration path opened right after.
	for _, action := range []string{"repo.access", "private_repository_forking.enable"} {
		got := by("mallory-acme", func(e loaded) bool { return e.str("action") == action })
		if len(got) != 1 || got[0].time().Sub(grants[0].time()) > time.Hour {
			t.Fatalf("%s by mallory-acme: %d events, want one within the hour after the grant", action, len(got))
		}
	}
	// (c) kwame-acme reads from a country and /24 never seen for him.
	homeCountries := map[any]bool{}
	for _, e := range by("kwame-acme", func(e loaded) bool { return e.time().Before(learningEnd) }) {
		homeCountries[e.m["actor_location"].(map[string]any)["country_code"]] = true
	}
	away := by("kwame-acme", func(e loaded) bool {
		return !homeCountries[e.m["actor_location"].(map[string]any)["country_code"]]
	})
	if len(away) < 2 || len(away) > 5 || away[0].time().Before(learningEnd) {
		t.Fatalf("kwame-acme: %d reads from a new country, want a few after the learning period", len(away))
	}
	known := map[string]bool{}
	for _, e := range by("kwame-acme", func(e loaded) bool { return e.time().Before(away[0].time()) }) {
		known[e.str("repo")] = true
	}
	foreign := 0
	for _, e := range away {
		if !known[e.str("repo")] {
			foreign++
		}
	}
	if foreign < 2 {
		t.Fatalf("kwame-acme: %d of the reads from abroad are of repositories he never read, want at least 2", foreign)
	}
	// Near miss: wlee-acme reads her own repositories from abroad.
	wleeKnown := map[string]bool{}
	var wleeAway int
	for _, e := range by("wlee-acme", func(loaded) bool { return true }) {
		if e.m["actor_location"].(map[string]any)["country_code"] == "PT" {
			wleeAway++
			if !wleeKnown[e.str("repo")] {
				t.Fatalf("wlee-acme reads %s from abroad, a repository she never read", e.str("repo"))
			}
		} else {
			wleeKnown[e.str("repo")] = true
		}
	}
	if wleeAway == 0 {
		t.Fatal("wlee-acme never reads from abroad")
	}
	// (d) the privileged admin clones exactly two repositories, never before.
	if got := by("admin-jsmith", func(e loaded) bool { return strings.HasPrefix(e.str("action"), "git.") }); len(got) != 2 || got[0].time().Before(learningEnd) {
		t.Fatalf("admin-jsmith Git events: %d, want 2 after the learning period", len(got))
	}
	// Near misses: a new joiner's 12 first-day clones, a bot's 300-clone
	// rebuild, 30 fetches of repositories cloned before.
	tcho := by("tcho-acme", func(loaded) bool { return true })
	if tcho[0].time().Before(learningEnd) {
		t.Fatal("the new joiner appears before the learning period ends")
	}
	if n := len(by("tcho-acme", func(e loaded) bool { return e.str("action") == "git.clone" })); n != 12 {
		t.Fatalf("new joiner clones: %d, want 12", n)
	}
	maxHour := 0
	bot := by("acme-build-ci", func(loaded) bool { return true })
	for i, j := 0, 0; i < len(bot); i++ { // sliding one-hour window
		for bot[i].time().Sub(bot[j].time()) >= time.Hour {
			j++
		}
		maxHour = max(maxHour, i-j+1)
	}
	if maxHour < 300 {
		t.Fatalf("CI bot: at most %d clones in an hour, want a burst of 300", maxHour)
	}
	cloned := map[string]bool{}
	for _, e := range by("priya-acme", func(e loaded) bool { return e.str("action") == "git.clone" && e.time().Before(learningEnd) }) {
		cloned[e.str("repo")] = true
	}
	morning := by("priya-acme", func(e loaded) bool {
		return e.str("action") == "git.fetch" && !e.time().Before(learningEnd) && e.time().Before(learningEnd.Add(24*time.Hour))
	})
	fetched := map[string]bool{}
	for _, e := range morning {
		if !cloned[e.str("repo")] {
			t.Fatalf("priya-acme fetches %s, which she never cloned", e.str("repo"))
		}
		fetched[e.str("repo")] = true
	}
	if len(fetched) < 30 {
		t.Fatalf("priya-acme fetched %d distinct repositories on the first post-learning day, want 30", len(fetched))
	}
}
