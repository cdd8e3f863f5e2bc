package novelty

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
)

var (
	fuzzIDs       = []string{"a@x", "b@x", "c@x", "", "bot@x"}
	fuzzCountries = []string{"", "GB", "US", "VN", "Netherlands"}
	fuzzUAs       = []string{"", "git/2.43.0", "curl/8.5.0", "Mozilla/5.0", "JGit/6.5", "Foo/1"}
	fuzzActions   = []string{"git.clone", "personal_access_token.access_granted", "public_key.create", "deploy_key.create", "oauth_authorization.create"}
	fuzzCfg       = Config{LearningDays: 1, MinEvents: 3, ExpiryDays: 4, CreationWindowDays: 2, MaxPrefixes: 2, MaxASNs: 2,
		MaxCountries: 2, MaxClients: 2, MaxOrgs: 2, MaxCredentialRepos: 3, MaxCredentials: 4, SpreadRepos: 2, AutomationReads: 5, AutomationDays: 1}
)

// fuzzStream turns bytes into events, 5 bytes an event: who and what,
// which credential, where, which repository and client, and how much time
// passes (a set top bit moves it back a little, as lateness allows).
func fuzzStream(data []byte) []reposentry.Event {
	now := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	var evs []reposentry.Event
	for i := 0; i+5 <= len(data); i += 5 {
		b := data[i : i+5]
		step := time.Duration(b[4]&0x7f) * time.Duration(1+int(b[4]&0x7f)%4*119) * time.Minute
		if b[4]&0x80 != 0 {
			step = -step / 8
		}
		now = now.Add(step)
		ev := reposentry.Event{Time: now, Platform: reposentry.PlatformGitHub, Outcome: reposentry.Outcome(b[0] >> 6),
			Category: reposentry.Category(b[0] % 10), Identity: fuzzIDs[int(b[0]>>3)%len(fuzzIDs)],
			Repo: fmt.Sprintf("o%d/r%d", b[3]%3, b[3]%11), Visibility: reposentry.Visibility(b[3] >> 6),
			UserAgent: fuzzUAs[int(b[3]>>4)%len(fuzzUAs)]}
		ev.Actor.Login = ev.Identity
		if ev.Category == reposentry.CategoryCredentialCreate {
			ev.Action = fuzzActions[int(b[1])%len(fuzzActions)]
		}
		if b[1]&0x80 != 0 {
			ev.Actor.Type = reposentry.ActorBot
		}
		ev.Credential = reposentry.Credential{Kind: reposentry.CredentialKind(b[1] >> 4 & 7), ID: fmt.Sprint("k", b[1]%7)}
		if b[1]&8 != 0 {
			ev.Credential.Hash = fmt.Sprint("h", b[1]%5)
		}
		ev.Geo.Country = fuzzCountries[int(b[2])%len(fuzzCountries)]
		ev.Geo.ASN = uint32(b[2] >> 5)
		ev.SourceIP = netip.AddrFrom4([4]byte{10, b[2] & 3, b[2] >> 6, 1})
		ev.ID.Set(b)
		evs = append(evs, ev)
	}
	return evs
}

func checkSignal(t *testing.T, s reposentry.Signal) {
	if s.Rule == "" || s.Entity.ID == "" || len(s.EventIDs) == 0 || s.Time.IsZero() || s.FirstSeen.After(s.Time) ||
		s.Severity < reposentry.SeverityLow || s.Severity > reposentry.SeverityMedium || s.Explanation == "" || s.Observed == "" {
		t.Fatalf("malformed signal %+v", s)
	}
}

// FuzzProcess drives the detector with arbitrary event sequences. It must
// not panic, must keep its bounds, must emit well-formed signals, and a
// save and load halfway must not change later signals.
func FuzzProcess(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 1, 1, 3, 200, 2, 4, 5, 255, 9, 60})
	f.Add(make([]byte, 100))
	seed := make([]byte, 0, 5*120)
	for i := range 120 {
		seed = append(seed, byte(1+i%3*8), byte(0x18+i%5), byte(i%9), byte(i), byte(i%7*9))
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		evs := fuzzStream(data)
		for _, s := range run(fuzzCfg, evs) {
			checkSignal(t, s)
		}
		whole := feed(t, New(fuzzCfg), evs, 0)
		k := len(evs) / 2
		d := New(fuzzCfg)
		feed(t, d, evs[:k], 0)
		det := d.(*detector)
		if len(det.creds) > fuzzCfg.MaxCredentials {
			t.Fatalf("%d credentials, bound %d", len(det.creds), fuzzCfg.MaxCredentials)
		}
		for _, c := range det.creds {
			if len(c.repos) > fuzzCfg.MaxCredentialRepos || len(c.vals) > fuzzCfg.MaxCountries+fuzzCfg.MaxASNs+fuzzCfg.MaxPrefixes {
				t.Fatalf("credential keeps %d repositories and %d values past its caps", len(c.repos), len(c.vals))
			}
		}
		r := New(fuzzCfg)
		if err := r.(engine.Stateful).LoadState(bytes.NewReader(save(t, d))); err != nil {
			t.Fatalf("load saved state: %v", err)
		}
		got := feed(t, r, evs[k:], k)
		for i := k; i < len(evs); i++ {
			if w, g := strings.Join(whole[i], "\n"), strings.Join(got[i], "\n"); w != g {
				t.Fatalf("event %d: signals differ after a save and load at %d\nwant %s\ngot  %s", i, k, w, g)
			}
		}
	})
}

// FuzzLoadState feeds arbitrary bytes to LoadState: an error or a state
// that saves again, never a panic.
func FuzzLoadState(f *testing.F) {
	seq = 0
	d := New(Config{})
	var buf bytes.Buffer
	for i, e := range story() {
		d.Process(&e, func(reposentry.Signal) {})
		if i == 100 {
			var b bytes.Buffer
			if err := d.(engine.Stateful).SaveState(&b); err != nil {
				f.Fatal(err)
			}
			f.Add(b.Bytes())
		}
	}
	if err := d.(engine.Stateful).SaveState(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(stateMagic))
	f.Add(append([]byte(stateMagic), 1, 0, 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := New(Config{})
		if err := n.(engine.Stateful).LoadState(bytes.NewReader(data)); err != nil {
			return
		}
		var out bytes.Buffer
		if err := n.(engine.Stateful).SaveState(&out); err != nil {
			t.Fatalf("save a loaded state: %v", err)
		}
		again := New(Config{})
		if err := again.(engine.Stateful).LoadState(&out); err != nil {
			t.Fatalf("a state saved from a loaded one does not load: %v", err)
		}
		// A loaded state must be usable.
		for _, e := range fuzzStream(data[:min(len(data), 200)]) {
			n.Process(&e, func(s reposentry.Signal) { checkSignal(t, s) })
		}
	})
}
