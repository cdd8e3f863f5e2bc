// Package enrich adds to each event what its record lacks before the engine
// sees it: the person behind the account, whether that person is privileged,
// and whether the account is a bot.
package enrich

import (
	"slices"
	"strings"

	"github.com/reposentry/reposentry"
)

// StaticConfig is the enrichment known from configuration alone, without a
// directory.
type StaticConfig struct {
	// Privileged lists privileged principals. Each entry is a bare login
	// ("admin-jsmith", any platform), an account ("github:admin-jsmith") or
	// an identity id ("john.smith@acme.example"). Matching ignores case.
	Privileged []string
	// Identities maps accounts ("github:jdoe-acme", or a bare login for any
	// platform) to the identity behind them ("jane.doe@acme.example"). Keys
	// and values are lower-cased.
	Identities map[string]string
	// Bots are glob patterns over logins ("*-ci", "svc-*", "*[bot]"): '*'
	// matches any run of characters, '?' one byte (logins are ASCII),
	// everything else (brackets included) itself. Matching ignores case.
	Bots []string
	// MaxCached bounds the per-login and per-hint caches; 0 means 1<<16.
	MaxCached int
}

// Static enriches events from a StaticConfig. It is not safe for concurrent
// use: give each pipeline goroutine its own.
type Static struct {
	privileged map[string]struct{}
	mapping    map[string]string
	bots       []string
	anonymous  map[reposentry.Platform]string
	max        int

	// logins caches what is derived from one platform login, so an account
	// costs allocations only the first time it is seen.
	logins map[loginKey]*loginInfo
	// hints caches lower-cased identity hints with their privilege.
	hints map[string]hintInfo
	// joins lists, per identity, the accounts seen acting as it.
	joins map[string][]string
}

type loginKey struct {
	platform reposentry.Platform
	login    string
}

type loginInfo struct {
	account    string // "<platform>:<login>"
	mapped     string // configured identity, "" when none
	privileged bool   // login or account listed as privileged
	bot        bool
	// learned is the identity the account's records last named in their
	// identity hint, used for its records that carry none (GitHub omits
	// external_identity_nameid on some events), so one person does not
	// split into two identities.
	learned     string
	learnedPriv bool
	// lastIdentity is the identity this account was last joined to, so the
	// join map is touched only when it changes.
	lastIdentity string
}

type hintInfo struct {
	identity   string
	privileged bool
}

// NewStatic returns an enricher for cfg.
func NewStatic(cfg StaticConfig) *Static {
	s := &Static{
		privileged: make(map[string]struct{}, len(cfg.Privileged)),
		mapping:    make(map[string]string, len(cfg.Identities)),
		anonymous:  make(map[reposentry.Platform]string),
		max:        cfg.MaxCached,
		logins:     make(map[loginKey]*loginInfo, 256),
		hints:      make(map[string]hintInfo, 256),
		joins:      make(map[string][]string, 256),
	}
	if s.max <= 0 {
		s.max = 1 << 16
	}
	for _, p := range cfg.Privileged {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			s.privileged[p] = struct{}{}
		}
	}
	for k, v := range cfg.Identities {
		s.mapping[strings.ToLower(strings.TrimSpace(k))] = strings.ToLower(strings.TrimSpace(v))
	}
	for _, b := range cfg.Bots {
		if b = strings.ToLower(strings.TrimSpace(b)); b != "" {
			s.bots = append(s.bots, b)
		}
	}
	return s
}

// Enrich sets ev.Identity, ev.Privileged and, for logins matching a bot
// pattern, ev.Actor.Type. The identity is, in order: the configured mapping of
// the account; the record's identity hint, lower-cased; the hint last seen on
// a record of the same account; "<platform>:<login>"; "<platform>:anonymous"
// when the record names no actor. After the first
// sight of a login or hint it allocates nothing.
func (s *Static) Enrich(ev *reposentry.Event) {
	if ev.Actor.Login == "" {
		ev.Identity = s.anonymousOf(ev.Platform)
		ev.Privileged = false
		return
	}
	info := s.login(ev.Platform, ev.Actor.Login)
	if info.bot && (ev.Actor.Type == reposentry.ActorUnknown || ev.Actor.Type == reposentry.ActorUser) {
		ev.Actor.Type = reposentry.ActorBot
	}
	switch {
	case info.mapped != "":
		ev.Identity = info.mapped
		ev.Privileged = info.privileged || s.isPrivileged(info.mapped)
	case ev.IdentityHint != "":
		h := s.hint(ev.IdentityHint)
		ev.Identity = h.identity
		ev.Privileged = info.privileged || h.privileged
		info.learned, info.learnedPriv = h.identity, h.privileged
	case info.learned != "":
		ev.Identity = info.learned
		ev.Privileged = info.privileged || info.learnedPriv
	default:
		ev.Identity = info.account
		ev.Privileged = info.privileged
	}
	if info.lastIdentity != ev.Identity {
		s.join(ev.Identity, info.account)
		info.lastIdentity = ev.Identity
	}
}

// Accounts returns the accounts ("<platform>:<login>") seen acting as
// identity, sorted; nil when none was seen. The slice is the caller's.
func (s *Static) Accounts(identity string) []string {
	a := s.joins[identity]
	if len(a) == 0 {
		return nil
	}
	out := slices.Clone(a)
	slices.Sort(out)
	return out
}

func (s *Static) anonymousOf(p reposentry.Platform) string {
	if a, ok := s.anonymous[p]; ok {
		return a
	}
	a := p.String() + ":anonymous"
	s.anonymous[p] = a
	return a
}

func (s *Static) login(p reposentry.Platform, login string) *loginInfo {
	if info, ok := s.logins[loginKey{p, login}]; ok {
		return info
	}
	if len(s.logins) >= s.max {
		clear(s.logins) // bounded: a stream of unique logins cannot grow it forever
	}
	lower := strings.ToLower(login)
	account := p.String() + ":" + lower
	info := &loginInfo{account: account, mapped: s.mapping[account]}
	if info.mapped == "" {
		info.mapped = s.mapping[lower]
	}
	info.privileged = s.isPrivileged(lower) || s.isPrivileged(account)
	for _, pat := range s.bots {
		if Glob(pat, lower) {
			info.bot = true
			break
		}
	}
	// Clone the key: the event's strings may alias a parser buffer.
	s.logins[loginKey{p, strings.Clone(login)}] = info
	return info
}

func (s *Static) hint(h string) hintInfo {
	if v, ok := s.hints[h]; ok {
		return v
	}
	if len(s.hints) >= s.max {
		clear(s.hints)
	}
	id := strings.ToLower(strings.TrimSpace(h))
	v := hintInfo{identity: id, privileged: s.isPrivileged(id)}
	s.hints[strings.Clone(h)] = v
	return v
}

func (s *Static) join(identity, account string) {
	a := s.joins[identity]
	if slices.Contains(a, account) {
		return
	}
	if len(s.joins) >= s.max {
		clear(s.joins)
	}
	s.joins[identity] = append(a, account)
}

func (s *Static) isPrivileged(name string) bool {
	_, ok := s.privileged[name]
	return ok
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

// Identities reports how many identities the enricher has joined accounts
// to: the tracked population that memory per identity is measured against.
func (s *Static) Identities() int { return len(s.joins) }
