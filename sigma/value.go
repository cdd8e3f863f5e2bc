package sigma

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"go.yaml.in/yaml/v3"
)

// sval is a Sigma string value: literals and wildcards, escapes resolved.
type sval []gtok

// parseSigmaString resolves wildcards and backslash escapes: \* and \? are
// literal, \\ is one backslash, any other backslash is itself.
func parseSigmaString(s string) sval {
	var out sval
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, gtok{kind: tokLit, s: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; b {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				lit.WriteByte(s[i+1])
				i++
			} else {
				lit.WriteByte('\\')
			}
		case '*':
			flush()
			if len(out) == 0 || out[len(out)-1].kind != tokStar {
				out = append(out, gtok{kind: tokStar})
			}
		case '?':
			flush()
			out = append(out, gtok{kind: tokOne})
		default:
			lit.WriteByte(b)
		}
	}
	flush()
	return out
}

// literal returns the value's text when it has no wildcards.
func (v sval) literal() (string, bool) {
	var b strings.Builder
	for _, t := range v {
		if t.kind != tokLit {
			return "", false
		}
		b.WriteString(t.s)
	}
	return b.String(), true
}

func (v sval) wrap(front, back bool) sval {
	out := make(sval, 0, len(v)+2)
	if front && (len(v) == 0 || v[0].kind != tokStar) {
		out = append(out, gtok{kind: tokStar})
	}
	out = append(out, v...)
	if back && (len(out) == 0 || out[len(out)-1].kind != tokStar) {
		out = append(out, gtok{kind: tokStar})
	}
	return out
}

// compileString turns a value into a matcher, picking the cheapest test.
func compileString(v sval, cased bool) *strMatcher {
	var toks []gtok
	for _, t := range v {
		if t.kind == tokLit && !cased {
			t.s = fold(t.s)
		}
		if t.kind == tokLit && len(toks) > 0 && toks[len(toks)-1].kind == tokLit {
			toks[len(toks)-1].s += t.s
			continue
		}
		toks = append(toks, t)
	}
	m := &strMatcher{cased: cased}
	isLit := func(i int) bool { return toks[i].kind == tokLit }
	isStar := func(i int) bool { return toks[i].kind == tokStar }
	switch {
	case len(toks) == 0:
		m.op = opExact
	case len(toks) == 1 && isLit(0):
		m.op, m.pat = opExact, toks[0].s
	case len(toks) == 1 && isStar(0):
		m.op = opAny
	case len(toks) == 2 && isLit(0) && isStar(1):
		m.op, m.pat = opPrefix, toks[0].s
	case len(toks) == 2 && isStar(0) && isLit(1):
		m.op, m.pat = opSuffix, toks[1].s
	case len(toks) == 3 && isStar(0) && isLit(1) && isStar(2):
		m.op, m.pat = opContains, toks[1].s
	default:
		m.op, m.glob = opGlob, toks
	}
	return m
}

// Modifier groups.
var (
	transformMods = map[string]bool{"contains": true, "startswith": true, "endswith": true, "windash": true,
		"base64": true, "base64offset": true, "utf16": true, "utf16le": true, "utf16be": true, "wide": true, "expand": true}
	typeMods = map[string]bool{"re": true, "cidr": true, "exists": true, "gt": true, "gte": true, "lt": true,
		"lte": true, "fieldref": true}
)

// mods is a parsed modifier chain.
type mods struct {
	chain      []string // transformation modifiers, in order
	typ        string   // the one type modifier, if any
	all, cased bool
	neq        bool
	reFlags    string
}

func parseMods(list []string) (mods, error) {
	var m mods
	for _, name := range list {
		switch {
		case transformMods[name]:
			m.chain = append(m.chain, name)
		case typeMods[name]:
			if m.typ != "" {
				return m, fmt.Errorf("modifiers %q and %q cannot be combined", m.typ, name)
			}
			m.typ = name
		case name == "i" || name == "m" || name == "s":
			if m.typ != "re" {
				return m, fmt.Errorf("regular expression flag %q must follow the re modifier", name)
			}
			m.reFlags += name
		case name == "all":
			m.all = true
		case name == "cased":
			m.cased = true
		case name == "neq":
			m.neq = true
		case name == "":
			return m, fmt.Errorf("empty modifier")
		case name == "minute" || name == "hour" || name == "day" || name == "week" || name == "month" || name == "year":
			return m, fmt.Errorf("time modifier %q is not supported", name)
		default:
			return m, fmt.Errorf("unknown modifier %q", name)
		}
	}
	if m.typ != "" && m.typ != "fieldref" {
		for _, c := range m.chain {
			if c != "expand" {
				return m, fmt.Errorf("modifier %q cannot be combined with %q", c, m.typ)
			}
		}
	}
	return m, nil
}

