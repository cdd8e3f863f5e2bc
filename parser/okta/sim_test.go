package okta_test

import (
	"path/filepath"
	"testing"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/okta"
	"github.com/reposentry/reposentry/simulate"
	"github.com/reposentry/reposentry/simulate/simtest"
	"github.com/reposentry/reposentry/source"
)

// TestSimulatorOutput parses every Okta line a small simulated organisation
// writes: all must become Okta events, none may be rejected; and none of
// its GitHub events may be taken for an Okta event.
func TestSimulatorOutput(t *testing.T) {
	dir := t.TempDir()
	res, err := simulate.Run(simulate.Config{Users: 40, Days: 4, Seed: 1, Out: dir})
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	p := newParser()
	var n int64
	cats := map[reposentry.Category]int{}
	simtest.Records(t, filepath.Join(dir, "okta"), func(path string, rec source.Record) {
		evs := p.Parse(rec, nil, func(r parser.Rejection) {
			t.Errorf("%s:%d rejected: %s: %v", r.Origin.Source, r.Origin.Line, r.Reason, r.Err)
		})
		for i := range evs {
			ev := &evs[i]
			if ev.Platform != reposentry.PlatformOkta || ev.ID.IsZero() || ev.Time.IsZero() || !ev.SourceIP.IsValid() ||
				ev.IdentityHint == "" || ev.Geo.ASN == 0 || !isCode(ev.Geo.Country) {
				t.Errorf("%s:%d: incomplete event %+v", path, rec.Origin.Line, ev)
			}
			if ev.Category == reposentry.CategoryLogin && ev.Action == "user.authentication.sso" && ev.Detail == "" {
				t.Errorf("%s:%d: SSO without the application", path, rec.Origin.Line)
			}
			cats[ev.Category]++
		}
		n += int64(len(evs))
	})
	if n != res.OktaEvents {
		t.Errorf("parsed %d Okta events, the simulator wrote %d", n, res.OktaEvents)
	}
	if cats[reposentry.CategoryLogin] == 0 || cats[reposentry.CategoryMFAChange] == 0 {
		t.Errorf("categories %v lack logins or MFA changes", cats)
	}

	// The other way round: no GitHub event of the same organisation may be
	// taken for an Okta event.
	alone := parser.New(intern.New(0), okta.New())
	var github int
	simtest.Records(t, filepath.Join(dir, "github"), func(path string, rec source.Record) {
		github++
		if evs := alone.Parse(rec, nil, nil); len(evs) != 0 {
			t.Errorf("%s:%d: GitHub event parsed as Okta: %s", path, rec.Origin.Line, rec.Data)
		}
	})
	if github == 0 {
		t.Error("no GitHub records read")
	}
}

// isCode reports whether s is an ISO 3166-1 alpha-2 code in form.
func isCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}
