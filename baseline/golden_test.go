package baseline

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/reposentry/reposentry"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestGolden pins the JSON of the signals of a departing insider's days:
// wording, numbers, evidence and event ids.
func TestGolden(t *testing.T) {
	var g gen
	g.routine(alice, "alpha", 0, 21)
	for d := 21; d < 23; d++ {
		g.clones(alice, d, 9, 4, "")
	}
	for _, tc := range []struct {
		rule string
		sev  reposentry.Severity
		file string
	}{
		{RuleVolume, reposentry.SeverityHigh, "volume_anomaly.golden.json"},
		{RuleBreadth, reposentry.SeverityHigh, "breadth.golden.json"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			var got []byte
			for _, s := range run(Config{}, g.evs) {
				if s.Rule == tc.rule && s.Severity == tc.sev {
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
