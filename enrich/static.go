// Package enrich adds to each event what its record lacks before the engine
// sees it. Static marks automation and privileged accounts from the
// configuration; the identity package (the person behind the account, the
// directory's privilege) and the geo package (where an address is) supply
// the other enrichers, and Chain runs them in order.
package enrich

import (
	"strings"

	"github.com/reposentry/reposentry"
)

// StaticConfig is the enrichment known from configuration alone, about
// accounts: which are automation and which are privileged. Who is behind an
// account is the identity package's work.
type StaticConfig struct {
	// Privileged lists privileged accounts: a bare login ("admin-jsmith",
	// any platform) or an account ("github:admin-jsmith"). Matching ignores
	// case. Privileged identities (people) are the identity resolver's.
	Privileged []string
	// Bots are glob patterns over logins ("*-ci", "svc-*", "*[bot]"): '*'
	// matches any run of characters, '?' one byte (logins are ASCII),
	// everything else (brackets included) itself. Matching ignores case.
	Bots []string
	// MaxCached bounds the per-login cache; 0 means 1<<16.
	MaxCached int
}

// Static marks accounts from a StaticConfig. It is not safe for concurrent
// use: give each pipeline goroutine its own.
type Static struct {
	privileged map[string]struct{}
	bots       []string
	max        int
	// logins caches the verdicts on one platform login, so an account costs
	// allocations only the first time it is seen.
	logins map[loginKey]loginInfo
	// botHints caches whether an identity hint (a SAML NameID such as
	// "svc-github-ci1@acme.example") matches a bot pattern: machine users
	// often have ordinary logins but service identities.
	botHints map[string]bool
}

type loginKey struct {
	platform reposentry.Platform
	login    string
}

type loginInfo struct {
	privileged bool // login or account listed as privileged
	bot        bool
}

// NewStatic returns an enricher for cfg.
func NewStatic(cfg StaticConfig) *Static {
	s := &Static{
		privileged: make(map[string]struct{}, len(cfg.Privileged)),
		max:        cfg.MaxCached,
		logins:     make(map[loginKey]loginInfo, 256),
		botHints:   make(map[string]bool, 256),
	}
	if s.max <= 0 {
		s.max = 1 << 16
	}
	for _, p := range cfg.Privileged {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			s.privileged[p] = struct{}{}
		}
	}
	for _, b := range cfg.Bots {
		if b = strings.ToLower(strings.TrimSpace(b)); b != "" {
			s.bots = append(s.bots, b)
		}
	}
	return s
}

// Enrich sets ev.Privileged when the account is listed as privileged (and
// leaves it alone otherwise, so enrichers can be chained), and sets
// ev.Actor.Type to ActorBot when the login or the record's identity hint
// matches a bot pattern and the record did not say the actor was an app or
// a deploy key. It allocates nothing after the first sight of a login.
func (s *Static) Enrich(ev *reposentry.Event) {
	if ev.Actor.Login == "" {
		return
	}
	info := s.login(ev.Platform, ev.Actor.Login)
	if !info.bot && ev.IdentityHint != "" {
		info.bot = s.botHint(ev.IdentityHint)
	}
	if info.bot && (ev.Actor.Type == reposentry.ActorUnknown || ev.Actor.Type == reposentry.ActorUser) {
		ev.Actor.Type = reposentry.ActorBot
	}
	if info.privileged {
		ev.Privileged = true
	}
}

func (s *Static) botHint(hint string) bool {
	if bot, ok := s.botHints[hint]; ok {
		return bot
	}
	if len(s.botHints) >= s.max {
		clear(s.botHints)
	}
	bot := s.isBot(strings.ToLower(hint))
	s.botHints[strings.Clone(hint)] = bot
	return bot
}

func (s *Static) isBot(lower string) bool {
	for _, pat := range s.bots {
		if Glob(pat, lower) {
			return true
		}
	}
	return false
}

func (s *Static) login(p reposentry.Platform, login string) loginInfo {
	if info, ok := s.logins[loginKey{p, login}]; ok {
		return info
	}
	if len(s.logins) >= s.max {
		clear(s.logins) // bounded: a stream of unique logins cannot grow it forever
	}
	lower := strings.ToLower(login)
	var info loginInfo
	_, byLogin := s.privileged[lower]
	_, byAccount := s.privileged[p.String()+":"+lower]
	info.privileged = byLogin || byAccount
	info.bot = s.isBot(lower)
	// Clone the key: the event's strings may alias a parser buffer.
	s.logins[loginKey{p, strings.Clone(login)}] = info
	return info
}

// Glob reports whether name matches pattern, where '*' matches any run of
// bytes and '?' exactly one; every other byte, '[' included, matches itself. path.Match is not used because it reads "*[bot]" as a character
// class, and bot logins such as "dependabot[bot]" contain literal brackets.
func Glob(pattern, name string) bool {
	// Iterative matcher with single-star backtracking: linear in practice.
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]):
			p++
			n++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// ValidGlob reports whether pattern is usable as a bot pattern: non-empty and
// not matching everything.
func ValidGlob(pattern string) bool {
	return strings.Trim(pattern, "*") != ""
}

// Chain runs enrichers in order on each event; nil entries are skipped.
func Chain(enrichers ...func(*reposentry.Event)) func(*reposentry.Event) {
	var fs []func(*reposentry.Event)
	for _, f := range enrichers {
		if f != nil {
			fs = append(fs, f)
		}
	}
	return func(ev *reposentry.Event) {
		for _, f := range fs {
			f(ev)
		}
	}
}
