package alert

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
)

// RuleAccumulatedRisk is the rule id of alerts raised by risk accumulated
// across incidents rather than by one incident's signals.
const RuleAccumulatedRisk = "accumulated_risk"

// Accumulation configures risk that accumulates per identity and per
// credential across incidents, decaying over time: how low-and-slow
// collection (a few repositories a day, at odd hours, from a new place)
// adds up when no single day is alarming.
type Accumulation struct {
	// Disabled turns accumulation off: alerts come from incidents only.
	Disabled bool `yaml:"disabled"`
	// HalfLife is the time in which an entity's accumulated risk halves.
	HalfLife time.Duration `yaml:"half_life"`
	// Threshold (1-100) is the accumulated risk at which an entity whose
	// incidents did not alert on their own raises an accumulated_risk
	// alert; an incident that alerts anyway gets the accumulated risk as
	// evidence instead.
	Threshold int `yaml:"threshold"`
	// Step is how far accumulated risk must rise above the (decayed) risk
	// of the entity's previous accumulated-risk alert to alert again, so a
	// slowly growing score does not alert every day.
	Step int `yaml:"step"`
	// MaxEntities bounds the entities followed; past it the eighth with the
	// least risk is forgotten.
	MaxEntities int `yaml:"max_entities"`
}

// DefaultAccumulation returns the defaults: a three-day half-life, alerts
// at 70 and again 15 above the last.
func DefaultAccumulation() Accumulation {
	return Accumulation{HalfLife: 72 * time.Hour, Threshold: 70, Step: 15, MaxEntities: 1 << 17}
}

func (c Accumulation) withDefaults() Accumulation {
	d := DefaultAccumulation()
	if c.HalfLife <= 0 {
		c.HalfLife = d.HalfLife
	}
	if c.Threshold <= 0 {
		c.Threshold = d.Threshold
	}
	if c.Step <= 0 {
		c.Step = d.Step
	}
	if c.MaxEntities <= 0 {
		c.MaxEntities = d.MaxEntities
	}
	return c
}

func (c Accumulation) validate() error {
	switch {
	case c.HalfLife < 0:
		return fmt.Errorf("alert.accumulation.half_life is negative (%s)", c.HalfLife)
	case c.Threshold < 0 || c.Threshold > 100:
		return fmt.Errorf("alert.accumulation.threshold %d is outside 1-100 (0 for the default)", c.Threshold)
	case c.Step < 0 || c.Step > 100:
		return fmt.Errorf("alert.accumulation.step %d is outside 1-100 (0 for the default)", c.Step)
	case c.MaxEntities < 0:
		return fmt.Errorf("alert.accumulation.max_entities %d is negative", c.MaxEntities)
	}
	return nil
}

// Repeats of one rule add little: a rule's contribution is its strongest
// recent signal plus a quarter of each repeat, at most half again its risk.
// A detector that fires every day on the same habit (an admin's daily
// sign-in, a night owl's hours) then holds its own level instead of
// climbing to the threshold on its own; different rules agreeing is what
// accumulates.
const (
	repeatWeight = 0.25
	repeatCap    = 1.5
	forgetBelow  = 0.01 // contributions below this are forgotten
	maxKeptIDs   = 10   // event ids kept per contributing signal
)

// ledger is the accumulated risk of one entity.
type ledger struct {
	key     string // entity type and id joined by NUL
	at      int64  // unix ns of the values below
	alerted float64
	// lastAlert is the end (unix ns) of the entity's latest alert of any
	// rule: an entity alerted on lately is already in front of an analyst.
	lastAlert int64
	rules     []contribution
}

// contribution is one rule's share of a ledger.
type contribution struct {
	v     float64 // decayed contribution, 0-1, at ledger.at
	peak  float64 // the rule's highest single-signal risk, 0-1, for the cap
	n     int
	first time.Time
	// best is the rule's strongest recent signal, trimmed (no evidence,
	// a few event ids), which the alert lists as the rule's reason.
	best   reposentry.Signal
	bestAt float64 // best's risk decayed to ledger.at, 0-1
	// entities are the identities whose signals these are (for a
	// credential's ledger: more than one means a shared credential).
	entities []string
	// days has bit i set when the rule signalled i days before lastDay
	// (days since the unix epoch, UTC).
	days    uint32
	lastDay int64
}

// habitDays is how many of the seven days before a signal its rule must
// have signalled on for the signal to be a habit: it then adds no risk, so
// a detector that fires every day for one person (an administrator's
// sign-ins, a night owl's hours) fades instead of accumulating, while the
// same rule on a few scattered days still counts.
const habitDays = 4

