package sigma

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
)

// Bounds on correlation state, so that a flood of distinct groups or values
// cannot grow memory without limit.
const (
	maxGroups   = 100_000 // per correlation
	maxValues   = 10_000  // distinct values per value_count group
	maxEventIDs = 32      // event references kept per group for the signal
)

// corrState is one correlation rule's state, in event time.
type corrState struct {
	r       *Rule
	c       *Correlation
	bounded bool      // a condition has an upper bound: judged when the window closes
	groupBy [][]field // [rule position][group-by index]
	value   []field   // value_count field per rule position
	groups  map[string]*group
	ndist   int // distinct rules referenced (temporal)
	ruleOf  []int
	dropped int // groups not tracked because maxGroups was reached
	keyBuf  []byte
}

// seenAt is one sighting of a value; stale when the value was seen again.
type seenAt struct {
	v string
	t time.Time
}

// eventRef is an event reference kept without building its string.
type eventRef struct {
	platform reposentry.Platform
	id       reposentry.EventID
}

// group is the state of one group-by value combination.
type group struct {
	key      string
	start    time.Time // first event of the window
	last     time.Time
	times    []time.Time          // event_count: event times in the window
	values   map[string]time.Time // value_count: value → last seen
	seenQ    []seenAt             // value_count: sightings in time order
	qHead    int
	seen     []time.Time // temporal: last match per distinct rule
	chain    []time.Time // temporal_ordered: start of the chain at each stage
	quietTil time.Time   // no new signal before this time
	refs     []eventRef
	actorKey string
	login    string
	platform reposentry.Platform
}

func newCorrState(r *Rule, rs *RuleSet) *corrState {
	c := r.Correlation
	cs := &corrState{r: r, c: c, groups: map[string]*group{}}
	for _, cond := range c.Conditions {
		if cond.Op == "lt" || cond.Op == "lte" || cond.Op == "eq" {
			cs.bounded = true
		}
	}
	ruleIDs := map[string]int{}
	for _, ref := range c.Rules {
		t, _ := rs.Lookup(ref)
		key := t.Ref()
		if _, ok := ruleIDs[key]; !ok {
			ruleIDs[key] = len(ruleIDs)
		}
		cs.ruleOf = append(cs.ruleOf, ruleIDs[key])
		// Aliases are keyed by rule name; the reference may be the id.
		cs.groupBy = append(cs.groupBy, resolveFields(c, t, c.GroupBy))
		if c.Field != "" {
			cs.value = append(cs.value, resolveFields(c, t, []string{c.Field})[0])
		}
	}
	cs.ndist = len(ruleIDs)
	return cs
}

func resolveFields(c *Correlation, t *Rule, names []string) []field {
	out := make([]field, len(names))
	for i, n := range names {
		if a, ok := c.Aliases[n]; ok {
			if f, ok := a[t.Name]; ok && t.Name != "" {
				n = f
			} else if f, ok := a[t.ID]; ok && t.ID != "" {
				n = f
			}
		}
		out[i] = newField(n)
	}
	return out
}

