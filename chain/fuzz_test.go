package chain

import (
	"net/netip"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
)

// Vocabulary the fuzzer's bytes pick from.
var (
	fzPlatforms  = [...]reposentry.Platform{reposentry.PlatformOkta, reposentry.PlatformEntra, reposentry.PlatformGitHub, reposentry.PlatformGitLab}
	fzCategories = [...]reposentry.Category{reposentry.CategoryLogin, reposentry.CategoryClone, reposentry.CategoryArchiveDownload,
		reposentry.CategoryMFAChange, reposentry.CategoryCredentialCreate, reposentry.CategoryOther, reposentry.CategoryFetch, reposentry.CategoryPush}
	fzActions   = [...]string{"user.session.start", "user.mfa.okta_verify.deny_push", "user.mfa.factor.reset_all", "user.account.reset_password", "git.clone", "x"}
	fzCountries = [...]string{"", "DE", "US", "BR", "JP", "FR", "XX", "Germany"}
	fzUsers     = [...]string{"a@x", "b@x", "c@x", "", "A@X"}
	fzRepos     = [...]string{"", "o/r1", "o/r2", "o/r3", "o/r4", "o/r5", "o/r6", "o/r7"}
	fzUAs       = [...]string{"", "git/2.4", "Mozilla/5.0 (Windows NT 10.0) Chrome/120", "curl/8"}
)

// FuzzChain feeds random event sequences, 8 bytes an event, and checks
// that nothing panics, every signal is complete and state stays bounded
// and is forgotten once event time passes the idle TTL.
func FuzzChain(f *testing.F) {
	f.Add([]byte{0, 7, 1, 0, 0, 0, 0, 0, 1, 7, 2, 0, 0, 0, 0, 1, 60, 1, 1, 0, 1, 2, 3, 0})
	f.Add([]byte("\x00\x07\x02\x00\x00\x10\x00\x00\x01\x07\x02\x00\x00\x10\x00\x00\x02\x07\x02\x00\x00\x10\x00\x00\x03\x07\x01\x00\x00\x10\x00\x00"))
	f.Fuzz(fuzzOnce)
}

func fuzzOnce(t *testing.T, data []byte) {
	ds := New(Config{MinRepos: 2, BulkRepos: 3, EgressIdentities: 2})
	c := ds[0].(*detector).c
	emit := func(s reposentry.Signal) {
		if s.Rule == "" || s.Entity.ID == "" || len(s.EventIDs) == 0 || s.Time.IsZero() {
			t.Fatalf("incomplete signal %+v", s)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ev reposentry.Event
	for i := 0; i+8 <= len(data); i += 8 {
		b := data[i : i+8]
		now = now.Add(time.Duration(b[0]) * time.Duration(b[0]) * time.Minute)
		ev = reposentry.Event{
			Time: now, Platform: fzPlatforms[b[1]%4], Category: fzCategories[b[2]%8], Action: fzActions[b[3]%6],
			Outcome: reposentry.Outcome(b[4] % 3), Identity: fzUsers[b[5]%5], Geo: reposentry.Geo{Country: fzCountries[b[5]>>3%8], ASN: uint32(b[6] % 4)},
			SourceIP: netip.AddrFrom4([4]byte{10, 0, b[6] >> 4, 1}), Repo: fzRepos[b[7]%8], UserAgent: fzUAs[b[7]>>3%4],
			Visibility: reposentry.Visibility(b[7] >> 5 % 4),
		}
		ev.ID.Set(b)
		if b[4]&8 != 0 {
			ev.Session.Factor = "push"
		}
		ev.Session.Proxy = b[4]&16 != 0
		ev.Privileged = b[4]&32 != 0
		if b[4]&64 != 0 {
			ev.TargetUser = fzUsers[b[6]%5]
			ev.Session.App = "GitHub"
		}
		if b[4]&128 != 0 {
			ev.Session.Risk = "high"
		}
		for _, d := range ds {
			d.Advance(now, emit)
			d.Process(&ev, emit)
		}
		if len(c.ids) > len(fzUsers)+1 {
			t.Fatalf("%d identities from %d names", len(c.ids), len(fzUsers))
		}
		for r := range c.out {
			if len(c.out[r]) != 0 {
				t.Fatalf("rule %d kept %d signals after draining", r, len(c.out[r]))
			}
		}
	}
	end := now.Add(c.cfg.IdleTTL + 2*time.Hour)
	for _, d := range ds {
		d.Advance(end, emit)
	}
	if len(c.ids) != 0 || len(c.nets) != 0 {
		t.Fatalf("after the idle TTL %d identities and %d networks remain", len(c.ids), len(c.nets))
	}
}
