// Package evaluate scores alerts against the ground truth that simulate
// writes: precision and recall overall and per scenario, time to detect,
// which benign look-alikes drew false alerts, and false alerts per 1,000
// identities per day.
//
// An alert is a true positive when its entity matches a label's entity
// (case-insensitively) and its [first_seen, last_seen] overlaps the label's
// [start, end + Slack]; every label without such an alert is a miss; every
// other alert is a false positive.
package evaluate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DefaultSlack is how long after a label's end an alert may still start and
// count: detections that wait for a window to close raise late.
const DefaultSlack = time.Hour

// Options tune a run. Zero values mean: DefaultSlack, and no false-alert
// rate (Identities or Days unknown).
type Options struct {
	Slack      time.Duration
	Identities int     // identities in the evaluated data
	Days       float64 // days the evaluated data covers
}

// Label is one line of labels.jsonl or benign.jsonl.
type Label struct {
	Scenario    string    `json:"scenario"`
	Entity      string    `json:"entity"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	EventIDs    []string  `json:"event_ids"`
	LookalikeOf string    `json:"lookalike_of,omitempty"`
}

// alert is the part of an alert (architecture.md) that scoring needs.
type alert struct {
	ID     string `json:"id"`
	Rule   string `json:"rule"`
	Entity struct {
		ID string `json:"id"`
	} `json:"entity"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Signals   []struct {
		Time time.Time `json:"time"`
	} `json:"signals"`
	raised time.Time // earliest signal time, else first_seen
	line   int
}

// Report is the outcome of a run.
type Report struct {
	Alerts         int     `json:"alerts"`
	TruePositives  int     `json:"true_positives"`
	FalsePositives int     `json:"false_positives"`
	Labels         int     `json:"labels"`
	Detected       int     `json:"detected"`
	Missed         int     `json:"missed"`
	Precision      float64 `json:"precision"`
	Recall         float64 `json:"recall"`
	// Time to detect over detected labels, in seconds.
	TTDMedianSeconds float64 `json:"ttd_median_seconds"`
	TTDMaxSeconds    float64 `json:"ttd_max_seconds"`
	Identities       int     `json:"identities,omitempty"`
	Days             float64 `json:"days,omitempty"`
	// FalsePer1000IdentityDays is nil when identities or days are unknown.
	FalsePer1000IdentityDays *float64           `json:"false_alerts_per_1000_identity_days"`
	Scenarios                []ScenarioResult   `json:"scenarios"`
	Results                  []LabelResult      `json:"labels_detail"`
	Lookalikes               []LookalikeResult  `json:"lookalikes"`
	FalseAlerts              []FalseAlertResult `json:"false_alerts"`
}

// ScenarioResult scores one scenario. Precision here is the scenario's true
// alerts against those plus the false alerts on its benign look-alikes: how
// well detections tell the attack from what resembles it.
type ScenarioResult struct {
	Scenario          string  `json:"scenario"`
	Labels            int     `json:"labels"`
	Detected          int     `json:"detected"`
	TruePositives     int     `json:"true_positives"`
	LookalikeFalse    int     `json:"lookalike_false_positives"`
	Precision         float64 `json:"precision"`
	Recall            float64 `json:"recall"`
	TTDMedianSeconds  float64 `json:"ttd_median_seconds"`
	TTDMaxSeconds     float64 `json:"ttd_max_seconds"`
	ttd               []float64
	alertIDs, falseID map[string]bool
}

