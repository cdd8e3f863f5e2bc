package sigma

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// condParser parses a detection condition into a node tree over the
// compiled search identifiers.
type condParser struct {
	toks []string
	pos  int
	sels map[string]node
}

func tokenizeCondition(s string) []string {
	var toks []string
	i := 0
	for i < len(s) {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, s[i:i+1])
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}

// parseCondition compiles one condition string.
func parseCondition(s string, sels map[string]node) (node, error) {
	p := &condParser{toks: tokenizeCondition(s), sels: sels}
	if len(p.toks) == 0 {
		return nil, fmt.Errorf("condition is empty")
	}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("condition %q: unexpected %q at token %d", s, p.toks[p.pos], p.pos+1)
	}
	return n, nil
}

func (p *condParser) peek() string {
	if p.pos < len(p.toks) {
		return strings.ToLower(p.toks[p.pos])
	}
	return ""
}

func (p *condParser) expr() (node, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	kids := []node{left}
	for p.peek() == "or" {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		kids = append(kids, r)
	}
	if len(kids) == 1 {
		return left, nil
	}
	return orNode(kids), nil
}

func (p *condParser) and() (node, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	kids := []node{left}
	for p.peek() == "and" {
		p.pos++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		kids = append(kids, r)
	}
	if len(kids) == 1 {
		return left, nil
	}
	return andNode(kids), nil
}

func (p *condParser) unary() (node, error) {
	if p.peek() == "not" {
		p.pos++
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (node, error) {
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("condition ends where an identifier or '(' was expected")
	}
	tok := p.toks[p.pos]
	low := strings.ToLower(tok)
	switch {
	case tok == "(":
		p.pos++
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing ')' in condition")
		}
		p.pos++
		return n, nil
	case tok == ")" || low == "and" || low == "or" || low == "of" || low == "them":
		return nil, fmt.Errorf("unexpected %q in condition", tok)
	}
	if p.pos+1 < len(p.toks) && strings.ToLower(p.toks[p.pos+1]) == "of" {
		return p.quantifier()
	}
	p.pos++
	n, ok := p.sels[tok]
	if !ok {
		return nil, fmt.Errorf("condition references undefined search identifier %q", tok)
	}
	return n, nil
}

// quantifier parses "1 of x*", "all of them" and "N of pattern".
func (p *condParser) quantifier() (node, error) {
	q := strings.ToLower(p.toks[p.pos])
	p.pos += 2
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("%q of: missing pattern or 'them'", q)
	}
	pat := p.toks[p.pos]
	p.pos++
	var names []string
	for name := range p.sels {
		if strings.ToLower(pat) == "them" {
			if !strings.HasPrefix(name, "_") {
				names = append(names, name)
			}
			continue
		}
		if ok, _ := path.Match(pat, name); ok {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s of %s matches no search identifier", q, pat)
	}
	sort.Strings(names) // deterministic evaluation order
	kids := make([]node, len(names))
	for i, n := range names {
		kids[i] = p.sels[n]
	}
	switch q {
	case "all":
		return andNode(kids), nil
	case "any":
		return orNode(kids), nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 {
		return nil, fmt.Errorf("quantifier %q must be 'all', 'any' or a positive number", q)
	}
	if n == 1 {
		return orNode(kids), nil
	}
	return countNode{n: n, kids: kids}, nil
}

// actionSet reports the literal action values (folded) an event must have
// for n to match; ok is false when n can match any action.
func actionSet(n node) (set map[string]struct{}, ok bool) {
	switch n := n.(type) {
	case *fieldCond:
		if n.f.id != fieldAction || n.all || len(n.ms) > 0 || len(n.strs) == 0 {
			return nil, false
		}
		set = make(map[string]struct{}, len(n.strs))
		for _, sm := range n.strs {
			if sm.op != opExact {
				return nil, false
			}
			set[fold(sm.pat)] = struct{}{}
		}
		return set, true
	case andNode:
		for _, k := range n {
			if s, ok := actionSet(k); ok && (set == nil || len(s) < len(set)) {
				set = s
			}
		}
		return set, set != nil
	case orNode:
		return unionSets(n)
	case countNode:
		return unionSets(n.kids)
	}
	return nil, false
}

func unionSets(kids []node) (map[string]struct{}, bool) {
	set := map[string]struct{}{}
	for _, k := range kids {
		s, ok := actionSet(k)
		if !ok {
			return nil, false
		}
		for a := range s {
			set[a] = struct{}{}
		}
	}
	return set, true
}

// trueNode always matches: what remains of a condition once routing has
// guaranteed its action test.
type trueNode struct{}

func (trueNode) eval(*evalCtx) bool { return true }

// residual returns n without the action tests that routing makes redundant:
// an event routed to the rule has a folded action in actions, so a
// case-insensitive exact test over a superset of actions always holds.
func residual(n node, actions map[string]bool) node {
	switch n := n.(type) {
	case *fieldCond:
		if impliedByRoute(n, actions) {
			return trueNode{}
		}
	case andNode:
		var kept andNode
		for _, k := range n {
			if r := residual(k, actions); r != (trueNode{}) {
				kept = append(kept, r)
			}
		}
		switch len(kept) {
		case 0:
			return trueNode{}
		case 1:
			return kept[0]
		}
		return kept
	}
	return n
}

func impliedByRoute(fc *fieldCond, actions map[string]bool) bool {
	if fc.f.id != fieldAction || fc.all || len(fc.ms) > 0 {
		return false
	}
	set := map[string]bool{}
	for _, sm := range fc.strs {
		if sm.op != opExact || sm.cased {
			return false
		}
		set[sm.pat] = true
	}
	for a := range actions {
		if !set[a] {
			return false
		}
	}
	return true
}