// observe records a match of a referenced rule.
func (cs *corrState) observe(c *evalCtx, positions []int, ev *reposentry.Event, emit func(reposentry.Signal)) {
	pos0 := positions[0]
	cs.keyBuf = cs.keyBuf[:0]
	for i := range cs.groupBy[pos0] {
		if i > 0 {
			cs.keyBuf = append(cs.keyBuf, 0x1f)
		}
		v := c.get(&cs.groupBy[pos0][i], 0)
		if textual(&v) {
			cs.keyBuf = append(cs.keyBuf, v.s...)
		}
	}
	now := ev.Time
	g := cs.groups[string(cs.keyBuf)] // no allocation for the lookup
	if g != nil && cs.bounded && !now.Before(g.start.Add(cs.c.Timespan)) {
		cs.close(g, emit)
		g = nil
	}
	if g == nil {
		if len(cs.groups) >= maxGroups {
			cs.dropped++
			return
		}
		key := string(cs.keyBuf)
		g = &group{key: key, start: now}
		cs.groups[key] = g
	}
	if now.Before(g.quietTil) {
		return
	}
	if g.times == nil && g.values == nil && g.seen == nil && g.chain == nil {
		g.start = now
	}
	g.last = now
	g.actorKey, g.login, g.platform = ev.ActorKey(), ev.Actor.Login, ev.Platform
	if len(g.refs) < maxEventIDs {
		g.refs = append(g.refs, eventRef{ev.Platform, ev.ID})
	}
	from := now.Add(-cs.c.Timespan)
	var n int
	switch cs.c.Type {
	case "event_count":
		g.times = pruneTimes(g.times, from)
		g.times = append(g.times, now)
		g.start = g.times[0]
		n = len(g.times)
	case "value_count":
		v := c.get(&cs.value[pos0], 0)
		if !textual(&v) {
			return
		}
		if g.values == nil {
			g.values = map[string]time.Time{}
		}
		g.pruneValues(from)
		key := v.s
		if v.borrowed { // a borrowed string must not become (or replace) a key
			key = strings.Clone(key)
		}
		if len(g.values) < maxValues {
			g.values[key] = now // one map operation: insert or refresh
		} else if _, ok := g.values[key]; ok {
			g.values[key] = now
		} else {
			return // over the cap: a new value is not tracked
		}
		g.seenQ = append(g.seenQ, seenAt{key, now})
		if len(g.seenQ)-g.qHead > 4*maxValues {
			g.compactSeen()
		}
		n = len(g.values)
		if !cs.bounded && cs.holds(n) {
			g.start = now
			for _, t := range g.values {
				if t.Before(g.start) {
					g.start = t
				}
			}
		}
	case "temporal":
		if g.seen == nil {
			g.seen = make([]time.Time, cs.ndist)
		}
		for _, p := range positions {
			g.seen[cs.ruleOf[p]] = now
		}
		for _, t := range g.seen {
			if !t.IsZero() && !t.Before(from) {
				n++
			}
		}
	case "temporal_ordered":
		if g.chain == nil {
			g.chain = make([]time.Time, len(cs.c.Rules))
		}
		// Descending, so that one event cannot fill two stages.
		for k := len(positions) - 1; k >= 0; k-- {
			p := positions[k]
			switch {
			case p == 0:
				g.chain[0] = now
			case !g.chain[p-1].IsZero() && !g.chain[p-1].Before(from):
				g.chain[p] = g.chain[p-1]
			}
		}
		last := g.chain[len(g.chain)-1]
		if !last.IsZero() && !last.Before(from) {
			g.start = last
			cs.fire(g, len(g.chain), emit)
		}
		return
	}
	if cs.bounded {
		return // judged when the window closes
	}
	if cs.holds(n) {
		cs.fire(g, n, emit)
	}
}

func (cs *corrState) holds(n int) bool {
	if len(cs.c.Conditions) == 0 { // temporal without condition: every rule seen
		return n >= cs.ndist
	}
	for _, cond := range cs.c.Conditions {
		if !cond.holds(n) {
			return false
		}
	}
	return true
}

// pruneValues forgets values last seen before from, popping sightings in
// time order; a sighting superseded by a later one is just dropped.
func (g *group) pruneValues(from time.Time) {
	for g.qHead < len(g.seenQ) && g.seenQ[g.qHead].t.Before(from) {
		s := g.seenQ[g.qHead]
		if t, ok := g.values[s.v]; ok && !t.After(s.t) {
			delete(g.values, s.v)
		}
		g.seenQ[g.qHead] = seenAt{}
		g.qHead++
	}
	if g.qHead > 0 && g.qHead*2 >= len(g.seenQ) { // reclaim the popped half
		n := copy(g.seenQ, g.seenQ[g.qHead:])
		clear(g.seenQ[n:])
		g.seenQ, g.qHead = g.seenQ[:n], 0
	}
}

// compactSeen rebuilds the sighting queue from the values, one entry each,
// so that a flood of repeats cannot grow it without bound.
func (g *group) compactSeen() {
	q := make([]seenAt, 0, len(g.values))
	for v, t := range g.values {
		q = append(q, seenAt{v, t})
	}
	sort.Slice(q, func(i, j int) bool { return q[i].t.Before(q[j].t) })
	g.seenQ, g.qHead = q, 0
}

