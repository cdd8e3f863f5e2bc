package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
	"go.yaml.in/yaml/v3"
)

// Kind says what a Sigma document defines.
type Kind uint8

// Document kinds.
const (
	KindDetection   Kind = iota // a rule with a detection section
	KindCorrelation             // a correlation rule over other rules
	KindFilter                  // a meta filter excluding other rules' matches
)

func (k Kind) String() string {
	if names := [...]string{"detection", "correlation", "filter"}; int(k) < len(names) {
		return names[k]
	}
	return "unknown"
}

// Logsource is a rule's log source.
type Logsource struct {
	Product  string
	Service  string
	Category string
}

// Rule is one parsed and compiled Sigma document.
type Rule struct {
	Kind           Kind
	Title          string
	ID             string
	Name           string
	Status         string
	Description    string
	References     []string
	Author         string
	Date           string
	Modified       string
	Tags           []string
	Level          string
	Severity       reposentry.Severity
	FalsePositives []string
	Fields         []string
	Logsource      Logsource
	// Techniques and Tactics are the ATT&CK ids derived from Tags.
	Techniques []string
	Tactics    []string

	// File and Line say where the document starts.
	File string
	Line int

	// Correlation is set for KindCorrelation, Filter for KindFilter.
	Correlation *Correlation
	Filter      *Filter

	cond     node            // compiled condition (detection and filter)
	platform platformSet     // logsource routing
	actions  map[string]bool // prefilter: folded action literals; nil = any
}

// Ref returns the name a rule is referred to by in signals: its id, else
// its name, else its title.
func (r *Rule) Ref() string {
	switch {
	case r.ID != "":
		return r.ID
	case r.Name != "":
		return r.Name
	}
	return r.Title
}

// Correlation is the correlation section of a correlation rule.
type Correlation struct {
	Type     string   // event_count, value_count, temporal, temporal_ordered
	Rules    []string // referenced rule ids or names, as written
	GroupBy  []string
	Timespan time.Duration
	Field    string // value_count: the field whose distinct values count
	// Conditions are ANDed; temporal rules default to "all rules seen".
	Conditions []CountCondition
	// Aliases maps an alias to rule name → field.
	Aliases  map[string]map[string]string
	Generate bool
}

// CountCondition is one comparison of a correlation condition.
type CountCondition struct {
	Op    string // gt, gte, lt, lte, eq
	Value int
}

func (c CountCondition) holds(n int) bool {
	switch c.Op {
	case "gt":
		return n > c.Value
	case "gte":
		return n >= c.Value
	case "lt":
		return n < c.Value
	case "lte":
		return n <= c.Value
	}
	return n == c.Value
}

// Filter is the filter section of a meta filter.
type Filter struct {
	Rules []string // rule ids or names the filter applies to
}

// Options tune rule compilation.
type Options struct {
	// Placeholders gives the values of %name% placeholders for the expand
	// modifier. A rule using a placeholder that has no values is rejected.
	Placeholders map[string][]string
}

// Error is a problem with one rule, located in its file.
type Error struct {
	File string
	Line int
	Rule string // the rule's title or id, when known
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Rule != "" {
		fmt.Fprintf(&b, ": rule %q", e.Rule)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// posError carries a YAML line through compilation before the file and
// rule are known.
type posError struct {
	line int
	msg  string
}

func (e *posError) Error() string { return e.msg }

func errAt(n *yaml.Node, format string, args ...any) error {
	return &posError{line: n.Line, msg: fmt.Sprintf(format, args...)}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a scalar"
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// ParseFile parses every YAML document in data. Rules that fail are left
// out and reported, one *Error each; the others are returned.
func ParseFile(file string, data []byte, opts Options) ([]*Rule, []error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var rules []*Rule
	var errs []error
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			e := &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
			if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
				e.Line, _ = strconv.Atoi(m[1])
			}
			errs = append(errs, e)
			break // the decoder cannot resynchronise after a syntax error
		}
		if len(doc.Content) == 0 {
			continue
		}
		r, err := parseDoc(doc.Content[0], &opts)
		if err != nil {
			e := &Error{File: file, Msg: err.Error()}
			var pe *posError
			if errors.As(err, &pe) {
				e.Line = pe.line
			}
			if r != nil {
				e.Rule = r.Title
				if e.Rule == "" {
					e.Rule = r.ID
				}
			}
			errs = append(errs, e)
			continue
		}
		r.File = file
		rules = append(rules, r)
	}
	return rules, errs
}

