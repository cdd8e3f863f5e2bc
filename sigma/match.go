package sigma

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// node is one compiled piece of a condition.
type node interface {
	eval(c *evalCtx) bool
}

type andNode []node

func (n andNode) eval(c *evalCtx) bool {
	for _, k := range n {
		if !k.eval(c) {
			return false
		}
	}
	return true
}

type orNode []node

func (n orNode) eval(c *evalCtx) bool {
	for _, k := range n {
		if k.eval(c) {
			return true
		}
	}
	return false
}

type notNode struct{ n node }

func (n notNode) eval(c *evalCtx) bool { return !n.n.eval(c) }

// countNode is "N of pattern": at least n of kids match.
type countNode struct {
	n    int
	kids []node
}

func (n countNode) eval(c *evalCtx) bool {
	hit := 0
	for _, k := range n.kids {
		if k.eval(c) {
			hit++
			if hit >= n.n {
				return true
			}
		}
	}
	return false
}

// fieldCond tests one field against a list of values: OR by default, AND
// with the all modifier (and with neq). String patterns, the common case,
// are kept apart so that they are called directly.
type fieldCond struct {
	f    field
	all  bool
	strs []*strMatcher
	ms   []matcher // the other matchers
}

func newFieldCond(f field, all bool, ms []matcher) *fieldCond {
	fc := &fieldCond{f: f, all: all}
	for _, m := range ms {
		if sm, ok := m.(*strMatcher); ok {
			fc.strs = append(fc.strs, sm)
		} else {
			fc.ms = append(fc.ms, m)
		}
	}
	return fc
}

func (fc *fieldCond) eval(c *evalCtx) bool {
	v := c.get(&fc.f, 0)
	return fc.evalValue(c, &v)
}

// evalValue tests a value already read from the event. v must not escape:
// callers keep it on their stack.
func (fc *fieldCond) evalValue(c *evalCtx, v *fval) bool {
	if v.kind == vArray {
		c.cur = *v
		return fc.evalArray(c, &c.cur)
	}
	for _, m := range fc.strs {
		if m.match(c, v) != fc.all {
			return !fc.all
		}
	}
	if len(fc.ms) > 0 {
		// Through the interface the value would escape: hand over the
		// context's copy instead.
		c.cur = *v
		for _, m := range fc.ms {
			if m.match(c, &c.cur) != fc.all {
				return !fc.all
			}
		}
	}
	return fc.all
}

// evalArray matches a JSON array field: a value matches when some element
// does; exists and null tests apply to the array itself.
func (fc *fieldCond) evalArray(c *evalCtx, arr *fval) bool {
	elems, _ := arr.jv.Array()
	for _, m := range fc.strs {
		if anyElement(c, m, elems) != fc.all {
			return !fc.all
		}
	}
	for _, m := range fc.ms {
		var hit bool
		if w, ok := m.(wholeMatcher); ok && w.whole() {
			hit = m.match(c, arr)
		} else {
			hit = anyElement(c, m, elems)
		}
		if hit != fc.all {
			return !fc.all
		}
	}
	return fc.all
}

func anyElement(c *evalCtx, m matcher, elems []*fastjson.Value) bool {
	for _, e := range elems {
		c.elem = c.fromJSON(e, 0)
		if c.elem.kind != vArray && m.match(c, &c.elem) {
			return true
		}
	}
	return false
}

// matcher tests one value.
type matcher interface {
	match(c *evalCtx, v *fval) bool
}

// wholeMatcher is implemented by matchers that test a field as a whole
// (presence, null) rather than its elements.
type wholeMatcher interface {
	whole() bool
}

func textual(v *fval) bool { return v.kind == vString || v.kind == vNumber || v.kind == vBool }

type strOp uint8

const (
	opExact strOp = iota
	opPrefix
	opSuffix
	opContains
	opGlob
	opAny // a lone "*": any present text value
)

// strMatcher is a string pattern; pat is folded unless cased.
type strMatcher struct {
	op    strOp
	pat   string
	glob  []gtok
	cased bool
}

func (m *strMatcher) match(c *evalCtx, v *fval) bool {
	if v.kind == vEmpty {
		return m.op == opExact && m.pat == ""
	}
	if !textual(v) {
		return false
	}
	s := v.s
	if !m.cased {
		s = c.lower(v)
	}
	return m.test(s)
}

func (m *strMatcher) test(s string) bool {
	switch m.op {
	case opExact:
		return s == m.pat
	case opPrefix:
		return strings.HasPrefix(s, m.pat)
	case opSuffix:
		return strings.HasSuffix(s, m.pat)
	case opContains:
		return strings.Contains(s, m.pat)
	case opAny:
		return true
	}
	return globMatch(m.glob, s)
}

