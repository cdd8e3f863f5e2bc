package novelty

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
	"github.com/reposentry/reposentry/engine/enginetest"
	"github.com/reposentry/reposentry/internal/keys"
)

var (
	_ engine.Detector = (*detector)(nil)
	_ engine.Stateful = (*detector)(nil)
)

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday

// at is day d, hour h after t0.
func at(d int, h float64) time.Time {
	return t0.Add(time.Duration((float64(d*24) + h) * float64(time.Hour)))
}

// ev builds test events fluently.
type ev reposentry.Event

var seq int

func evt(who string, t time.Time) ev {
	seq++
	e := ev{Time: t, Platform: reposentry.PlatformGitHub, Outcome: reposentry.OutcomeSuccess, Identity: who,
		Actor:    reposentry.Account{Login: strings.TrimSuffix(who, "@acme.example"), Type: reposentry.ActorUser},
		Category: reposentry.CategoryOther, Action: "repo.view", UserAgent: "git/2.43.0", Org: "acme"}
	e.ID.Set(fmt.Appendf(nil, "e%06d", seq))
	return e
}

func (e ev) clone(repo string) ev {
	e.Category, e.Action, e.Repo, e.Visibility = reposentry.CategoryClone, "git.clone", repo, reposentry.VisibilityPrivate
	if i := strings.IndexByte(repo, '/'); i > 0 {
		e.Org = repo[:i]
	}
	return e
}

func (e ev) fetch(repo string) ev {
	e = e.clone(repo)
	e.Category, e.Action = reposentry.CategoryFetch, "git.fetch"
	return e
}

func (e ev) with(c reposentry.Credential) ev { e.Credential = c; return e }

func (e ev) from(country string, asn uint32, ip string) ev {
	e.Geo.Country, e.Geo.ASN, e.SourceIP = country, asn, netip.MustParseAddr(ip)
	return e
}

func (e ev) ua(s string) ev { e.UserAgent = s; return e }

func (e ev) bot() ev { e.Actor.Type = reposentry.ActorBot; return e }

func (e ev) created(action string, c reposentry.Credential) ev {
	e.Category, e.Action, e.Credential, e.UserAgent = reposentry.CategoryCredentialCreate, action, c, "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0"
	return e
}

func (e ev) event() reposentry.Event { return reposentry.Event(e) }

var (
	alice   = "alice@acme.example"
	ci      = "ci-bot@acme.example"
	pat     = reposentry.Credential{Kind: reposentry.CredentialPATFineGrained, ID: "77120044", Hash: "kq1m0Yc4v3Jd1n8T0p2r+Qm7cV9wZs6yXh5bLaR4Ee0="}
	ciTok   = reposentry.Credential{Kind: reposentry.CredentialPATClassic, ID: "5500", Hash: "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo="}
	appTok  = reposentry.Credential{Kind: reposentry.CredentialApp, ID: "ghs-1"}
	sshKey  = reposentry.Credential{Kind: reposentry.CredentialSSHKey, Hash: "SHA256:newkeyAAAABBBBCCCC"}
	newPAT  = reposentry.Credential{Kind: reposentry.CredentialPATFineGrained, ID: "88120055", Hash: "bmV3dG9rZW5oYXNoMTIzNDU2Nzg5MGFiY2RlZmdoaWo="}
	office  = func(e ev) ev { return e.from("GB", 2856, "81.2.69.10") }
	runners = func(e ev) ev { return e.from("US", 8075, "20.55.1.10") }
)

// routine is days of an identity's usual reads with a credential from one
// place: three clones a day of a handful of repositories.
func routine(who string, c reposentry.Credential, place func(ev) ev, from, days int) []reposentry.Event {
	var out []reposentry.Event
	for d := from; d < from+days; d++ {
		for i := range 3 {
			out = append(out, place(evt(who, at(d, 9+float64(i))).clone(fmt.Sprintf("acme/svc-%d", (d+i)%5)).with(c)).event())
		}
	}
	return out
}

// run feeds events to a fresh detector as the engine would, advancing
// every minute of event time, and returns the signals.
func run(cfg Config, evs []reposentry.Event) []reposentry.Signal {
	return enginetest.Run([]engine.Detector{New(cfg)}, evs)
}

