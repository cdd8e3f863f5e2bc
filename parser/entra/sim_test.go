package entra_test

import (
	"path/filepath"
	"testing"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/entra"
	"github.com/reposentry/reposentry/simulate"
	"github.com/reposentry/reposentry/simulate/simtest"
	"github.com/reposentry/reposentry/source"
)

// TestSimulatorOutput parses every Entra sign-in a small simulated organisation
// writes: all must become Entra events, none may be rejected; and none of
// its GitHub events may be taken for an Entra record.
func TestSimulatorOutput(t *testing.T) {
	dir := t.TempDir()
	res, err := simulate.Run(simulate.Config{Users: 40, Days: 4, Seed: 1, Out: dir})
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	p := newParser()
	var n int64
	cats := map[reposentry.Category]int{}
	outcomes := map[reposentry.Outcome]int{}
	simtest.Records(t, filepath.Join(dir, "entra"), func(path string, rec source.Record) {
		evs := p.Parse(rec, nil, func(r parser.Rejection) {
			t.Errorf("%s:%d rejected: %s: %v", r.Origin.Source, r.Origin.Line, r.Reason, r.Err)
		})
		for i := range evs {
			ev := &evs[i]
			if ev.Platform != reposentry.PlatformEntra || ev.ID.IsZero() || ev.Time.IsZero() || !ev.SourceIP.IsValid() ||
				ev.IdentityHint == "" || ev.Geo.ASN == 0 || ev.Geo.Country == "" {
				t.Errorf("%s:%d: incomplete event %+v", path, rec.Origin.Line, ev)
			}
			if ev.Action != "signin.interactive" || ev.Format != reposentry.FormatAzureRecords || ev.Detail == "" ||
				ev.Geo.City == "" || ev.UserAgent == "" || ev.Credential.Kind != reposentry.CredentialSession {
				t.Errorf("%s:%d: sign-in %d parsed as %+v", path, rec.Origin.Line, ev.Origin.Index, ev)
			}
			cats[ev.Category]++
			outcomes[ev.Outcome]++
		}
		n += int64(len(evs))
	})
	if n != res.EntraEvents {
		t.Errorf("parsed %d Entra sign-ins, the simulator wrote %d", n, res.EntraEvents)
	}
	if cats[reposentry.CategoryLogin] != int(n) {
		t.Errorf("categories %v: every sign-in should be a login", cats)
	}
	if n == 0 || outcomes[reposentry.OutcomeUnknown] != 0 {
		t.Errorf("outcomes %v: every sign-in has a result code", outcomes)
	}

	// The other way round: no GitHub event of the same organisation may be
	// taken for an Entra record.
	alone := parser.New(intern.New(0), entra.New())
	var github int
	simtest.Records(t, filepath.Join(dir, "github"), func(path string, rec source.Record) {
		github++
		if evs := alone.Parse(rec, nil, nil); len(evs) != 0 {
			t.Errorf("%s:%d: GitHub event parsed as Entra: %s", path, rec.Origin.Line, rec.Data)
		}
	})
	if github == 0 {
		t.Error("no GitHub records read")
	}
}
