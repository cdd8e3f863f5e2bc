package enrich

import (
	"slices"
	"testing"

	"github.com/reposentry/reposentry"
)

func testConfig() StaticConfig {
	return StaticConfig{
		Privileged: []string{"admin-jsmith", "github:root-ops", "CISO@acme.example"},
		Identities: map[string]string{
			"github:jdoe-acme": "Jane.Doe@acme.example",
			"gitlab:jdoe":      "jane.doe@acme.example",
			"sec-lead":         "ciso@acme.example",
		},
		Bots: []string{"*-ci", "svc-*", "*[bot]"},
	}
}

func TestEnrich(t *testing.T) {
	tests := []struct {
		name       string
		ev         reposentry.Event
		identity   string
		privileged bool
		actorType  reposentry.ActorType
	}{
		{"mapped account", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "jdoe-acme"}, IdentityHint: "other@acme.example"},
			"jane.doe@acme.example", false, reposentry.ActorUnknown},
		{"mapped on another platform", reposentry.Event{Platform: reposentry.PlatformGitLab, Actor: reposentry.Account{Login: "jdoe"}},
			"jane.doe@acme.example", false, reposentry.ActorUnknown},
		{"bare login mapping to privileged identity", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "sec-lead"}},
			"ciso@acme.example", true, reposentry.ActorUnknown},
		{"hint lower-cased", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "bob-acme", Type: reposentry.ActorUser}, IdentityHint: "Bob.Stone@ACME.example"},
			"bob.stone@acme.example", false, reposentry.ActorUser},
		{"hint identity privileged", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "ciso-acme"}, IdentityHint: "ciso@acme.example"},
			"ciso@acme.example", true, reposentry.ActorUnknown},
		{"unresolved login", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "Carol-Acme"}},
			"github:carol-acme", false, reposentry.ActorUnknown},
		{"privileged bare login", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "admin-jsmith"}, IdentityHint: "john.smith@acme.example"},
			"john.smith@acme.example", true, reposentry.ActorUnknown},
		{"privileged account only on its platform", reposentry.Event{Platform: reposentry.PlatformGitLab, Actor: reposentry.Account{Login: "root-ops"}},
			"gitlab:root-ops", false, reposentry.ActorUnknown},
		{"privileged account", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "root-ops"}},
			"github:root-ops", true, reposentry.ActorUnknown},
		{"anonymous", reposentry.Event{Platform: reposentry.PlatformGitHub},
			"github:anonymous", false, reposentry.ActorUnknown},
		{"bot suffix", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "acme-build-ci", Type: reposentry.ActorUser}},
			"github:acme-build-ci", false, reposentry.ActorBot},
		{"bot prefix", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "svc-deploy"}},
			"github:svc-deploy", false, reposentry.ActorBot},
		{"bot brackets literal", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "dependabot[bot]"}},
			"github:dependabot[bot]", false, reposentry.ActorBot},
		{"bracket pattern is not a class", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "robot"}},
			"github:robot", false, reposentry.ActorUnknown},
		{"app type kept", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "deploy-ci", Type: reposentry.ActorApp}},
			"github:deploy-ci", false, reposentry.ActorApp},
	}
	s := NewStatic(testConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // the second pass runs from the caches
				ev := tt.ev
				s.Enrich(&ev)
				if ev.Identity != tt.identity || ev.Privileged != tt.privileged || ev.Actor.Type != tt.actorType {
					t.Fatalf("Enrich = (%q, privileged %v, %v), want (%q, %v, %v)",
						ev.Identity, ev.Privileged, ev.Actor.Type, tt.identity, tt.privileged, tt.actorType)
				}
			}
		})
	}
}

