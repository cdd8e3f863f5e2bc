package chain_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/chain"
	"github.com/reposentry/reposentry/engine/enginetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// t0 is when the cases' interesting part starts; history lies ten days
// before, past the learning period.
var t0 = time.Date(2026, 1, 20, 10, 0, 0, 0, time.UTC)

type opt func(*reposentry.Event)

func from(cc, ip string, asn uint32) opt {
	return func(ev *reposentry.Event) {
		ev.Geo.Country, ev.SourceIP, ev.Geo.ASN = cc, netip.MustParseAddr(ip), asn
	}
}
func repo(r string) opt {
	return func(ev *reposentry.Event) { ev.Repo, ev.Visibility = r, reposentry.VisibilityPrivate }
}
func failed(ev *reposentry.Event)     { ev.Outcome = reposentry.OutcomeFailure }
func push(ev *reposentry.Event)       { ev.Session.Factor = "push" }
func privileged(ev *reposentry.Event) { ev.Privileged = true }
func proxy(ev *reposentry.Event)      { ev.Session.Proxy = true }
func app(a string) opt                { return func(ev *reposentry.Event) { ev.Session.App = a } }
func target(u string) opt             { return func(ev *reposentry.Event) { ev.TargetUser = u } }
func ua(s string) opt                 { return func(ev *reposentry.Event) { ev.UserAgent = s } }

const firefox = "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0"

// mk builds an event of who at t0+at.
func mk(at time.Duration, plat reposentry.Platform, action string, cat reposentry.Category, who string, opts ...opt) reposentry.Event {
	ev := reposentry.Event{Time: t0.Add(at), Platform: plat, Action: action, Category: cat, Outcome: reposentry.OutcomeSuccess,
		Identity: who, Actor: reposentry.Account{Login: who, Type: reposentry.ActorUser}, UserAgent: firefox}
	if plat == reposentry.PlatformGitHub {
		ev.UserAgent = "git/2.43.0"
	}
	for _, o := range opts {
		o(&ev)
	}
	return ev
}

func signIn(at time.Duration, who string, opts ...opt) reposentry.Event {
	return mk(at, reposentry.PlatformOkta, "user.session.start", reposentry.CategoryLogin, who, opts...)
}

func clone(at time.Duration, who, r string, opts ...opt) reposentry.Event {
	return mk(at, reposentry.PlatformGitHub, "git.clone", reposentry.CategoryClone, who, append([]opt{repo(r)}, opts...)...)
}

// history is ten days ago: a sign-in from home in Germany and reads of the
// usual repositories.
func history(who string, usual ...string) []reposentry.Event {
	home := from("DE", "192.0.2.10", 64501)
	evs := []reposentry.Event{signIn(-240*time.Hour, who, home)}
	for i, r := range usual {
		evs = append(evs, clone(-240*time.Hour+time.Duration(i+1)*time.Minute, who, r, home))
	}
	return evs
}

// clones reads n distinct repositories of prefix, a minute apart from at.
func clones(at time.Duration, who, prefix string, n int, opts ...opt) []reposentry.Event {
	var evs []reposentry.Event
	for i := range n {
		evs = append(evs, clone(at+time.Duration(i)*time.Minute, who, fmt.Sprintf("acme/%s-%d", prefix, i), opts...))
	}
	return evs
}

func cat(parts ...[]reposentry.Event) []reposentry.Event {
	var out []reposentry.Event
	for _, p := range parts {
		out = append(out, p...)
	}
	for i := range out {
		out[i].ID.Set(fmt.Appendf(nil, "e%03d", i))
	}
	return out
}

func one(evs ...reposentry.Event) []reposentry.Event { return evs }

// vpnUsers puts n other identities on the shared VPN address.
func vpnUsers(n int, at time.Duration) []reposentry.Event {
	var evs []reposentry.Event
	for i := range n {
		evs = append(evs, signIn(at+time.Duration(i)*time.Second, fmt.Sprintf("user%d@acme.example", i), from("US", "198.51.100.7", 64512)))
	}
	return evs
}

const bob = "bob@acme.example"

var (
	brazil = from("BR", "203.0.113.9", 64900)
	home   = from("DE", "192.0.2.10", 64501)
)

type chainCase struct {
	name string
	evs  []reposentry.Event
	want map[string]reposentry.Severity // highest severity per rule; absent rules must not fire
}

