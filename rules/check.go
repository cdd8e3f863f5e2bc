package rules

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/entra"
	"github.com/reposentry/reposentry/parser/github"
	"github.com/reposentry/reposentry/parser/okta"
	"github.com/reposentry/reposentry/sigma"
	"github.com/reposentry/reposentry/source"
)

// Examples holds the built-in rules' example events, for Check.
//
//go:embed testdata/*.jsonl
var Examples embed.FS

// Result is the outcome of one rule's examples.
type Result struct {
	Rule string // the rule's reference (name, else id)
	File string // the rule's file
	// Match and NoMatch are the example files used ("" when missing).
	Match, NoMatch string
	// Matched counts the match examples that raised the rule (for a
	// correlation: 1 when the whole file raised it); Want is what should.
	Matched, Want int
	// FalseHits counts the signals the no-match examples raised.
	FalseHits int
	// Problems says what went wrong in words; empty when the rule passed.
	Problems []string
}

// OK reports whether the rule behaved as its examples say.
func (r Result) OK() bool { return len(r.Problems) == 0 }

// Check runs every rule of rs over its example events: for a rule in file
// F.yml, examples/F.match.jsonl (each event must raise the rule on its own;
// for a correlation, the file as a whole must raise it once) and
// examples/F.nomatch.jsonl (nothing may raise it). Example files hold audit
// records one per line in any format reposentry parses. A rule without both
// files fails: a rule nobody showed firing and not firing is not tested.
func Check(rs *sigma.RuleSet, examples fs.FS) []Result {
	var out []Result
	for _, r := range rs.Rules() {
		if r.Kind == sigma.KindFilter {
			continue
		}
		base := strings.TrimSuffix(strings.TrimSuffix(path.Base(r.File), ".yml"), ".yaml")
		res := Result{Rule: r.Ref(), File: r.File}
		name := "sigma:" + r.Ref()
		sub := rs.Subset(r)
		match, mfile, err := readExamples(examples, base+".match.jsonl")
		res.Match = mfile
		if err != nil {
			res.Problems = append(res.Problems, err.Error())
		}
		nomatch, nfile, err := readExamples(examples, base+".nomatch.jsonl")
		res.NoMatch = nfile
		if err != nil {
			res.Problems = append(res.Problems, err.Error())
		}
		if len(res.Problems) == 0 {
			if r.Kind == sigma.KindCorrelation {
				res.Want = 1
				res.Matched = count(sigma.Run(sub, match), name)
			} else {
				res.Want = len(match)
				for i := range match {
					if count(sigma.Run(sub, match[i:i+1]), name) == 1 {
						res.Matched++
					} else {
						res.Problems = append(res.Problems, fmt.Sprintf("%s line %d (%s) does not raise the rule",
							mfile, match[i].Origin.Line, match[i].Action))
					}
				}
			}
			if r.Kind == sigma.KindCorrelation && res.Matched != 1 {
				res.Problems = append(res.Problems, fmt.Sprintf("%s raised the correlation %d times, want once", mfile, res.Matched))
			}
			res.FalseHits = count(sigma.Run(sub, nomatch), name)
			if res.FalseHits > 0 {
				res.Problems = append(res.Problems, fmt.Sprintf("%s raised the rule %d times, want never", nfile, res.FalseHits))
			}
		}
		out = append(out, res)
	}
	return out
}

func count(sigs []reposentry.Signal, rule string) int {
	n := 0
	for _, s := range sigs {
		if s.Rule == rule {
			n++
		}
	}
	return n
}

// readExamples parses one example file with every platform parser, in event
// time order as the engine delivers events. The file is looked up at the
// root of examples and under testdata/.
func readExamples(examples fs.FS, name string) ([]reposentry.Event, string, error) {
	file := name
	data, err := fs.ReadFile(examples, file)
	if errors.Is(err, fs.ErrNotExist) {
		file = path.Join("testdata", name)
		data, err = fs.ReadFile(examples, file)
	}
	if err != nil {
		return nil, "", fmt.Errorf("example events %s: %w", name, err)
	}
	p := parser.New(intern.New(0), github.New(), okta.New(), entra.New())
	var events []reposentry.Event
	var bad []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for line := int64(1); sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		rec := source.Record{Data: bytes.Clone(sc.Bytes()), Origin: reposentry.Origin{Source: file, Line: line}}
		events = p.Parse(rec, events, func(r parser.Rejection) {
			bad = append(bad, fmt.Sprintf("%s:%d: %v", file, line, r.Err))
		})
	}
	if err := sc.Err(); err != nil {
		return nil, file, fmt.Errorf("example events %s: %w", file, err)
	}
	if len(bad) > 0 {
		return nil, file, fmt.Errorf("example events rejected: %s", strings.Join(bad, "; "))
	}
	if len(events) == 0 {
		return nil, file, fmt.Errorf("example events %s: no events", file)
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].Time.Before(events[j].Time) })
	return events, file, nil
}
