package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/bench"
	"github.com/reposentry/reposentry/config"
	"github.com/reposentry/reposentry/pipeline"
	"github.com/reposentry/reposentry/simulate"
	"github.com/reposentry/reposentry/source"
)

const benchUsage = `bench [--users N] [--days D] [--seed S] [--data DIR] [--with DIR]... [--json FILE]

Measures, in one run over the same GitHub streaming files: hunt's end-to-end
throughput (read, parse, enrich, detect, alert; on the files decompressed, and
as delivered in gzip), a zero-allocation fastjson
scan of the same bytes (the ceiling) and a naive baseline (encoding/json into
maps plus one expression per rule); prints the ratios, memory per tracked
identity and peak RSS. Memory is measured on a hunt of the GitHub files plus
the --with folders (identity-provider logs, so every detector holds state).
Without --data it first simulates an organisation into a temporary folder,
and measures memory with its Okta and Entra logs. Run it with GOMAXPROCS=1 for
per-core figures.`

// benchReport is what bench prints and writes with --json.
type benchReport struct {
	Data             string        `json:"data"`
	Events           int64         `json:"events"`
	Bytes            int64         `json:"bytes"`
	Hunt             bench.Result  `json:"hunt"`
	HuntPresorted    bench.Result  `json:"hunt_presorted"`
	HuntGzip         bench.Result  `json:"hunt_gzip"`
	HuntNoBaseline   bench.Result  `json:"hunt_no_baseline"`
	HuntNoSigma      bench.Result  `json:"hunt_no_sigma"`
	HuntFoundation   bench.Result  `json:"hunt_foundation_only"`
	HuntNoEnrichment bench.Result  `json:"hunt_no_enrichment"`
	Prescan          time.Duration `json:"prescan_ns"`
	Ceiling          bench.Result  `json:"ceiling"`
	Naive            bench.Result  `json:"naive"`
	HuntVsCeiling    float64       `json:"hunt_vs_ceiling"`
	HuntVsNaive      float64       `json:"hunt_vs_naive"`
	Identities       int           `json:"identities"`
	StateBytes       int64         `json:"state_bytes"`
	BytesPerIdentity float64       `json:"bytes_per_identity"`
	// DetectionBytes is the part of StateBytes the detectors hold (their
	// learnt state), by detection package; the rest is enrichment (the
	// directory, identity joins, interned strings).
	DetectionBytes map[string]int64 `json:"detection_bytes"`
	// DetectionPerIdentity is the detectors' state per tracked identity.
	DetectionPerIdentity float64        `json:"detection_bytes_per_identity"`
	PeakRSSBytes         int64          `json:"peak_rss_bytes"`
	Alerts               map[string]int `json:"alerts_by_severity"`
	GOMAXPROCS           int            `json:"gomaxprocs"`
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlagSet("bench", stderr, benchUsage)
	var sim simulate.Config
	var data, jsonOut, cfgPath string
	var with []string
	fl.Func("with", "also hunt this folder (Okta, Entra logs) when measuring memory (repeatable)", func(d string) error {
		with = append(with, d)
		return nil
	})
	fl.IntVar(&sim.Users, "users", 500, "identities to simulate")
	fl.IntVar(&sim.Days, "days", 14, "days to simulate")
	fl.Int64Var(&sim.Seed, "seed", 1, "simulation seed")
	fl.StringVar(&data, "data", "", "use this folder of GitHub audit-log files instead of simulating")
	fl.StringVar(&jsonOut, "json", "", "also write the report as JSON to FILE")
	fl.StringVar(&cfgPath, "config", "", "configuration to hunt with (default: the simulated organisation's directory and identity mapping, else none)")
	pos, err := parseInterspersed(fl, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if data == "" {
		dir, err := os.MkdirTemp("", "reposentry-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		sim.Out = dir
		fmt.Fprintf(stderr, "simulating %d identities over %d days...\n", sim.Users, sim.Days)
		if _, err := simulate.Run(sim); err != nil {
			return err
		}
		// The streaming files only: the API pages repeat one day of them.
		data = filepath.Join(dir, "github")
		if len(with) == 0 {
			with = []string{filepath.Join(dir, "okta"), filepath.Join(dir, "entra")}
		}
		if cfgPath == "" {
			cfgPath = filepath.Join(dir, "reposentry.yaml")
			yaml := fmt.Sprintf("identity_map: %s\ndirectory:\n  snapshot: %s\n",
				filepath.Join(dir, "identities.csv"), filepath.Join(dir, "directory", "directory.ldif"))
			if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
				return err
			}
		}
	}
	cfg := config.Default()
	if cfgPath != "" {
		if cfg, err = config.Load(cfgPath); err != nil {
			return err
		}
	}
	inputs, err := source.Walk([]string{data})
	if err != nil {
		return err
	}
	extra, err := source.Walk(with)
	if err != nil {
		return err
	}
	rep, err := runBench(ctx, inputs, extra, cfg)
	if err != nil {
		return err
	}
	rep.Data = data
	printBench(stdout, rep)
	if jsonOut != "" {
		return writeJSONFile(jsonOut, rep)
	}
	return nil
}

// runBench measures hunt over inputs (GitHub files) in its variants, the
// references, and memory over inputs plus extra.
func runBench(ctx context.Context, inputs, extra []source.Input, cfg config.Config) (benchReport, error) {
	rep := benchReport{GOMAXPROCS: runtime.GOMAXPROCS(0), Alerts: map[string]int{}}

	// The references parse decompressed bytes, so hunt is also measured on
	// the same data decompressed: the fair comparison. The gzip figure is
	// what a streaming bucket costs.
	plainDir, err := os.MkdirTemp("", "reposentry-bench-ndjson-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(plainDir)
	plain, err := bench.Decompress(inputs, plainDir)
	if err != nil {
		return rep, err
	}

	if err := measureMemory(ctx, append(slices.Clone(plain), extra...), cfg, &rep); err != nil {
		return rep, err
	}
	st, err := newStack(ctx, cfg, stackOptions{}, func(a reposentry.Alert) { rep.Alerts[a.Severity.String()]++ })
	if err != nil {
		return rep, err
	}
	defer st.close()
	t0 := time.Now()
	ps, err := pipeline.Hunt(ctx, plain, st.pipeline)
	if err != nil {
		return rep, err
	}
	st.flush()
	rep.Hunt = benchResult("hunt, NDJSON (pre-scan + ordered merge)", ps.Events, time.Since(t0))
	rep.Prescan = ps.Prescan
	rep.Events = ps.Events

	run := func(name string, in []source.Input, presorted bool, opts stackOptions, c config.Config) (bench.Result, error) {
		st, err := newStack(ctx, c, opts, func(reposentry.Alert) {})
		if err != nil {
			return bench.Result{}, err
		}
		defer st.close()
		cfg := st.pipeline
		cfg.Presorted = presorted
		t0 := time.Now()
		ps, err := pipeline.Hunt(ctx, in, cfg)
		if err != nil {
			return bench.Result{}, err
		}
		st.flush()
		return benchResult(name, ps.Events, time.Since(t0)), nil
	}
	// Walk's path order is time order in the bucket layout.
	if rep.HuntPresorted, err = run("hunt, NDJSON --presorted", plain, true, stackOptions{}, cfg); err != nil {
		return rep, err
	}
	if rep.HuntGzip, err = run("hunt, gzip as delivered", inputs, false, stackOptions{}, cfg); err != nil {
		return rep, err
	}
	if rep.HuntNoBaseline, err = run("hunt, NDJSON, baselines off", plain, false, stackOptions{noBaseline: true}, cfg); err != nil {
		return rep, err
	}
	if rep.HuntNoSigma, err = run("hunt, NDJSON, Sigma rules off", plain, false, stackOptions{noSigma: true}, cfg); err != nil {
		return rep, err
	}
	if rep.HuntNoEnrichment, err = run("hunt, NDJSON, no directory or identity mapping", plain, false, stackOptions{}, config.Default()); err != nil {
		return rep, err
	}
	if rep.HuntFoundation, err = run("hunt, NDJSON, foundation detections only", plain, false,
		stackOptions{noSigma: true, noBaseline: true, noChain: true}, cfg); err != nil {
		return rep, err
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		rep.PeakRSSBytes = ru.Maxrss * 1024 // Linux reports KiB; taken before the references load everything
	}

	lines, n, err := bench.Lines(plain)
	if err != nil {
		return rep, err
	}
	rep.Bytes = n
	rep.Ceiling = bench.Ceiling(lines)
	rep.Naive = bench.Naive(lines)
	if rep.Ceiling.PerSecond > 0 {
		rep.HuntVsCeiling = rep.Hunt.PerSecond / rep.Ceiling.PerSecond
	}
	if rep.Naive.PerSecond > 0 {
		rep.HuntVsNaive = rep.Hunt.PerSecond / rep.Naive.PerSecond
	}
	return rep, nil
}

func benchResult(name string, n int64, d time.Duration) bench.Result {
	r := bench.Result{Name: name, Events: int(n), Elapsed: d}
	if d > 0 {
		r.PerSecond = float64(n) / d.Seconds()
	}
	return r
}

// measureMemory hunts inputs and records the heap still reachable through
// enrichment and detections after a full collection, per tracked identity,
// and the detectors' share by package.
func measureMemory(ctx context.Context, inputs []source.Input, cfg config.Config, rep *benchReport) error {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	st, err := newStack(ctx, cfg, stackOptions{}, func(reposentry.Alert) {})
	if err != nil {
		return err
	}
	defer st.close()
	if _, err := pipeline.Hunt(ctx, inputs, st.pipeline); err != nil {
		return err
	}
	st.flush()
	runtime.GC()
	runtime.ReadMemStats(&after)
	rep.Identities = st.enrichment.resolver.Identities()
	rep.StateBytes = int64(after.HeapAlloc) - int64(before.HeapAlloc)
	rep.DetectionBytes = detectionBytes(st)
	if rep.Identities > 0 {
		rep.BytesPerIdentity = float64(rep.StateBytes) / float64(rep.Identities)
		var sum int64
		for _, n := range rep.DetectionBytes {
			sum += n
		}
		rep.DetectionPerIdentity = float64(sum) / float64(rep.Identities)
	}
	runtime.KeepAlive(st)
	return nil
}

// detectionBytes measures the heap each detection package holds in st by
// releasing the detectors from last to first and collecting after each:
// detectors of one package may share state, which is freed with the last
// of them, so the figures are per package. The risk stage's ledgers count
// as "alert". st's detectors and aggregator are gone after.
func detectionBytes(st *stack) map[string]int64 {
	out := map[string]int64{}
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	prev := m.HeapAlloc
	st.pipeline.Detectors = nil
	for i := len(st.detectors) - 1; i >= 0; i-- {
		pkg := path.Base(reflect.TypeOf(st.detectors[i]).Elem().PkgPath())
		st.detectors[i] = nil
		st.detectors = st.detectors[:i]
		runtime.GC()
		runtime.ReadMemStats(&m)
		out[pkg] += int64(prev) - int64(m.HeapAlloc)
		prev = m.HeapAlloc
	}
	// The risk stage's accumulated-risk ledgers are learnt state too.
	st.agg = nil
	runtime.GC()
	runtime.ReadMemStats(&m)
	out["alert"] = int64(prev) - int64(m.HeapAlloc)
	return out
}

func printBench(w io.Writer, r benchReport) {
	fmt.Fprintf(w, "data: %s (%d events, %.1f MB of NDJSON), GOMAXPROCS=%d\n", r.Data, r.Events, float64(r.Bytes)/1e6, r.GOMAXPROCS)
	for _, res := range []bench.Result{r.Hunt, r.HuntPresorted, r.HuntGzip, r.HuntNoBaseline, r.HuntNoSigma, r.HuntNoEnrichment, r.HuntFoundation, r.Ceiling, r.Naive} {
		fmt.Fprintf(w, "  %-48s %10.0f events/s  (%d events in %s)\n", res.Name, res.PerSecond, res.Events, res.Elapsed.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "  pre-scan share of hunt: %s of %s\n", r.Prescan.Round(time.Millisecond), r.Hunt.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "ratios: hunt/ceiling %.2f, hunt/naive %.1fx; with baselines / without %.2f; with Sigma / without %.2f; with directory enrichment / without %.2f\n",
		r.HuntVsCeiling, r.HuntVsNaive, ratio(r.Hunt, r.HuntNoBaseline), ratio(r.Hunt, r.HuntNoSigma), ratio(r.Hunt, r.HuntNoEnrichment))
	fmt.Fprintf(w, "memory: %d identities, %.0f bytes of state per identity; peak RSS of the hunts %.0f MiB\n",
		r.Identities, r.BytesPerIdentity, float64(r.PeakRSSBytes)/(1<<20))
	pkgs := slices.Sorted(maps.Keys(r.DetectionBytes))
	parts := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		parts = append(parts, fmt.Sprintf("%s %.0f", p, float64(r.DetectionBytes[p])/float64(max(r.Identities, 1))))
	}
	fmt.Fprintf(w, "detection state: %.0f bytes per identity (%s)\n", r.DetectionPerIdentity, strings.Join(parts, ", "))
	b, _ := json.Marshal(r.Alerts)
	fmt.Fprintf(w, "alerts: %s\n", b)
}

// ratio is a's throughput over b's (0 when b has none).
func ratio(a, b bench.Result) float64 {
	if b.PerSecond == 0 {
		return 0
	}
	return a.PerSecond / b.PerSecond
}
