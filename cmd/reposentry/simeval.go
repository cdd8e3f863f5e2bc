package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/reposentry/reposentry/evaluate"
	"github.com/reposentry/reposentry/simulate"
)

const simulateUsage = `simulate --users N --days D --seed S --out DIR

Writes a simulated organisation's logs in the platforms' own formats (GitHub
audit-log streaming files and API pages, Okta System Log, Entra ID sign-ins, a
directory snapshot) plus labels.jsonl (attack ground truth), benign.jsonl (the
look-alikes that must stay quiet) and meta.json.`

func cmdSimulate(args []string, stdout, stderr io.Writer) error {
	fl := newFlagSet("simulate", stderr, simulateUsage)
	var cfg simulate.Config
	var start string
	fl.IntVar(&cfg.Users, "users", 2000, "identities, people and bots together")
	fl.IntVar(&cfg.Days, "days", 30, "days to simulate")
	fl.Int64Var(&cfg.Seed, "seed", 1, "random seed: the same seed writes the same bytes")
	fl.StringVar(&cfg.Out, "out", "", "output folder (created if missing)")
	fl.StringVar(&start, "start", "", "first simulated day, YYYY-MM-DD (default "+simulate.DefaultStart.Format(time.DateOnly)+")")
	pos, err := parseInterspersed(fl, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if cfg.Out == "" {
		return usagef("--out DIR is required")
	}
	if start != "" {
		t, err := time.Parse(time.DateOnly, start)
		if err != nil {
			return usagef("--start %q: want YYYY-MM-DD", start)
		}
		cfg.Start = t
	}
	t0 := time.Now()
	res, err := simulate.Run(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "simulated %d identities over %d days in %s: %d GitHub events (+%d as API pages), %d Okta, %d Entra; %d files, %d attack labels, %d benign look-alikes → %s\n",
		res.Identities, cfg.Days, time.Since(t0).Round(time.Millisecond), res.GitHubEvents, res.GitHubAPI,
		res.OktaEvents, res.EntraEvents, res.Files, res.Labels, res.Benign, cfg.Out)
	return nil
}

const evaluateUsage = `evaluate --labels FILE [--benign FILE] [--format table|json] ALERTS.jsonl

Scores alerts (hunt --format jsonl) against the simulator's ground truth:
precision, recall per scenario, time to detect, false alerts per 1,000
identities per day (identities and days from meta.json beside the labels).`

func cmdEvaluate(args []string, stdout, stderr io.Writer) error {
	fl := newFlagSet("evaluate", stderr, evaluateUsage)
	var labelsPath, benignPath, format string
	fl.StringVar(&labelsPath, "labels", "", "labels.jsonl written by simulate")
	fl.StringVar(&benignPath, "benign", "", "benign.jsonl (default: beside the labels, if present)")
	fl.StringVar(&format, "format", "table", "table or json")
	pos, err := parseInterspersed(fl, args)
	if err != nil {
		return err
	}
	if labelsPath == "" || len(pos) != 1 {
		return usagef("want --labels FILE and exactly one ALERTS.jsonl")
	}
	if format != "table" && format != "json" {
		return usagef("--format %q: want table or json", format)
	}
	labels, err := os.Open(labelsPath)
	if err != nil {
		return err
	}
	defer labels.Close()
	alerts, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer alerts.Close()
	if benignPath == "" {
		if p := filepath.Join(filepath.Dir(labelsPath), "benign.jsonl"); fileExists(p) {
			benignPath = p
		}
	}
	var benign io.Reader
	if benignPath != "" {
		f, err := os.Open(benignPath)
		if err != nil {
			return err
		}
		defer f.Close()
		benign = f
	}
	opt, err := evaluate.OptionsFromMeta(labelsPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	rep, err := evaluate.RunWithOptions(labels, benign, alerts, opt)
	if err != nil {
		return err
	}
	if format == "json" {
		return rep.WriteJSON(stdout)
	}
	return rep.WriteTable(stdout)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// writeJSONFile writes v as indented JSON to path.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