// habitual records that the rule signalled on day and reports whether it
// had on habitDays of the seven days before.
func (c *contribution) habitual(day int64) bool {
	switch shift := day - c.lastDay; {
	case shift >= 32:
		c.days = 0
	case shift > 0:
		c.days <<= uint(shift)
	case shift < 0:
		return false // late signal: counted as before, not as a habit
	}
	c.lastDay = day
	prior := bits.OnesCount32(c.days >> 1 & 0x7f)
	c.days |= 1
	return prior >= habitDays
}

// decay brings the ledger's values to time t (never backwards: a signal a
// little late in event time counts as now).
func (l *ledger) decay(t int64, halfLife time.Duration) {
	if t <= l.at {
		return
	}
	if l.at != 0 {
		f := math.Exp2(-float64(t-l.at) / float64(halfLife))
		for i := range l.rules {
			l.rules[i].v *= f
			l.rules[i].bestAt *= f
		}
		l.alerted *= f
		l.rules = slices.DeleteFunc(l.rules, func(c contribution) bool { return c.v < forgetBelow })
	}
	l.at = t
}

// add accumulates s into the ledger, decayed to s.Time.
func (l *ledger) add(s reposentry.Signal, halfLife time.Duration) {
	l.decay(s.Time.UnixNano(), halfLife)
	r := float64(min(max(s.Risk, 0), 100)) / 100
	i := slices.IndexFunc(l.rules, func(c contribution) bool { return c.best.Rule == s.Rule })
	if i < 0 {
		l.rules = append(l.rules, contribution{first: s.Time})
		i = len(l.rules) - 1
	}
	c := &l.rules[i]
	c.n++
	c.peak = max(c.peak, r)
	switch {
	case c.habitual(s.Time.Unix() / 86400):
	case c.v < forgetBelow:
		c.v = r
	default:
		c.v = min(max(c.v, r)+repeatWeight*r, repeatCap*c.peak, 1)
	}
	if r >= c.bestAt || c.best.Rule == "" {
		c.best, c.bestAt = trimmed(s), r
	}
	if !slices.Contains(c.entities, s.Entity.ID) && len(c.entities) < 4 {
		c.entities = append(c.entities, s.Entity.ID)
	}
}

// score is the ledger's accumulated risk, 0-100: the contributions combine
// like independent probabilities.
func (l *ledger) score() float64 {
	miss := 1.0
	for _, c := range l.rules {
		miss *= 1 - c.v
	}
	return 100 * (1 - miss)
}

// trimmed copies what an accumulated-risk alert lists of a signal.
func trimmed(s reposentry.Signal) reposentry.Signal {
	s.Evidence = nil
	s.EventIDs = slices.Clone(s.EventIDs[:min(len(s.EventIDs), maxKeptIDs)])
	s.Techniques = slices.Clone(s.Techniques)
	s.Tactics = slices.Clone(s.Tactics)
	s.Entity.Accounts = slices.Clone(s.Entity.Accounts)
	return s
}

// crossing is a ledger's accumulated risk reaching the threshold, kept with
// the incident during which it happened.
type crossing struct {
	entity reposentry.Entity
	at     time.Time
	score  float64
	rules  []contribution // copies at the crossing
	shared bool           // a credential's signals came from several identities
}

// before reports whether some of the crossing's contributions predate
// signals, the incident's: only then does it add to what the incident says.
func (x *crossing) before(signals []reposentry.Signal) bool {
	start := signals[0].Time
	for _, s := range signals {
		if s.Time.Before(start) {
			start = s.Time
		}
	}
	for _, c := range x.rules {
		if c.first.Before(start) {
			return true
		}
	}
	return false
}

// accumulator holds the ledgers.
type accumulator struct {
	cfg     Accumulation
	ledgers map[string]*ledger
}

func newAccumulator(cfg Accumulation) *accumulator {
	return &accumulator{cfg: cfg.withDefaults(), ledgers: map[string]*ledger{}}
}

// add accumulates s into its identity's and credential's ledgers and
// returns the crossings it causes.
func (a *accumulator) add(s reposentry.Signal) (id, cred *crossing) {
	if a.cfg.Disabled {
		return nil, nil
	}
	id = a.addTo(reposentry.Entity{Type: s.Entity.Type, ID: s.Entity.ID, Accounts: s.Entity.Accounts}, s)
	if s.Credential != "" {
		cred = a.addTo(reposentry.Entity{Type: "credential", ID: s.Credential, Accounts: s.Entity.Accounts}, s)
	}
	return id, cred
}

