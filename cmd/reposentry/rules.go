package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/reposentry/reposentry/rules"
	"github.com/reposentry/reposentry/sigma"
)

const rulesUsage = `rules list|validate|test [--builtin=false] [DIR...]

  list       the rules: the built-in pack and the Sigma rules in each DIR
  validate   load the rules and report every problem (file, line, what is wrong);
             exit 1 when any rule is invalid
  test       run each rule over its example events: for F.yml, F.match.jsonl (every
             event must raise the rule; for a correlation, the file once) and
             F.nomatch.jsonl (nothing may), beside it or under testdata/;
             exit 1 when any rule fails`

// ruleSource is one folder of rules with where its examples are.
type ruleSource struct {
	name     string
	rules    fs.FS
	examples fs.FS
}

func ruleSources(builtin bool, dirs []string) []ruleSource {
	var out []ruleSource
	if builtin {
		out = append(out, ruleSource{"built-in pack", rules.FS, rules.Examples})
	}
	for _, d := range dirs {
		out = append(out, ruleSource{d, os.DirFS(d), os.DirFS(d)})
	}
	return out
}

// loadRules loads the built-in pack and each folder of user rules into one
// rule set. Bad rules are returned as errors naming their file and line; the
// good ones are all loaded.
func loadRules(builtin bool, dirs []string) (*sigma.RuleSet, []error) {
	var all []*sigma.Rule
	var errs []error
	for _, src := range ruleSources(builtin, dirs) {
		if _, err := fs.Stat(src.rules, "."); err != nil {
			errs = append(errs, fmt.Errorf("rules folder %s: %w", src.name, err))
			continue
		}
		rs, e := sigma.LoadFS(src.rules, ".")
		for _, err := range e {
			errs = append(errs, prefixErr(src, err))
		}
		all = append(all, rs.Rules()...)
	}
	rs, e := sigma.NewRuleSet(all)
	errs = append(errs, e...)
	return rs, errs
}

func prefixErr(src ruleSource, err error) error {
	if src.name == "built-in pack" {
		return fmt.Errorf("built-in rule %w", err)
	}
	return fmt.Errorf("%s/%w", strings.TrimSuffix(src.name, "/"), err)
}

func cmdRules(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("want list, validate or test")
	}
	verb := args[0]
	fl := newFlagSet("rules "+verb, stderr, rulesUsage)
	builtin := fl.Bool("builtin", true, "include the built-in rule pack")
	dirs, err := parseInterspersed(fl, args[1:])
	if err != nil {
		return err
	}
	switch verb {
	case "list":
		rs, errs := loadRules(*builtin, dirs)
		for _, e := range errs {
			fmt.Fprintln(stderr, e)
		}
		return sigma.WriteList(stdout, rs)
	case "validate":
		_, errs := loadRules(*builtin, dirs)
		for _, e := range errs {
			fmt.Fprintln(stdout, e)
		}
		if len(errs) > 0 {
			return fmt.Errorf("%d problem(s) in the rules", len(errs))
		}
		fmt.Fprintln(stdout, "all rules valid")
		return nil
	case "test":
		failed, total := 0, 0
		for _, src := range ruleSources(*builtin, dirs) {
			rs, errs := sigma.LoadFS(src.rules, ".")
			for _, e := range errs {
				fmt.Fprintln(stdout, "FAIL", prefixErr(src, e))
				failed++
			}
			for _, res := range rules.Check(rs, src.examples) {
				total++
				if res.OK() {
					fmt.Fprintf(stdout, "ok    %s: %d of %d match examples raise it; no-match examples raise nothing\n", res.File, res.Matched, res.Want)
					continue
				}
				failed++
				fmt.Fprintf(stdout, "FAIL  %s: %s\n", res.File, strings.Join(res.Problems, "; "))
			}
		}
		fmt.Fprintf(stdout, "%d passed, %d failed\n", total-min(failed, total), failed)
		if failed > 0 {
			return fmt.Errorf("%d rule(s) failed their examples", failed)
		}
		return nil
	}
	return usagef("unknown rules command %q: want list, validate or test", verb)
}
