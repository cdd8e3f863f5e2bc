package identity

import (
	"slices"
	"strings"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/directory"
)

// Config is what a Resolver joins accounts with. Every part is optional.
type Config struct {
	// Mapping is the explicit account → identity mapping; it wins over
	// everything else.
	Mapping *Mapping
	// Directory returns the current directory snapshot, nil when there is
	// none (yet); directory.Cache's Snapshot method fits. It is called on
	// every Resolve, so it must be cheap.
	Directory func() *directory.Snapshot
	// Privileged lists identities privileged by configuration (reported
	// with reason "config"), lower-cased on use.
	Privileged []string
	// MaxCached bounds the per-account, per-hint and per-identity caches; 0
	// means 1<<16.
	MaxCached int
}

// Resolver resolves accounts to identities. The identity is, in order: the
// mapping's entry for the account; the record's identity hint (SAML name
// id); the hint last seen on a record of the same account (platforms omit
// it on some events); the directory user whose sAMAccountName, UPN or mail
// equals the login; else "<platform>:<login>", unresolved. Hints and mapped
// identities that name a directory user become that user's canonical id
// (UPN, else mail, else sAMAccountName, lower-cased), so a mail alias and
// a UPN do not split one person in two.
//
// A Resolver is not safe for concurrent use: give each pipeline goroutine
// its own (they may share the Mapping and the snapshots).
type Resolver struct {
	cfg        Config
	max        int
	privileged map[string]bool

	snap      *directory.Snapshot     // the snapshot the caches were built on
	accounts  map[accountKey]*account // by login as logged
	byKey     map[string]*account     // by "<platform>:<lower login>", so case variants share state
	hints     map[string]string
	anonymous map[reposentry.Platform]string
	joins     map[string][]string // identity → accounts seen acting as it
	resolved  map[string]bool     // identities that are people, not bare accounts
	// status caches each identity's privilege and directory state, so
	// enriching an event does not look the identity up again.
	status map[string]idState
}

// idState is what the directory and configuration say about an identity.
type idState struct {
	st   idStatus
	dept string // peer group: directory department, else the user's first OU
}

// idStatus is what the directory and configuration say about an identity.
type idStatus uint8

const (
	statusPrivileged idStatus = 1 << iota
	statusDisabled
)

type accountKey struct {
	platform reposentry.Platform
	login    string
}

type account struct {
	key     string // "<platform>:<login>", lower-cased
	mapped  string // from the mapping, canonicalized
	dir     string // directory user matching the login, canonical id
	learned string // identity of the last hint seen with this account
	last    string // identity last joined, so joins are touched on change only
}

// New returns a resolver for cfg.
func New(cfg Config) *Resolver {
	r := &Resolver{cfg: cfg, max: cfg.MaxCached, privileged: map[string]bool{}}
	if r.max <= 0 {
		r.max = 1 << 16
	}
	for _, p := range cfg.Privileged {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			r.privileged[p] = true
		}
	}
	r.anonymous = make(map[reposentry.Platform]string)
	r.joins = make(map[string][]string, 256)
	r.resolved = make(map[string]bool, 256)
	r.reset(nil)
	return r
}

// reset forgets what was derived from the directory. The joins stay: they
// record what was observed, and alerts list those accounts.
func (r *Resolver) reset(s *directory.Snapshot) {
	r.snap = s
	r.accounts = make(map[accountKey]*account, 256)
	r.byKey = make(map[string]*account, 256)
	r.hints = make(map[string]string, 256)
	r.status = make(map[string]idState, 256)
}

func (r *Resolver) directory() *directory.Snapshot {
	if r.cfg.Directory == nil {
		return nil
	}
	s := r.cfg.Directory()
	if s != r.snap {
		// A refreshed directory may move people between groups or rename
		// them: forget everything derived from the old one.
		r.reset(s)
	}
	return s
}

// Resolve returns the identity behind login on platform, given the
// record's identity hint (may be empty), and whether it was joined to a
// person. A record with no login resolves by its hint alone, else to
// "<platform>:anonymous". After the first sight of an account and hint it
// allocates nothing.
func (r *Resolver) Resolve(platform reposentry.Platform, login, hint string) (identity string, resolved bool) {
	s := r.directory()
	if login == "" {
		if hint != "" {
			return r.hint(s, hint), true
		}
		return r.anonymousOf(platform), false
	}
	a := r.account(s, platform, login)
	switch {
	case a.mapped != "":
		identity, resolved = a.mapped, true
	case hint != "":
		identity, resolved = r.hint(s, hint), true
		a.learned = identity
	case a.learned != "":
		identity, resolved = a.learned, true
	case a.dir != "":
		identity, resolved = a.dir, true
	default:
		identity = a.key
	}
	if a.last != identity {
		a.last = identity
		r.join(identity, a.key, resolved)
	}
	return identity, resolved
}

// Privileged reports whether identity is privileged in the directory or by
// configuration. It allocates nothing once the identity has been seen.
func (r *Resolver) Privileged(identity string) bool {
	return r.statusOf(identity).st&statusPrivileged != 0
}

// Disabled reports whether identity's directory account is disabled
// (userAccountControl's ACCOUNTDISABLE bit, or deprovisioned). An identity
// the directory does not know, or a run without a directory, is not
// disabled. It allocates nothing once the identity has been seen.
func (r *Resolver) Disabled(identity string) bool {
	return r.statusOf(identity).st&statusDisabled != 0
}