// compileValues builds the matchers for one field's values.
func compileValues(vals []*yaml.Node, m mods, opts *Options) ([]matcher, error) {
	var out []matcher
	for _, vn := range vals {
		if vn.Tag == "!!null" {
			if len(vals) > 1 {
				return nil, errAt(vn, "null cannot be part of a list of values; use a separate selection")
			}
			if m.typ != "" || len(m.chain) > 0 || m.neq {
				return nil, errAt(vn, "null cannot take modifiers")
			}
			return []matcher{nullMatcher{}}, nil
		}
		if vn.Kind != yaml.ScalarNode {
			return nil, errAt(vn, "value must be a scalar or a list of scalars, got %s", kindName(vn))
		}
		ms, err := compileScalar(vn, m, opts)
		if err != nil {
			return nil, errAt(vn, "%v", err)
		}
		out = append(out, ms...)
	}
	return out, nil
}

func compileScalar(vn *yaml.Node, m mods, opts *Options) ([]matcher, error) {
	raw := vn.Value
	numeric := vn.Tag == "!!int" || vn.Tag == "!!float"
	switch m.typ {
	case "exists":
		if vn.Tag != "!!bool" {
			return nil, fmt.Errorf("exists takes true or false, got %q", raw)
		}
		b, _ := strconv.ParseBool(raw)
		return []matcher{existsMatcher{want: b}}, nil
	case "re":
		flags := ""
		if m.reFlags != "" {
			flags = "(?" + m.reFlags + ")"
		}
		re, err := regexp.Compile(flags + raw)
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression %q: %v", raw, err)
		}
		return []matcher{&reMatcher{re: re}}, nil
	case "cidr":
		p, err := netip.ParsePrefix(raw)
		if err != nil {
			a, aerr := netip.ParseAddr(raw)
			if aerr != nil {
				return nil, fmt.Errorf("invalid CIDR %q: %v", raw, err)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		return []matcher{&cidrMatcher{p: p.Masked()}}, nil
	case "gt", "gte", "lt", "lte":
		n, err := parseNumber(raw)
		if err != nil {
			return nil, fmt.Errorf("%s needs a number, got %q", m.typ, raw)
		}
		op := map[string]cmpOp{"gt": cmpGt, "gte": cmpGte, "lt": cmpLt, "lte": cmpLte}[m.typ]
		return []matcher{&numMatcher{op: op, n: n}}, nil
	case "fieldref":
		if raw == "" {
			return nil, fmt.Errorf("fieldref needs a field name")
		}
		return []matcher{&refMatcher{other: newField(raw), cased: m.cased}}, nil
	}
	if numeric && len(m.chain) == 0 {
		if n, err := parseNumber(raw); err == nil {
			return []matcher{&numMatcher{op: cmpEq, n: n, text: fold(raw)}}, nil
		}
	}
	// String pipeline: expand first (it works on the written text), then
	// the other transformations in the order written.
	texts := []string{raw}
	for _, c := range m.chain {
		if c == "expand" {
			var err error
			if texts, err = expand(raw, opts); err != nil {
				return nil, err
			}
		}
	}
	vals := make([]sval, len(texts))
	for i, t := range texts {
		vals[i] = parseSigmaString(t)
	}
	cased := m.cased
	for _, c := range m.chain {
		var err error
		switch c {
		case "contains":
			vals = mapVals(vals, func(v sval) sval { return v.wrap(true, true) })
		case "startswith":
			vals = mapVals(vals, func(v sval) sval { return v.wrap(false, true) })
		case "endswith":
			vals = mapVals(vals, func(v sval) sval { return v.wrap(true, false) })
		case "windash":
			vals, err = windash(vals)
		case "base64", "base64offset":
			vals, err = encodeVals(vals, c)
			cased = true // encoded text is case-sensitive by nature
		case "utf16", "utf16le", "utf16be", "wide":
			vals, err = encodeVals(vals, c)
		}
		if err != nil {
			return nil, err
		}
	}
	out := make([]matcher, len(vals))
	for i, v := range vals {
		out[i] = compileString(v, cased)
	}
	return out, nil
}

func mapVals(vals []sval, f func(sval) sval) []sval {
	for i := range vals {
		vals[i] = f(vals[i])
	}
	return vals
}

func parseNumber(s string) (float64, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, nil
	}
	i, err := strconv.ParseInt(s, 0, 64)
	return float64(i), err
}

