// Package alert is the risk stage: it accumulates the signals of detections
// per entity and turns them into alerts, one per entity per incident, updated
// as evidence grows.
package alert

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
)

// Config tunes the risk stage. The config package embeds it as `alert:`.
type Config struct {
	// IncidentGap is the quiet time after which an entity's incident
	// closes; signals closer together than this merge into one alert.
	IncidentGap time.Duration `yaml:"incident_gap"`
	// MinSeverity is the severity at which one signal alerts on its own.
	// Unlike the other settings it is taken as given (info alerts on all).
	MinSeverity reposentry.Severity `yaml:"min_severity"`
	// RiskThreshold is the combined risk (0-100) at which an incident of
	// signals each below MinSeverity still alerts.
	RiskThreshold int `yaml:"risk_threshold"`
	// MaxEventIDs caps the event ids of one alert.
	MaxEventIDs int `yaml:"max_event_ids"`
	// MaxSignals caps the signals listed in one alert (the most severe are
	// kept); evidence still counts them all.
	MaxSignals int `yaml:"max_signals"`
	// ContextRules are rules whose signals are context: at any severity
	// (low included, which does not alert alone) they raise an incident
	// whose other signals alert on their own by one severity, up to
	// critical. A read from a new country is what travellers do; a bulk
	// read from one is worse than either. Nil means the default,
	// first_seen_location; an empty list turns this off.
	ContextRules []string `yaml:"context_rules"`
	// Accumulation is risk accumulated per identity and credential across
	// incidents, decaying over time.
	Accumulation Accumulation `yaml:"accumulation"`
}

// DefaultConfig returns the defaults: a 2 h incident gap, alerts from medium
// up, and low signals alerting only once their combined risk reaches 60.
func DefaultConfig() Config {
	return Config{IncidentGap: 2 * time.Hour, MinSeverity: reposentry.SeverityMedium, RiskThreshold: 60,
		MaxEventIDs: 500, MaxSignals: 100, ContextRules: []string{RuleFirstSeenLocation},
		Accumulation: DefaultAccumulation()}
}

// RuleFirstSeenLocation is the detect package's rule id of reads from a new
// place, the default context rule (repeated here: alert does not depend on
// detect).
const RuleFirstSeenLocation = "first_seen_location"

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.IncidentGap < 0:
		return fmt.Errorf("alert.incident_gap is negative (%s)", c.IncidentGap)
	case c.RiskThreshold < 0 || c.RiskThreshold > 100:
		return fmt.Errorf("alert.risk_threshold %d is outside 0-100", c.RiskThreshold)
	case c.MaxEventIDs < 0 || c.MaxSignals < 0:
		return fmt.Errorf("alert.max_event_ids (%d) and alert.max_signals (%d) must not be negative", c.MaxEventIDs, c.MaxSignals)
	}
	return c.Accumulation.validate()
}

// incident is the open evidence about one entity.
type incident struct {
	key     string
	signals []reposentry.Signal
	last    time.Time // latest signal time, which the gap is measured from
	// idCross and credCross are the highest accumulated-risk crossings of
	// the entity and of a credential it used during the incident.
	idCross, credCross *crossing
}

// Aggregator merges signals into alerts. It is not safe for concurrent use.
type Aggregator struct {
	cfg    Config
	open   map[string]*incident
	closed []*incident // closed by Add, waiting for the next Advance or Flush
	acc    *accumulator
	swept  time.Time // event time of the accumulator's last sweep
	// scanned is the event time at which Advance last looked for idle
	// incidents.
	scanned time.Time
}

// New returns an aggregator; zero durations and counts in cfg take their
// defaults.
func New(cfg Config) *Aggregator {
	d := DefaultConfig()
	if cfg.IncidentGap <= 0 {
		cfg.IncidentGap = d.IncidentGap
	}
	if cfg.RiskThreshold <= 0 {
		cfg.RiskThreshold = d.RiskThreshold
	}
	if cfg.MaxEventIDs <= 0 {
		cfg.MaxEventIDs = d.MaxEventIDs
	}
	if cfg.MaxSignals <= 0 {
		cfg.MaxSignals = d.MaxSignals
	}
	if cfg.ContextRules == nil {
		cfg.ContextRules = d.ContextRules
	}
	return &Aggregator{cfg: cfg, open: make(map[string]*incident), acc: newAccumulator(cfg.Accumulation)}
}

