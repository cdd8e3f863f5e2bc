package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/alert"
	"github.com/reposentry/reposentry/baseline"
	"github.com/reposentry/reposentry/chain"
	"github.com/reposentry/reposentry/config"
	"github.com/reposentry/reposentry/detect"
	"github.com/reposentry/reposentry/engine"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/novelty"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/entra"
	"github.com/reposentry/reposentry/parser/github"
	"github.com/reposentry/reposentry/parser/okta"
	"github.com/reposentry/reposentry/pipeline"
	"github.com/reposentry/reposentry/sigma"
	"github.com/reposentry/reposentry/sink"
	"github.com/reposentry/reposentry/source"
	"github.com/reposentry/reposentry/store"
)

const huntUsage = `hunt [--format table|jsonl] [--config FILE] [--rules DIR] [--state DIR] [--out FILE] [--stats FILE] PATH...

PATH is a file (plain or gzip), a folder (walked) or - for standard input.
Formats are detected per record: GitHub audit-log REST API pages, streaming and
export NDJSON, Splunk HEC envelopes and Azure Event Hubs "records" wrappers; Okta
System Log (API pages, NDJSON, event hooks, EventBridge); Microsoft Entra ID
sign-ins and directory audits (Graph, diagnostic settings, Log Analytics).`

// defaultPrescanSample is how many records of each file the pre-scan reads
// to place the file in time; --exact-order reads them all.
const defaultPrescanSample = 100

// maxRejectMessages bounds how many bad-record messages hunt prints; all of
// them are still counted in the summary.
const maxRejectMessages = 20

// huntOptions are hunt's flags.
type huntOptions struct {
	format    string
	config    string
	out       string
	stats     string
	presorted bool
	exact     bool
	quiet     bool
	profile   string
	ruleDirs  []string
	state     string
	paths     []string
}

func cmdHunt(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("hunt", stderr, huntUsage)
	var o huntOptions
	fs.StringVar(&o.format, "format", "table", "alert output: table or jsonl (one alert per line, the alert contract)")
	fs.StringVar(&o.config, "config", "", "YAML configuration file (see config/example.yaml)")
	fs.StringVar(&o.out, "out", "", "write alerts to FILE instead of standard output")
	fs.StringVar(&o.stats, "stats", "", "also write the closing summary as JSON to FILE")
	fs.BoolVar(&o.presorted, "presorted", false, "inputs are already in time order: skip the pre-scan that orders files")
	fs.BoolVar(&o.exact, "exact-order", false, "pre-scan every record of every file (not just the first ones), so files whose\nlater records go back in time are still merged in exact event-time order")
	fs.StringVar(&o.state, "state", "", "keep what detections learn (baselines, first-seen places, routine repositories)\nin FOLDER between runs, so yesterday's hunt informs today's")
	fs.StringVar(&o.profile, "cpuprofile", "", "write a Go CPU profile of the hunt to FILE (for performance reports)")
	fs.Func("rules", "add a folder of your own Sigma rules to the built-in pack (repeatable)", func(d string) error {
		o.ruleDirs = append(o.ruleDirs, d)
		return nil
	})
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bar and no summary on stderr")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	o.paths = paths
	if len(o.paths) == 0 {
		return usagef("no PATH given (a file, a folder or - for stdin)")
	}
	if o.format != "table" && o.format != "jsonl" {
		return usagef("--format %q: want table or jsonl", o.format)
	}
	return hunt(ctx, o, stdout, stderr)
}

