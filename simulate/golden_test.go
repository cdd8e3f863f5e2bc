package simulate

import (
	"bytes"
	"compress/gzip"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// headLines returns the first n lines of data.
func headLines(data []byte, n int) string {
	ls := strings.SplitAfter(string(data), "\n")
	return strings.Join(ls[:min(n, len(ls))], "")
}

// TestGolden pins the shape of every output kind on a small run: meta,
// ground truth, and the first records of each file type.
func TestGolden(t *testing.T) {
	dir, _ := run(t, 40, 4, 1)
	files := tree(t, dir)
	var firstGH string
	for _, name := range sortedKeys(files) {
		if strings.HasPrefix(name, "github/") {
			firstGH = name
			break
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(files[firstGH]))
	if err != nil {
		t.Fatal(err)
	}
	gh, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, part := range []struct{ name, body string }{
		{"meta.json", string(files["meta.json"])},
		{"labels.jsonl", string(files["labels.jsonl"])},
		{"benign.jsonl", string(files["benign.jsonl"])},
		{firstGH, headLines(gh, 3)},
		{"github-api/page-001.json", headLines(files["github-api/page-001.json"], 3)},
		{"okta/2026-01-05.ndjson", headLines(files["okta/2026-01-05.ndjson"], 2)},
		{"entra/2026-01-05.json", headLines(files["entra/2026-01-05.json"], 2)},
		{"identities.csv", headLines(files["identities.csv"], 4)},
		{"directory/directory.ldif", ldifSample(string(files["directory/directory.ldif"]))},
		{ScenarioTokenTheft + " (creation, first use)", tokenSample(t, files)},
	} {
		got.WriteString("== " + part.name + "\n" + part.body + "\n")
	}
	path := filepath.Join("testdata", "sample.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got.String() != string(want) {
		t.Errorf("sample differs from %s (run with -update after an intended change):\n%s", path, got.String())
	}
}

// ldifSample keeps the domain, the two admin groups, the first user and the
// first privileged user of a directory snapshot.
func ldifSample(ldif string) string {
	entries := strings.Split(ldif, "\n\n")
	out := entries[:min(4, len(entries))]
	var user, admin string
	for _, e := range entries {
		if strings.Contains(e, "objectClass: user") {
			if user == "" {
				user = e
			}
			if admin == "" && strings.Contains(e, "adminCount: 1") {
				admin = e
			}
		}
	}
	return strings.Join(append(out, user, admin), "\n\n") + "\n"
}

// tokenSample returns the stolen-token scenario's first three GitHub
// events as written: the token's request and grant, and its first use.
func tokenSample(t *testing.T, files map[string][]byte) string {
	t.Helper()
	var ids []string
	for _, l := range readLabels(t, files["labels.jsonl"]) {
		if l.Scenario == ScenarioTokenTheft {
			ids = l.EventIDs
		}
	}
	byRef := map[string]string{}
	for name, data := range files {
		if !strings.HasPrefix(name, "github/") {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.SplitAfter(string(plain), "\n") {
			if _, rest, ok := strings.Cut(line, `"_document_id":"`); ok {
				byRef["github:"+rest[:22]] = line
			}
		}
	}
	var out strings.Builder
	for _, ref := range ids[:min(3, len(ids))] {
		out.WriteString(byRef[ref])
	}
	return out.String()
}
