package sigma

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
)

// route holds, for one platform, the detection rules to try: by folded
// action literal, and those that can match any action.
type route struct {
	byAction map[string]*ruleGroup
	any      *ruleGroup
}

// ruleGroup is a set of rules to try on an event. Rules whose remaining
// test is on one field are gathered by field, so that the field is read
// once for all of them, and those testing it against exact values are
// indexed by value, so that many such rules cost one lookup.
type ruleGroup struct {
	rules  []int32 // other rules, tried one by one
	fields []fieldGroup
}

type fieldGroup struct {
	f       field
	byValue map[string][]int32 // folded value → rules
	exact   []int32            // the rules in byValue, for array values
	prefix  affixIndex         // rules testing f only with startswith
	suffix  affixIndex         // rules testing f only with endswith
	tests   []int32            // other rules whose condition is one test of f
}

// affixIndex finds the rules whose prefixes (or suffixes) can match a value
// by the value's first (or last) k bytes; k is the shortest pattern's
// length, so a value that shares no k-byte affix with a pattern is skipped
// without testing.
type affixIndex struct {
	k     int
	m     map[string][]int32
	rules []int32
}

func (x *affixIndex) add(i int32, pats []string) {
	if x.m == nil {
		x.m = map[string][]int32{}
	}
	x.rules = append(x.rules, i)
	for _, p := range pats {
		x.m[p] = append(x.m[p], i) // keyed by the whole pattern until finish
	}
}

// finish re-keys the index by the k-byte affix once every pattern is known.
func (x *affixIndex) finish(suffix bool) {
	if x.m == nil {
		return
	}
	x.k = 8
	for p := range x.m {
		x.k = min(x.k, len(p))
	}
	m := map[string][]int32{}
	pats := make([]string, 0, len(x.m))
	for p := range x.m {
		pats = append(pats, p)
	}
	sort.Strings(pats) // deterministic order within a bucket
	for _, p := range pats {
		key := p[:x.k]
		if suffix {
			key = p[len(p)-x.k:]
		}
		for _, i := range x.m[p] {
			if !slices.Contains(m[key], i) {
				m[key] = append(m[key], i)
			}
		}
	}
	for _, l := range m {
		slices.Sort(l)
	}
	x.m = m
}

// candidates returns the rules that may match the folded value s.
func (x *affixIndex) candidates(s string, suffix bool) []int32 {
	if x.m == nil || len(s) < x.k {
		return nil
	}
	if suffix {
		return x.m[s[len(s)-x.k:]]
	}
	return x.m[s[:x.k]]
}

// affixPatterns returns the folded patterns of a condition that is one
// field tested only with op (prefix or suffix), case-insensitively.
func affixPatterns(fc *fieldCond, op strOp) ([]string, bool) {
	if fc.all || len(fc.ms) > 0 {
		return nil, false
	}
	pats := make([]string, 0, len(fc.strs))
	for _, m := range fc.strs {
		if m.op != op || m.cased || m.pat == "" {
			return nil, false
		}
		pats = append(pats, m.pat)
	}
	return pats, true
}

// exactValues returns the folded values of a condition that is one field
// tested for equality with plain, case-insensitive values.
func exactValues(fc *fieldCond) ([]string, bool) {
	if fc.all || len(fc.ms) > 0 {
		return nil, false
	}
	vals := make([]string, 0, len(fc.strs))
	for _, m := range fc.strs {
		if m.op != opExact || m.cased || m.pat == "" {
			return nil, false
		}
		vals = append(vals, m.pat)
	}
	return vals, true
}

// group builds the ruleGroup for rules (ascending indexes).
func (d *Detector) group(rules []int32) *ruleGroup {
	rg := &ruleGroup{}
	byField := map[string]int{}
	for _, i := range rules {
		fc, ok := d.conds[i].(*fieldCond)
		if !ok {
			rg.rules = append(rg.rules, i)
			continue
		}
		gi, seen := byField[fc.f.name]
		if !seen {
			gi = len(rg.fields)
			byField[fc.f.name] = gi
			rg.fields = append(rg.fields, fieldGroup{f: fc.f})
		}
		g := &rg.fields[gi]
		vals, exact := exactValues(fc)
		if !exact {
			if pats, ok := affixPatterns(fc, opPrefix); ok {
				g.prefix.add(i, pats)
			} else if pats, ok := affixPatterns(fc, opSuffix); ok {
				g.suffix.add(i, pats)
			} else {
				g.tests = append(g.tests, i)
			}
			continue
		}
		if g.byValue == nil {
			g.byValue = map[string][]int32{}
		}
		g.exact = append(g.exact, i)
		for _, v := range vals {
			if l := g.byValue[v]; len(l) == 0 || l[len(l)-1] != i {
				g.byValue[v] = append(l, i)
			}
		}
	}
	for gi := range rg.fields {
		rg.fields[gi].prefix.finish(false)
		rg.fields[gi].suffix.finish(true)
	}
	return rg
}