// LabelResult is one label's outcome.
type LabelResult struct {
	Scenario   string    `json:"scenario"`
	Entity     string    `json:"entity"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Detected   bool      `json:"detected"`
	TTDSeconds float64   `json:"ttd_seconds,omitempty"`
	Alerts     []string  `json:"alerts"`
}

// LookalikeResult is one benign look-alike and the false alerts it drew.
type LookalikeResult struct {
	Scenario    string   `json:"scenario"`
	LookalikeOf string   `json:"lookalike_of"`
	Entity      string   `json:"entity"`
	Alerts      []string `json:"alerts"`
}

// FalseAlertResult is one false positive.
type FalseAlertResult struct {
	ID        string    `json:"id"`
	Rule      string    `json:"rule"`
	Entity    string    `json:"entity"`
	FirstSeen time.Time `json:"first_seen"`
	Lookalike string    `json:"lookalike,omitempty"` // benign scenario it overlaps, if any
}

// Meta is the part of the simulator's meta.json that evaluate reads.
type Meta struct {
	Identities int `json:"identities"`
	Days       int `json:"days"`
}

// OptionsFromMeta reads meta.json from the directory of labelsPath and
// returns Options carrying its identities and days. A missing file gives an
// error matching fs.ErrNotExist, so callers can fall back to no rate.
func OptionsFromMeta(labelsPath string) (Options, error) {
	path := filepath.Join(filepath.Dir(labelsPath), "meta.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return Options{}, fmt.Errorf("evaluate: read %s: %w", path, err)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return Options{}, fmt.Errorf("evaluate: parse %s: %w", path, err)
	}
	return Options{Identities: m.Identities, Days: float64(m.Days)}, nil
}

// Run scores alerts against labels and benign look-alikes with default
// options (no false-alert rate). benign may be nil.
func Run(labels, benign io.Reader, alerts io.Reader) (Report, error) {
	return RunWithOptions(labels, benign, alerts, Options{})
}

// RunWithOptions scores alerts against labels and benign look-alikes. benign
// may be nil.
func RunWithOptions(labels, benign, alerts io.Reader, opt Options) (Report, error) {
	if opt.Slack == 0 {
		opt.Slack = DefaultSlack
	}
	ls, err := readLines[Label](labels, "labels")
	if err != nil {
		return Report{}, err
	}
	var bs []Label
	if benign != nil {
		if bs, err = readLines[Label](benign, "benign"); err != nil {
			return Report{}, err
		}
	}
	for _, set := range []struct {
		what string
		ls   []Label
	}{{"labels", ls}, {"benign", bs}} {
		what := set.what
		for i, l := range set.ls {
			if l.Entity == "" || l.Start.IsZero() || l.End.IsZero() || l.End.Before(l.Start) {
				return Report{}, fmt.Errorf("evaluate: %s record %d (%s %q): want an entity and start <= end, got [%s, %s]",
					what, i+1, l.Scenario, l.Entity, l.Start.Format(time.RFC3339), l.End.Format(time.RFC3339))
			}
		}
	}
	as, err := readAlerts(alerts)
	if err != nil {
		return Report{}, err
	}
	return score(ls, bs, as, opt), nil
}

// readLines decodes one JSON object per non-blank line.
func readLines[T any](r io.Reader, what string) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			return nil, fmt.Errorf("evaluate: %s line %d: %w", what, n, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("evaluate: read %s: %w", what, err)
	}
	return out, nil
}

// readAlerts reads alert lines; several lines with the same id are one
// alert as it grew, merged to its widest span and earliest raise.
func readAlerts(r io.Reader) ([]*alert, error) {
	raw, err := readLines[alert](r, "alerts")
	if err != nil {
		return nil, err
	}
	var out []*alert
	byID := map[string]*alert{}
	for i := range raw {
		a := &raw[i]
		a.line = i + 1
		if a.Entity.ID == "" {
			return nil, fmt.Errorf("evaluate: alerts record %d (id %q): no entity.id", a.line, a.ID)
		}
		if a.LastSeen.Before(a.FirstSeen) {
			a.LastSeen = a.FirstSeen
		}
		a.raised = a.FirstSeen
		for _, s := range a.Signals {
			if !s.Time.IsZero() && s.Time.Before(a.raised) {
				a.raised = s.Time
			}
		}
		if prev := byID[a.ID]; a.ID != "" && prev != nil {
			if a.FirstSeen.Before(prev.FirstSeen) {
				prev.FirstSeen = a.FirstSeen
			}
			if a.LastSeen.After(prev.LastSeen) {
				prev.LastSeen = a.LastSeen
			}
			if a.raised.Before(prev.raised) {
				prev.raised = a.raised
			}
			continue
		}
		if a.ID != "" {
			byID[a.ID] = a
		}
		out = append(out, a)
	}
	return out, nil
}

func overlaps(a *alert, l *Label, slack time.Duration) bool {
	return strings.EqualFold(strings.TrimSpace(a.Entity.ID), strings.TrimSpace(l.Entity)) &&
		!a.FirstSeen.After(l.End.Add(slack)) && !a.LastSeen.Before(l.Start)
}

func alertName(a *alert) string {
	if a.ID != "" {
		return a.ID
	}
	return fmt.Sprintf("line %d", a.line)
}

func score(ls, bs []Label, as []*alert, opt Options) Report {
	rep := Report{Alerts: len(as), Labels: len(ls), Identities: opt.Identities, Days: opt.Days}
	scen := map[string]*ScenarioResult{}
	var order []string
	get := func(name string) *ScenarioResult {
		if s := scen[name]; s != nil {
			return s
		}
		s := &ScenarioResult{Scenario: name, alertIDs: map[string]bool{}, falseID: map[string]bool{}}
		scen[name] = s
		order = append(order, name)
		return s
	}
	truePos := make([]bool, len(as))
	var ttds []float64
	for i := range ls {
		l := &ls[i]
		sr := get(l.Scenario)
		sr.Labels++
		res := LabelResult{Scenario: l.Scenario, Entity: l.Entity, Start: l.Start, End: l.End, Alerts: []string{}}
		var first time.Time
		for k, a := range as {
			if !overlaps(a, l, opt.Slack) {
				continue
			}
			truePos[k] = true
			sr.alertIDs[alertName(a)] = true
			res.Alerts = append(res.Alerts, alertName(a))
			if first.IsZero() || a.raised.Before(first) {
				first = a.raised
			}
		}
		if len(res.Alerts) > 0 {
			res.Detected = true
			res.TTDSeconds = max(0, first.Sub(l.Start).Seconds())
			rep.Detected++
			sr.Detected++
			ttds = append(ttds, res.TTDSeconds)
			sr.ttd = append(sr.ttd, res.TTDSeconds)
		}
		rep.Results = append(rep.Results, res)
	}
	rep.Missed = rep.Labels - rep.Detected
	for k, a := range as {
		if truePos[k] {
			rep.TruePositives++
			continue
		}
		fa := FalseAlertResult{ID: a.ID, Rule: a.Rule, Entity: a.Entity.ID, FirstSeen: a.FirstSeen}
		for i := range bs {
			if overlaps(a, &bs[i], opt.Slack) {
				fa.Lookalike = bs[i].Scenario
				break
			}
		}
		rep.FalseAlerts = append(rep.FalseAlerts, fa)
	}
	rep.FalsePositives = len(rep.FalseAlerts)
	for i := range bs {
		b := &bs[i]
		lr := LookalikeResult{Scenario: b.Scenario, LookalikeOf: b.LookalikeOf, Entity: b.Entity, Alerts: []string{}}
		for k, a := range as {
			if !truePos[k] && overlaps(a, b, opt.Slack) {
				lr.Alerts = append(lr.Alerts, alertName(a))
				if b.LookalikeOf != "" {
					get(b.LookalikeOf).falseID[alertName(a)] = true
				}
			}
		}
		rep.Lookalikes = append(rep.Lookalikes, lr)
	}
	rep.Precision = ratio(rep.TruePositives, rep.Alerts)
	rep.Recall = ratio(rep.Detected, rep.Labels)
	rep.TTDMedianSeconds, rep.TTDMaxSeconds = medianMax(ttds)
	if opt.Identities > 0 && opt.Days > 0 {
		v := float64(rep.FalsePositives) / (float64(opt.Identities) / 1000) / opt.Days
		rep.FalsePer1000IdentityDays = &v
	}
	slices.Sort(order)
	for _, name := range order {
		s := scen[name]
		s.TruePositives = len(s.alertIDs)
		s.LookalikeFalse = len(s.falseID)
		s.Precision = ratio(s.TruePositives, s.TruePositives+s.LookalikeFalse)
		s.Recall = ratio(s.Detected, s.Labels)
		s.TTDMedianSeconds, s.TTDMaxSeconds = medianMax(s.ttd)
		rep.Scenarios = append(rep.Scenarios, *s)
	}
	if rep.Scenarios == nil {
		rep.Scenarios = []ScenarioResult{}
	}
	if rep.Results == nil {
		rep.Results = []LabelResult{}
	}
	if rep.Lookalikes == nil {
		rep.Lookalikes = []LookalikeResult{}
	}
	if rep.FalseAlerts == nil {
		rep.FalseAlerts = []FalseAlertResult{}
	}
	return rep
}

// ratio is n/d, and 0 when there is nothing to divide (no alerts, no labels).
func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

func medianMax(v []float64) (median, maxv float64) {
	if len(v) == 0 {
		return 0, 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		median = s[n/2]
	} else {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return median, s[len(s)-1]
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("evaluate: encode report: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// errWriter keeps the first write error so the table code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, a ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, a...)
	}
}

func dur(sec float64) string {
	return (time.Duration(sec) * time.Second).String()
}

// WriteTable writes the report for a person to read.
func (r Report) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("%-36s %6s %8s %6s %9s %7s %10s %10s\n", "SCENARIO", "LABELS", "DETECTED", "TP", "PRECISION", "RECALL", "TTD MEDIAN", "TTD MAX")
	for _, s := range r.Scenarios {
		ew.printf("%-36s %6d %8d %6d %9.2f %7.2f %10s %10s\n", s.Scenario, s.Labels, s.Detected, s.TruePositives,
			s.Precision, s.Recall, dur(s.TTDMedianSeconds), dur(s.TTDMaxSeconds))
	}
	ew.printf("%-36s %6d %8d %6d %9.2f %7.2f %10s %10s\n", "TOTAL", r.Labels, r.Detected, r.TruePositives,
		r.Precision, r.Recall, dur(r.TTDMedianSeconds), dur(r.TTDMaxSeconds))
	ew.printf("\nalerts: %d  true positives: %d  false positives: %d  missed labels: %d\n",
		r.Alerts, r.TruePositives, r.FalsePositives, r.Missed)
	if r.FalsePer1000IdentityDays != nil {
		ew.printf("false alerts per 1,000 identities per day: %.3f (%d identities, %g days)\n",
			*r.FalsePer1000IdentityDays, r.Identities, r.Days)
	} else {
		ew.printf("false alerts per 1,000 identities per day: n/a (identities or days unknown)\n")
	}
	for _, l := range r.Results {
		if !l.Detected {
			ew.printf("missed: %s %s %s\n", l.Scenario, l.Entity, l.Start.UTC().Format(time.RFC3339))
		}
	}
	for _, l := range r.Lookalikes {
		if len(l.Alerts) > 0 {
			ew.printf("look-alike alerted: %s (of %s) %s: %s\n", l.Scenario, l.LookalikeOf, l.Entity, strings.Join(l.Alerts, ", "))
		}
	}
	return ew.err
}
