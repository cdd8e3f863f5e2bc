package detect

import (
	"cmp"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine/enginetest"
	"github.com/reposentry/reposentry/internal/keys"
	"go.yaml.in/yaml/v3"
)

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

type mod func(*reposentry.Event)

func vis(v reposentry.Visibility) mod { return func(e *reposentry.Event) { e.Visibility = v } }
func from(ip, country string) mod {
	return func(e *reposentry.Event) { e.SourceIP, e.Geo.Country = netip.MustParseAddr(ip), country }
}
func cred(kind reposentry.CredentialKind, id string) mod {
	return func(e *reposentry.Event) { e.Credential = reposentry.Credential{Kind: kind, ID: id} }
}
func actorType(t reposentry.ActorType) mod { return func(e *reposentry.Event) { e.Actor.Type = t } }
func ident(id string) mod                  { return func(e *reposentry.Event) { e.Identity = id } }

// withBots returns the default configuration with bot patterns.
func withBots(patterns ...string) Config {
	c := DefaultConfig()
	c.BotPatterns = patterns
	return c
}
func privileged() mod { return func(e *reposentry.Event) { e.Privileged = true } }
func disabled() mod   { return func(e *reposentry.Event) { e.Disabled = true } }
func tags(t reposentry.RepoTags) mod {
	return func(e *reposentry.Event) { e.RepoTags = t }
}
func action(a string) mod { return func(e *reposentry.Event) { e.Action = a } }

// oktaSignIn makes the event an Okta sign-in of the login's mail address.
func oktaSignIn() mod {
	return func(e *reposentry.Event) {
		e.Platform, e.Action, e.Repo, e.Credential = reposentry.PlatformOkta, "user.session.start", "", reposentry.Credential{}
	}
}
func detail(d string) mod { return func(e *reposentry.Event) { e.Detail = d } }
func target(u string) mod { return func(e *reposentry.Event) { e.TargetUser = u } }

var defaultAction = map[reposentry.Category]string{
	reposentry.CategoryClone: "git.clone", reposentry.CategoryFetch: "git.fetch",
	reposentry.CategoryArchiveDownload: "repo.download_zip", reposentry.CategoryBrowse: "repo.view",
	reposentry.CategoryCredentialCreate: "personal_access_token.access_granted",
	reposentry.CategoryVisibilityChange: "repo.access", reposentry.CategoryPush: "git.push",
}

// mk builds one event of login at t0+d; by default a private clone from the
// login's usual address with its usual fine-grained token.
func mk(d time.Duration, login string, cat reposentry.Category, repo string, mods ...mod) reposentry.Event {
	e := reposentry.Event{
		Time: t0.Add(d), Platform: reposentry.PlatformGitHub, Action: defaultAction[cat], Category: cat,
		Outcome: reposentry.OutcomeSuccess, Actor: reposentry.Account{Login: login, Type: reposentry.ActorUser},
		Identity: login + "@example.com", Org: "acme", Repo: repo, Visibility: reposentry.VisibilityPrivate,
		SourceIP: netip.MustParseAddr("198.51.100.23"), Geo: reposentry.Geo{Country: "NL"},
		Credential: reposentry.Credential{Kind: reposentry.CredentialPATFineGrained, ID: "tok-" + login},
	}
	for _, m := range mods {
		m(&e)
	}
	return e
}

// spree reads n distinct repositories named prefix-NNN, one every step.
func spree(start time.Duration, login string, cat reposentry.Category, prefix string, n int, step time.Duration, mods ...mod) []reposentry.Event {
	out := make([]reposentry.Event, n)
	for i := range out {
		out[i] = mk(start+time.Duration(i)*step, login, cat, fmt.Sprintf("acme/%s-%03d", prefix, i), mods...)
	}
	return out
}

// warm gives login a first event at the data's start, so later activity is
// past the learning period.
func warm(login string) reposentry.Event {
	return mk(0, login, reposentry.CategoryBrowse, "acme/handbook")
}

func join(parts ...any) []reposentry.Event {
	var out []reposentry.Event
	for _, p := range parts {
		switch v := p.(type) {
		case reposentry.Event:
			out = append(out, v)
		case []reposentry.Event:
			out = append(out, v...)
		default:
			panic(fmt.Sprintf("join: unexpected %T", p))
		}
	}
	return out
}

// run drives the detectors like the engine: events in time order, Advance
// at every new minute of event time. Event ids are assigned by position.
func run(cfg Config, evs []reposentry.Event) []reposentry.Signal {
	slices.SortStableFunc(evs, func(a, b reposentry.Event) int { return a.Time.Compare(b.Time) })
	for i := range evs {
		if evs[i].ID.IsZero() {
			evs[i].ID.Set(fmt.Appendf(nil, "ev%05d", i))
		}
	}
	return enginetest.Run(New(cfg), evs)
}