// gtok is one token of a wildcard pattern.
type gtok struct {
	kind tokKind
	s    string
}

type tokKind uint8

const (
	tokLit  tokKind = iota
	tokStar         // any run of characters
	tokOne          // exactly one character
)

// globMatch matches s against p, backtracking to the last star on a
// mismatch; '?' consumes one UTF-8 character.
func globMatch(p []gtok, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			t := p[pi]
			switch t.kind {
			case tokStar:
				starP, starS = pi, si
				pi++
				continue
			case tokOne:
				_, n := utf8.DecodeRuneInString(s[si:])
				si += n
				pi++
				continue
			default:
				if strings.HasPrefix(s[si:], t.s) {
					si += len(t.s)
					pi++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		si, pi = starS, starP+1
	}
	for pi < len(p) && p[pi].kind == tokStar {
		pi++
	}
	return pi == len(p)
}

// nullMatcher matches a field that is null or absent.
type nullMatcher struct{}

func (nullMatcher) match(_ *evalCtx, v *fval) bool {
	return v.kind == vMissing || v.kind == vNull || v.kind == vEmpty
}
func (nullMatcher) whole() bool { return true }

// existsMatcher is the exists modifier: presence only, null counts.
type existsMatcher struct{ want bool }

func (m existsMatcher) match(_ *evalCtx, v *fval) bool { return v.present() == m.want }
func (existsMatcher) whole() bool                      { return true }

type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpGt
	cmpGte
	cmpLt
	cmpLte
)

// numMatcher compares numerically; a plain number value (cmpEq) also
// matches the same text when the field is not numeric.
type numMatcher struct {
	op   cmpOp
	n    float64
	text string // folded text form, for cmpEq
}

func (m *numMatcher) match(c *evalCtx, v *fval) bool {
	if !textual(v) {
		return false
	}
	f, err := strconv.ParseFloat(v.s, 64)
	if err != nil {
		return m.op == cmpEq && c.folded(v.s, 0) == m.text
	}
	switch m.op {
	case cmpGt:
		return f > m.n
	case cmpGte:
		return f >= m.n
	case cmpLt:
		return f < m.n
	case cmpLte:
		return f <= m.n
	}
	return f == m.n
}

// reMatcher is the re modifier.
type reMatcher struct{ re *regexp.Regexp }

func (m *reMatcher) match(_ *evalCtx, v *fval) bool {
	return textual(v) && m.re.MatchString(v.s)
}

// cidrMatcher is the cidr modifier.
type cidrMatcher struct{ p netip.Prefix }

func (m *cidrMatcher) match(c *evalCtx, v *fval) bool {
	var a netip.Addr
	switch {
	case v.fid == fieldSourceIP:
		a = c.ev.SourceIP
	case v.kind == vString:
		var err error
		if a, err = netip.ParseAddr(v.s); err != nil {
			return false
		}
	default:
		return false
	}
	return m.p.Contains(a.Unmap())
}

// refMatcher is the fieldref modifier: equal to another field's value.
type refMatcher struct {
	other field
	cased bool
}

func (m *refMatcher) match(c *evalCtx, v *fval) bool {
	if !textual(v) {
		return false
	}
	o := c.get(&m.other, 1)
	if !textual(&o) {
		return false
	}
	if v.kind == vNumber && o.kind == vNumber {
		a, err1 := strconv.ParseFloat(v.s, 64)
		b, err2 := strconv.ParseFloat(o.s, 64)
		if err1 == nil && err2 == nil {
			return a == b
		}
	}
	if m.cased {
		return v.s == o.s
	}
	return c.folded(v.s, 0) == c.folded(o.s, 1)
}

// negMatcher is the neq modifier: present, not null, and not matching.
type negMatcher struct{ m matcher }

func (n negMatcher) match(c *evalCtx, v *fval) bool {
	if !v.present() || v.kind == vNull {
		return false
	}
	return !n.m.match(c, v)
}

// keywordNode searches the whole raw record (keyword lists).
type keywordNode struct {
	all bool
	ms  []*strMatcher
}

func (k *keywordNode) eval(c *evalCtx) bool {
	raw := bstr(c.ev.Raw)
	var low string
	for _, m := range k.ms {
		s := raw
		if !m.cased {
			if low == "" {
				low = c.folded(raw, 0)
			}
			s = low
		}
		hit := m.test(s)
		if hit && !k.all {
			return true
		}
		if !hit && k.all {
			return false
		}
	}
	return k.all
}