// Add records a signal. A signal more than IncidentGap after the entity's
// previous one starts a new incident.
func (a *Aggregator) Add(s reposentry.Signal) {
	key := s.Entity.Type + "\x00" + s.Entity.ID
	inc := a.open[key]
	if inc != nil && s.Time.Sub(inc.last) > a.cfg.IncidentGap {
		a.closed = append(a.closed, inc)
		inc = nil
	}
	if inc == nil {
		inc = &incident{key: key}
		a.open[key] = inc
	}
	inc.signals = append(inc.signals, s)
	if s.Time.After(inc.last) {
		inc.last = s.Time
	}
	id, cred := a.acc.add(s)
	if id != nil && (inc.idCross == nil || id.score > inc.idCross.score) {
		inc.idCross = id
	}
	if cred != nil && (inc.credCross == nil || cred.score > inc.credCross.score) {
		inc.credCross = cred
	}
}

// Advance closes the incidents idle for longer than IncidentGap at event time
// now (looked for at most once a minute of event time) and reports the
// alerts they raise, sorted by first_seen then entity.
func (a *Aggregator) Advance(now time.Time, out func(reposentry.Alert)) {
	done := a.closed
	a.closed = nil
	if now.Sub(a.swept) >= time.Hour {
		a.acc.sweep(now)
		a.swept = now
	}
	// Scanning every open incident on every signal would cost time in
	// proportion to the entities alerting; closing them to the minute is
	// enough.
	if now.Sub(a.scanned) >= time.Minute {
		a.scanned = now
		for k, inc := range a.open {
			if now.Sub(inc.last) > a.cfg.IncidentGap {
				done = append(done, inc)
				delete(a.open, k)
			}
		}
	}
	a.emit(done, out)
}

// Flush closes every incident, at the end of the input, and reports the
// alerts they raise, sorted by first_seen then entity.
func (a *Aggregator) Flush(out func(reposentry.Alert)) {
	done := a.closed
	a.closed = nil
	for k, inc := range a.open {
		done = append(done, inc)
		delete(a.open, k)
	}
	a.emit(done, out)
}

func (a *Aggregator) emit(done []*incident, out func(reposentry.Alert)) {
	// In time order, so that an entity's earlier alert is known when its
	// later incident decides whether accumulated risk alerts.
	slices.SortFunc(done, func(x, y *incident) int { return cmp.Or(x.last.Compare(y.last), cmp.Compare(x.key, y.key)) })
	alerts := make([]reposentry.Alert, 0, len(done))
	for _, inc := range done {
		if al, ok := a.build(inc); ok {
			a.acc.noteAlert(al.Entity, al.LastSeen)
			alerts = append(alerts, al)
		}
	}
	slices.SortFunc(alerts, func(x, y reposentry.Alert) int {
		return cmp.Or(x.FirstSeen.Compare(y.FirstSeen), cmp.Compare(x.Entity.ID, y.Entity.ID),
			cmp.Compare(x.Entity.Type, y.Entity.Type), cmp.Compare(x.ID, y.ID))
	})
	for _, al := range alerts {
		out(al)
	}
}

// bySeverity orders signals most severe first, then riskiest, then earliest.
func bySeverity(x, y reposentry.Signal) int {
	return cmp.Or(cmp.Compare(y.Severity, x.Severity), cmp.Compare(y.Risk, x.Risk), x.Time.Compare(y.Time),
		cmp.Compare(x.Rule, y.Rule))
}

// CombinedRisk merges signal risks with diminishing returns: independent
// rules combine like probabilities (1 - Π(1 - r)), and each further signal of
// the same rule counts half as much as the one before, because a rule
// repeating itself is weaker evidence than a second rule agreeing.
func CombinedRisk(signals []reposentry.Signal) int {
	sorted := slices.Clone(signals)
	slices.SortStableFunc(sorted, func(x, y reposentry.Signal) int { return cmp.Compare(y.Risk, x.Risk) })
	seen := map[string]int{}
	miss := 1.0
	for _, s := range sorted {
		r := float64(min(max(s.Risk, 0), 100)) / 100
		r /= math.Exp2(float64(seen[s.Rule]))
		seen[s.Rule]++
		miss *= 1 - r
	}
	return min(100, int(math.Round(100*(1-miss))))
}

