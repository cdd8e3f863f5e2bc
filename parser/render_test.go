package parser_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/parsertest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// checkGolden compares got, rendered as indented JSON, with testdata/golden/name.
func checkGolden(t *testing.T, name string, got parsertest.Result) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatalf("marshal %s: %v", name, err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatalf("write %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run with -update to create it): %v", path, err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from golden file; got:\n%s", name, b)
	}
}

func rejectionsInto(dst *[]parsertest.Rejection) func(parser.Rejection) {
	return func(r parser.Rejection) {
		o, _ := json.Marshal(r.Origin)
		*dst = append(*dst, parsertest.Rejection{Origin: string(o), Reason: r.Reason, Error: r.Err.Error()})
	}
}
