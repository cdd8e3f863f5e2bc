package sigma

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/reposentry/reposentry"
)

// platformSet is a set of platforms a rule applies to.
type platformSet uint16

const allPlatforms platformSet = 1<<16 - 1

func (s platformSet) has(p reposentry.Platform) bool { return p < 16 && s&(1<<p) != 0 }

// routeLogsource maps a logsource onto the platforms whose events it
// describes. Category is informational: reposentry's categories are matched
// with the category field instead.
func routeLogsource(ls Logsource) (platformSet, error) {
	one := func(p reposentry.Platform) platformSet { return 1 << p }
	switch ls.Product {
	case "":
		return allPlatforms, nil
	case "github":
		return one(reposentry.PlatformGitHub), nil
	case "gitlab":
		return one(reposentry.PlatformGitLab), nil
	case "bitbucket":
		return one(reposentry.PlatformBitbucket), nil
	case "azuredevops", "azure_devops":
		return one(reposentry.PlatformAzureDevOps), nil
	case "gitea":
		return one(reposentry.PlatformGitea), nil
	case "git":
		return one(reposentry.PlatformGit), nil
	case "okta":
		return one(reposentry.PlatformOkta), nil
	case "entra", "entra_id":
		return one(reposentry.PlatformEntra), nil
	case "azure":
		if ls.Service == "" || ls.Service == "signinlogs" || ls.Service == "signin" {
			return one(reposentry.PlatformEntra), nil
		}
		if ls.Service == "devops" || ls.Service == "auditlogs_devops" {
			return one(reposentry.PlatformAzureDevOps), nil
		}
		return 0, fmt.Errorf("logsource product azure service %q is not a source reposentry reads (want signinlogs or devops)", ls.Service)
	}
	return 0, fmt.Errorf("logsource product %q is not a source reposentry reads (want github, gitlab, bitbucket, azuredevops, gitea, git, okta or azure)", ls.Product)
}

// RuleSet is a loaded set of rules with their cross references resolved.
type RuleSet struct {
	rules []*Rule
	byRef map[string]*Rule // id and name
}

// Rules returns the rules in load order.
func (rs *RuleSet) Rules() []*Rule { return rs.rules }

// Lookup returns the rule with the given id or name.
func (rs *RuleSet) Lookup(ref string) (*Rule, bool) {
	r, ok := rs.byRef[ref]
	return r, ok
}

// NewRuleSet checks the rules' ids and names for clashes and resolves the
// rules that correlations and filters refer to. Rules that fail are left
// out and reported.
func NewRuleSet(rules []*Rule) (*RuleSet, []error) {
	rs := &RuleSet{byRef: map[string]*Rule{}}
	var errs []error
	fail := func(r *Rule, format string, args ...any) {
		errs = append(errs, &Error{File: r.File, Line: r.Line, Rule: r.Title, Msg: fmt.Sprintf(format, args...)})
	}
	var kept []*Rule
	for _, r := range rules {
		clash := false
		for _, ref := range []string{r.ID, r.Name} {
			if ref == "" {
				continue
			}
			if o, ok := rs.byRef[ref]; ok && o != r {
				fail(r, "id or name %q is already used by %q (%s:%d)", ref, o.Title, o.File, o.Line)
				clash = true
			}
		}
		if clash {
			continue
		}
		for _, ref := range []string{r.ID, r.Name} {
			if ref != "" {
				rs.byRef[ref] = r
			}
		}
		kept = append(kept, r)
	}
	for _, r := range kept {
		var refs []string
		switch r.Kind {
		case KindCorrelation:
			refs = r.Correlation.Rules
		case KindFilter:
			refs = r.Filter.Rules
		}
		ok := true
		for _, ref := range refs {
			t, found := rs.byRef[ref]
			switch {
			case !found:
				fail(r, "refers to rule %q, which is not loaded", ref)
				ok = false
			case t.Kind != KindDetection:
				fail(r, "refers to %s rule %q; only detection rules can be referenced (correlation chaining is not supported)", t.Kind, ref)
				ok = false
			}
		}
		if ok {
			rs.rules = append(rs.rules, r)
			continue
		}
		delete(rs.byRef, r.ID)
		delete(rs.byRef, r.Name)
	}
	return rs, errs
}

// LoadFS loads every .yml and .yaml file under root in fsys. One bad rule
// never stops the others: each problem is reported as an *Error naming the
// file, line and what is wrong.
func LoadFS(fsys fs.FS, root string) (*RuleSet, []error) {
	return LoadFSOptions(fsys, root, Options{})
}

// LoadFSOptions is LoadFS with compilation options (placeholder values).
func LoadFSOptions(fsys fs.FS, root string, opts Options) (*RuleSet, []error) {
	return loadFS(fsys, root, opts, "")
}

