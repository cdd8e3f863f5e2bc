package source

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"b.json":                   "[]",
		"a/2026/11/27/x.json.gz":   "gz",
		"a/2026/11/27/a.ndjson":    "{}\n",
		"a/.hidden/skipped.json":   "{}",
		"a/.DS_Store":              "junk",
		"c.jsonl":                  "{}\n{}\n",
		"notes.txt":                "text",
		".git/config":              "x",
		"outside/linked-file.json": "{}",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "a", "link.json")
	if err := os.Symlink(filepath.Join(dir, "outside", "linked-file.json"), link); err != nil {
		t.Fatal(err)
	}
	// A link to a folder above it would loop if followed.
	if err := os.Symlink(dir, filepath.Join(dir, "a", "loop")); err != nil {
		t.Fatal(err)
	}
	hidden := filepath.Join(dir, ".explicit.json")
	if err := os.WriteFile(hidden, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := func(name string) string { return filepath.Join(dir, name) }

	tests := []struct {
		name    string
		paths   []string
		want    []Input
		wantErr string
	}{
		{"folder", []string{dir}, []Input{
			{p("a/2026/11/27/a.ndjson"), 3},
			{p("a/2026/11/27/x.json.gz"), 2},
			{p("a/link.json"), 2},
			{p("b.json"), 2},
			{p("c.jsonl"), 6},
			{p("notes.txt"), 4},
			{p("outside/linked-file.json"), 2},
		}, ""},
		{"files, stdin and a folder keep argument order", []string{p("c.jsonl"), "-", p("a/2026"), hidden}, []Input{
			{p("c.jsonl"), 6},
			{"-", -1},
			{p("a/2026/11/27/a.ndjson"), 3},
			{p("a/2026/11/27/x.json.gz"), 2},
			{hidden, 2},
		}, ""},
		{"missing path", []string{p("b.json"), p("missing.json")}, nil, "missing.json"},
		{"nothing", nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Walk(tc.paths)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("err = %v, want not-exist naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d inputs %v, want %d %v", len(got), got, len(tc.want), tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("input %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