// mapping returns the key → value pairs of a mapping node, rejecting
// duplicates.
func mapping(n *yaml.Node, what string) ([][2]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errAt(n, "%s must be a map, got %s", what, kindName(n))
	}
	seen := map[string]bool{}
	out := make([][2]*yaml.Node, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			return nil, errAt(k, "%s has a non-scalar key", what)
		}
		if seen[k.Value] {
			return nil, errAt(k, "%s has duplicate key %q", what, k.Value)
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, n.Content[i+1]})
	}
	return out, nil
}

func scalar(n *yaml.Node, key string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", errAt(n, "%s must be a scalar, got %s", key, kindName(n))
	}
	if n.Tag == "!!null" {
		return "", nil
	}
	return n.Value, nil
}

func stringList(n *yaml.Node, key string) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		s, err := scalar(n, key)
		if err != nil || s == "" {
			return nil, err
		}
		return []string{s}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n, "%s must be a list of strings, got %s", key, kindName(n))
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		s, err := scalar(c, key)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

var levels = map[string]reposentry.Severity{
	"informational": reposentry.SeverityInfo, "low": reposentry.SeverityLow, "medium": reposentry.SeverityMedium,
	"high": reposentry.SeverityHigh, "critical": reposentry.SeverityCritical,
}

var statuses = map[string]bool{"stable": true, "test": true, "experimental": true, "deprecated": true, "unsupported": true}

// parseDoc parses one YAML document into a rule. On error the returned rule
// (when not nil) carries the title and id read so far, for the message.
func parseDoc(root *yaml.Node, opts *Options) (*Rule, error) {
	pairs, err := mapping(root, "rule")
	if err != nil {
		return nil, err
	}
	r := &Rule{Line: root.Line, Severity: reposentry.SeverityMedium}
	var detection, correlation, filter *yaml.Node
	var titleNode *yaml.Node
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		var err error
		switch k.Value {
		case "title":
			titleNode = k
			r.Title, err = scalar(v, "title")
		case "id":
			r.ID, err = scalar(v, "id")
		case "name":
			r.Name, err = scalar(v, "name")
		case "status":
			if r.Status, err = scalar(v, "status"); err == nil && r.Status != "" && !statuses[r.Status] {
				err = errAt(v, "status %q is not one of stable, test, experimental, deprecated, unsupported", r.Status)
			}
		case "description":
			r.Description, err = scalar(v, "description")
		case "references":
			r.References, err = stringList(v, "references")
		case "author":
			r.Author, err = scalar(v, "author")
		case "date":
			r.Date, err = scalar(v, "date")
		case "modified":
			r.Modified, err = scalar(v, "modified")
		case "tags":
			r.Tags, err = stringList(v, "tags")
		case "level":
			if r.Level, err = scalar(v, "level"); err == nil && r.Level != "" {
				sev, ok := levels[r.Level]
				if !ok {
					err = errAt(v, "level %q is not one of informational, low, medium, high, critical", r.Level)
				}
				r.Severity = sev
			}
		case "falsepositives":
			r.FalsePositives, err = stringList(v, "falsepositives")
		case "fields":
			r.Fields, err = stringList(v, "fields")
		case "logsource":
			err = parseLogsource(v, &r.Logsource)
		case "detection":
			detection = v
		case "correlation":
			correlation = v
		case "filter":
			filter = v
		}
		if err != nil {
			return r, err
		}
	}
	if r.Title == "" {
		if titleNode != nil {
			return r, errAt(titleNode, "title is empty")
		}
		return r, errAt(root, "title is missing")
	}
	r.Techniques, r.Tactics = attackIDs(r.Tags)
	switch {
	case correlation != nil:
		r.Kind = KindCorrelation
		if detection != nil || filter != nil {
			return r, errAt(correlation, "a correlation rule cannot also have a detection or filter section")
		}
		r.Correlation, err = parseCorrelation(correlation)
		return r, err
	case filter != nil:
		r.Kind = KindFilter
		if detection != nil {
			return r, errAt(filter, "a filter cannot also have a detection section")
		}
		r.Filter = &Filter{}
		r.cond, r.Filter.Rules, err = parseFilter(filter, opts)
	case detection != nil:
		r.cond, err = parseDetection(detection, opts, nil)
	default:
		return r, errAt(root, "detection is missing")
	}
	if err != nil {
		return r, err
	}
	if r.platform, err = routeLogsource(r.Logsource); err != nil {
		return r, errAt(root, "%v", err)
	}
	if set, ok := actionSet(r.cond); ok && r.Kind == KindDetection {
		r.actions = make(map[string]bool, len(set))
		for a := range set {
			r.actions[a] = true
		}
	}
	return r, nil
}

