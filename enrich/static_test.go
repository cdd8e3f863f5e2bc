package enrich

import (
	"testing"

	"github.com/reposentry/reposentry"
)

func testConfig() StaticConfig {
	return StaticConfig{
		Privileged: []string{"admin-jsmith", "github:root-ops"},
		Bots:       []string{"*-ci", "svc-*", "*[bot]"},
	}
}

func TestEnrich(t *testing.T) {
	tests := []struct {
		name       string
		ev         reposentry.Event
		privileged bool
		actorType  reposentry.ActorType
	}{
		{"ordinary user", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "bob-acme", Type: reposentry.ActorUser}},
			false, reposentry.ActorUser},
		{"privileged bare login", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "Admin-JSmith"}},
			true, reposentry.ActorUnknown},
		{"privileged bare login on any platform", reposentry.Event{Platform: reposentry.PlatformOkta, Actor: reposentry.Account{Login: "admin-jsmith"}},
			true, reposentry.ActorUnknown},
		{"privileged account only on its platform", reposentry.Event{Platform: reposentry.PlatformGitLab, Actor: reposentry.Account{Login: "root-ops"}},
			false, reposentry.ActorUnknown},
		{"privileged account", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "root-ops"}},
			true, reposentry.ActorUnknown},
		{"already privileged stays so", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "carol"}, Privileged: true},
			true, reposentry.ActorUnknown},
		{"anonymous", reposentry.Event{Platform: reposentry.PlatformGitHub},
			false, reposentry.ActorUnknown},
		{"bot suffix", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "acme-build-ci", Type: reposentry.ActorUser}},
			false, reposentry.ActorBot},
		{"bot prefix", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "svc-deploy"}},
			false, reposentry.ActorBot},
		{"bot brackets literal", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "dependabot[bot]"}},
			false, reposentry.ActorBot},
		{"bracket pattern is not a class", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "robot"}},
			false, reposentry.ActorUnknown},
		{"bot by its service identity", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "acme-ci-1"}, IdentityHint: "SVC-github-ci1@acme.example"},
			false, reposentry.ActorBot},
		{"person's hint is not a bot", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "jdoe-acme"}, IdentityHint: "jane.doe@acme.example"},
			false, reposentry.ActorUnknown},
		{"app type kept", reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "deploy-ci", Type: reposentry.ActorApp}},
			false, reposentry.ActorApp},
	}
	s := NewStatic(testConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // the second pass runs from the cache
				ev := tt.ev
				s.Enrich(&ev)
				if ev.Privileged != tt.privileged || ev.Actor.Type != tt.actorType {
					t.Fatalf("Enrich = (privileged %v, %v), want (%v, %v)", ev.Privileged, ev.Actor.Type, tt.privileged, tt.actorType)
				}
			}
		})
	}
}

func TestCacheBounded(t *testing.T) {
	s := NewStatic(StaticConfig{MaxCached: 4, Bots: []string{"*-ci"}})
	for i := range 20 {
		login := string(rune('a'+i)) + "-ci"
		ev := reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: login}}
		s.Enrich(&ev)
		if ev.Actor.Type != reposentry.ActorBot {
			t.Fatalf("%s not marked as a bot", login)
		}
	}
	if len(s.logins) > 4 {
		t.Fatalf("cache grew past its bound: %d logins", len(s.logins))
	}
}

func TestChain(t *testing.T) {
	var order []string
	f := Chain(func(*reposentry.Event) { order = append(order, "a") }, nil, func(*reposentry.Event) { order = append(order, "b") })
	f(&reposentry.Event{})
	if len(order) != 2 || order[0] != "a" || order[1] != "b" {
		t.Fatalf("Chain ran %v, want [a b]", order)
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
	evs := make([]reposentry.Event, len(logins))
	for i := range evs {
		evs[i] = reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: logins[i]}}
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
