package sigma

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/github"
	"github.com/reposentry/reposentry/source"
)

// githubEvent parses a GitHub audit event with the real parser; missing
// @timestamp, _document_id and action are filled in.
func githubEvent(t testing.TB, obj string) reposentry.Event {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(obj), &m); err != nil {
		t.Fatalf("test event %s: %v", obj, err)
	}
	defaults := map[string]any{"@timestamp": 1767609394147, "_document_id": "conformance-0001", "action": "repo.access"}
	for k, v := range defaults {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	raw, _ := json.Marshal(m)
	p := parser.New(intern.New(0), github.New())
	evs := p.Parse(source.Record{Data: raw}, nil, func(r parser.Rejection) { t.Fatalf("test event %s rejected: %v", raw, r.Err) })
	if len(evs) != 1 {
		t.Fatalf("test event %s gave %d events", raw, len(evs))
	}
	return evs[0]
}

// ruleYAML wraps a detection body (indented by the caller's YAML) in a rule.
func ruleYAML(detection string) string {
	return "title: conformance\nid: conf-1\nlogsource:\n  product: github\ndetection:\n" + indent(detection, "  ")
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n") + "\n"
}

func mustRuleSet(t testing.TB, yml string, opts Options) *RuleSet {
	t.Helper()
	rules, errs := ParseFile("test.yml", []byte(yml), opts)
	if len(errs) > 0 {
		t.Fatalf("rule does not load: %v\n%s", errs, yml)
	}
	rs, errs := NewRuleSet(rules)
	if len(errs) > 0 {
		t.Fatalf("rule set: %v", errs)
	}
	return rs
}

func matches(t testing.TB, rs *RuleSet, ev reposentry.Event) bool {
	n := 0
	NewDetector(rs).Process(&ev, func(reposentry.Signal) { n++ })
	return n > 0
}

