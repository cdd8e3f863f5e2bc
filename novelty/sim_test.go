package novelty

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/github"
	"github.com/reposentry/reposentry/simulate"
	"github.com/reposentry/reposentry/simulate/simtest"
)

// simOrg runs the simulator and returns its GitHub events in time order,
// with identities set as enrichment sets them and an ASN per /16 of the
// address, standing in for the GeoIP enrichment the simulator has no
// database for (a /16 is coarser than a /24, as an ASN is).
func simOrg(tb testing.TB, users, days int) ([]reposentry.Event, string) {
	tb.Helper()
	dir := tb.TempDir()
	if _, err := simulate.Run(simulate.Config{Users: users, Days: days, Seed: 1, Out: dir}); err != nil {
		tb.Fatalf("simulate %d users %d days: %v", users, days, err)
	}
	evs := simtest.Events(tb, parser.New(intern.New(0), github.New()), filepath.Join(dir, "github"))
	for i := range evs {
		if ip := evs[i].SourceIP.Unmap(); ip.Is4() {
			b := ip.As4()
			evs[i].Geo.ASN = 64512 + uint32(b[0])<<8 | uint32(b[1])
		}
	}
	return evs, dir
}

// TestSimulatedOrganisation runs the detector over a simulated organisation:
// medium signals must stay rare, and every one must concern a labelled
// attack's identity (a stolen token or a compromised CI credential).
func TestSimulatedOrganisation(t *testing.T) {
	evs, dir := simOrg(t, 200, 30)
	sigs := run(Config{}, evs)
	attacked := map[string]bool{}
	for _, l := range simtest.Labels(t, filepath.Join(dir, "labels.jsonl")) {
		attacked[strings.ToLower(l.Entity)] = true
	}
	counts := map[string]int{}
	for _, s := range sigs {
		counts[s.Rule+"/"+s.Severity.String()]++
		if s.Severity >= reposentry.SeverityMedium && !attacked[s.Entity.ID] {
			t.Errorf("medium signal for %s, not an attacked identity: %s", s.Entity.ID, s.Observed)
		}
	}
	t.Logf("%d events, signals %v", len(evs), counts)
}