func summary(sigs []reposentry.Signal) []string {
	out := []string{}
	for _, s := range sigs {
		out = append(out, s.Rule+"/"+s.Severity.String())
	}
	return out
}

func cat(parts ...[]reposentry.Event) []reposentry.Event {
	var out []reposentry.Event
	for _, p := range parts {
		out = append(out, p...)
	}
	slices.SortStableFunc(out, func(x, y reposentry.Event) int { return x.Time.Compare(y.Time) })
	return out
}

func one(e ev) []reposentry.Event { return []reposentry.Event{e.event()} }

func TestSignals(t *testing.T) {
	ciHist := routine(ci, ciTok, runners, 0, 10)
	for i := range ciHist {
		ciHist[i].Actor.Type = reposentry.ActorBot
	}
	aliceHist := routine(alice, pat, office, 0, 10)
	for _, tc := range []struct {
		name string
		evs  []reposentry.Event
		want []string
	}{
		{"bot token from a new country", cat(ciHist, one(evt(ci, at(10, 3)).bot().clone("acme/svc-1").with(ciTok).from("VN", 7552, "14.160.1.1"))),
			[]string{"credential_new_origin/medium"}},
		{"CI runner from a new /24 in the same ASN", cat(ciHist, one(evt(ci, at(10, 3)).bot().clone("acme/svc-1").with(ciTok).from("US", 8075, "52.1.2.3"))),
			nil},
		{"person from a known country and network", cat(aliceHist, one(office(evt(alice, at(10, 3)).clone("acme/svc-9").with(pat)))),
			nil},
		{"person's credential from a new country", cat(aliceHist, one(evt(alice, at(10, 3)).clone("acme/svc-1").with(pat).from("PT", 3243, "85.240.1.1"))),
			[]string{"credential_new_origin/low"}},
		{"person's credential reads three new repositories from a country new to both", cat(aliceHist,
			one(evt(alice, at(10, 3)).clone("acme/svc-1").with(pat).from("BR", 28573, "177.1.1.1")),
			one(evt(alice, at(10, 3.1)).clone("acme/secret-1").with(pat).from("BR", 28573, "177.1.1.1")),
			one(evt(alice, at(10, 3.2)).clone("acme/secret-2").with(pat).from("BR", 28573, "177.1.1.1")),
			one(evt(alice, at(10, 3.3)).clone("acme/secret-3").with(pat).from("BR", 28573, "177.1.1.1")),
			one(evt(alice, at(10, 3.4)).clone("acme/secret-4").with(pat).from("BR", 28573, "177.1.1.1"))),
			[]string{"credential_new_origin/low", "credential_new_origin/medium"}},
		{"new country while learning", cat(routine(alice, pat, office, 0, 3), one(evt(alice, at(3, 3)).clone("acme/svc-1").with(pat).from("VN", 7552, "14.160.1.1"))),
			nil},
		{"too few events to have learned", cat(routine(alice, pat, office, 0, 1), routine(alice, pat, office, 8, 1),
			one(evt(alice, at(9, 3)).clone("acme/svc-1").with(pat).from("VN", 7552, "14.160.1.1"))),
			nil},
		{"app tokens are ignored", cat(routine(ci, appTok, runners, 0, 10), one(evt(ci, at(10, 3)).clone("acme/svc-1").with(appTok).from("VN", 7552, "14.160.1.1"))),
			nil},
		{"token created and used from the same network", cat(
			one(office(evt(alice, at(0, 9)).created("personal_access_token.access_granted", newPAT))),
			one(office(evt(alice, at(0, 10)).clone("acme/svc-1").with(newPAT)))),
			nil},
		{"token created in GB used from VN", cat(
			one(office(evt(alice, at(0, 9)).created("personal_access_token.access_granted", newPAT))),
			one(evt(alice, at(0, 11)).clone("acme/svc-1").with(newPAT).from("VN", 7552, "14.160.1.1")),
			one(evt(alice, at(0, 12)).clone("acme/svc-2").with(newPAT).from("VN", 7552, "14.160.1.1"))),
			[]string{"credential_far_from_creation/medium"}},
		{"token created and used from another network in the same country", cat(
			one(office(evt(alice, at(0, 9)).created("personal_access_token.access_granted", newPAT))),
			one(evt(alice, at(1, 11)).clone("acme/svc-1").with(newPAT).from("GB", 5089, "82.1.1.1"))),
			[]string{"credential_far_from_creation/low"}},
		{"token first used after the creation window", cat(
			one(office(evt(alice, at(0, 9)).created("personal_access_token.access_granted", newPAT))),
			one(evt(alice, at(20, 11)).clone("acme/svc-1").with(newPAT).from("VN", 7552, "14.160.1.1"))),
			nil},
		{"traveller: token created at home, signed in and used abroad", cat(
			one(office(evt(alice, at(0, 9)).created("personal_access_token.access_granted", newPAT))),
			one(evt(alice, at(1, 1)).from("JP", 2516, "106.1.1.1")),
			one(evt(alice, at(1, 2)).fetch("acme/svc-1").with(newPAT).from("JP", 2516, "106.1.1.1"))),
			[]string{"credential_far_from_creation/low"}},
		{"SSH key added on the web, new key used from abroad", cat(
			one(office(evt(alice, at(0, 9)).created("public_key.create", reposentry.Credential{Kind: reposentry.CredentialSession}))),
			one(evt(alice, at(0, 11)).clone("acme/svc-1").with(sshKey).from("VN", 7552, "14.160.1.1"))),
			[]string{"credential_far_from_creation/medium"}},
		{"a person with a new client", cat(aliceHist, one(office(evt(alice, at(10, 3)).clone("acme/svc-1").with(pat).ua("python-requests/2.31.0")))),
			[]string{"new_client/low"}},
		{"a person with an unknown client", cat(aliceHist, one(office(evt(alice, at(10, 3)).clone("acme/svc-1").with(pat).ua("Foo/1.0")))),
			nil},
		{"a person with a new git version", cat(aliceHist, one(office(evt(alice, at(10, 3)).clone("acme/svc-1").with(pat).ua("git/2.47.1 (Apple Git-154)")))),
			nil},
		{"a person reads in a new organisation", cat(aliceHist, one(office(evt(alice, at(10, 3)).clone("globex/core").with(pat)))),
			[]string{"new_organisation/low"}},
		{"a person fetches in a new organisation", cat(aliceHist, one(office(evt(alice, at(10, 3)).fetch("globex/core").with(pat)))),
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := summary(run(Config{}, tc.evs))
			if tc.want == nil {
				tc.want = []string{}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("signals %v, want %v", got, tc.want)
			}
		})
	}
}