func TestConformance(t *testing.T) {
	placeholders := Options{Placeholders: map[string][]string{"Admins": {"root-*", "octo-admin"}}}
	cases := []struct {
		name      string
		detection string
		event     string
		want      bool
	}{
		// Plain values: exact, case-insensitive.
		{"exact", "sel:\n  actor: jdoe\ncondition: sel", `{"actor":"jdoe"}`, true},
		{"exact case-insensitive", "sel:\n  actor: JDoe\ncondition: sel", `{"actor":"jdoE"}`, true},
		{"exact is not substring", "sel:\n  actor: jdoe\ncondition: sel", `{"actor":"jdoe2"}`, false},
		{"non-ASCII folds", "sel:\n  note: ÄRGER\ncondition: sel", `{"note":"ärger"}`, true},
		{"cased", "sel:\n  actor|cased: JDoe\ncondition: sel", `{"actor":"jdoe"}`, false},
		{"cased exact", "sel:\n  actor|cased: JDoe\ncondition: sel", `{"actor":"JDoe"}`, true},
		// Wildcards and escapes.
		{"star", "sel:\n  actor: 'j*e'\ncondition: sel", `{"actor":"jdoe"}`, true},
		{"question", "sel:\n  file: 'prog?.exe'\ncondition: sel", `{"file":"progA.exe"}`, true},
		{"question needs one char", "sel:\n  file: 'prog?.exe'\ncondition: sel", `{"file":"prog.exe"}`, false},
		{"question is one rune", "sel:\n  file: 'prog?.exe'\ncondition: sel", `{"file":"progé.exe"}`, true},
		{"glob backtracks", "sel:\n  path: '*a*b?c*'\ncondition: sel", `{"path":"xxaxbxbqcz"}`, true},
		{"glob no match", "sel:\n  path: '*a*b?c'\ncondition: sel", `{"path":"xxaxbxbqcz"}`, false},
		{"escaped star is literal", "sel:\n  file: 'a\\*b'\ncondition: sel", `{"file":"a*b"}`, true},
		{"escaped star not wildcard", "sel:\n  file: 'a\\*b'\ncondition: sel", `{"file":"axxb"}`, false},
		{"escaped question", "sel:\n  q: 'what\\?'\ncondition: sel", `{"q":"whats"}`, false},
		{"escaped backslash then star", "sel:\n  p: 'C:\\\\*'\ncondition: sel", `{"p":"C:\\Windows"}`, true},
		{"plain backslash", "sel:\n  p: 'C:\\Windows'\ncondition: sel", `{"p":"c:\\windows"}`, true},
		{"lone star needs a value", "sel:\n  p: '*'\ncondition: sel", `{"q":"x"}`, false},
		{"lone star matches empty", "sel:\n  p: '*'\ncondition: sel", `{"p":""}`, true},
		// contains / startswith / endswith / all.
		{"contains", "sel:\n  user_agent|contains: GIT/2\ncondition: sel", `{"user_agent":"git/2.45.2"}`, true},
		{"startswith", "sel:\n  repo|startswith: acme/\ncondition: sel", `{"repo":"acme/api"}`, true},
		{"startswith miss", "sel:\n  repo|startswith: acme/\ncondition: sel", `{"repo":"xacme/api"}`, false},
		{"endswith", "sel:\n  user|endswith: '[bot]'\ncondition: sel", `{"user":"renovate[bot]"}`, true},
		{"contains keeps inner wildcard", "sel:\n  ua|contains: 'git/2.*(Apple'\ncondition: sel", `{"ua":"x git/2.39.3 (Apple Git-146)"}`, true},
		{"list is OR", "sel:\n  actor:\n    - a\n    - jdoe\ncondition: sel", `{"actor":"jdoe"}`, true},
		{"all is AND", "sel:\n  ua|contains|all:\n    - git\n    - Apple\ncondition: sel", `{"ua":"git/2.39.3 (Apple Git-146)"}`, true},
		{"all is AND miss", "sel:\n  ua|contains|all:\n    - git\n    - Windows\ncondition: sel", `{"ua":"git/2.39.3 (Apple Git-146)"}`, false},
		{"list of lists flattens", "sel:\n  actor:\n    - [a, b]\n    - [c, [jdoe]]\ncondition: sel", `{"actor":"jdoe"}`, true},
		// Regular expressions.
		{"re", "sel:\n  repo|re: '^acme/pay.*$'\ncondition: sel", `{"repo":"acme/payments"}`, true},
		{"re is case-sensitive", "sel:\n  repo|re: '^acme/PAY'\ncondition: sel", `{"repo":"acme/payments"}`, false},
		{"re i flag", "sel:\n  repo|re|i: '^acme/PAY'\ncondition: sel", `{"repo":"acme/payments"}`, true},
		{"re m flag", "sel:\n  msg|re|m: '^second$'\ncondition: sel", `{"msg":"first\nsecond\nthird"}`, true},
		{"re without m", "sel:\n  msg|re: '^second$'\ncondition: sel", `{"msg":"first\nsecond\nthird"}`, false},
		{"re s flag", "sel:\n  msg|re|s: 'first.second'\ncondition: sel", `{"msg":"first\nsecond"}`, true},
		{"re without s", "sel:\n  msg|re: 'first.second'\ncondition: sel", `{"msg":"first\nsecond"}`, false},
		// CIDR, on the normalized address and on a raw field.
		{"cidr v4", "sel:\n  actor_ip|cidr: 198.51.100.0/24\ncondition: sel", `{"actor_ip":"198.51.100.7"}`, true},
		{"cidr v4 miss", "sel:\n  actor_ip|cidr: 10.0.0.0/8\ncondition: sel", `{"actor_ip":"198.51.100.7"}`, false},
		{"cidr v6", "sel:\n  actor_ip|cidr: '2001:db8::/32'\ncondition: sel", `{"actor_ip":"2001:db8::1"}`, true},
		{"cidr raw field", "sel:\n  peer|cidr: 192.0.2.0/24\ncondition: sel", `{"peer":"192.0.2.9"}`, true},
		{"cidr not an address", "sel:\n  peer|cidr: 192.0.2.0/24\ncondition: sel", `{"peer":"host"}`, false},
		// Encodings.
		{"base64", "sel:\n  payload|base64: secret\ncondition: sel", `{"payload":"c2VjcmV0"}`, true},
		{"base64 is case-sensitive", "sel:\n  payload|base64: secret\ncondition: sel", `{"payload":"C2VJCMV0"}`, false},
		{"base64offset shift 0", "sel:\n  payload|base64offset|contains: secret\ncondition: sel", `{"payload":"c2VjcmV0IGtleQ=="}`, true},
		{"base64offset shift 1", "sel:\n  payload|base64offset|contains: secret\ncondition: sel", `{"payload":"YXNlY3JldA=="}`, true},
		{"base64offset shift 2", "sel:\n  payload|base64offset|contains: secret\ncondition: sel", `{"payload":"YWFzZWNyZXQ="}`, true},
		{"base64offset miss", "sel:\n  payload|base64offset|contains: secret\ncondition: sel", `{"payload":"cHVibGlj"}`, false},
		{"wide base64", "sel:\n  payload|wide|base64: ab\ncondition: sel", `{"payload":"YQBiAA=="}`, true},
		{"utf16be base64", "sel:\n  payload|utf16be|base64: ab\ncondition: sel", `{"payload":"AGEAYg=="}`, true},
		{"utf16 base64 has BOM", "sel:\n  payload|utf16|base64: ab\ncondition: sel", `{"payload":"//5hAGIA"}`, true},
		{"utf16le base64offset", "sel:\n  payload|utf16le|base64offset|contains: ab\ncondition: sel", `{"payload":"eHgAYQBiAA=="}`, true},
		// windash.
		{"windash slash", "sel:\n  cmd|windash|contains: ' -force'\ncondition: sel", `{"cmd":"tool /force"}`, true},
		{"windash en dash", "sel:\n  cmd|windash|contains: ' -force'\ncondition: sel", `{"cmd":"tool –force"}`, true},
		{"windash miss", "sel:\n  cmd|windash|contains: ' -force'\ncondition: sel", `{"cmd":"tool force"}`, false},
		// exists, null and missing.
		{"exists true", "sel:\n  token_id|exists: true\ncondition: sel", `{"token_id":12}`, true},
		{"exists true missing", "sel:\n  token_id|exists: true\ncondition: sel", `{}`, false},
		{"exists false missing", "sel:\n  team|exists: false\ncondition: sel", `{}`, true},
		{"exists true on null", "sel:\n  team|exists: true\ncondition: sel", `{"team":null}`, true},
		{"exists on normalized empty", "sel:\n  repo|exists: false\ncondition: sel", `{}`, true},
		{"null matches missing", "sel:\n  team: null\ncondition: sel", `{}`, true},
		{"null matches null", "sel:\n  team: null\ncondition: sel", `{"team":null}`, true},
		{"null is not empty", "sel:\n  team: null\ncondition: sel", `{"team":""}`, false},
		{"empty matches empty", "sel:\n  team: ''\ncondition: sel", `{"team":""}`, true},
		{"empty is not missing", "sel:\n  team: ''\ncondition: sel", `{}`, false},
		{"empty is not null", "sel:\n  team: ''\ncondition: sel", `{"team":null}`, false},
		{"not null", "sel:\n  action: repo.access\nfilter:\n  team: null\ncondition: sel and not filter", `{"team":"core"}`, true},
		{"normalized empty is null", "sel:\n  repo: null\ncondition: sel", `{}`, true},
		{"normalized empty is ''", "sel:\n  repo: ''\ncondition: sel", `{}`, true},
		// Numbers and strings.
		{"number equals number", "sel:\n  repo_id: 42\ncondition: sel", `{"repo_id":42}`, true},
		{"number equals numeric string", "sel:\n  repo_id: 42\ncondition: sel", `{"repo_id":"42"}`, true},
		{"number compares numerically", "sel:\n  ratio: 1.0\ncondition: sel", `{"ratio":1}`, true},
		{"quoted number is a string", "sel:\n  repo_id: '42'\ncondition: sel", `{"repo_id":42}`, true},
		{"quoted number is exact text", "sel:\n  repo_id: '42.0'\ncondition: sel", `{"repo_id":42}`, false},
		{"number vs text", "sel:\n  repo_id: 42\ncondition: sel", `{"repo_id":"forty-two"}`, false},
		{"number wildcard string", "sel:\n  repo_id: '4*'\ncondition: sel", `{"repo_id":42}`, true},
		{"bool value", "sel:\n  repository_public: false\ncondition: sel", `{"repository_public":false}`, true},
		{"bool vs string", "sel:\n  repository_public: false\ncondition: sel", `{"repository_public":"False"}`, true},
		{"gt", "sel:\n  count|gt: 10\ncondition: sel", `{"count":11}`, true},
		{"gt equal", "sel:\n  count|gt: 10\ncondition: sel", `{"count":10}`, false},
		{"gte", "sel:\n  count|gte: 10\ncondition: sel", `{"count":10}`, true},
		{"lt string number", "sel:\n  count|lt: 10\ncondition: sel", `{"count":"9.5"}`, true},
		{"lte", "sel:\n  count|lte: 10\ncondition: sel", `{"count":11}`, false},
		{"gt on text", "sel:\n  count|gt: 10\ncondition: sel", `{"count":"many"}`, false},
		{"gt missing", "sel:\n  count|gt: 10\ncondition: sel", `{}`, false},
		// neq, fieldref, expand.
		{"neq", "sel:\n  org|neq: acme\ncondition: sel", `{"org":"other"}`, true},
		{"neq same", "sel:\n  org|neq: acme\ncondition: sel", `{"org":"ACME"}`, false},
		{"neq list is AND", "sel:\n  org|neq:\n    - a\n    - other\ncondition: sel", `{"org":"other"}`, false},
		{"neq missing", "sel:\n  org|neq: acme\ncondition: sel", `{}`, false},
		{"fieldref", "sel:\n  actor|fieldref: user\ncondition: sel", `{"actor":"jdoe","user":"JDoe"}`, true},
		{"fieldref differs", "sel:\n  actor|fieldref: user\ncondition: sel", `{"actor":"jdoe","user":"other"}`, false},
		{"fieldref missing", "sel:\n  actor|fieldref: user\ncondition: sel", `{"actor":"jdoe"}`, false},
		{"fieldref raw", "sel:\n  a|fieldref: b.c\ncondition: sel", `{"a":7,"b":{"c":7.0}}`, true},
		{"expand", "sel:\n  actor|expand: '%Admins%'\ncondition: sel", `{"actor":"octo-admin"}`, true},
		{"expand wildcard value", "sel:\n  actor|expand: '%Admins%'\ncondition: sel", `{"actor":"root-eu"}`, true},
		{"expand miss", "sel:\n  actor|expand: '%Admins%'\ncondition: sel", `{"actor":"jdoe"}`, false},
		{"expand escaped percent", "sel:\n  note|expand: '\\%Admins%'\ncondition: sel", `{"note":"%Admins%"}`, true},
		{"no expand is literal", "sel:\n  note: '%Admins%'\ncondition: sel", `{"note":"%admins%"}`, true},
		// Field mapping: normalized names and raw dotted paths.
		{"category", "sel:\n  category: clone\ncondition: sel", `{"action":"git.clone","repo":"a/b"}`, true},
		{"country", "sel:\n  country: gb\ncondition: sel", `{"actor_location":{"country_code":"GB"}}`, true},
		{"dotted path", "sel:\n  data.team: core\ncondition: sel", `{"data":{"team":"core"}}`, true},
		{"dotted key", "sel:\n  a.b: x\ncondition: sel", `{"a.b":"x"}`, true},
		{"credential kind", "sel:\n  programmatic_access_type: pat_fine_grained\ncondition: sel", `{"programmatic_access_type":"Fine-grained personal access token"}`, true},
		{"array element", "sel:\n  labels: beta\ncondition: sel", `{"labels":["alpha","beta"]}`, true},
		{"array all", "sel:\n  labels|all:\n    - alpha\n    - beta\ncondition: sel", `{"labels":["alpha","beta"]}`, true},
		{"array all miss", "sel:\n  labels|all:\n    - alpha\n    - gamma\ncondition: sel", `{"labels":["alpha","beta"]}`, false},
		{"object is not a string", "sel:\n  data: x\ncondition: sel", `{"data":{"x":1}}`, false},
		// Lists of maps and keywords.
		{"list of maps is OR", "sel:\n  - actor: a\n  - org: acme\ncondition: sel", `{"actor":"b","org":"acme"}`, true},
		{"map is AND", "sel:\n  actor: a\n  org: acme\ncondition: sel", `{"actor":"b","org":"acme"}`, false},
		{"keywords", "kw:\n  - nothing\n  - PAYMENTS\ncondition: kw", `{"repo":"acme/payments"}`, true},
		{"keywords miss", "kw:\n  - nothing\ncondition: kw", `{"repo":"acme/payments"}`, false},
		{"keywords all", "kw:\n  '|all':\n    - acme\n    - payments\ncondition: kw", `{"repo":"acme/payments"}`, true},
		{"keywords all miss", "kw:\n  '|all':\n    - acme\n    - billing\ncondition: kw", `{"repo":"acme/payments"}`, false},
		// Conditions.
		{"and", "a:\n  actor: x\nb:\n  org: acme\ncondition: a and b", `{"actor":"x","org":"acme"}`, true},
		{"or", "a:\n  actor: y\nb:\n  org: acme\ncondition: a or b", `{"actor":"x","org":"acme"}`, true},
		{"not", "a:\n  actor: y\ncondition: not a", `{"actor":"x"}`, true},
		{"precedence and over or", "a:\n  actor: y\nb:\n  org: acme\nc:\n  org: none\ncondition: a and b or not c", `{"actor":"x","org":"acme"}`, true},
		{"parentheses", "a:\n  actor: y\nb:\n  org: acme\nc:\n  org: none\ncondition: a and (b or not c)", `{"actor":"x","org":"acme"}`, false},
		{"not binds tighter than and", "a:\n  actor: x\nb:\n  org: acme\ncondition: not a and b", `{"actor":"x","org":"acme"}`, false},
		{"1 of pattern", "sel_a:\n  actor: y\nsel_b:\n  org: acme\ncondition: 1 of sel_*", `{"actor":"x","org":"acme"}`, true},
		{"all of pattern", "sel_a:\n  actor: y\nsel_b:\n  org: acme\ncondition: all of sel_*", `{"actor":"x","org":"acme"}`, false},
		{"all of them", "a:\n  actor: x\nb:\n  org: acme\ncondition: all of them", `{"actor":"x","org":"acme"}`, true},
		{"them skips underscore", "a:\n  actor: x\n_b:\n  org: other\ncondition: all of them", `{"actor":"x","org":"acme"}`, true},
		{"1 of them", "a:\n  actor: y\nb:\n  org: acme\ncondition: 1 of them", `{"actor":"x","org":"acme"}`, true},
		{"2 of", "a:\n  actor: x\nb:\n  org: y\nc:\n  repo: a/b\ncondition: 2 of them", `{"actor":"x","repo":"a/b"}`, true},
		{"not 1 of", "f_a:\n  actor: y\nf_b:\n  org: z\ncondition: not 1 of f_*", `{"actor":"x","org":"acme"}`, true},
		{"condition list is OR", "a:\n  actor: y\nb:\n  org: acme\ncondition:\n  - a\n  - b", `{"actor":"x","org":"acme"}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := mustRuleSet(t, ruleYAML(tc.detection), placeholders)
			ev := githubEvent(t, tc.event)
			if got := matches(t, rs, ev); got != tc.want {
				t.Errorf("match = %v, want %v\ndetection:\n%s\nevent: %s", got, tc.want, tc.detection, tc.event)
			}
		})
	}
}

func TestLogsourceRouting(t *testing.T) {
	cases := []struct {
		logsource string
		platform  reposentry.Platform
		want      bool
	}{
		{"product: github\n  service: audit", reposentry.PlatformGitHub, true},
		{"product: github", reposentry.PlatformOkta, false},
		{"product: okta", reposentry.PlatformOkta, true},
		{"product: azure\n  service: signinlogs", reposentry.PlatformEntra, true},
		{"product: gitlab", reposentry.PlatformGitHub, false},
		{"category: anything", reposentry.PlatformGitLab, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%s", tc.logsource, tc.platform), func(t *testing.T) {
			yml := "title: t\nlogsource:\n  " + tc.logsource + "\ndetection:\n  sel:\n    action: x.y\n  condition: sel\n"
			rs := mustRuleSet(t, yml, Options{})
			ev := reposentry.Event{Platform: tc.platform, Action: "X.Y"}
			if got := matches(t, rs, ev); got != tc.want {
				t.Errorf("match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAttackTags(t *testing.T) {
	tech, tac := attackIDs([]string{"attack.t1213.003", "attack.collection", "attack.T1078", "attack.defense-evasion", "attack.ta0010", "cve.2024-1", "attack.g0016"})
	if got, want := strings.Join(tech, ","), "T1213.003,T1078"; got != want {
		t.Errorf("techniques = %s, want %s", got, want)
	}
	if got, want := strings.Join(tac, ","), "TA0009,TA0005,TA0010"; got != want {
		t.Errorf("tactics = %s, want %s", got, want)
	}
}

// TestEnrichedFields: rules can name what enrichment adds to an event (the
// directory's privilege, disabled state and department), not only what the
// platform logged.
func TestEnrichedFields(t *testing.T) {
	ev := githubEvent(t, `{"action":"git.clone","actor":"ann","repo":"acme/api"}`)
	ev.Privileged, ev.Disabled, ev.Department = true, false, "Platform Engineering"
	for _, tc := range []struct {
		sel  string
		want bool
	}{
		{"privileged: true", true},
		{"privileged: false", false},
		{"disabled: false", true},
		{"disabled: true", false},
		{"department: platform engineering", true},
		{"department|startswith: Platform", true},
		{"department: Finance", false},
	} {
		rs := mustRuleSet(t, ruleYAML("sel:\n  "+tc.sel+"\ncondition: sel"), Options{})
		if got := matches(t, rs, ev); got != tc.want {
			t.Errorf("%s: match %v, want %v", tc.sel, got, tc.want)
		}
	}
	ev.Department = ""
	rs := mustRuleSet(t, ruleYAML("sel:\n  department: null\ncondition: sel"), Options{})
	if !matches(t, rs, ev) {
		t.Error("department: null does not match an identity the directory does not know")
	}
}
