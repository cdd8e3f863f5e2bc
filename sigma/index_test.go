package sigma

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/reposentry/reposentry"
)

// TestIndexEquivalence checks that routing and the per-field indexes
// (exact values, prefixes, suffixes) select exactly the rules whose
// condition holds when evaluated directly.
func TestIndexEquivalence(t *testing.T) {
	var docs []string
	conds := []string{
		"action: git.clone\n    repo: acme/API",
		"action: git.clone\n    repo:\n      - acme/web\n      - ACME/api",
		"action: [git.clone, git.fetch]\n    repo|startswith: acme/",
		"action: git.clone\n    repo|startswith: [ac, zz/]",
		"action: git.clone\n    repo|startswith: acme/a",
		"action: git.clone\n    repo|startswith|cased: ACME/",
		"action: git.clone\n    repo|endswith: /api",
		"action: git.clone\n    repo|endswith: [pi, /web]",
		"action: git.clone\n    repo|contains: me/w",
		"action: git.clone\n    labels: beta",
		"action: git.clone\n    labels|startswith: be",
		"action: git.clone\n    labels|endswith: ta",
		"action: git.clone\n    user: ''",
		"action: git.clone\n    user: null",
		"action: GIT.Clone",
		"action|cased: git.clone",
		"action|contains: clone",
		"repo|startswith: acme",
		"country: gb",
	}
	for i, c := range conds {
		docs = append(docs, fmt.Sprintf("title: r%d\nid: r%d\nlogsource:\n  product: github\ndetection:\n  sel:\n    %s\n  condition: sel\n", i, i, c))
	}
	rs := mustRuleSet(t, strings.Join(docs, "---\n"), Options{})
	events := []string{
		`{"action":"git.clone","repo":"acme/api","labels":["alpha","beta"]}`,
		`{"action":"git.clone","repo":"ACME/web","user":""}`,
		`{"action":"git.fetch","repo":"acme/api"}`,
		`{"action":"git.clone","repo":"zz/pi","actor_location":{"country_code":"GB"}}`,
		`{"action":"git.clone","repo":"a/b","labels":"beta"}`,
		`{"action":"Git.Clone","repo":"x"}`,
		`{"action":"repo.access","repo":"acme/x"}`,
	}
	d := NewDetector(rs)
	for _, js := range events {
		ev := githubEvent(t, js)
		var got []string
		d.Process(&ev, func(s reposentry.Signal) { got = append(got, strings.TrimPrefix(s.Rule, "sigma:")) })
		var want []string
		var c evalCtx
		c.reset(&ev)
		for _, r := range rs.Rules() {
			if r.platform.has(ev.Platform) && r.cond.eval(&c) {
				want = append(want, r.ID)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("event %s: routed matches %v, direct evaluation %v", js, got, want)
		}
		if len(want) == 0 {
			t.Errorf("event %s matches no rule: the table does not exercise it", js)
		}
	}
}
