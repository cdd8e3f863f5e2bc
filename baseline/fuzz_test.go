package baseline

import (
	"fmt"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
)

// FuzzBaseline drives the detector with arbitrary event sequences, each 4
// bytes an event: who, what, which repository and how much time passes. It
// must not panic, must keep its memory bounds and must emit well-formed
// signals.
func FuzzBaseline(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 1, 1, 3, 200, 2, 4, 5, 255})
	f.Add(make([]byte, 64))
	seed := make([]byte, 0, 4*400)
	for i := range 400 {
		seed = append(seed, byte(i%3), byte(1+i%3), byte(i), byte(i%7*30))
	}
	f.Add(seed)
	f.Fuzz(fuzzRun)
}

var (
	fuzzIDs   = []string{"a@x", "b@x", "c@x", "", "bot@x"}
	fuzzRepos = func() []string {
		repos := make([]string, 64)
		for i := range repos {
			repos[i] = fmt.Sprintf("acme/t%d-r%d", i%5, i)
		}
		return repos
	}()
	fuzzCfg = Config{MaxKnownRepos: 8, MaxRepos: 16, MaxCredentials: 4, LearningDays: 2, DailyFloor: 2, WeeklyFloor: 3, HourlyFloor: 2, BreadthMin: 2,
		OffHoursMinEvents: 5, DormantDays: 2, DormantMinRepos: 2, AutomationReads: 20, AutomationDays: 2}
)

// fuzzRun is one FuzzBaseline input.
func fuzzRun(t *testing.T, data []byte) {
	ids, repos, cfg := fuzzIDs, fuzzRepos, fuzzCfg
	{
		d := New(cfg)
		det := d.(*detector)
		now := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
		emit := func(s reposentry.Signal) {
			if s.Rule == "" || s.Entity.ID == "" || len(s.EventIDs) == 0 || s.Time.IsZero() || s.FirstSeen.After(s.Time) ||
				s.Severity < reposentry.SeverityLow || s.Severity > reposentry.SeverityHigh || s.Explanation == "" {
				t.Fatalf("malformed signal %+v", s)
			}
		}
		var ev reposentry.Event
		for i := 0; i+4 <= len(data); i += 4 {
			b := data[i : i+4]
			// Time mostly moves forward, by minutes to days; a set top bit
			// moves it back a little, as lateness allows.
			step := time.Duration(b[3]&0x7f) * time.Duration(1+int(b[3]&0x7f)%4*119) * time.Minute
			if b[3]&0x80 != 0 {
				step = -step / 8
			}
			now = now.Add(step)
			ev = reposentry.Event{Time: now, Platform: reposentry.PlatformGitHub, Outcome: reposentry.Outcome(b[1] >> 6),
				Category: reposentry.Category(b[1] % 6), Identity: ids[int(b[0])%len(ids)], Repo: repos[int(b[2])%len(repos)]}
			ev.Actor.Login = ev.Identity
			if ev.Identity == "bot@x" {
				ev.Actor.Type = reposentry.ActorBot
			}
			if b[0]&0x80 != 0 {
				ev.Action, ev.Detail = "team.add_repository", ids[int(b[2])%len(ids)]
			}
			ev.RepoTags = reposentry.RepoTags(b[2] >> 5)
			ev.Credential = reposentry.Credential{Kind: reposentry.CredentialKind(b[0] >> 4 & 7), ID: fmt.Sprint("k", b[2]%9)}
			ev.ID.Set([]byte{b[0], b[1], b[2], b[3]})
			d.Process(&ev, emit)
			d.Advance(now, emit)
		}
		for _, a := range det.ids {
			if len(a.known) > cfg.MaxKnownRepos {
				t.Fatalf("%s remembers %d repositories, bound %d", a.key, len(a.known), cfg.MaxKnownRepos)
			}
		}
		if len(det.creds) > cfg.MaxCredentials || len(det.repoGroup) > cfg.MaxRepos {
			t.Fatalf("%d credentials, %d repositories: past their bounds", len(det.creds), len(det.repoGroup))
		}
	}
}