var cases = []chainCase{
	{"push fatigue then mass clone", cat(history(bob, "acme/app"),
		one(mk(0, reposentry.PlatformOkta, "user.mfa.okta_verify.deny_push", reposentry.CategoryLogin, bob, home, failed, push),
			mk(500*time.Millisecond, reposentry.PlatformOkta, "user.authentication.auth_via_mfa", reposentry.CategoryLogin, bob, home, failed, push),
			mk(time.Minute, reposentry.PlatformOkta, "user.mfa.okta_verify.deny_push", reposentry.CategoryLogin, bob, home, failed, push),
			mk(2*time.Minute, reposentry.PlatformOkta, "user.mfa.okta_verify.deny_push", reposentry.CategoryLogin, bob, home, failed, push),
			mk(3*time.Minute, reposentry.PlatformOkta, "user.authentication.auth_via_mfa", reposentry.CategoryLogin, bob, home, push)),
		clones(10*time.Minute, bob, "svc", 6, home)),
		map[string]reposentry.Severity{chain.RuleRiskyChain: reposentry.SeverityHigh}},
	{"new country then bulk clone", cat(history(bob, "acme/app"), one(signIn(0, bob, brazil)), clones(5*time.Minute, bob, "svc", 16, brazil)),
		map[string]reposentry.Severity{chain.RuleRiskyChain: reposentry.SeverityCritical}},
	{"help-desk reset then archive download", cat(history(bob, "acme/app"),
		one(mk(0, reposentry.PlatformOkta, "user.account.reset_password", reposentry.CategoryOther, "desk@acme.example", target("Bob@acme.example"), from("DE", "192.0.2.99", 64501)),
			mk(time.Hour, reposentry.PlatformGitHub, "repo.download_zip", reposentry.CategoryArchiveDownload, bob, repo("acme/app"), home))),
		map[string]reposentry.Severity{chain.RuleRiskyChain: reposentry.SeverityHigh}},
	{"proxy sign-in then new SSH key", cat(history(bob, "acme/app"),
		one(signIn(0, bob, home, proxy), mk(5*time.Minute, reposentry.PlatformGitHub, "public_key.create", reposentry.CategoryCredentialCreate, bob, home))),
		map[string]reposentry.Severity{chain.RuleRiskyChain: reposentry.SeverityHigh}},
	{"factor reset and hosting network: two kinds", cat(history(bob, "acme/app"),
		one(mk(0, reposentry.PlatformOkta, "user.mfa.factor.reset_all", reposentry.CategoryMFAChange, bob, home),
			signIn(time.Minute, bob, from("DE", "192.0.2.10", 64501), func(ev *reposentry.Event) { ev.Geo.ASOrg = "Harbour VPS Hosting Ltd" })),
		clones(10*time.Minute, bob, "svc", 5, home)),
		map[string]reposentry.Severity{chain.RuleRiskyChain: reposentry.SeverityCritical}},
	{"new device then clones", cat(history(bob, "acme/app"), one(signIn(0, bob, home, ua("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0"))),
		clones(5*time.Minute, bob, "svc", 5, home)),
		map[string]reposentry.Severity{chain.RuleRiskyChain: reposentry.SeverityHigh}},
	{"impossible travel", cat(history(bob), one(signIn(0, bob, home), signIn(2*time.Hour, bob, from("JP", "203.0.113.80", 64999)))),
		map[string]reposentry.Severity{chain.RuleImpossibleTravel: reposentry.SeverityMedium, chain.RuleRiskyChain: reposentry.SeverityLow}},
	{"sign-in burst from three countries", cat(
		one(signIn(0, bob, from("DE", "192.0.2.10", 1)), signIn(10*time.Minute, bob, from("FR", "192.0.3.10", 2)), signIn(20*time.Minute, bob, from("ES", "192.0.4.10", 3)))),
		map[string]reposentry.Severity{chain.RuleSigninBurst: reposentry.SeverityMedium}},
	{"privileged identity opens GitHub through a proxy", cat(history(bob), one(signIn(0, bob, home, privileged, proxy, app("GitHub Enterprise Cloud - Organization")))),
		map[string]reposentry.Severity{chain.RulePrivilegedSession: reposentry.SeverityHigh, chain.RuleRiskyChain: reposentry.SeverityLow}},
	{"privileged identity opens GitHub as every day: context only", cat(history(bob), one(signIn(0, bob, home, privileged, app("GitHub Enterprise Cloud - Organization")))),
		map[string]reposentry.Severity{chain.RulePrivilegedSession: reposentry.SeverityLow}},

	// Near misses.
	{"traveller reads the usual two repositories", cat(history(bob, "acme/app", "acme/lib"),
		one(signIn(-30*time.Hour, bob, home), signIn(0, bob, from("ES", "203.0.113.40", 64950))),
		one(clone(time.Hour, bob, "acme/app", from("ES", "203.0.113.40", 64950)), clone(2*time.Hour, bob, "acme/lib", from("ES", "203.0.113.40", 64950)),
			clone(3*time.Hour, bob, "acme/app", from("ES", "203.0.113.40", 64950)))),
		map[string]reposentry.Severity{chain.RuleRiskyChain: reposentry.SeverityLow}},
	{"VPN egress shared by many is not a place", cat(history(bob), vpnUsers(6, -time.Hour), one(signIn(0, bob, home), signIn(10*time.Minute, bob, from("US", "198.51.100.7", 64512)))),
		map[string]reposentry.Severity{}},
	{"two denied pushes then approval", cat(history(bob, "acme/app"),
		one(mk(0, reposentry.PlatformOkta, "user.mfa.okta_verify.deny_push", reposentry.CategoryLogin, bob, home, failed, push),
			mk(time.Minute, reposentry.PlatformOkta, "user.mfa.okta_verify.deny_push", reposentry.CategoryLogin, bob, home, failed, push),
			mk(2*time.Minute, reposentry.PlatformOkta, "user.authentication.auth_via_mfa", reposentry.CategoryLogin, bob, home, push)),
		clones(10*time.Minute, bob, "svc", 6, home)),
		map[string]reposentry.Severity{}},
	{"password reset followed by no reads", cat(history(bob, "acme/app"),
		one(mk(0, reposentry.PlatformOkta, "user.account.reset_password", reposentry.CategoryOther, "desk@acme.example", target(bob), from("DE", "192.0.2.99", 64501)),
			signIn(10*time.Minute, bob, home))),
		map[string]reposentry.Severity{chain.RuleRiskyChain: reposentry.SeverityLow}},
	{"reads five hours after the risky sign-in", cat(history(bob, "acme/app"), one(signIn(0, bob, brazil)), clones(5*time.Hour, bob, "svc", 16, brazil)),
		map[string]reposentry.Severity{chain.RuleRiskyChain: reposentry.SeverityLow}},
	{"new country during the learning period", cat(one(signIn(-48*time.Hour, bob, home), signIn(0, bob, brazil)), clones(5*time.Minute, bob, "svc", 16, brazil)),
		map[string]reposentry.Severity{}},
	{"unprivileged GitHub sign-in, privileged CRM sign-in", cat(one(signIn(0, bob, home, app("GitHub")), signIn(time.Minute, "carol@acme.example", home, privileged, app("Salesforce")))),
		map[string]reposentry.Severity{}},
	{"three countries over three hours", cat(
		one(signIn(0, bob, from("DE", "192.0.2.10", 1)), signIn(90*time.Minute, bob, from("FR", "192.0.3.10", 2)), signIn(180*time.Minute, bob, from("ES", "192.0.4.10", 3)))),
		map[string]reposentry.Severity{}},
}

