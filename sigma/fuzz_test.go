package sigma

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/reposentry/reposentry"
)

// FuzzParseRule feeds arbitrary YAML to the parser; whatever loads is run
// over an event. Nothing may panic.
func FuzzParseRule(f *testing.F) {
	_ = filepath.WalkDir("../rules", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".yml" {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
		return nil
	})
	for _, p := range []string{"testdata/bad/bad_rules.yml", "testdata/bad/bad_refs.yml", "testdata/bad/bad_yaml.yml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(ruleYAML("sel:\n  a|base64offset|contains: x\n  b|windash|contains|all: [-a, /b]\nk:\n  - '*x?\\\\*'\ncondition: 2 of them or not (sel and k)")))
	opts := Options{Placeholders: map[string][]string{"A": {"x", "y*"}}}
	ev := githubEvent(f, `{"action":"git.clone","actor":"dev","repo":"a/b","actor_ip":"198.51.100.7","labels":["x",1,null,{"a":1}],"data":{"a":"-x"}}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, errs := ParseFile("fuzz.yml", data, opts)
		for _, e := range errs {
			if e.Error() == "" {
				t.Fatal("empty error message")
			}
		}
		rs, _ := NewRuleSet(rules)
		d := NewDetector(rs)
		e := ev
		d.Process(&e, func(reposentry.Signal) {})
		d.Advance(e.Time.Add(48*3600e9), func(reposentry.Signal) {})
	})
}