// run tries the group's rules on the current event.
func (d *Detector) run(rg *ruleGroup, ev *reposentry.Event, emit func(reposentry.Signal)) {
	c := &d.ctx
	for _, i := range rg.rules {
		if d.conds[i].eval(c) {
			d.matched(i, ev, emit)
		}
	}
	for gi := range rg.fields {
		g := &rg.fields[gi]
		v := c.get(&g.f, 0)
		for _, i := range g.tests {
			if d.conds[i].(*fieldCond).evalValue(c, &v) {
				d.matched(i, ev, emit)
			}
		}
		switch {
		case textual(&v):
			low := c.lower(&v)
			if g.byValue != nil {
				for _, i := range g.byValue[low] {
					d.matched(i, ev, emit)
				}
			}
			d.tryAll(g.prefix.candidates(low, false), &v, ev, emit)
			d.tryAll(g.suffix.candidates(low, true), &v, ev, emit)
		case v.kind == vArray: // rare: test each rule on the elements
			d.tryAll(g.exact, &v, ev, emit)
			d.tryAll(g.prefix.rules, &v, ev, emit)
			d.tryAll(g.suffix.rules, &v, ev, emit)
		}
	}
}

// Detector runs a RuleSet as one engine.Detector. It is not safe for
// concurrent use.
type Detector struct {
	ctx        evalCtx
	rules      []*Rule // detection rules
	conds      []node  // per rule: its condition less what routing guarantees
	standalone []bool  // emits its own signals
	filters    [][]*Rule
	consumers  [][]consumer // correlations fed by each detection rule
	corrs      []*corrState
	routes     [16]route
}

// consumer is a correlation fed by a rule, at the positions the rule has in
// the correlation's rules list.
type consumer struct {
	cs        *corrState
	positions []int
}

// NewDetector compiles the routing for rs.
func NewDetector(rs *RuleSet) *Detector {
	d := &Detector{}
	index := map[*Rule]int{}
	for _, r := range rs.Rules() {
		if r.Kind == KindDetection {
			index[r] = len(d.rules)
			d.rules = append(d.rules, r)
		}
	}
	d.conds = make([]node, len(d.rules))
	for i, r := range d.rules {
		d.conds[i] = r.cond
		if r.actions != nil {
			d.conds[i] = residual(r.cond, r.actions)
		}
	}
	d.standalone = make([]bool, len(d.rules))
	d.filters = make([][]*Rule, len(d.rules))
	d.consumers = make([][]consumer, len(d.rules))
	for i := range d.standalone {
		d.standalone[i] = true
	}
	for _, r := range rs.Rules() {
		switch r.Kind {
		case KindFilter:
			for _, ref := range r.Filter.Rules {
				t, _ := rs.Lookup(ref)
				i := index[t]
				d.filters[i] = append(d.filters[i], r)
			}
		case KindCorrelation:
			cs := newCorrState(r, rs)
			d.corrs = append(d.corrs, cs)
			byRule := map[int][]int{}
			var order []int
			for pos, ref := range r.Correlation.Rules {
				t, _ := rs.Lookup(ref)
				i := index[t]
				if _, seen := byRule[i]; !seen {
					order = append(order, i)
				}
				byRule[i] = append(byRule[i], pos)
			}
			for _, i := range order {
				d.consumers[i] = append(d.consumers[i], consumer{cs: cs, positions: byRule[i]})
				d.standalone[i] = false
			}
		}
	}
	var byAction [len(d.routes)]map[string][]int32
	var anyRules [len(d.routes)][]int32
	// A rule referenced by a correlation with generate: true stays
	// standalone even if another correlation without it also uses it.
	for i, r := range d.rules {
		for _, c := range d.consumers[i] {
			if c.cs.r.Correlation.Generate {
				d.standalone[i] = true
			}
		}
		if !d.standalone[i] && len(d.consumers[i]) == 0 {
			continue
		}
		for p := range byAction {
			if !r.platform.has(reposentry.Platform(p)) {
				continue
			}
			if r.actions == nil {
				anyRules[p] = append(anyRules[p], int32(i))
				continue
			}
			if byAction[p] == nil {
				byAction[p] = map[string][]int32{}
			}
			for a := range r.actions {
				byAction[p][a] = append(byAction[p][a], int32(i))
			}
		}
	}
	for p, m := range byAction {
		if len(anyRules[p]) > 0 {
			d.routes[p].any = d.group(anyRules[p])
		}
		if m == nil {
			continue
		}
		d.routes[p].byAction = make(map[string]*ruleGroup, len(m))
		for a, rules := range m {
			d.routes[p].byAction[a] = d.group(rules)
		}
	}
	return d
}