// build turns an incident into an alert, reporting false when the incident
// does not deserve one: its own signals alert, or else the risk its entity
// (or a shared credential) accumulated across incidents crossed the
// threshold during it.
func (a *Aggregator) build(inc *incident) (reposentry.Alert, bool) {
	signals := inc.signals
	ranked := slices.Clone(signals)
	slices.SortStableFunc(ranked, bySeverity)
	top := ranked[0]
	risk := CombinedRisk(signals)
	sev := top.Severity
	if sev < a.cfg.MinSeverity {
		if risk < a.cfg.RiskThreshold {
			switch x := inc.idCross; {
			case x != nil && a.acc.quiet(x.entity, x.at):
				return a.accumulated(inc, x), true
			case x == nil && inc.credCross != nil && inc.credCross.shared && a.acc.quiet(inc.credCross.entity, inc.credCross.at):
				return a.accumulated(inc, inc.credCross), true
			}
			return reposentry.Alert{}, false
		}
		// Weak signals that add up are worth the same look as one
		// signal at the alerting severity.
		sev = a.cfg.MinSeverity
	}
	raised := a.raise(ranked)
	if raised > sev {
		sev = raised
	}

	byTime := slices.Clone(signals)
	slices.SortStableFunc(byTime, func(x, y reposentry.Signal) int { return x.Time.Compare(y.Time) })
	first, last := byTime[0].Time, byTime[0].Time
	for _, s := range byTime {
		if !s.FirstSeen.IsZero() && s.FirstSeen.Before(first) {
			first = s.FirstSeen
		}
		if s.Time.After(last) {
			last = s.Time
		}
	}

	al := reposentry.Alert{
		Rule: top.Rule, Title: top.Title, Severity: sev, Risk: risk,
		Entity:    reposentry.Entity{Type: top.Entity.Type, ID: top.Entity.ID},
		FirstSeen: first.UTC(), LastSeen: last.UTC(),
	}
	sum := sha256.Sum256([]byte(al.Entity.Type + "\x00" + al.Entity.ID + "\x00" +
		byTime[0].Time.UTC().Format(time.RFC3339Nano) + "\x00" + al.Rule))
	al.ID = hex.EncodeToString(sum[:16])

	seenID := map[string]bool{}
	ruleCount := map[string]int{}
	byRule := map[string]any{}
	var expl []string
	for _, s := range ranked {
		al.Techniques = union(al.Techniques, s.Techniques)
		al.Tactics = union(al.Tactics, s.Tactics)
		al.Entity.Accounts = union(al.Entity.Accounts, s.Entity.Accounts)
		ruleCount[s.Rule]++
		if _, ok := byRule[s.Rule]; !ok && s.Evidence != nil {
			byRule[s.Rule] = s.Evidence // the rule's most severe signal speaks for it
		}
		if ruleCount[s.Rule] == 1 && len(expl) < 3 {
			expl = append(expl, s.Explanation)
		}
	}
	for _, s := range byTime {
		for _, id := range s.EventIDs {
			if len(al.EventIDs) < a.cfg.MaxEventIDs && !seenID[id] {
				seenID[id] = true
				al.EventIDs = append(al.EventIDs, id)
			}
		}
	}
	al.Explanation = strings.Join(expl, " ")
	if len(signals) > 1 {
		al.Explanation += fmt.Sprintf(" (%d signals from %d rules, combined risk %d.)", len(signals), len(ruleCount), risk)
	}
	kept := byTime
	if len(kept) > a.cfg.MaxSignals {
		kept = ranked[:a.cfg.MaxSignals]
		slices.SortStableFunc(kept, func(x, y reposentry.Signal) int { return x.Time.Compare(y.Time) })
	}
	al.Signals = kept
	al.Evidence = map[string]any{"signal_count": len(signals), "rule_counts": ruleCount, "by_rule": byRule}
	if raised > top.Severity {
		al.Evidence["raised_by_context"] = true
		al.Explanation += fmt.Sprintf(" Severity raised to %s by context (%s).", sev, strings.Join(a.contextIn(ranked), ", "))
	}
	if x := inc.idCross; x != nil && x.before(inc.signals) {
		// The incident alerts anyway: what the entity accumulated before
		// it is context, and raises the severity when it is high.
		ev, words := x.describe(a.acc.cfg.HalfLife)
		al.Evidence["accumulated_risk"] = ev
		al.Explanation += fmt.Sprintf(" Accumulated risk across incidents: %.0f (%s).", x.score, words)
		if s := severityOfRisk(x.score, a.acc.cfg.Threshold); s > al.Severity {
			al.Severity = s
		}
	}
	return al, true
}