func (a *accumulator) addTo(e reposentry.Entity, s reposentry.Signal) *crossing {
	key := e.Type + "\x00" + e.ID
	l := a.ledgers[key]
	if l == nil {
		if len(a.ledgers) >= a.cfg.MaxEntities {
			a.evict()
		}
		l = &ledger{key: key}
		a.ledgers[key] = l
	}
	l.add(s, a.cfg.HalfLife)
	sc := l.score()
	if sc < float64(a.cfg.Threshold) || sc < l.alerted+float64(a.cfg.Step) {
		return nil
	}
	l.alerted = sc
	x := &crossing{entity: e, at: s.Time, score: sc, rules: slices.Clone(l.rules)}
	var who []string
	for _, c := range l.rules {
		who = union(who, c.entities)
	}
	x.shared = len(who) > 1
	return x
}

// noteAlert records that the entity alerted, its alert ending at end.
func (a *accumulator) noteAlert(e reposentry.Entity, end time.Time) {
	if l := a.ledgers[e.Type+"\x00"+e.ID]; l != nil && end.UnixNano() > l.lastAlert {
		l.lastAlert = end.UnixNano()
	}
}

// quiet reports whether the entity had no alert within a half-life before
// t: accumulated risk alerts only about entities nobody is looking at; for
// the others it rides on their next alert as evidence.
func (a *accumulator) quiet(e reposentry.Entity, t time.Time) bool {
	l := a.ledgers[e.Type+"\x00"+e.ID]
	return l == nil || l.lastAlert == 0 || t.UnixNano()-l.lastAlert > int64(a.cfg.HalfLife)
}

// evict forgets the eighth of the entities with the least accumulated risk
// (at least one): one scan per many new entities rather than per entity,
// once the ledgers are full.
func (a *accumulator) evict() {
	type ranked struct {
		score float64
		key   string
	}
	all := make([]ranked, 0, len(a.ledgers))
	for k, l := range a.ledgers {
		all = append(all, ranked{l.score(), k})
	}
	slices.SortFunc(all, func(x, y ranked) int { return cmp.Or(cmp.Compare(x.score, y.score), cmp.Compare(x.key, y.key)) })
	for _, r := range all[:min(len(all), max(1, len(all)/8))] {
		delete(a.ledgers, r.key)
	}
}

// sweep decays every ledger to now and forgets those with nothing left.
func (a *accumulator) sweep(now time.Time) {
	t := now.UnixNano()
	for k, l := range a.ledgers {
		l.decay(t, a.cfg.HalfLife)
		if len(l.rules) == 0 {
			delete(a.ledgers, k)
		}
	}
}

// severityOfRisk maps accumulated risk to severity: medium at the
// threshold, high from 85 and critical from 95.
func severityOfRisk(score float64, threshold int) reposentry.Severity {
	switch {
	case score >= 95:
		return reposentry.SeverityCritical
	case score >= 85:
		return reposentry.SeverityHigh
	case score >= float64(threshold):
		return reposentry.SeverityMedium
	}
	return reposentry.SeverityInfo
}

// describe lists a crossing's contributions, strongest first, as evidence
// and as words: what each rule saw against what is normal.
func (x *crossing) describe(halfLife time.Duration) (evidence map[string]any, words string) {
	rules := slices.Clone(x.rules)
	slices.SortStableFunc(rules, func(p, q contribution) int {
		return cmp.Or(cmp.Compare(q.v, p.v), cmp.Compare(p.best.Rule, q.best.Rule))
	})
	list := make([]map[string]any, 0, len(rules))
	parts := make([]string, 0, len(rules))
	for _, c := range rules {
		item := map[string]any{
			"rule": c.best.Rule, "signals": c.n, "contribution": math.Round(100*c.v*10) / 10,
			"first": c.first.UTC(), "last": c.best.Time.UTC(), "observed": c.best.Observed,
		}
		if c.best.Baseline != "" {
			item["baseline"] = c.best.Baseline
		}
		list = append(list, item)
		p := fmt.Sprintf("%s ×%d (+%.0f): %s", c.best.Rule, c.n, 100*c.v, c.best.Observed)
		if c.best.Baseline != "" {
			p += " against " + c.best.Baseline
		}
		parts = append(parts, p)
	}
	evidence = map[string]any{
		"entity": x.entity.Type + ":" + x.entity.ID, "risk": math.Round(x.score*10) / 10,
		"half_life": halfLife.String(), "contributions": list,
	}
	return evidence, strings.Join(parts, "; ")
}