// hunt runs the whole pipeline over o.paths: sources → parser → enrichment →
// engine (detections) → alert aggregation → sink, then prints the summary.
func hunt(ctx context.Context, o huntOptions, stdout, stderr io.Writer) error {
	cfg := config.Default()
	if o.config != "" {
		var err error
		if cfg, err = config.Load(o.config); err != nil {
			return err
		}
	}
	inputs, err := source.Walk(o.paths)
	if err != nil {
		return err
	}
	if len(inputs) == 0 {
		return fmt.Errorf("no input files in %s (folders are walked; dot-files are skipped)", strings.Join(o.paths, ", "))
	}

	var out io.Writer = stdout
	var outFile *os.File
	if o.out != "" {
		if outFile, err = os.Create(o.out); err != nil {
			return fmt.Errorf("open --out: %w", err)
		}
		defer outFile.Close() // on early returns; the good path closes it and checks
		out = outFile
	}
	var sk sink.Sink
	if o.format == "jsonl" {
		sk = sink.NewJSONL(out)
	} else {
		sk = sink.NewTable(out, o.out == "" && isTerminal(stdout))
	}

	summary := sink.Summary{AlertsBySeverity: map[string]int{}}
	var sinkErr error
	st, err := newStack(ctx, cfg, stackOptions{ruleDirs: o.ruleDirs}, func(a reposentry.Alert) {
		summary.Alerts++
		summary.AlertsBySeverity[a.Severity.String()]++
		if err := sk.Write(a); err != nil && sinkErr == nil {
			sinkErr = err
		}
	})
	if err != nil {
		return err
	}
	defer st.close()
	summary.Notes = append(summary.Notes, st.notes...)
	var states store.StateStore
	var done, marks hunted
	if o.state != "" {
		var note string
		if states, note, err = openState(ctx, o.state, st.detectors, st.agg); err != nil {
			return err
		}
		defer states.Close()
		summary.Notes = append(summary.Notes, note)
		if done, err = loadHunted(ctx, states); err != nil {
			return err
		}
		var skipped []string
		inputs, skipped, marks = done.split(inputs)
		if len(skipped) > 0 {
			names := strings.Join(skipped[:min(len(skipped), 3)], ", ")
			if len(skipped) > 3 {
				names += ", …"
			}
			summary.Notes = append(summary.Notes, fmt.Sprintf("%d files already hunted with this state were skipped, so their events are not counted twice (%s); hunt them with another --state folder, or none, to see their alerts again",
				len(skipped), names))
		}
	}
	if !o.quiet {
		for _, e := range st.ruleErrs {
			fmt.Fprintf(stderr, "rule not loaded: %v\n", e)
		}
	}

	var bar *sink.Progress
	if !o.quiet && isTerminal(stderr) {
		var total int64
		for _, in := range inputs {
			total += max(in.Size, 0)
		}
		bar = sink.NewProgress(stderr, total)
	}
	rejectsShown := 0
	pcfg := st.pipeline
	pcfg.OnReject = func(origin reposentry.Origin, reason string, err error) {
		if o.quiet || rejectsShown >= maxRejectMessages {
			return
		}
		rejectsShown++
		prefix := ""
		if bar != nil {
			prefix = "\r\x1b[K" // erase the bar's line; it redraws on its next update
		}
		fmt.Fprintf(stderr, "%s%s: %s\n", prefix, where(origin), err)
	}
	pcfg.Presorted = o.presorted
	if states != nil {
		// The end of this run is not the end of time: closing every window
		// (the default 30-day flush margin) would age the state the next run
		// continues from. Windows still open are saved, not closed.
		pcfg.Engine.FlushMargin = time.Nanosecond
	}
	if o.exact {
		pcfg.PrescanSample = 0
	}
	if bar != nil {
		pcfg.Progress = func(done, total int64) { bar.Update(done, st.events) }
	}
	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			return fmt.Errorf("open --cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start --cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	ps, err := pipeline.Hunt(ctx, inputs, pcfg)
	if bar != nil {
		bar.Done()
	}
	if err != nil {
		return err
	}
	st.flush()
	if states != nil && (len(marks) > 0 || ps.Events > 0) {
		meta := store.Meta{SavedAt: time.Now(), EventsUntil: ps.Last, Events: ps.Events}
		files, err := done.encode(marks)
		if err != nil {
			return err
		}
		if err := saveState(ctx, states, st.detectors, meta, map[string][]byte{huntedKey: files}, st.agg); err != nil {
			return err
		}
	} else if ps.Events > 0 {
		summary.Notes = append(summary.Notes, fmt.Sprintf("cold start: no saved history, so detections that compare with the past (new places, baselines) learnt from this run's first %s only (--state DIR carries what they learn to the next run)",
			cfg.Detect.LearningPeriod))
	}
	if err := sk.Close(); err != nil && sinkErr == nil {
		sinkErr = err
	}
	if outFile != nil {
		// A failed close can mean alerts never reached the disk.
		if err := outFile.Close(); err != nil && sinkErr == nil {
			sinkErr = err
		}
	}
	if sinkErr != nil {
		return fmt.Errorf("writing alerts: %w", sinkErr)
	}

	fillSummary(&summary, ps)
	if ps.Late > 0 && !o.exact {
		summary.Notes = append(summary.Notes, fmt.Sprintf("%d events arrived later than the engine's lateness bound (an input not in time order); they were processed, but windows may have missed them: run again with --exact-order", ps.Late))
	}
	if ps.Rejected > int64(rejectsShown) && !o.quiet {
		summary.Notes = append(summary.Notes, fmt.Sprintf("%d rejected records not printed above; see rejected_by_reason", ps.Rejected-int64(rejectsShown)))
	}
	if !o.quiet {
		fmt.Fprintln(stderr)
		if err := summary.WriteText(stderr); err != nil {
			return err
		}
	}
	if o.stats != "" {
		f, err := os.Create(o.stats)
		if err != nil {
			return fmt.Errorf("open --stats: %w", err)
		}
		if err := summary.WriteJSON(f); err != nil {
			f.Close()
			return fmt.Errorf("write --stats %s: %w", o.stats, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write --stats %s: %w", o.stats, err)
		}
	}
	return nil
}

// stack is everything between the sources and the sink, built from one
// configuration: enrichment, detections and the alert stage, wired into a
// pipeline configuration. hunt and bench share it so that bench measures
// exactly what hunt runs.
type stack struct {
	enrichment *enrichment
	agg        *alert.Aggregator
	detectors  []engine.Detector
	pipeline   pipeline.Config
	emit       func(reposentry.Alert)
	events     int64 // events enriched so far, for the progress bar
	// ruleErrs are the Sigma rules that could not be loaded (the others
	// run); notes say what was loaded, for the summary.
	ruleErrs []error
	notes    []string
}

// stackOptions choose the detections beyond the configuration: user rule
// folders, and (for bench, to measure what each costs) leaving out the
// behaviour baselines, the Sigma rules or the session chains.
type stackOptions struct {
	ruleDirs   []string
	noBaseline bool
	noSigma    bool
	noChain    bool
}

// newStack wires the stages for cfg: the threshold and context detections,
// the behaviour baselines, and the built-in Sigma pack plus the rules in
// opts.ruleDirs; emit receives every finished alert with its entity's
// accounts filled in. The caller closes the stack.
func newStack(ctx context.Context, cfg config.Config, opts stackOptions, emit func(reposentry.Alert)) (*stack, error) {
	en, err := newEnrichment(ctx, cfg)
	if err != nil {
		return nil, err
	}
	opts.noBaseline = opts.noBaseline || cfg.Disabled("baseline")
	opts.noChain = opts.noChain || cfg.Disabled("chain")
	opts.noSigma = opts.noSigma || cfg.Disabled("sigma")
	st := &stack{
		enrichment: en,
		agg:        alert.New(cfg.Alert),
		detectors:  detect.New(cfg.Detect),
		notes:      en.notes,
	}
	if !opts.noChain {
		st.detectors = append(st.detectors, chain.New(cfg.Chain)...)
	}
	if !opts.noBaseline {
		st.detectors = append(st.detectors, baseline.New(cfg.Baseline))
	}
	if !opts.noBaseline && !cfg.Disabled("novelty") {
		st.detectors = append(st.detectors, novelty.New(cfg.Novelty))
	}
	var rs *sigma.RuleSet
	if !opts.noSigma {
		rs, st.ruleErrs = loadRules(true, opts.ruleDirs)
		st.detectors = append(st.detectors, sigma.NewDetector(rs))
	}
	if rs != nil {
		note := fmt.Sprintf("Sigma rules: %d loaded", len(rs.Rules()))
		if len(st.ruleErrs) > 0 {
			note += fmt.Sprintf(", %d not loaded (see above)", len(st.ruleErrs))
		}
		st.notes = append(st.notes, note)
	}
	st.emit = func(a reposentry.Alert) {
		a.Entity.Accounts = mergeAccounts(a.Entity.Accounts, en.accounts(a.Entity.ID))
		emit(a)
	}
	st.pipeline = pipeline.Config{
		Source: source.Options{MaxRecordBytes: cfg.Input.MaxRecordBytes},
		NewParser: func() *parser.Parser {
			return parser.New(intern.New(1<<16), github.New(), okta.New(), entra.New())
		},
		Enrich: func(ev *reposentry.Event) {
			st.events++
			en.enrich(ev)
		},
		Engine:        cfg.Engine,
		Detectors:     st.detectors,
		PrescanSample: defaultPrescanSample,
		OnSignal: func(s reposentry.Signal) {
			st.agg.Advance(s.Time, st.emit)
			st.agg.Add(s)
		},
	}
	return st, nil
}

// close releases what the enrichment opened.
func (st *stack) close() { st.enrichment.close() }

// flush closes every open incident at the end of the input.
func (st *stack) flush() { st.agg.Flush(st.emit) }

// fillSummary copies the pipeline's account into the closing summary.
func fillSummary(s *sink.Summary, st pipeline.Stats) {
	s.Records = st.Records
	s.Parsed = st.Events
	s.Rejected = st.Rejected
	s.RejectedByReason = st.RejectedByReason
	s.Files = st.Files
	s.Bytes = st.Bytes
	s.Late = st.Late
	s.Duplicates = st.Duplicates
	s.FirstEvent = st.First
	s.LastEvent = st.Last
	s.Elapsed = st.Total
	if sec := st.Total.Seconds(); sec > 0 {
		s.EventsPerSecond = float64(st.Events) / sec
	}
}

// where renders an origin as "file:line" (with the element index for
// wrapped records), the form editors and terminals link to.
func where(o reposentry.Origin) string {
	s := o.Source
	if o.Line > 0 {
		s += fmt.Sprintf(":%d", o.Line)
	}
	if o.Index > 0 {
		s += fmt.Sprintf(" (element %d)", o.Index)
	}
	return s
}

// mergeAccounts returns the sorted union of two account lists.
func mergeAccounts(a, b []string) []string {
	seen := make(map[string]bool, len(a)+len(b))
	var out []string
	for _, l := range [][]string{a, b} {
		for _, s := range l {
			if s != "" && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && sink.IsTerminal(f)
}
