package detect

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
)

// FuzzDetectors drives the detectors with arbitrary event sequences (five
// bytes an event) and checks that the shared state stays consistent and
// signals stay well-formed.
func FuzzDetectors(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x02\x05\x00\x01\x03\x02\x05\x01\x0a\x04\x01\xff"))
	f.Add(make([]byte, 200))
	f.Fuzz(fuzzOne)
}

func fuzzOne(t *testing.T, data []byte) {
	{
		cfg := DefaultConfig()
		cfg.Tiers = Tiers{Medium: 3, High: 5, Critical: 8, HighArchives: 2}
		cfg.LearningPeriod, cfg.Window, cfg.RoutineRepos, cfg.MaxWindowReads = time.Hour, 5*time.Minute, 4, 6
		cfg.AutomationRoutineRepos = 9
		cfg.MaxCountries, cfg.MaxNetworks, cfg.MaxCredentials = 2, 3, 2
		cfg.Privileged = []string{"u3"}
		dets := New(cfg)
		c := dets[0].(*detector).c
		emit := func(s reposentry.Signal) {
			if s.Risk < 0 || s.Risk > 100 || s.Severity > reposentry.SeverityCritical || s.Entity.ID == "" || s.Explanation == "" {
				t.Fatalf("bad signal %+v", s)
			}
		}
		now := t0
		var ev reposentry.Event
		for i := 0; i+5 <= len(data); i += 5 {
			b := data[i : i+5]
			now = now.Add(time.Duration(b[4]) * 7 * time.Second)
			login := fmt.Sprintf("u%d", b[0]%4)
			ev = reposentry.Event{Time: now, Platform: reposentry.PlatformGitHub, Category: reposentry.Category(b[1] % 15),
				Outcome: reposentry.Outcome(b[1] >> 6), Actor: reposentry.Account{Login: login, Type: reposentry.ActorType(b[0] >> 5)},
				Identity: login, Repo: fmt.Sprintf("acme/r%d", b[2]%16), Visibility: reposentry.Visibility(b[3] % 4),
				SourceIP: netip.AddrFrom4([4]byte{198, 51, b[3] >> 5, 1}), Geo: reposentry.Geo{Country: string(rune('A' + b[3]>>6))},
				Credential: reposentry.Credential{Kind: reposentry.CredentialKind(b[2] >> 5), ID: fmt.Sprint(b[0] >> 6)},
				Privileged: b[0]&0x10 != 0, Detail: "public", Disabled: b[0]&0x08 != 0,
				// Tags follow the name, as enrichment gives them.
				RepoTags: reposentry.RepoTags(b[2] % 16 % 6)}
			switch {
			case b[3]&1 == 0:
			case ev.Category == reposentry.CategorySettingsChange || ev.Category == reposentry.CategoryMembershipChange:
				ev.Action = "org.update_member" // an owner-only action
			case ev.Category == reposentry.CategoryOther:
				ev.Platform, ev.TargetUser = reposentry.PlatformOkta, fmt.Sprintf("u%d", b[2]%4)
				ev.Action = [...]string{"user.lifecycle.deactivate", "user.lifecycle.reactivate"}[b[3]>>7]
			}
			ev.ID.Set([]byte(fmt.Sprint(i)))
			for _, d := range dets {
				d.Advance(now.Truncate(time.Minute), emit)
				d.Process(&ev, emit)
			}
			for _, a := range c.actors {
				checkWindow(t, &a.win, len(a.mem), cfg)
				if len(a.countries) > cfg.MaxCountries || len(a.networks) > cfg.MaxNetworks || len(a.creds) > cfg.MaxCredentials {
					t.Fatalf("place memory exceeded: %d countries, %d networks, %d credentials", len(a.countries), len(a.networks), len(a.creds))
				}
			}
			for _, cs := range c.creds {
				checkWindow(t, &cs.win, 0, cfg)
			}
		}
	}
}

func checkWindow(t *testing.T, w *window, mem int, cfg Config) {
	t.Helper()
	if w.distinct != len(w.refs) || w.nonPublic > w.distinct || w.archives > w.nonPublic || w.nonPublic < 0 || w.archives < 0 ||
		w.novel > w.nonPublic || w.novel < 0 {
		t.Fatalf("window counts inconsistent: distinct %d refs %d nonPublic %d archives %d novel %d", w.distinct, len(w.refs), w.nonPublic, w.archives, w.novel)
	}
	if w.sensitive < 0 || int(w.sensitive) > w.nonPublic || w.sensNovel < 0 || w.sensNovel > w.sensitive || int(w.sensNovel) > w.novel {
		t.Fatalf("sensitive counts inconsistent: sensitive %d of %d, novel %d of %d", w.sensitive, w.nonPublic, w.sensNovel, w.novel)
	}
	if w.len() > cfg.MaxWindowReads || mem > max(cfg.RoutineRepos, cfg.AutomationRoutineRepos) {
		t.Fatalf("bounds exceeded: %d reads, %d remembered", w.len(), mem)
	}
}