// statusOf returns identity's cached status, computing it on first sight.
func (r *Resolver) statusOf(identity string) idState {
	s := r.directory()
	if st, ok := r.status[identity]; ok {
		return st
	}
	var st idStatus
	var dept string
	if r.privileged[identity] {
		st |= statusPrivileged
	}
	if s != nil {
		if u, ok := s.Lookup(identity); ok {
			if p, _ := s.Privileged(u); p {
				st |= statusPrivileged
			}
			if u.Disabled {
				st |= statusDisabled
			}
			dept = peerGroupOf(u)
		}
	}
	if len(r.status) >= r.max {
		clear(r.status) // bounded like the other caches
	}
	v := idState{st: st, dept: dept}
	r.status[strings.Clone(identity)] = v
	return v
}

// peerGroupOf returns u's department, else the first OU of its DN
// ("CN=Ann,OU=Payments,OU=People,DC=corp" → "OU=Payments"): how
// directories usually say which team someone is in.
func peerGroupOf(u *directory.User) string {
	if u.Department != "" {
		return u.Department
	}
	for rdn := range strings.SplitSeq(u.DN, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(rdn), "="); ok && strings.EqualFold(k, "OU") {
			return "OU=" + v
		}
	}
	return ""
}

// Enrich sets ev.Identity from the actor and identity hint, raises
// ev.Privileged when the identity is privileged (it never lowers it, so it
// composes with enrichers that run before it) and sets ev.Disabled when the
// identity's directory account is disabled and the event is no older than
// the directory snapshot: a snapshot says what is true when it was read,
// not since when, so a leaver's work before it is not flagged. A snapshot
// without a read time is taken to hold for every event. Allocation-free
// once the account and identity have been seen.
func (r *Resolver) Enrich(ev *reposentry.Event) {
	id, _ := r.Resolve(ev.Platform, ev.Actor.Login, ev.IdentityHint)
	ev.Identity = id
	v := r.statusOf(id)
	if v.st&statusPrivileged != 0 {
		ev.Privileged = true
	}
	ev.Disabled = v.st&statusDisabled != 0 && (r.snap.Fetched.IsZero() || !ev.Time.Before(r.snap.Fetched))
	ev.Department = v.dept
}

// Info describes identity: the accounts joined to it (by the mapping or
// seen acting as it), whether it is a resolved person, and its privilege
// and status in the directory.
func (r *Resolver) Info(identity string) reposentry.Identity {
	s := r.directory()
	info := reposentry.Identity{ID: identity, Resolved: r.resolved[identity]}
	accounts := slices.Clone(r.joins[identity])
	for _, a := range r.cfg.Mapping.Accounts(identity) {
		if !slices.Contains(accounts, a) {
			accounts = append(accounts, a)
		}
	}
	slices.Sort(accounts)
	info.Accounts = accounts
	if s != nil {
		if u, ok := s.Lookup(identity); ok {
			info.Resolved = true
			var via []string
			info.Privileged, via = s.Privileged(u)
			info.PrivilegedVia = slices.Clone(via)
			info.Disabled = u.Disabled
		}
	}
	if r.privileged[identity] {
		info.Privileged = true
		info.PrivilegedVia = append(info.PrivilegedVia, "config")
	}
	if r.cfg.Mapping.Accounts(identity) != nil {
		info.Resolved = true
	}
	return info
}

// CanonicalID is the identity id of a directory user: the lower-cased
// userPrincipalName, else mail, else sAMAccountName.
func CanonicalID(u *directory.User) string {
	for _, v := range []string{u.UserPrincipalName, u.Mail, u.SAMAccountName} {
		if v = strings.TrimSpace(v); v != "" {
			return strings.ToLower(v)
		}
	}
	return strings.ToLower(u.DN)
}

// canonical maps a name to its directory user's id when there is one.
func canonical(s *directory.Snapshot, name string) string {
	if s != nil {
		if u, ok := s.Lookup(name); ok {
			return CanonicalID(u)
		}
	}
	return name
}

func (r *Resolver) account(s *directory.Snapshot, p reposentry.Platform, login string) *account {
	if a, ok := r.accounts[accountKey{p, login}]; ok {
		return a
	}
	if len(r.accounts) >= r.max {
		// Bounded: a stream of unique logins cannot grow it forever.
		clear(r.accounts)
		clear(r.byKey)
	}
	lower := strings.ToLower(strings.TrimSpace(login))
	key := p.String() + ":" + lower
	a, ok := r.byKey[key]
	if !ok {
		a = &account{key: key}
		if id, ok := r.cfg.Mapping.Lookup(p, lower); ok {
			a.mapped = canonical(s, id)
		}
		if s != nil {
			if u, ok := s.Lookup(lower); ok {
				a.dir = CanonicalID(u)
			}
		}
		r.byKey[key] = a
	}
	// Clone the key: the event's strings may alias a parser buffer.
	r.accounts[accountKey{p, strings.Clone(login)}] = a
	return a
}

func (r *Resolver) hint(s *directory.Snapshot, h string) string {
	if id, ok := r.hints[h]; ok {
		return id
	}
	if len(r.hints) >= r.max {
		clear(r.hints)
	}
	id := canonical(s, strings.ToLower(strings.TrimSpace(h)))
	r.hints[strings.Clone(h)] = id
	return id
}

func (r *Resolver) anonymousOf(p reposentry.Platform) string {
	if a, ok := r.anonymous[p]; ok {
		return a
	}
	a := p.String() + ":anonymous"
	r.anonymous[p] = a
	return a
}

func (r *Resolver) join(identity, account string, resolved bool) {
	if len(r.joins) >= r.max {
		clear(r.joins)
		clear(r.resolved)
	}
	if resolved {
		r.resolved[identity] = true
	}
	if a := r.joins[identity]; !slices.Contains(a, account) {
		r.joins[identity] = append(a, account)
	}
}

// Identities reports how many identities accounts have been joined to: the
// tracked population that memory per identity is measured against.
func (r *Resolver) Identities() int { return len(r.joins) }