// TestExpiry: a country not used for ExpiryDays is forgotten, so using it
// again is new again; within the expiry it is not.
func TestExpiry(t *testing.T) {
	cfg := Config{ExpiryDays: 30}
	for _, tc := range []struct {
		name   string
		gap    int
		signal bool
	}{{"back within the expiry", 20, false}, {"back after the expiry", 40, true}} {
		t.Run(tc.name, func(t *testing.T) {
			var evs []reposentry.Event
			for d := 0; d < 10; d++ {
				evs = append(evs, routine(ci, ciTok, runners, d, 1)...)
			}
			// Learned, then one use from NL (signalled), then routine until the gap ends.
			nl := func(d int) reposentry.Event {
				return evt(ci, at(d, 5)).bot().clone("acme/svc-1").with(ciTok).from("NL", 1136, "145.1.1.1").event()
			}
			evs = append(evs, nl(10))
			evs = append(evs, routine(ci, ciTok, runners, 11, tc.gap)...)
			evs = append(evs, nl(10+tc.gap))
			var got []string
			for _, s := range run(cfg, evs) {
				got = append(got, s.Time.Format(time.DateOnly))
			}
			want := []string{at(10, 0).Format(time.DateOnly)}
			if tc.signal {
				want = append(want, at(10+tc.gap, 0).Format(time.DateOnly))
			}
			if !slices.Equal(got, want) {
				t.Errorf("signals on %v, want on %v", got, want)
			}
		})
	}
}