func summary(sigs []reposentry.Signal) []string {
	out := make([]string, 0, len(sigs))
	for _, s := range sigs {
		out = append(out, s.Rule+"/"+s.Severity.String()+"/"+s.Entity.ID)
	}
	return out
}

func TestDetections(t *testing.T) {
	ci := DefaultConfig()
	ci.BotPatterns = []string{"svc-*"}
	ci.Privileged = []string{"root-admin"}
	admins := DefaultConfig()
	admins.PlatformAdmins = []string{"Owner-Jane"}
	unweighted := DefaultConfig()
	unweighted.SensitiveWeight = 1
	secrets := tags(reposentry.TagSecrets)
	// ownerAct is an owner-only action: changing a member's role.
	ownerAct := func(d time.Duration, login string) reposentry.Event {
		return mk(d, login, reposentry.CategoryPermissionChange, "", action("org.update_member"), target("bob"), detail("admin"))
	}
	clone, fetch := reposentry.CategoryClone, reposentry.CategoryFetch
	// idp is an identity provider's administrator acting on a user.
	idp := func(d time.Duration, plat reposentry.Platform, act, user string, mods ...mod) reposentry.Event {
		e := mk(d, "helpdesk", reposentry.CategoryOther, "", append([]mod{action(act), target(user)}, mods...)...)
		e.Platform = plat
		return e
	}
	okta, entra := reposentry.PlatformOkta, reposentry.PlatformEntra
	const alice, bob = "alice@example.com", "bob@example.com"

	tests := []struct {
		name string
		cfg  Config
		evs  []reposentry.Event
		want []string
	}{
		// bulk_read: true positives.
		{"bulk read rises through tiers", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", clone, "svc", 31, 10*time.Second)),
			[]string{"bulk_read/medium/" + alice, "bulk_read/high/" + alice}},
		{"bulk read critical", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", clone, "svc", 80, 5*time.Second)),
			[]string{"bulk_read/medium/" + alice, "bulk_read/high/" + alice, "bulk_read/critical/" + alice}},
		{"archive downloads are high on their own", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", reposentry.CategoryArchiveDownload, "zip", 10, 20*time.Second)),
			[]string{"bulk_read/high/" + alice}},
		{"cold start still catches bulk reads", DefaultConfig(),
			spree(0, "alice", clone, "svc", 16, 10*time.Second),
			[]string{"bulk_read/medium/" + alice}},
		{"credential shared by two identities", DefaultConfig(),
			join(warm("alice"), warm("bob"),
				spree(10*day, "alice", clone, "a", 10, 10*time.Second, cred(reposentry.CredentialPATClassic, "shared")),
				spree(10*day+5*time.Second, "bob", clone, "b", 10, 10*time.Second, cred(reposentry.CredentialPATClassic, "shared"))),
			[]string{"bulk_read/medium/" + alice}},
		{"new spree after the window empties signals again", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", clone, "one", 15, 10*time.Second),
				spree(11*day, "alice", clone, "two", 15, 10*time.Second)),
			[]string{"bulk_read/medium/" + alice, "bulk_read/medium/" + alice}},

		// bulk_read: must not fire.
		{"near miss of 14 repositories", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", clone, "svc", 14, 10*time.Second)),
			nil},
		{"spree slower than the window", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", clone, "svc", 40, time.Minute)),
			nil},
		{"CI bot cloning 500 repositories an hour all day", DefaultConfig(),
			join(warm("ci[bot]"), spree(10*day, "ci[bot]", clone, "all", 500*8, 7200*time.Millisecond,
				actorType(reposentry.ActorBot), cred(reposentry.CredentialApp, "inst-1"))),
			nil},
		{"configured bot pattern", ci,
			join(warm("svc-build"), spree(10*day, "svc-build", clone, "all", 200, time.Second)),
			nil},
		{"fetch of repositories already cloned", DefaultConfig(),
			join(warm("alice"), spree(day, "alice", clone, "svc", 40, 2*time.Hour),
				spree(10*day, "alice", fetch, "svc", 40, 5*time.Second)),
			nil},
		{"fetch of unknown repositories during cold start", DefaultConfig(),
			spree(time.Hour, "alice", fetch, "svc", 40, 5*time.Second),
			nil},
		{"public repository clone spree", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", clone, "oss", 150, 2*time.Second, vis(reposentry.VisibilityPublic))),
			nil},
		{"re-reading routine repositories", DefaultConfig(),
			join(warm("alice"), spree(day, "alice", clone, "svc", 40, 20*time.Minute),
				spree(10*day, "alice", clone, "svc", 40, 5*time.Second)),
			nil},
		{"same repository cloned 100 times", DefaultConfig(),
			join(warm("alice"), func() []reposentry.Event {
				var out []reposentry.Event
				for i := range 100 {
					out = append(out, mk(10*day+time.Duration(i)*time.Second, "alice", clone, "acme/monorepo"))
				}
				return out
			}()),
			nil},
		{"new joiner onboarding", DefaultConfig(),
			join(warm("alice"),
				mk(10*day, "newbie", reposentry.CategoryCredentialCreate, "", action("public_key.create"), cred(reposentry.CredentialSession, "")),
				spree(10*day+time.Minute, "newbie", clone, "svc", 25, 15*time.Second, from("203.0.113.7", "DE"))),
			nil},
		{"release-day fetch storm of repositories never read before", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", fetch, "rel", 120, 30*time.Second)),
			nil},
		{"bot pattern with literal brackets", DefaultConfig(),
			join(warm("deps[bot]"), spree(10*day, "deps[bot]", clone, "all", 200, time.Second)),
			nil},
		{"bot pattern matching the identity id only", ci,
			join(mk(0, "acme-build", reposentry.CategoryBrowse, "acme/handbook", ident("svc-build@example.com")),
				spree(day, "acme-build", clone, "all", 200, 3*time.Second, ident("svc-build@example.com"))),
			nil},
		{"bot pattern is a glob, not a character class", withBots("*[bot]"),
			join(warm("b"), spree(10*day, "b", clone, "all", 20, time.Second)),
			[]string{"bulk_read/medium/b@example.com"}},
		{"application credential is automation", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", clone, "all", 200, time.Second, cred(reposentry.CredentialApp, "inst-9"))),
			nil},
		{"automation by behaviour: bulk reads on two learning days", DefaultConfig(),
			join(spree(time.Hour, "builder", clone, "d0", 20, 10*time.Second), spree(day+time.Hour, "builder", clone, "d1", 20, 10*time.Second),
				spree(10*day, "builder", clone, "all", 300, time.Second)),
			[]string{"bulk_read/medium/builder@example.com"}},
		{"one bulk day while learning is not automation", DefaultConfig(),
			join(spree(time.Hour, "alice", clone, "d0", 20, 10*time.Second), spree(10*day, "alice", clone, "all", 20, time.Second)),
			[]string{"bulk_read/medium/" + alice, "bulk_read/medium/" + alice}},
		{"stolen automation token: reads from a new country", ci,
			join(warm("svc-build"), spree(day, "svc-build", clone, "own", 300, 3*time.Second),
				spree(10*day, "svc-build", clone, "other", 40, 20*time.Second, from("203.0.113.50", "VN"))),
			[]string{"first_seen_location/low/svc-build@example.com", "first_seen_location/medium/svc-build@example.com",
				"bulk_read/high/svc-build@example.com", "first_seen_location/high/svc-build@example.com", "bulk_read/critical/svc-build@example.com"}},
		{"stolen automation token: a new credential from the usual place", ci,
			join(warm("svc-build"), spree(10*day, "svc-build", clone, "other", 20, 20*time.Second, cred(reposentry.CredentialPATClassic, "tok-x"))),
			[]string{"bulk_read/high/svc-build@example.com"}},
		{"automation rebuilding everything from its usual runners", ci,
			join(warm("svc-build"), spree(day, "svc-build", clone, "own", 2000, 5*time.Second),
				spree(10*day, "svc-build", clone, "own", 2000, 100*time.Millisecond)),
			nil},
		{"automation re-reading thousands of routine repositories from a new country", ci,
			join(warm("svc-build"), spree(day, "svc-build", clone, "own", 2000, 5*time.Second),
				spree(10*day, "svc-build", clone, "own", 2000, 100*time.Millisecond, from("203.0.113.50", "VN"))),
			[]string{"first_seen_location/low/svc-build@example.com"}},
		{"failed clones do not count", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", clone, "svc", 40, time.Second, func(e *reposentry.Event) { e.Outcome = reposentry.OutcomeFailure })),
			nil},

		// new_credential_bulk_read.
		{"token granted then five private clones", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", reposentry.CategoryCredentialCreate, ""),
				spree(10*day+20*time.Minute, "alice", clone, "svc", 6, 3*time.Minute)),
			[]string{"new_credential_bulk_read/high/" + alice}},
		{"ssh key then a bulk read escalates to critical", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", reposentry.CategoryCredentialCreate, "", action("public_key.create")),
				spree(10*day+30*time.Minute, "alice", clone, "svc", 30, 10*time.Second)),
			[]string{"new_credential_bulk_read/high/" + alice, "bulk_read/medium/" + alice,
				"bulk_read/high/" + alice, "new_credential_bulk_read/critical/" + alice}},
		{"reads with the created credential by another identity", DefaultConfig(),
			join(warm("alice"), warm("mallory"),
				mk(10*day, "alice", reposentry.CategoryCredentialCreate, "", cred(reposentry.CredentialPATClassic, "tok-new")),
				spree(10*day+10*time.Minute, "mallory", clone, "svc", 5, time.Minute, cred(reposentry.CredentialPATClassic, "tok-new"))),
			[]string{"new_credential_bulk_read/high/" + alice}},
		{"reads more than an hour after the credential", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", reposentry.CategoryCredentialCreate, ""),
				spree(10*day+61*time.Minute, "alice", clone, "svc", 10, time.Minute)),
			nil},
		{"only routine repositories after the credential", DefaultConfig(),
			join(warm("alice"), spree(day, "alice", clone, "svc", 10, time.Hour),
				mk(10*day, "alice", reposentry.CategoryCredentialCreate, ""),
				spree(10*day+time.Minute, "alice", clone, "svc", 10, time.Minute)),
			nil},

		// exfil_path_opened.
		{"repository made public", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", reposentry.CategoryVisibilityChange, "acme/secret", detail("public"))),
			[]string{"exfil_path_opened/medium/" + alice}},
		{"repository made private is not a path out", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", reposentry.CategoryVisibilityChange, "acme/secret", detail("private"))),
			nil},
		{"outside collaborator after a bulk read", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", clone, "svc", 15, 10*time.Second),
				mk(10*day+5*time.Hour, "alice", reposentry.CategoryMembershipChange, "", action("org.add_outside_collaborator"), target("evil"))),
			[]string{"bulk_read/medium/" + alice, "exfil_path_opened/high/" + alice}},
		{"private forking enabled and a transfer", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", reposentry.CategorySettingsChange, "", action("private_repository_forking.enable")),
				mk(10*day+time.Minute, "alice", reposentry.CategoryOther, "acme/secret", action("repo.transfer"))),
			[]string{"exfil_path_opened/medium/" + alice, "exfil_path_opened/medium/" + alice}},

		// first_seen_location.
		{"new country: one unfamiliar repository is low, a second medium", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", clone, "acme/a", from("203.0.113.9", "RU")),
				mk(10*day+time.Minute, "alice", clone, "acme/b", from("203.0.113.9", "RU")),
				mk(10*day+2*time.Minute, "alice", clone, "acme/c", from("203.0.113.9", "RU"))),
			[]string{"first_seen_location/low/" + alice, "first_seen_location/medium/" + alice}},
		{"traveller reading the usual repositories is low", DefaultConfig(),
			join(warm("alice"), mk(day, "alice", clone, "acme/a"), mk(2*day, "alice", clone, "acme/b"),
				mk(10*day, "alice", fetch, "acme/a", from("203.0.113.9", "JP")),
				mk(10*day+time.Hour, "alice", clone, "acme/b", from("203.0.113.9", "JP"))),
			[]string{"first_seen_location/low/" + alice}},
		{"new country at an unusual hour with one unfamiliar repository stays low", DefaultConfig(),
			join(warm("alice"), mk(10*day+5*time.Hour, "alice", clone, "acme/x", from("203.0.113.9", "SG")),
				mk(10*day+5*time.Hour+time.Minute, "alice", fetch, "acme/x", from("203.0.113.9", "SG"))),
			[]string{"first_seen_location/low/" + alice}},
		{"new country with a new credential and an unfamiliar repository is high", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", clone, "acme/x", from("203.0.113.9", "RU"), cred(reposentry.CredentialPATClassic, "tok-new"))),
			[]string{"first_seen_location/high/" + alice}},
		{"low and slow: unfamiliar repositories at night from a new country", DefaultConfig(),
			join(warm("alice"), mk(10*day+3*time.Hour, "alice", clone, "acme/x", from("203.0.113.9", "HK")),
				mk(10*day+4*time.Hour, "alice", clone, "acme/y", from("203.0.113.9", "HK")),
				mk(11*day+3*time.Hour, "alice", clone, "acme/z", from("203.0.113.9", "HK"))),
			[]string{"first_seen_location/low/" + alice, "first_seen_location/high/" + alice}},
		{"new network in a known country needs two reasons, one strong", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", clone, "acme/x", from("192.0.2.44", "NL"), cred(reposentry.CredentialPATClassic, "tok-new"))),
			[]string{"first_seen_location/medium/" + alice}},
		{"a credential new during the learning period is not new", DefaultConfig(),
			join(warm("alice"), mk(day, "alice", fetch, "acme/x", cred(reposentry.CredentialPATClassic, "tok-2")),
				mk(10*day, "alice", fetch, "acme/x", from("203.0.113.9", "JP"), cred(reposentry.CredentialPATClassic, "tok-2"))),
			[]string{"first_seen_location/low/" + alice}},
		{"a sign-in at the identity provider from the new place vouches for it", DefaultConfig(),
			join(warm("alice"), mk(10*day-time.Hour, "alice", reposentry.CategoryLogin, "", from("203.0.113.9", "JP"), oktaSignIn()),
				mk(10*day, "alice", clone, "acme/x", from("203.0.113.9", "JP"), cred(reposentry.CredentialPATClassic, "tok-new"))),
			nil},
		{"a sign-in the identity provider found risky vouches for nothing", DefaultConfig(),
			join(warm("alice"), mk(10*day-time.Hour, "alice", reposentry.CategoryLogin, "", from("203.0.113.9", "JP"), oktaSignIn(),
				func(e *reposentry.Event) { e.Session.Risk = "high" }),
				mk(10*day, "alice", clone, "acme/x", from("203.0.113.9", "JP"), cred(reposentry.CredentialPATClassic, "tok-new"))),
			[]string{"first_seen_location/high/" + alice}},
		{"a sign-in through a proxy vouches for nothing", DefaultConfig(),
			join(warm("alice"), mk(10*day-time.Hour, "alice", reposentry.CategoryLogin, "", from("203.0.113.9", "JP"), oktaSignIn(),
				func(e *reposentry.Event) { e.Session.Proxy = true }),
				mk(10*day, "alice", clone, "acme/x", from("203.0.113.9", "JP"), cred(reposentry.CredentialPATClassic, "tok-new"))),
			[]string{"first_seen_location/high/" + alice}},
		{"a sign-in from a hosting network vouches for nothing", DefaultConfig(),
			join(warm("alice"), mk(10*day-time.Hour, "alice", reposentry.CategoryLogin, "", from("203.0.113.9", "JP"), oktaSignIn(),
				func(e *reposentry.Event) { e.Geo.Class = "hosting" }),
				mk(10*day, "alice", clone, "acme/x", from("203.0.113.9", "JP"), cred(reposentry.CredentialPATClassic, "tok-new"))),
			[]string{"first_seen_location/high/" + alice}},
		{"read from a new network in a known country", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", clone, "acme/a", from("192.0.2.44", "NL"))),
			[]string{"first_seen_location/low/" + alice}},
		{"IPv6 networks are /48", DefaultConfig(),
			join(warm("alice"), mk(day, "alice", clone, "acme/a", from("2001:db8:1:1::1", "NL")),
				mk(10*day, "alice", clone, "acme/b", from("2001:db8:1:ff::9", "NL"))),
			nil},
		{"cold start reads from many places", DefaultConfig(),
			join(mk(time.Hour, "alice", clone, "acme/a", from("203.0.113.9", "US")),
				mk(2*day, "alice", clone, "acme/b", from("192.0.2.1", "DE")),
				mk(3*day, "alice", clone, "acme/c", from("198.18.0.1", "FR"))),
			nil},
		{"location first seen by a login days before", DefaultConfig(),
			join(warm("alice"), mk(8*day, "alice", reposentry.CategoryLogin, "", from("203.0.113.9", "US")),
				mk(10*day, "alice", clone, "acme/a", from("203.0.113.9", "US"))),
			nil},

		// privileged_read.
		{"privileged identity reads once per incident", DefaultConfig(),
			join(warm("root"), mk(10*day, "root", clone, "acme/a", privileged()), mk(10*day+time.Hour, "root", clone, "acme/b", privileged()),
				mk(11*day, "root", clone, "acme/c", privileged())),
			[]string{"privileged_read/high/root@example.com", "privileged_read/high/root@example.com"}},
		{"configured privileged login from a new country", ci,
			join(warm("root-admin"), mk(10*day, "root-admin", clone, "acme/a", from("203.0.113.9", "RU"))),
			[]string{"first_seen_location/low/root-admin@example.com", "privileged_read/critical/root-admin@example.com"}},
		{"unprivileged reads", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", clone, "acme/a")),
			nil},

		// disabled_account_active.
		{"disabled account clones, once per incident", DefaultConfig(),
			join(warm("leaver"), mk(10*day, "leaver", clone, "acme/a", disabled()), mk(10*day+time.Minute, "leaver", clone, "acme/b", disabled()),
				mk(11*day, "leaver", fetch, "acme/a", disabled())),
			[]string{"disabled_account_active/critical/leaver@example.com", "disabled_account_active/critical/leaver@example.com"}},
		{"disabled account pushes, then creates a token", DefaultConfig(),
			join(warm("leaver"), mk(10*day, "leaver", reposentry.CategoryPush, "acme/a", disabled()),
				mk(10*day+time.Minute, "leaver", reposentry.CategoryPush, "acme/b", disabled()),
				mk(10*day+2*time.Minute, "leaver", reposentry.CategoryCredentialCreate, "", disabled())),
			[]string{"disabled_account_active/high/leaver@example.com", "disabled_account_active/critical/leaver@example.com"}},
		{"disabled account only browsing", DefaultConfig(),
			join(warm("leaver"), mk(10*day, "leaver", reposentry.CategoryBrowse, "acme/a", disabled())),
			nil},
		{"enabled account reads", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", clone, "acme/a"), mk(10*day, "alice", reposentry.CategoryPush, "acme/a")),
			nil},
		{"clone a day after the identity provider deactivated the user", DefaultConfig(),
			join(warm("alice"), idp(10*day, okta, "user.lifecycle.deactivate", "Alice@Example.com"),
				mk(11*day, "alice", clone, "acme/a")),
			[]string{"disabled_account_active/critical/" + alice}},
		{"deactivated before the identity was first seen", DefaultConfig(),
			join(idp(0, entra, "Disable account", "alice@example.com"), mk(day, "alice", reposentry.CategoryPush, "acme/a")),
			[]string{"disabled_account_active/high/" + alice}},
		{"finishing the last day after the deactivation", DefaultConfig(),
			join(warm("alice"), idp(10*day, okta, "user.lifecycle.deactivate", "alice@example.com"),
				mk(10*day-time.Hour, "alice", clone, "acme/a"), mk(10*day+6*time.Hour, "alice", reposentry.CategoryPush, "acme/a")),
			nil},
		{"the morning after the deactivation", DefaultConfig(),
			join(warm("alice"), idp(10*day, okta, "user.lifecycle.deactivate", "alice@example.com"),
				mk(10*day+16*time.Hour, "alice", fetch, "acme/a")),
			[]string{"disabled_account_active/critical/" + alice}},
		{"deactivated then reactivated", DefaultConfig(),
			join(warm("alice"), idp(10*day, okta, "user.lifecycle.suspend", "alice@example.com"),
				idp(10*day+time.Hour, okta, "user.lifecycle.unsuspend", "alice@example.com"), mk(11*day, "alice", clone, "acme/a")),
			nil},
		{"failed deactivation", DefaultConfig(),
			join(warm("alice"), idp(10*day, okta, "user.lifecycle.deactivate", "alice@example.com",
				func(e *reposentry.Event) { e.Outcome = reposentry.OutcomeFailure }), mk(11*day, "alice", clone, "acme/a")),
			nil},
		{"deactivating someone else", DefaultConfig(),
			join(warm("alice"), idp(10*day, okta, "user.lifecycle.deactivate", "bob@example.com"), mk(11*day, "alice", clone, "acme/a")),
			nil},
		{"failed read by a disabled account", DefaultConfig(),
			join(warm("leaver"), mk(10*day, "leaver", clone, "acme/a", disabled(), func(e *reposentry.Event) { e.Outcome = reposentry.OutcomeFailure })),
			nil},

		// platform_admin_bulk_read.
		{"owner learned from the audit log bulk-reads", DefaultConfig(),
			join(warm("jane"), ownerAct(day, "jane"), spree(10*day, "jane", clone, "svc", 15, 10*time.Second)),
			[]string{"bulk_read/medium/jane@example.com", "platform_admin_bulk_read/high/jane@example.com"}},
		{"configured owner rises through the tiers", admins,
			join(warm("owner-jane"), spree(10*day, "owner-jane", clone, "svc", 31, 10*time.Second)),
			[]string{"bulk_read/medium/owner-jane@example.com", "platform_admin_bulk_read/high/owner-jane@example.com",
				"bulk_read/high/owner-jane@example.com", "platform_admin_bulk_read/critical/owner-jane@example.com"}},
		{"enterprise owner by a business setting", DefaultConfig(),
			join(warm("jane"), mk(day, "jane", reposentry.CategorySettingsChange, "", action("business.enable_saml")),
				spree(10*day, "jane", clone, "svc", 15, 10*time.Second)),
			[]string{"bulk_read/medium/jane@example.com", "platform_admin_bulk_read/high/jane@example.com"}},
		{"owner's small reads", admins,
			join(warm("owner-jane"), ownerAct(day, "owner-jane"), spree(10*day, "owner-jane", clone, "svc", 14, 10*time.Second)),
			nil},
		{"non-owner's bulk read is an ordinary bulk read", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", clone, "svc", 15, 10*time.Second)),
			[]string{"bulk_read/medium/" + alice}},
		{"team maintainers and requesters are not owners", DefaultConfig(),
			join(warm("alice"), mk(day, "alice", reposentry.CategoryMembershipChange, "", action("team.add_member"), target("bob")),
				mk(day, "alice", reposentry.CategoryPermissionChange, "", action("org.oauth_app_access_requested")),
				mk(day, "alice", reposentry.CategoryLogin, "", action("org.sso_response")),
				spree(10*day, "alice", clone, "svc", 15, 10*time.Second)),
			[]string{"bulk_read/medium/" + alice}},

		// Sensitive repositories.
		{"secrets repositories count double", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", clone, "vault", 8, 10*time.Second, secrets)),
			[]string{"bulk_read/medium/" + alice}},
		{"sensitive weight 1 counts them once", unweighted,
			join(warm("alice"), spree(10*day, "alice", clone, "vault", 8, 10*time.Second, secrets)),
			nil},
		{"public sensitive repositories are not counted", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", clone, "vault", 15, 10*time.Second, secrets, vis(reposentry.VisibilityPublic))),
			nil},
		{"security-tagged repositories count once", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", clone, "detect", 8, 10*time.Second, tags(reposentry.TagSecurity))),
			nil},
		{"mix of sensitive and ordinary repositories", DefaultConfig(),
			join(warm("alice"), spree(10*day, "alice", clone, "tf", 5, 10*time.Second, tags(reposentry.TagInfrastructure)),
				spree(10*day+time.Minute, "alice", clone, "svc", 5, 10*time.Second)),
			[]string{"bulk_read/medium/" + alice}},
		{"secrets repository first read from a new country is raised", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", clone, "acme/vault-config", from("203.0.113.9", "RU"), secrets)),
			[]string{"first_seen_location/medium/" + alice}},
		{"signing repository with a new credential from a new country", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", clone, "acme/release-keys", from("203.0.113.9", "RU"),
				cred(reposentry.CredentialPATClassic, "tok-new"), tags(reposentry.TagSigning))),
			[]string{"first_seen_location/critical/" + alice}},
		{"secrets repository read before is not raised", DefaultConfig(),
			join(warm("alice"), mk(day, "alice", clone, "acme/vault-config", secrets),
				mk(10*day, "alice", clone, "acme/vault-config", from("203.0.113.9", "RU"), secrets)),
			[]string{"first_seen_location/low/" + alice}},
		{"infrastructure repository from a new country is not raised", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", clone, "acme/infra-live", from("203.0.113.9", "RU"), tags(reposentry.TagInfrastructure))),
			[]string{"first_seen_location/low/" + alice}},
		{"secrets repository from the usual place", DefaultConfig(),
			join(warm("alice"), mk(10*day, "alice", clone, "acme/vault-config", secrets)),
			nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summary(run(tc.cfg, tc.evs))
			if !slices.Equal(got, tc.want) {
				t.Errorf("signals:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

// TestSignalShape checks what every signal must carry for the risk stage and
// for analysts.
func TestSignalShape(t *testing.T) {
	evs := join(warm("alice"), mk(10*day, "alice", reposentry.CategoryCredentialCreate, ""),
		spree(10*day+time.Minute, "alice", reposentry.CategoryClone, "svc", 300, time.Second, from("203.0.113.9", "RU")))
	sigs := run(DefaultConfig(), evs)
	if len(sigs) == 0 {
		t.Fatal("no signals")
	}
	for _, s := range sigs {
		if s.Rule == "" || s.Title == "" || s.Explanation == "" || s.Observed == "" || s.Entity.ID == "" ||
			len(s.Techniques) == 0 || len(s.Tactics) == 0 || len(s.EventIDs) == 0 || s.Time.IsZero() || s.FirstSeen.IsZero() {
			t.Errorf("%s: incomplete signal %+v", s.Rule, s)
		}
		if s.Risk < 0 || s.Risk > 100 {
			t.Errorf("%s: risk %d out of range", s.Rule, s.Risk)
		}
		if len(s.EventIDs) > DefaultConfig().MaxEventIDs+1 {
			t.Errorf("%s: %d event ids, cap is %d", s.Rule, len(s.EventIDs), DefaultConfig().MaxEventIDs)
		}
		if s.FirstSeen.After(s.Time) {
			t.Errorf("%s: first seen %s after time %s", s.Rule, s.FirstSeen, s.Time)
		}
		if !strings.HasPrefix(s.EventIDs[0], "github:") {
			t.Errorf("%s: event id %q lacks the platform", s.Rule, s.EventIDs[0])
		}
	}
}

func TestAdvanceForgetsState(t *testing.T) {
	c := newCore(DefaultConfig())
	evs := join(mk(10*day, "alice", reposentry.CategoryCredentialCreate, "", cred(reposentry.CredentialPATClassic, "new")),
		spree(10*day, "alice", reposentry.CategoryClone, "svc", 10, time.Second))
	for i := range evs {
		evs[i].ID.Set(fmt.Appendf(nil, "e%d", i))
		c.observe(&evs[i])
	}
	if len(c.active) != 1 || len(c.creds) != 2 {
		t.Fatalf("before advance: %d active identities, %d credentials; want 1 and 2", len(c.active), len(c.creds))
	}
	c.advance(t0.Add(10*day + 2*time.Hour))
	a := c.actors["alice@example.com"]
	if len(c.active) != 0 || len(c.creds) != 0 || a.win.q != nil || a.win.refs != nil || a.pend != nil {
		t.Errorf("after advance: %d active, %d credentials, window %d reads, pending %v", len(c.active), len(c.creds), a.win.len(), a.pend)
	}
	if len(a.mem) != 10 {
		t.Errorf("routine memory has %d repositories, want 10 kept", len(a.mem))
	}
	c.advance(t0.Add(200 * day))
	if len(c.actors) != 0 {
		t.Errorf("%d identities kept past the TTL", len(c.actors))
	}
}

func TestRoutineMemoryBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RoutineRepos, cfg.AutomationRoutineRepos = 8, 12
	c := newCore(cfg)
	evs := join(spree(0, "alice", reposentry.CategoryClone, "r", 20, time.Hour),
		spree(0, "ci[bot]", reposentry.CategoryClone, "r", 20, time.Hour))
	for i := range evs {
		c.observe(&evs[i])
	}
	if n := len(c.actors["ci[bot]@example.com"].mem); n != 12 {
		t.Errorf("automation memory holds %d repositories, want 12", n)
	}
	a := c.actors["alice@example.com"]
	if len(a.mem) != 8 {
		t.Fatalf("memory holds %d repositories, want 8", len(a.mem))
	}
	if !slices.IsSortedFunc(a.mem, func(x, y memEntry) int { return cmp.Compare(x.h, y.h) }) {
		t.Error("memory is not sorted")
	}
	for i := range 20 {
		repo := fmt.Sprintf("acme/r-%03d", i)
		_, kept := slices.BinarySearchFunc(a.mem, keys.String(repo), func(e memEntry, h uint64) int { return cmp.Compare(e.h, h) })
		if kept != (i >= 12) {
			t.Errorf("%s kept = %v; want the 8 most recently read kept", repo, kept)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"defaults", func(*Config) {}, ""},
		{"negative window", func(c *Config) { c.Window = -time.Minute }, "detect.window is negative"},
		{"tiers out of order", func(c *Config) { c.Tiers.High = 10 }, "must rise"},
		{"glob matching everything", func(c *Config) { c.BotPatterns = []string{"**"} }, `glob "**" would match every login`},
		{"brackets are literal", func(c *Config) { c.BotPatterns = []string{"*[bot]"} }, ""},
		{"sensitive weight too large", func(c *Config) { c.SensitiveWeight = 50 }, "detect.sensitive_weight: 50 is out of range"},
		{"sensitive weight negative", func(c *Config) { c.SensitiveWeight = -1 }, "detect.sensitive_weight"},
		{"negative deactivation grace", func(c *Config) { c.DeactivationGrace = -time.Hour }, "detect.deactivation_grace is negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestNetKey(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"198.51.100.1", "198.51.100.254", true},
		{"198.51.100.1", "198.51.101.1", false},
		{"::ffff:198.51.100.1", "198.51.100.9", true},
		{"2001:db8:1:1::1", "2001:db8:1:ffff::1", true},
		{"2001:db8:1::1", "2001:db8:2::1", false},
	}
	for _, tc := range tests {
		ka, kb := keys.Net(netip.MustParseAddr(tc.a)), keys.Net(netip.MustParseAddr(tc.b))
		if (ka == kb) != tc.same || ka == 0 {
			t.Errorf("netKey(%s)=%x netKey(%s)=%x, same=%v want %v", tc.a, ka, tc.b, kb, ka == kb, tc.same)
		}
	}
	if keys.Net(netip.Addr{}) != 0 || keys.Net(netip.MustParseAddr("127.0.0.1")) != 0 {
		t.Error("invalid and loopback addresses must have no network")
	}
}

func TestSharedCredentialExplained(t *testing.T) {
	evs := join(warm("alice"), warm("bob"),
		spree(10*day, "alice", reposentry.CategoryClone, "a", 10, 10*time.Second, cred(reposentry.CredentialPATClassic, "shared")),
		spree(10*day+5*time.Second, "bob", reposentry.CategoryClone, "b", 10, 10*time.Second, cred(reposentry.CredentialPATClassic, "shared")))
	sigs := run(DefaultConfig(), evs)
	if len(sigs) != 1 {
		t.Fatalf("got %d signals, want 1", len(sigs))
	}
	if want := "shared by alice@example.com, bob@example.com"; !strings.Contains(sigs[0].Explanation, want) {
		t.Errorf("explanation %q does not say %q", sigs[0].Explanation, want)
	}
	if got := sigs[0].Evidence["shared_by"]; !slices.Equal(got.([]string), []string{"alice@example.com", "bob@example.com"}) {
		t.Errorf("evidence shared_by = %v", got)
	}
}

func TestConfigYAML(t *testing.T) {
	src := `
window: 15m
tiers: {medium: 20, high: 40, critical: 100, high_archives: 12}
bot_patterns: ["svc-*", "*-ci"]
privileged: [root-admin, ceo@example.com]
learning_period: 336h
routine_repos: 128
platform_admins: [owner-jane]
sensitive_weight: 3
`
	cfg := DefaultConfig()
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	want := DefaultConfig()
	want.Window, want.LearningPeriod, want.RoutineRepos = 15*time.Minute, 14*day, 128
	want.Tiers = Tiers{Medium: 20, High: 40, Critical: 100, HighArchives: 12}
	want.BotPatterns = []string{"svc-*", "*-ci"}
	want.Privileged = []string{"root-admin", "ceo@example.com"}
	want.PlatformAdmins, want.SensitiveWeight = []string{"owner-jane"}, 3
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("decoded %+v\nwant    %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}