func parseLogsource(n *yaml.Node, ls *Logsource) error {
	pairs, err := mapping(n, "logsource")
	if err != nil {
		return err
	}
	for _, kv := range pairs {
		var s string
		if s, err = scalar(kv[1], "logsource."+kv[0].Value); err != nil {
			return err
		}
		switch kv[0].Value {
		case "product":
			ls.Product = strings.ToLower(s)
		case "service":
			ls.Service = strings.ToLower(s)
		case "category":
			ls.Category = strings.ToLower(s)
		}
	}
	return nil
}

// parseDetection compiles a detection (or filter) section. skip lists keys
// that are not search identifiers (the filter's rules).
func parseDetection(n *yaml.Node, opts *Options, skip map[string]bool) (node, error) {
	pairs, err := mapping(n, "detection")
	if err != nil {
		return nil, err
	}
	sels := map[string]node{}
	var condNode *yaml.Node
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		switch {
		case skip[k.Value]:
			continue
		case k.Value == "condition":
			condNode = v
			continue
		case k.Value == "timeframe":
			return nil, errAt(k, "timeframe is not supported; express the window as a correlation rule")
		}
		sel, err := parseSearch(v, opts)
		if err != nil {
			return nil, err
		}
		sels[k.Value] = sel
	}
	if condNode == nil {
		return nil, errAt(n, "detection has no condition")
	}
	if len(sels) == 0 {
		return nil, errAt(n, "detection has no search identifiers")
	}
	var conds []string
	switch condNode.Kind {
	case yaml.ScalarNode:
		conds = []string{condNode.Value}
	case yaml.SequenceNode:
		if conds, err = stringList(condNode, "condition"); err != nil {
			return nil, err
		}
	default:
		return nil, errAt(condNode, "condition must be a string or a list of strings")
	}
	var nodes orNode
	for _, c := range conds {
		cn, err := parseCondition(c, sels)
		if err != nil {
			return nil, errAt(condNode, "%v", err)
		}
		nodes = append(nodes, cn)
	}
	if len(nodes) == 1 {
		return nodes[0], nil
	}
	return nodes, nil
}

// parseSearch compiles one search identifier: a map (AND of fields), a
// list (OR of its items; plain values are keywords) or a single keyword.
func parseSearch(v *yaml.Node, opts *Options) (node, error) {
	switch v.Kind {
	case yaml.MappingNode:
		return parseMap(v, opts)
	case yaml.SequenceNode:
		var alts orNode
		var kw []*yaml.Node
		for _, item := range v.Content {
			switch item.Kind {
			case yaml.ScalarNode:
				kw = append(kw, item)
			case yaml.MappingNode, yaml.SequenceNode:
				n, err := parseSearch(item, opts)
				if err != nil {
					return nil, err
				}
				alts = append(alts, n)
			default:
				return nil, errAt(item, "search identifier items must be maps or values, got %s", kindName(item))
			}
		}
		if len(kw) > 0 {
			k, err := keywords(kw, mods{}, opts)
			if err != nil {
				return nil, err
			}
			alts = append(alts, k)
		}
		if len(alts) == 0 {
			return nil, errAt(v, "search identifier is an empty list")
		}
		if len(alts) == 1 {
			return alts[0], nil
		}
		return alts, nil
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil, errAt(v, "search identifier is empty")
		}
		return keywords([]*yaml.Node{v}, mods{}, opts)
	}
	return nil, errAt(v, "search identifier must be a map or a list, got %s", kindName(v))
}