// TestLearnedHint: an account's records without a hint resolve to the
// identity its earlier records named, so one person stays one identity.
func TestLearnedHint(t *testing.T) {
	s := NewStatic(testConfig())
	steps := []struct {
		login, hint, want string
		privileged        bool
	}{
		{"zed-acme", "", "github:zed-acme", false}, // nothing learned yet
		{"zed-acme", "Zed@acme.example", "zed@acme.example", false},
		{"zed-acme", "", "zed@acme.example", false},
		{"boss-acme", "ciso@acme.example", "ciso@acme.example", true},
		{"boss-acme", "", "ciso@acme.example", true},
		{"zed-acme", "zed2@acme.example", "zed2@acme.example", false}, // the latest hint wins
		{"zed-acme", "", "zed2@acme.example", false},
	}
	for i, st := range steps {
		ev := reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: st.login}, IdentityHint: st.hint}
		s.Enrich(&ev)
		if ev.Identity != st.want || ev.Privileged != st.privileged {
			t.Fatalf("step %d: identity %q privileged %v, want %q %v", i, ev.Identity, ev.Privileged, st.want, st.privileged)
		}
	}
	if got := s.Accounts("zed@acme.example"); !slices.Equal(got, []string{"github:zed-acme"}) {
		t.Errorf("Accounts(zed@acme.example) = %q", got)
	}
}

func TestAccounts(t *testing.T) {
	s := NewStatic(testConfig())
	evs := []reposentry.Event{
		{Platform: reposentry.PlatformGitLab, Actor: reposentry.Account{Login: "jdoe"}},
		{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "jdoe-acme"}},
		{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "jdoe-acme"}},
		{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "bob"}, IdentityHint: "bob@acme.example"},
		{Platform: reposentry.PlatformOkta, Actor: reposentry.Account{Login: "bob"}, IdentityHint: "BOB@acme.example"},
		{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "carol"}},
	}
	for i := range evs {
		s.Enrich(&evs[i])
	}
	tests := []struct {
		identity string
		want     []string
	}{
		{"jane.doe@acme.example", []string{"github:jdoe-acme", "gitlab:jdoe"}},
		{"bob@acme.example", []string{"github:bob", "okta:bob"}},
		{"github:carol", []string{"github:carol"}},
		{"nobody@acme.example", nil},
	}
	for _, tt := range tests {
		if got := s.Accounts(tt.identity); !slices.Equal(got, tt.want) {
			t.Errorf("Accounts(%q) = %q, want %q", tt.identity, got, tt.want)
		}
	}
}

func TestCacheBounded(t *testing.T) {
	s := NewStatic(StaticConfig{MaxCached: 4})
	for i := range 20 {
		ev := reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: string(rune('a' + i))}}
		s.Enrich(&ev)
		if want := "github:" + string(rune('a'+i)); ev.Identity != want {
			t.Fatalf("identity %q, want %q", ev.Identity, want)
		}
	}
	if len(s.logins) > 4 || len(s.joins) > 4 {
		t.Fatalf("caches grew past their bound: logins %d, joins %d", len(s.logins), len(s.joins))
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*-ci", "acme-build-ci", true},
		{"*-ci", "acme-build-cid", false},
		{"svc-*", "svc-", true},
		{"svc-*", "xsvc-a", false},
		{"*[bot]", "dependabot[bot]", true},
		{"*[bot]", "robot", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b*", "xxbxxaxx", false},
		{"exact", "exact", true},
		{"", "", true},
		{"*", "", true},
	}
	for _, tt := range tests {
		if got := Glob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestValidGlob(t *testing.T) {
	for p, want := range map[string]bool{"*-ci": true, "*": false, "**": false, "": false, "x": true} {
		if got := ValidGlob(p); got != want {
			t.Errorf("ValidGlob(%q) = %v, want %v", p, got, want)
		}
	}
}

func BenchmarkEnrich(b *testing.B) {
	s := NewStatic(testConfig())
	logins := []string{"jdoe-acme", "bob-acme", "acme-build-ci", "admin-jsmith", "carol-acme", ""}
	hints := []string{"", "bob@acme.example", "", "john.smith@acme.example", "", ""}
	evs := make([]reposentry.Event, len(logins))
	for i := range evs {
		evs[i] = reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: logins[i]}, IdentityHint: hints[i]}
		s.Enrich(&evs[i]) // warm the caches: steady state is what matters
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev := &evs[i%len(evs)]
		ev.Actor.Type = reposentry.ActorUnknown
		s.Enrich(ev)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