// TestSignalShape checks what the risk stage and analysts rely on.
func TestSignalShape(t *testing.T) {
	evs := cat(routine(alice, pat, office, 0, 10),
		one(office(evt(alice, at(10, 2)).created("personal_access_token.access_granted", newPAT))),
		one(evt(alice, at(10, 3)).clone("globex/core").with(newPAT).from("VN", 7552, "14.160.1.1").ua("curl/8.5.0")))
	sigs := run(Config{}, evs)
	if len(sigs) < 3 {
		t.Fatalf("signals %v, want far_from_creation, new_client and new_organisation", summary(sigs))
	}
	for _, s := range sigs {
		if s.Title == "" || s.Observed == "" || s.Baseline == "" || s.Explanation == "" || len(s.EventIDs) == 0 ||
			s.Entity.ID != alice || s.Entity.Type != "identity" || !slices.Equal(s.Entity.Accounts, []string{"github:alice"}) ||
			s.FirstSeen.After(s.Time) || len(s.Techniques) == 0 || len(s.Tactics) == 0 || s.Risk <= 0 {
			t.Errorf("malformed signal %+v", s)
		}
		if c, ok := s.Evidence["credential"].(map[string]any); ok {
			if k := c["key_prefix"].(string); len(k) > keyPrefix || !strings.HasPrefix(newPAT.Hash, k) {
				t.Errorf("%s: credential key %q not a %d-character prefix", s.Rule, k, keyPrefix)
			}
		}
	}
}

// TestMemoryBounds: the credential map and per-entity sets stay within
// their caps.
func TestMemoryBounds(t *testing.T) {
	cfg := Config{MaxCredentials: 8, MaxCountries: 2, MaxASNs: 2, MaxPrefixes: 3, MaxCredentialRepos: 4}
	var evs []reposentry.Event
	for i := range 200 {
		c := reposentry.Credential{Kind: reposentry.CredentialPATClassic, ID: fmt.Sprint("tok", i)}
		e := evt(alice, at(i/10, float64(i%10))).clone(fmt.Sprint("acme/r", i)).with(c).
			from(fmt.Sprint("C", i%7), uint32(100+i%5), fmt.Sprintf("10.%d.%d.1", i%9, i%11))
		evs = append(evs, e.event())
		evs = append(evs, evt(alice, at(i/10, float64(i%10))).clone(fmt.Sprint("acme/r", i)).with(pat).
			from(fmt.Sprint("C", i%7), uint32(100+i%5), fmt.Sprintf("10.%d.%d.1", i%9, i%11)).event())
	}
	d := New(cfg).(*detector)
	for i := range evs {
		d.Process(&evs[i], func(reposentry.Signal) {})
	}
	if len(d.creds) > cfg.MaxCredentials {
		t.Errorf("%d credentials, bound %d", len(d.creds), cfg.MaxCredentials)
	}
	c := d.creds[pat.Hash]
	if c == nil {
		t.Fatal("the credential in use was forgotten")
	}
	counts := map[uint8]int{}
	for _, v := range c.vals {
		counts[v.kind]++
	}
	if counts[attrCountry] > 2 || counts[attrASN] > 2 || counts[attrPrefix] > 3 || len(c.repos) > 4 {
		t.Errorf("values per kind %v and %d repositories exceed the caps", counts, len(c.repos))
	}
}

func TestPackString(t *testing.T) {
	for _, s := range []string{"", "GB", "VN", "Germany", "Netherlands"} {
		got := unpackString(packString(s))
		want := s
		if len(s) > 7 {
			want = ""
		}
		if got != want {
			t.Errorf("unpack(pack(%q)) = %q, want %q", s, got, want)
		}
	}
	for _, ip := range []string{"203.0.113.7", "2001:db8:1:2::1", "::ffff:198.51.100.9"} {
		a := netip.MustParseAddr(ip)
		bits := 48
		if a.Unmap().Is4() {
			bits = 24
		}
		want := netip.PrefixFrom(a.Unmap(), bits).Masked().String()
		if got := keys.NetString(keys.Net(a)); got != want {
			t.Errorf("keys.NetString(keys.Net(%s)) = %s, want %s", ip, got, want)
		}
	}
}