func TestDetections(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sigs := enginetest.Run(chain.New(chain.DefaultConfig()), tc.evs)
			got := map[string]reposentry.Severity{}
			for _, s := range sigs {
				if s.Severity > got[s.Rule] || got[s.Rule] == 0 {
					got[s.Rule] = max(got[s.Rule], s.Severity)
				}
				if len(s.EventIDs) == 0 || s.Entity.ID == "" || s.Observed == "" || s.Explanation == "" {
					t.Errorf("incomplete signal %+v", s)
				}
			}
			for rule, sev := range tc.want {
				if g, ok := got[rule]; !ok || g != sev {
					t.Errorf("%s: got %v (fired %v), want %v", rule, g, ok, sev)
				}
			}
			for rule, sev := range got {
				if _, ok := tc.want[rule]; !ok {
					t.Errorf("%s fired (%v) but must not", rule, sev)
					for _, s := range sigs {
						t.Logf("  %s %s: %s", s.Rule, s.Severity, s.Observed)
					}
				}
			}
		})
	}
}

// TestChainSignalGolden pins the JSON of one chain signal
// (testdata/chain_signal.golden.json; -update rewrites it).
func TestChainSignalGolden(t *testing.T) {
	sigs := enginetest.Run(chain.New(chain.DefaultConfig()), cases[0].evs)
	var got *reposentry.Signal
	for i := range sigs {
		if sigs[i].Rule == chain.RuleRiskyChain && sigs[i].Severity == reposentry.SeverityHigh {
			got = &sigs[i]
			break
		}
	}
	if got == nil {
		t.Fatalf("no high chain signal among %d signals", len(sigs))
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", "chain_signal.golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run with -update to create it): %v", path, err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("chain signal differs from %s; got:\n%s", path, b)
	}
}