// Dropped reports how many correlation groups were not tracked because a
// correlation already held its maximum number of groups.
func (d *Detector) Dropped() int {
	n := 0
	for _, cs := range d.corrs {
		n += cs.dropped
	}
	return n
}

// Name implements engine.Detector.
func (d *Detector) Name() string { return "sigma" }

// Process implements engine.Detector: it tries ev against the rules that can
// match its platform and action, and feeds matches to correlations.
func (d *Detector) Process(ev *reposentry.Event, emit func(reposentry.Signal)) {
	if int(ev.Platform) >= len(d.routes) {
		return
	}
	rt := &d.routes[ev.Platform]
	c := &d.ctx
	c.reset(ev)
	if rt.byAction != nil {
		if rg := rt.byAction[c.folded(ev.Action, 0)]; rg != nil {
			d.run(rg, ev, emit)
		}
	}
	if rt.any != nil {
		d.run(rt.any, ev, emit)
	}
	c.ev = nil
}

// tryAll tests single-field rules on a value read once.
func (d *Detector) tryAll(rules []int32, v *fval, ev *reposentry.Event, emit func(reposentry.Signal)) {
	for _, i := range rules {
		if d.conds[i].(*fieldCond).evalValue(&d.ctx, v) {
			d.matched(i, ev, emit)
		}
	}
}

// matched handles a rule whose condition held: filters, then the rule's own
// signal and the correlations it feeds.
func (d *Detector) matched(i int32, ev *reposentry.Event, emit func(reposentry.Signal)) {
	if d.filtered(i, ev) {
		return
	}
	if d.standalone[i] {
		emit(ruleSignal(d.rules[i], ev))
	}
	for _, cn := range d.consumers[i] {
		cn.cs.observe(&d.ctx, cn.positions, ev, emit)
	}
}

func (d *Detector) filtered(i int32, ev *reposentry.Event) bool {
	for _, f := range d.filters[i] {
		if f.platform.has(ev.Platform) && f.cond.eval(&d.ctx) {
			return true
		}
	}
	return false
}

// Advance implements engine.Detector: it closes correlation windows that
// end before now and forgets state older than each correlation's timespan.
func (d *Detector) Advance(now time.Time, emit func(reposentry.Signal)) {
	for _, cs := range d.corrs {
		cs.advance(now, emit)
	}
}

// risk is a signal's risk contribution by severity.
func risk(s reposentry.Severity) int {
	return [...]int{5, 15, 35, 60, 85}[min(int(s), 4)]
}

func entity(ev *reposentry.Event) reposentry.Entity {
	e := reposentry.Entity{Type: "identity", ID: ev.ActorKey()}
	if ev.Actor.Login != "" {
		e.Accounts = []string{ev.Platform.String() + ":" + ev.Actor.Login}
	}
	return e
}

// describe says what the event was, in words: "alice did repo.access on
// acme/api from 198.51.100.7".
func describe(ev *reposentry.Event) string {
	var b strings.Builder
	actor := ev.Actor.Login
	if actor == "" {
		actor = "an unknown actor"
	}
	b.WriteString(actor)
	b.WriteString(" did ")
	b.WriteString(ev.Action)
	switch {
	case ev.Repo != "":
		b.WriteString(" on ")
		b.WriteString(ev.Repo)
	case ev.Org != "":
		b.WriteString(" in ")
		b.WriteString(ev.Org)
	}
	if ev.TargetUser != "" {
		b.WriteString(" (user ")
		b.WriteString(ev.TargetUser)
		b.WriteString(")")
	}
	if ev.SourceIP.IsValid() {
		b.WriteString(" from ")
		b.WriteString(ev.SourceIP.String())
	}
	return b.String()
}

func ruleSignal(r *Rule, ev *reposentry.Event) reposentry.Signal {
	what := describe(ev)
	expl := what + "."
	if r.Description != "" {
		expl = strings.TrimSpace(r.Description) + " Matched: " + what + "."
	}
	ev0 := map[string]any{"action": ev.Action}
	if ev.Repo != "" {
		ev0["repo"] = ev.Repo
	}
	if ev.Org != "" {
		ev0["org"] = ev.Org
	}
	if ev.Detail != "" {
		ev0["detail"] = ev.Detail
	}
	return reposentry.Signal{
		Rule:        "sigma:" + r.Ref(),
		Title:       r.Title,
		Severity:    r.Severity,
		Risk:        risk(r.Severity),
		Techniques:  r.Techniques,
		Tactics:     r.Tactics,
		Time:        ev.Time,
		Observed:    what,
		Explanation: expl,
		Entity:      entity(ev),
		FirstSeen:   ev.Time,
		EventIDs:    []string{ev.Ref()},
		Evidence:    ev0,
	}
}