func parseMap(v *yaml.Node, opts *Options) (node, error) {
	pairs, err := mapping(v, "selection")
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, errAt(v, "selection is an empty map")
	}
	var and andNode
	for _, kv := range pairs {
		k, val := kv[0], kv[1]
		parts := strings.Split(k.Value, "|")
		m, err := parseMods(parts[1:])
		if err != nil {
			return nil, errAt(k, "field %q: %v", k.Value, err)
		}
		vals := flatten(val)
		if len(vals) == 0 {
			return nil, errAt(val, "field %q has no values", k.Value)
		}
		if m.all && len(vals) == 1 {
			return nil, errAt(k, "field %q: the all modifier needs a list of several values", k.Value)
		}
		if parts[0] == "" { // "|all": keywords over the whole record
			if m.typ != "" {
				return nil, errAt(k, "keyword search cannot use modifier %q", m.typ)
			}
			kn, err := keywords(vals, m, opts)
			if err != nil {
				return nil, err
			}
			and = append(and, kn)
			continue
		}
		ms, err := compileValues(vals, m, opts)
		if err != nil {
			return nil, err
		}
		all := m.all
		if m.neq {
			for i, x := range ms {
				ms[i] = negMatcher{x}
			}
			all = true
		}
		and = append(and, newFieldCond(newField(parts[0]), all, ms))
	}
	if len(and) == 1 {
		return and[0], nil
	}
	return and, nil
}

// flatten returns a value's scalars, flattening nested lists.
func flatten(n *yaml.Node) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		return []*yaml.Node{n}
	}
	var out []*yaml.Node
	for _, c := range n.Content {
		out = append(out, flatten(c)...)
	}
	return out
}

// keywords compiles values searched for anywhere in the raw record.
func keywords(vals []*yaml.Node, m mods, opts *Options) (node, error) {
	k := &keywordNode{all: m.all}
	m.chain = append(m.chain, "contains")
	for _, vn := range vals {
		if vn.Kind != yaml.ScalarNode || vn.Tag == "!!null" {
			return nil, errAt(vn, "keywords must be plain values")
		}
		ms, err := compileScalar(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: vn.Value, Line: vn.Line}, m, opts)
		if err != nil {
			return nil, errAt(vn, "keyword %q: %v", vn.Value, err)
		}
		for _, x := range ms {
			k.ms = append(k.ms, x.(*strMatcher))
		}
	}
	return k, nil
}

func parseFilter(n *yaml.Node, opts *Options) (node, []string, error) {
	pairs, err := mapping(n, "filter")
	if err != nil {
		return nil, nil, err
	}
	var rules []string
	for _, kv := range pairs {
		if kv[0].Value == "rules" {
			if rules, err = stringList(kv[1], "filter.rules"); err != nil {
				return nil, nil, err
			}
		}
	}
	if len(rules) == 0 {
		return nil, nil, errAt(n, "filter.rules must name at least one rule")
	}
	cond, err := parseDetection(n, opts, map[string]bool{"rules": true})
	return cond, rules, err
}

var timespanRE = regexp.MustCompile(`^([0-9]+)([smhd])$`)

