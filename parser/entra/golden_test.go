package entra_test

import (
	"flag"
	"testing"

	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/entra"
	"github.com/reposentry/reposentry/parser/github"
	"github.com/reposentry/reposentry/parser/parsertest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// newParser puts GitHub first, as the pipeline does, so every test also
// shows that GitHub's Sniff leaves Entra sign-ins alone.
func newParser() *parser.Parser {
	return parser.New(intern.New(0), github.New(), entra.New())
}

// TestGolden parses every testdata input and compares the events and
// rejections with testdata/<input>.golden.json (-update rewrites them).
func TestGolden(t *testing.T) {
	n := parsertest.Golden(t, "testdata", newParser, *update)
	if n < 4 {
		t.Fatalf("found %d golden inputs, want the Graph object, page, diagnostic records and Log Analytics export", n)
	}
}