// encodeVals applies an encoding modifier; encodings need plain values.
func encodeVals(vals []sval, mod string) ([]sval, error) {
	var out []sval
	for _, v := range vals {
		lit, ok := v.literal()
		if !ok {
			return nil, fmt.Errorf("modifier %s cannot encode a value with wildcards; put contains/startswith/endswith after it", mod)
		}
		for _, e := range encode(lit, mod) {
			out = append(out, sval{{kind: tokLit, s: e}})
		}
	}
	return out, nil
}

func encode(s, mod string) []string {
	switch mod {
	case "base64":
		return []string{base64.StdEncoding.EncodeToString([]byte(s))}
	case "base64offset":
		// The value's encoding depends on its offset modulo 3 in the
		// encoded whole; keep only the characters that do not depend on
		// the surrounding bytes.
		out := make([]string, 0, 3)
		for shift := range 3 {
			enc := base64.StdEncoding.EncodeToString(append(make([]byte, shift), s...))
			start := [3]int{0, 2, 3}[shift]
			end := len(enc) - [3]int{0, 3, 2}[(len(s)+shift)%3]
			if end > start {
				out = append(out, enc[start:end])
			}
		}
		return out
	case "utf16le", "wide":
		return []string{utf16Bytes(s, false, false)}
	case "utf16be":
		return []string{utf16Bytes(s, true, false)}
	}
	return []string{utf16Bytes(s, false, true)} // utf16: BOM then little-endian
}

func utf16Bytes(s string, big, bom bool) string {
	var b []byte
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if big {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

var dashes = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

// maxVariants bounds value expansion (windash, expand) per value.
const maxVariants = 1024

// windash replaces every dash-like character in the literals by each of
// the five forms.
func windash(vals []sval) ([]sval, error) {
	var out []sval
	for _, v := range vals {
		variants := []sval{nil}
		for _, t := range v {
			if t.kind != tokLit {
				for i := range variants {
					variants[i] = append(variants[i], t)
				}
				continue
			}
			parts := splitDashes(t.s)
			for _, p := range parts {
				if !p.dash {
					for i := range variants {
						variants[i] = append(variants[i], gtok{kind: tokLit, s: p.s})
					}
					continue
				}
				if len(variants)*len(dashes) > maxVariants {
					return nil, fmt.Errorf("windash expands the value to more than %d variants", maxVariants)
				}
				next := make([]sval, 0, len(variants)*len(dashes))
				for _, vv := range variants {
					for _, d := range dashes {
						n := append(append(sval(nil), vv...), gtok{kind: tokLit, s: d})
						next = append(next, n)
					}
				}
				variants = next
			}
		}
		out = append(out, variants...)
	}
	return out, nil
}

type dashPart struct {
	s    string
	dash bool
}

func splitDashes(s string) []dashPart {
	var out []dashPart
	start := 0
	for i, r := range s {
		if r == '-' || r == '/' || r == '\u2013' || r == '\u2014' || r == '\u2015' {
			if i > start {
				out = append(out, dashPart{s: s[start:i]})
			}
			out = append(out, dashPart{dash: true})
			start = i + len(string(r))
		}
	}
	if start < len(s) {
		out = append(out, dashPart{s: s[start:]})
	}
	return out
}

// expand replaces %name% placeholders with each configured value; \% is a
// literal percent sign.
func expand(s string, opts *Options) ([]string, error) {
	out := []string{""}
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == '%' {
			out = appendAll(out, "%")
			i++
			continue
		}
		if s[i] != '%' {
			out = appendAll(out, s[i:i+1])
			continue
		}
		end := strings.IndexByte(s[i+1:], '%')
		if end < 0 { // a lone percent sign is text
			out = appendAll(out, s[i:])
			break
		}
		name := s[i+1 : i+1+end]
		vals, ok := opts.Placeholders[name]
		if !ok || len(vals) == 0 {
			return nil, fmt.Errorf("placeholder %%%s%% has no configured values", name)
		}
		if len(out)*len(vals) > maxVariants {
			return nil, fmt.Errorf("placeholders expand %q to more than %d values", s, maxVariants)
		}
		next := make([]string, 0, len(out)*len(vals))
		for _, o := range out {
			for _, v := range vals {
				next = append(next, o+v)
			}
		}
		out = next
		i += end + 1
	}
	return out, nil
}

func appendAll(out []string, s string) []string {
	for i := range out {
		out[i] += s
	}
	return out
}