func parseCorrelation(n *yaml.Node) (*Correlation, error) {
	pairs, err := mapping(n, "correlation")
	if err != nil {
		return nil, err
	}
	c := &Correlation{}
	var typeNode, tsNode, condNode *yaml.Node
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "type":
			typeNode = v
			c.Type, err = scalar(v, "correlation.type")
		case "rules":
			c.Rules, err = stringList(v, "correlation.rules")
		case "group-by":
			c.GroupBy, err = stringList(v, "correlation.group-by")
		case "timespan":
			tsNode = v
			var s string
			if s, err = scalar(v, "correlation.timespan"); err == nil {
				m := timespanRE.FindStringSubmatch(s)
				if m == nil {
					err = errAt(v, "timespan %q must be a number followed by s, m, h or d", s)
					break
				}
				num, _ := strconv.Atoi(m[1])
				unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
				c.Timespan = time.Duration(num) * unit
			}
		case "condition":
			condNode = v
			err = parseCountConditions(v, c)
		case "aliases":
			err = parseAliases(v, c)
		case "generate":
			var s string
			if s, err = scalar(v, "correlation.generate"); err == nil {
				c.Generate, err = strconv.ParseBool(s)
				if err != nil {
					err = errAt(v, "generate must be true or false, got %q", s)
				}
			}
		}
		if err != nil {
			return c, err
		}
	}
	switch c.Type {
	case "event_count", "value_count", "temporal", "temporal_ordered":
	case "":
		return c, errAt(n, "correlation.type is missing")
	default:
		return c, errAt(typeNode, "correlation type %q is not one of event_count, value_count, temporal, temporal_ordered", c.Type)
	}
	if len(c.Rules) == 0 {
		return c, errAt(n, "correlation.rules must name at least one rule")
	}
	if c.Timespan <= 0 {
		if tsNode != nil {
			return c, errAt(tsNode, "timespan must be positive")
		}
		return c, errAt(n, "correlation.timespan is missing")
	}
	if c.Type == "event_count" || c.Type == "value_count" {
		if len(c.Conditions) == 0 {
			return c, errAt(n, "%s needs a condition", c.Type)
		}
	}
	if c.Type == "value_count" && c.Field == "" {
		at := n
		if condNode != nil {
			at = condNode
		}
		return c, errAt(at, "value_count needs condition.field")
	}
	return c, nil
}

func parseCountConditions(n *yaml.Node, c *Correlation) error {
	pairs, err := mapping(n, "correlation.condition")
	if err != nil {
		return err
	}
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		s, err := scalar(v, "correlation.condition."+k.Value)
		if err != nil {
			return err
		}
		switch k.Value {
		case "field":
			c.Field = s
		case "gt", "gte", "lt", "lte", "eq":
			num, err := strconv.Atoi(s)
			if err != nil || num < 0 {
				return errAt(v, "condition %s needs a non-negative integer, got %q", k.Value, s)
			}
			c.Conditions = append(c.Conditions, CountCondition{Op: k.Value, Value: num})
		default:
			return errAt(k, "unknown correlation condition %q (want gt, gte, lt, lte, eq or field)", k.Value)
		}
	}
	sort.Slice(c.Conditions, func(i, j int) bool { return c.Conditions[i].Op < c.Conditions[j].Op })
	return nil
}

func parseAliases(n *yaml.Node, c *Correlation) error {
	pairs, err := mapping(n, "correlation.aliases")
	if err != nil {
		return err
	}
	c.Aliases = map[string]map[string]string{}
	for _, kv := range pairs {
		inner, err := mapping(kv[1], "alias "+kv[0].Value)
		if err != nil {
			return err
		}
		m := map[string]string{}
		for _, iv := range inner {
			if m[iv[0].Value], err = scalar(iv[1], "alias "+kv[0].Value); err != nil {
				return err
			}
		}
		c.Aliases[kv[0].Value] = m
	}
	return nil
}

var tacticIDs = map[string]string{
	"reconnaissance": "TA0043", "resource_development": "TA0042", "initial_access": "TA0001", "execution": "TA0002",
	"persistence": "TA0003", "privilege_escalation": "TA0004", "defense_evasion": "TA0005", "credential_access": "TA0006",
	"discovery": "TA0007", "lateral_movement": "TA0008", "collection": "TA0009", "command_and_control": "TA0011",
	"exfiltration": "TA0010", "impact": "TA0040",
}

var techniqueRE = regexp.MustCompile(`^t[0-9]{4}(\.[0-9]{3})?$`)

// attackIDs maps attack.* tags to technique and tactic ids.
func attackIDs(tags []string) (techniques, tactics []string) {
	for _, t := range tags {
		name, ok := strings.CutPrefix(strings.ToLower(t), "attack.")
		if !ok {
			continue
		}
		name = strings.ReplaceAll(name, "-", "_")
		switch {
		case techniqueRE.MatchString(name):
			techniques = append(techniques, strings.ToUpper(name))
		case strings.HasPrefix(name, "ta") && len(name) == 6:
			tactics = append(tactics, strings.ToUpper(name))
		case tacticIDs[name] != "":
			tactics = append(tactics, tacticIDs[name])
		}
	}
	return techniques, tactics
}