// loadFS loads rules, naming files with prefix joined to their path in fsys.
func loadFS(fsys fs.FS, root string, opts Options, prefix string) (*RuleSet, []error) {
	name := func(p string) string {
		if prefix == "" {
			return p
		}
		return filepath.Join(prefix, filepath.FromSlash(p))
	}
	var all []*Rule
	var errs []error
	walkErr := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, &Error{File: name(p), Msg: err.Error()})
			return nil
		}
		ext := path.Ext(p)
		if d.IsDir() || (ext != ".yml" && ext != ".yaml") {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, &Error{File: name(p), Msg: err.Error()})
			return nil
		}
		rules, perrs := ParseFile(name(p), data, opts)
		all = append(all, rules...)
		errs = append(errs, perrs...)
		return nil
	})
	if walkErr != nil {
		errs = append(errs, &Error{File: name(root), Msg: walkErr.Error()})
	}
	rs, rerrs := NewRuleSet(all)
	return rs, append(errs, rerrs...)
}

// LoadDir loads the rules under a directory (or a single rule file).
func LoadDir(dir string) (*RuleSet, []error) {
	st, err := os.Stat(dir)
	if err != nil {
		return &RuleSet{byRef: map[string]*Rule{}}, []error{&Error{File: dir, Msg: err.Error()}}
	}
	if !st.IsDir() {
		return loadFS(os.DirFS(filepath.Dir(dir)), filepath.Base(dir), Options{}, filepath.Dir(dir))
	}
	return loadFS(os.DirFS(dir), ".", Options{}, dir)
}

// Validate loads the rules under root and writes one line per problem to w
// ("file:line: rule "title": what is wrong") followed by a summary line. It
// returns the number of problems, for `reposentry rules validate`.
func Validate(w io.Writer, fsys fs.FS, root string) (int, error) {
	rs, errs := LoadFS(fsys, root)
	for _, e := range errs {
		if _, err := fmt.Fprintln(w, e); err != nil {
			return len(errs), err
		}
	}
	_, err := fmt.Fprintf(w, "%d rules loaded, %d problems\n", len(rs.Rules()), len(errs))
	return len(errs), err
}

// WriteList writes a table of the rules, for `reposentry rules list`.
func WriteList(w io.Writer, rs *RuleSet) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tLEVEL\tLOGSOURCE\tTECHNIQUES\tTITLE")
	for _, r := range rs.Rules() {
		level := r.Level
		if level == "" {
			level = "-"
		}
		ls := strings.Trim(r.Logsource.Product+"/"+r.Logsource.Service, "/")
		if ls == "" {
			ls = "-"
		}
		tech := strings.Join(r.Techniques, ",")
		if tech == "" {
			tech = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Ref(), r.Kind, level, ls, tech, r.Title)
	}
	return tw.Flush()
}

// Subset returns a rule set with r and the rules it refers to, so that one
// rule can be run on its own (`reposentry rules test`).
func (rs *RuleSet) Subset(r *Rule) *RuleSet {
	out := &RuleSet{byRef: map[string]*Rule{}}
	add := func(x *Rule) {
		for _, have := range out.rules {
			if have == x {
				return
			}
		}
		out.rules = append(out.rules, x)
		for _, ref := range []string{x.ID, x.Name} {
			if ref != "" {
				out.byRef[ref] = x
			}
		}
	}
	var refs []string
	switch r.Kind {
	case KindCorrelation:
		refs = r.Correlation.Rules
	case KindFilter:
		refs = r.Filter.Rules
	}
	for _, ref := range refs {
		if t, ok := rs.byRef[ref]; ok {
			add(t)
		}
	}
	add(r)
	return out
}

// Run runs rs over events (in the order given, which should be event time)
// as a fresh Detector, advancing past the last event so that every window
// closes, and returns the signals.
func Run(rs *RuleSet, events []reposentry.Event) []reposentry.Signal {
	d := NewDetector(rs)
	var out []reposentry.Signal
	emit := func(s reposentry.Signal) { out = append(out, s) }
	var last, advanced time.Time
	for i := range events {
		ev := &events[i]
		// One Advance per minute boundary crossed is what the engine does;
		// a single call at the latest boundary has the same effect.
		if t := ev.Time.Truncate(time.Minute); t.After(advanced) && !last.IsZero() {
			d.Advance(t, emit)
			advanced = t
		}
		d.Process(ev, emit)
		last = ev.Time
	}
	if !last.IsZero() {
		d.Advance(last.Add(maxTimespan(rs)+time.Minute), emit)
	}
	return out
}

func maxTimespan(rs *RuleSet) time.Duration {
	var m time.Duration
	for _, r := range rs.rules {
		if r.Correlation != nil && r.Correlation.Timespan > m {
			m = r.Correlation.Timespan
		}
	}
	return m
}