func pruneTimes(ts []time.Time, from time.Time) []time.Time {
	i := sort.Search(len(ts), func(i int) bool { return !ts[i].Before(from) })
	if i == 0 {
		return ts
	}
	return append(ts[:0], ts[i:]...)
}

// count is the group's current measure for a bounded judgement.
func (cs *corrState) count(g *group) int {
	switch cs.c.Type {
	case "event_count":
		return len(g.times)
	case "value_count":
		return len(g.values)
	}
	n := 0
	for _, t := range g.seen {
		if !t.IsZero() {
			n++
		}
	}
	return n
}

// close judges a bounded window and forgets the group.
func (cs *corrState) close(g *group, emit func(reposentry.Signal)) {
	if n := cs.count(g); cs.holds(n) {
		cs.fire(g, n, emit)
	}
	delete(cs.groups, g.key)
}

// fire emits the correlation's signal and resets the group; the group stays
// quiet for one timespan so that one burst gives one signal.
func (cs *corrState) fire(g *group, n int, emit func(reposentry.Signal)) {
	r := cs.r
	var what string
	switch cs.c.Type {
	case "event_count":
		what = fmt.Sprintf("%d matching events in %v", n, cs.c.Timespan)
	case "value_count":
		what = fmt.Sprintf("%d distinct %s values in %v", n, cs.c.Field, cs.c.Timespan)
	case "temporal":
		what = fmt.Sprintf("%d of %d rules matched within %v", n, cs.ndist, cs.c.Timespan)
	default:
		what = fmt.Sprintf("%d rules matched in order within %v", n, cs.c.Timespan)
	}
	grp := map[string]any{}
	parts := strings.Split(g.key, "\x1f")
	for i, name := range cs.c.GroupBy {
		if i < len(parts) {
			grp[name] = parts[i]
		}
	}
	expl := what
	if len(cs.c.GroupBy) > 0 {
		expl += " for " + groupText(cs.c.GroupBy, parts)
	}
	expl += "."
	if r.Description != "" {
		expl = strings.TrimSpace(r.Description) + " Observed " + expl
	}
	ids := make([]string, len(g.refs))
	for i, r := range g.refs {
		ids[i] = r.platform.String() + ":" + r.id.String()
	}
	e := reposentry.Entity{Type: "identity", ID: g.actorKey}
	if g.login != "" {
		e.Accounts = []string{g.platform.String() + ":" + g.login}
	}
	emit(reposentry.Signal{
		Rule:        "sigma:" + r.Ref(),
		Title:       r.Title,
		Severity:    r.Severity,
		Risk:        risk(r.Severity),
		Techniques:  r.Techniques,
		Tactics:     r.Tactics,
		Time:        g.last,
		Observed:    what,
		Explanation: expl,
		Entity:      e,
		FirstSeen:   g.start,
		EventIDs:    ids,
		Evidence:    map[string]any{"count": n, "group": grp, "correlation": cs.c.Type},
	})
	*g = group{key: g.key, quietTil: g.last.Add(cs.c.Timespan), refs: g.refs[:0]}
}

func groupText(names, vals []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n)
		b.WriteByte('=')
		if i < len(vals) {
			b.WriteString(vals[i])
		}
	}
	return b.String()
}

// advance closes bounded windows that ended and forgets idle groups.
func (cs *corrState) advance(now time.Time, emit func(reposentry.Signal)) {
	from := now.Add(-cs.c.Timespan)
	var closed []*group
	for _, g := range cs.groups {
		switch {
		case cs.bounded && g.times == nil && g.values == nil && g.seen == nil:
			if !now.Before(g.quietTil) {
				delete(cs.groups, g.key)
			}
		case cs.bounded && !now.Before(g.start.Add(cs.c.Timespan)):
			closed = append(closed, g)
		case !cs.bounded && g.last.Before(from) && !now.Before(g.quietTil):
			delete(cs.groups, g.key)
		}
	}
	// Close in a stable order so that signals are deterministic.
	sort.Slice(closed, func(i, j int) bool {
		if !closed[i].start.Equal(closed[j].start) {
			return closed[i].start.Before(closed[j].start)
		}
		return closed[i].key < closed[j].key
	})
	for _, g := range closed {
		cs.close(g, emit)
	}
}