// accumulated builds the alert for an entity whose accumulated risk crossed
// the threshold during inc, listing every contributing rule's strongest
// signal with what it saw against what is normal.
func (a *Aggregator) accumulated(inc *incident, x *crossing) reposentry.Alert {
	cfg := a.acc.cfg
	evidence, words := x.describe(cfg.HalfLife)
	var signals []reposentry.Signal
	// first_seen is the start of the incident in which the risk crossed the
	// threshold, as for any alert, so that time to detect is not measured
	// from the first weak signal days before; the evidence says when each
	// contribution began.
	first := inc.signals[0].Time
	for _, s := range inc.signals {
		if s.Time.Before(first) {
			first = s.Time
		}
	}
	for _, c := range x.rules {
		signals = append(signals, c.best)
	}
	for _, s := range inc.signals {
		if !slices.ContainsFunc(signals, func(o reposentry.Signal) bool { return o.Rule == s.Rule && o.Time.Equal(s.Time) }) {
			signals = append(signals, s)
		}
	}
	slices.SortStableFunc(signals, func(p, q reposentry.Signal) int { return p.Time.Compare(q.Time) })
	if len(signals) > a.cfg.MaxSignals {
		signals = signals[len(signals)-a.cfg.MaxSignals:]
	}
	al := reposentry.Alert{
		Rule: RuleAccumulatedRisk, Title: "Risk accumulated across incidents",
		Severity: severityOfRisk(x.score, cfg.Threshold), Risk: int(math.Round(x.score)),
		Entity:    reposentry.Entity{Type: x.entity.Type, ID: x.entity.ID},
		FirstSeen: first.UTC(), LastSeen: inc.last.UTC(), Signals: signals,
	}
	seenID := map[string]bool{}
	for _, s := range signals {
		al.Techniques = union(al.Techniques, s.Techniques)
		al.Tactics = union(al.Tactics, s.Tactics)
		al.Entity.Accounts = union(al.Entity.Accounts, s.Entity.Accounts)
		for _, id := range s.EventIDs {
			if len(al.EventIDs) < a.cfg.MaxEventIDs && !seenID[id] {
				seenID[id] = true
				al.EventIDs = append(al.EventIDs, id)
			}
		}
	}
	sum := sha256.Sum256([]byte(al.Entity.Type + "\x00" + al.Entity.ID + "\x00" +
		x.at.UTC().Format(time.RFC3339Nano) + "\x00" + al.Rule))
	al.ID = hex.EncodeToString(sum[:16])
	who := "Identity " + x.entity.ID
	if x.entity.Type == "credential" {
		who = "Credential " + x.entity.ID + ", shared by several identities,"
	}
	al.Explanation = fmt.Sprintf("%s accumulated risk %.0f (threshold %d, halving every %s) from %d rules, none alerting on its own: %s.",
		who, x.score, cfg.Threshold, cfg.HalfLife, len(x.rules), words)
	al.Evidence = map[string]any{"accumulated_risk": evidence, "signal_count": len(inc.signals)}
	return al
}

// raise returns the severity context signals give the incident: one above
// its most severe other signal when that alerts on its own and a context
// signal is present; info otherwise. ranked is most severe first.
func (a *Aggregator) raise(ranked []reposentry.Signal) reposentry.Severity {
	if len(a.contextIn(ranked)) == 0 {
		return reposentry.SeverityInfo
	}
	for _, s := range ranked {
		if !slices.Contains(a.cfg.ContextRules, s.Rule) {
			if s.Severity < a.cfg.MinSeverity {
				return reposentry.SeverityInfo
			}
			return min(s.Severity+1, reposentry.SeverityCritical)
		}
	}
	return reposentry.SeverityInfo
}

// contextIn lists the context rules present among signals.
func (a *Aggregator) contextIn(signals []reposentry.Signal) []string {
	var out []string
	for _, s := range signals {
		if slices.Contains(a.cfg.ContextRules, s.Rule) && !slices.Contains(out, s.Rule) {
			out = append(out, s.Rule)
		}
	}
	return out
}

// union appends the values of add missing from dst, keeping dst's order.
func union(dst, add []string) []string {
	for _, v := range add {
		if !slices.Contains(dst, v) {
			dst = append(dst, v)
		}
	}
	return dst
}
