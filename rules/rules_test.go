package rules_test

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/reposentry/reposentry/rules"
	"github.com/reposentry/reposentry/sigma"
)

func TestBuiltinRules(t *testing.T) {
	rs, errs := sigma.LoadFS(rules.FS, ".")
	for _, e := range errs {
		t.Errorf("built-in rule: %v", e)
	}
	files, err := fs.Glob(rules.FS, "*.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(rs.Rules()); got != len(files) {
		t.Fatalf("loaded %d rules from %d files", got, len(files))
	}
	for _, r := range rs.Rules() {
		if r.ID == "" || r.Level == "" || r.Description == "" || len(r.Tags) == 0 {
			t.Errorf("rule %s lacks an id, level, description or tags", r.File)
		}
	}
	results := rules.Check(rs, rules.Examples)
	if len(results) != len(files) {
		t.Fatalf("checked %d rules, want %d", len(results), len(files))
	}
	for _, res := range results {
		if !res.OK() || res.Matched != res.Want || res.Want == 0 {
			t.Errorf("%s: matched %d of %d, %d false hits: %s", res.File, res.Matched, res.Want, res.FalseHits, strings.Join(res.Problems, "; "))
		}
	}
}

// TestCheckCatchesWrongExamples: Check must fail a rule whose examples do not
// behave, and a rule without examples.
func TestCheckCatchesWrongExamples(t *testing.T) {
	rule := `title: Forking enabled
id: 3f0a3c1e-1111-4a4a-8b8b-000000000001
name: forking
description: test
tags: [attack.exfiltration]
level: medium
logsource: {product: github, service: audit}
detection:
  sel: {action: private_repository_forking.enable}
  condition: sel
`
	ev := func(id, action string) string {
		return fmt.Sprintf(`{"@timestamp":1767609500000,"_document_id":"%s","action":"%s","actor":"a","org":"acme"}`, id, action)
	}
	fsys := fstest.MapFS{
		"forking.yml":           {Data: []byte(rule)},
		"forking.match.jsonl":   {Data: []byte(ev("m1", "private_repository_forking.enable") + "\n" + ev("m2", "repo.create") + "\n")},
		"forking.nomatch.jsonl": {Data: []byte(ev("n1", "private_repository_forking.enable") + "\n")},
		"lonely.yml":            {Data: []byte(strings.ReplaceAll(strings.ReplaceAll(rule, "name: forking", "name: lonely"), "0001", "0002"))},
	}
	rs, errs := sigma.LoadFS(fsys, ".")
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	got := map[string]rules.Result{}
	for _, r := range rules.Check(rs, fsys) {
		got[strings.TrimSuffix(r.File, ".yml")] = r
	}
	if r := got["forking"]; r.OK() || r.Matched != 1 || r.Want != 2 || r.FalseHits != 1 {
		t.Errorf("forking: %+v; want a failure with 1 of 2 matched and 1 false hit", r)
	}
	if r := got["lonely"]; r.OK() || !strings.Contains(strings.Join(r.Problems, " "), "lonely.match.jsonl") {
		t.Errorf("lonely: %+v; want a failure naming the missing examples", r)
	}
}
