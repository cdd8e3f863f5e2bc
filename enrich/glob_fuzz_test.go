package enrich

import (
	"regexp"
	"strings"
	"testing"
)

// globRegexp is an independent oracle: the pattern as an anchored regular
// expression, '*' as ".*", '?' as ".", everything else literal.
func globRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{{"*-ci", "acme-build-ci"}, {"svc-*", "svc-deploy"}, {"*[bot]", "dependabot[bot]"},
		{"a*b*c", "aXbYc"}, {"?*?", "ab"}, {"**", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		// Glob works on bytes and '?' matches one byte; keep to ASCII so
		// the rune-based oracle agrees.
		for _, s := range []string{pattern, name} {
			for i := 0; i < len(s); i++ {
				if s[i] >= 0x80 {
					return
				}
			}
		}
		if got, want := Glob(pattern, name), globRegexp(pattern).MatchString(name); got != want {
			t.Fatalf("Glob(%q, %q) = %v, regexp oracle says %v", pattern, name, got, want)
		}
	})
}
