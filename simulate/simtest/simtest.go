// Package simtest reads the simulator's output for tests: the records of a
// folder of logs, the events parsed from them in time order with identities
// set as the enrichment stage sets them, and the ground-truth labels.
package simtest

import (
	"bufio"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/source"
)

// Records calls fn with every record of every file under root, read as the
// pipeline reads them. A file that cannot be read fails the test.
func Records(tb testing.TB, root string, fn func(path string, rec source.Record)) {
	tb.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rd, err := source.Open(path, source.Options{})
		if err != nil {
			return err
		}
		defer rd.Close()
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			fn(path, rec)
		}
	})
	if err != nil {
		tb.Fatalf("reading %s: %v", root, err)
	}
}

// Events parses every file under each root with p and returns the events
// sorted by time, with Raw dropped (it does not outlive parsing) and
// Identity set as enrichment sets it without a mapping: the lower-cased
// identity hint, else "<platform>:<login>". A rejected record fails the test:
// the simulator writes only good ones.
func Events(tb testing.TB, p *parser.Parser, roots ...string) []reposentry.Event {
	tb.Helper()
	var evs []reposentry.Event
	for _, root := range roots {
		Records(tb, root, func(path string, rec source.Record) {
			n := len(evs)
			evs = p.Parse(rec, evs, func(r parser.Rejection) {
				tb.Errorf("%s:%d rejected: %s: %v", path, r.Origin.Line, r.Reason, r.Err)
			})
			for i := n; i < len(evs); i++ {
				ev := &evs[i]
				ev.Raw = nil
				if ev.IdentityHint != "" {
					ev.Identity = strings.ToLower(ev.IdentityHint)
				} else {
					ev.Identity = ev.Platform.String() + ":" + ev.Actor.Login
				}
			}
		})
	}
	if len(evs) == 0 {
		tb.Fatalf("no events under %v", roots)
	}
	slices.SortStableFunc(evs, func(a, b reposentry.Event) int { return a.Time.Compare(b.Time) })
	return evs
}

// Label is one line of labels.jsonl or benign.jsonl.
type Label struct {
	Scenario    string    `json:"scenario"`
	Entity      string    `json:"entity"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	EventIDs    []string  `json:"event_ids"`
	LookalikeOf string    `json:"lookalike_of"`
}

// Labels reads a labels file; entities are lower-cased, as identities are.
func Labels(tb testing.TB, path string) []Label {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []Label
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var l Label
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		l.Entity = strings.ToLower(l.Entity)
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return out
}
