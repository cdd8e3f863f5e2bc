package baseline

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/reposentry/reposentry"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestGolden pins the JSON of the signals of a departing insider's days:
// wording, numbers, evidence and event ids; and of the same days with a
// directory, which puts the insider and two colleagues of other repository
// groups in one department (breadth, and volume's daily trigger with both
// peer populations); and of a developer's burst of clones within an hour,
// with archive downloads.
func TestGolden(t *testing.T) {
	var g gen
	g.routine(alice, "alpha", 0, 21)
	for d := 21; d < 23; d++ {
		g.clones(alice, d, 9, 4, "")
	}
	var withDept gen
	withDept.evs = slices.Clone(g.evs)
	for _, c := range []string{"carol@acme.example", "dave@acme.example"} {
		withDept.routine(c, "omega-"+c[:4], 0, 23)
	}
	slices.SortStableFunc(withDept.evs, func(x, y reposentry.Event) int { return x.Time.Compare(y.Time) })
	for i := range withDept.evs {
		withDept.evs[i].Department = "Platform"
	}
	var burst gen
	burst.developer(alice, 0, 21)
	burst.burst(alice, 21, 10, 9, 30, true, reposentry.TagInfrastructure)
	for _, tc := range []struct {
		name string
		evs  []reposentry.Event
		rule string
		sev  reposentry.Severity
		file string
	}{
		{RuleVolume, g.evs, RuleVolume, reposentry.SeverityHigh, "volume_anomaly.golden.json"},
		{RuleBreadth, g.evs, RuleBreadth, reposentry.SeverityHigh, "breadth.golden.json"},
		{"breadth with department", withDept.evs, RuleBreadth, reposentry.SeverityHigh, "breadth_department.golden.json"},
		{"volume with department", withDept.evs, RuleVolume, reposentry.SeverityMedium, "volume_anomaly_department.golden.json"},
		{"volume within an hour", burst.sorted(), RuleVolume, reposentry.SeverityMedium, "volume_anomaly_hourly.golden.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []byte
			for _, s := range run(Config{}, tc.evs) {
				if s.Entity.ID == alice && s.Rule == tc.rule && s.Severity == tc.sev {
					b, err := json.MarshalIndent(s, "", "  ")
					if err != nil {
						t.Fatal(err)
					}
					got = append(b, '\n')
					break
				}
			}
			if got == nil {
				t.Fatalf("no %s signal at %s", tc.rule, tc.sev)
			}
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the signal:\n%s", path, got)
			}
		})
	}
}
