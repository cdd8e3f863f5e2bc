package sigma

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestLoadErrorsGolden(t *testing.T) {
	rs, errs := LoadDir("testdata/bad")
	var b bytes.Buffer
	for _, e := range errs {
		if _, ok := e.(*Error); !ok {
			t.Errorf("error %v is a %T, want *Error", e, e)
		}
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	golden(t, "errors.golden", b.Bytes())
	// One bad rule never stops the others.
	var titles []string
	for _, r := range rs.Rules() {
		titles = append(titles, r.Title)
	}
	if got, want := strings.Join(titles, "|"), "base|good rule survives"; got != want {
		t.Errorf("loaded rules %q, want %q", got, want)
	}
}

func TestValidateAndList(t *testing.T) {
	fsys := fstest.MapFS{
		"a/ok.yml":    {Data: []byte("title: ok\nid: r-1\nlevel: high\ntags: [attack.t1098]\nlogsource:\n  product: github\n  service: audit\ndetection:\n  sel:\n    action: x\n  condition: sel\n")},
		"a/bad.yaml":  {Data: []byte("title: bad\ndetection:\n  sel:\n    action|nope: x\n  condition: sel\n")},
		"a/notes.txt": {Data: []byte("not a rule")},
	}
	var out bytes.Buffer
	n, err := Validate(&out, fsys, "a")
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("Validate found %d problems, want 1", n)
	}
	rs, _ := LoadFS(fsys, "a")
	if err := WriteList(&out, rs); err != nil {
		t.Fatal(err)
	}
	golden(t, "validate_list.golden", out.Bytes())
}
