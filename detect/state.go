package detect

import (
	"cmp"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/enrich"
	"github.com/reposentry/reposentry/internal/keys"
)

// account is one platform account joined to an identity.
type account struct {
	plat  reposentry.Platform
	login string
}

// memEntry is a repository the identity read before, kept as a 64-bit hash
// of its name with times in seconds since memEpoch: 16 bytes however long
// the name, so automation can remember thousands. first is the start of the
// current run of reads (reset when the repository was forgotten), last the
// latest read. A hash collision (negligible among thousands of names) only
// makes one read look routine.
type memEntry struct {
	h           uint64
	first, last uint32
}

// memEpoch is the origin of memEntry times (2000-01-01 UTC): uint32 seconds
// from it last until 2136.
const memEpoch = 946684800

// memTime converts unix nanoseconds to memEntry seconds, clamped.
func memTime(t int64) uint32 {
	return uint32(min(max(t/int64(time.Second)-memEpoch, 0), math.MaxUint32))
}

// place is when an identity was first and last seen in a country or
// network, or with a credential, and what that signalled.
type place struct {
	first, last int64
	sev         reposentry.Severity // highest first_seen_location severity signalled
	// unread counts the distinct non-public repositories first read from
	// this place while it was new (saturating).
	unread uint8
	// vouched is set on a country or network the identity signed in from
	// at its identity provider, successfully and without risk (see
	// vouches): the person is known to be there, so reads from it are not
	// from a new place.
	vouched bool
}

// network is a network the identity was seen in: 32 bytes, since networks
// are the most numerous places.
type network struct {
	place
	key uint64 // see netKey
}

// namedPlace is a country or credential the identity was seen with.
type namedPlace struct {
	place
	country string // the country, or the credential's key
}

// evRef is an event id kept without building its string.
type evRef struct {
	id   reposentry.EventID
	plat reposentry.Platform
}

func (r *evRef) String() string { return r.plat.String() + ":" + r.id.String() }

// pending is a credential creation waiting for reads.
type pending struct {
	start, end int64
	action     string
	detail     string
	kind       reposentry.CredentialKind
	key        string
	country    string
	ip         netip.Addr
	created    evRef
	actor      *actor
	repos      []string // distinct non-public repositories read since
	reads      []evRef
	bot        bool
	tier       reposentry.Severity
}

// actor is the state kept per identity. Its fields are ordered widest first
// so that it takes 256 bytes, an allocator size class (TestStateSizes):
// there is one per identity.
type actor struct {
	key       string
	accounts  []account
	first     int64
	last      int64
	mem       []memEntry // sorted by hash
	win       window
	countries []namedPlace
	networks  []network
	creds     []namedPlace
	// lastBulk is when the identity last reached a bulk_read tier and
	// lastBulkCount how many distinct non-public repositories that was.
	lastBulk int64
	pend     *pending
	// rare holds state few identities need (privileged, owners, disabled
	// accounts, automation by behaviour being learnt), so the common
	// identity pays one pointer for it.
	rare          *rareState
	lastBulkCount int32
	hours         uint32 // bit h set: the identity was active at UTC hour h
	bot           bool   // automation by name, actor type or credential kind
	auto          bool   // automation by behaviour (see Config.AutomationDays)
	privileged    bool
	newJoiner     bool
	active        bool
}

// rareState is the per-identity state of privileged identities, owners,
// disabled accounts and identities whose window reached the medium tier in
// their learning period.
type rareState struct {
	// privAt is the last read by the privileged identity and privTier the
	// highest privileged_read severity signalled in the incident.
	privAt   int64
	privTier reposentry.Severity
	// disTier is the highest disabled_account_active severity signalled in
	// the incident, whose last event was at disAt.
	disTier reposentry.Severity
	// autoDays counts the days on which the window reached the medium tier
	// in the learning period, the last of them autoDay (days since the unix
	// epoch; -1: none).
	autoDays uint8
	autoDay  int32
	// owner is why the identity is an organization or enterprise owner:
	// the owner-only action it was seen performing, or "" when it is not
	// known to be one; ownerAt is when.
	owner   string
	ownerAt int64
	disAt   int64
	// deprovAt is when an identity provider logged the identity's
	// deactivation (0: not deactivated) and deprovBy the action that did.
	deprovAt int64
	deprovBy string
}

// deprov is a deactivation logged before its identity was first seen.
type deprov struct {
	at     int64
	action string
}

// maxPendingDeprov bounds the deactivations kept for identities not seen.
const maxPendingDeprov = 1 << 16

// ownerByConfig is rareState.owner for identities listed in
// Config.PlatformAdmins.
const ownerByConfig = "listed in detect.platform_admins"

// extra returns the identity's rare state, creating it.
func (a *actor) extra() *rareState {
	if a.rare == nil {
		a.rare = &rareState{autoDay: -1}
	}
	return a.rare
}

// owner reports whether the identity is known to be an organization or
// enterprise owner.
func (a *actor) owner() bool { return a.rare != nil && a.rare.owner != "" }

// credState is the state kept per credential key while it is in use.
type credState struct {
	key    string
	kind   reposentry.CredentialKind
	bot    bool
	active bool
	actors []*actor
	win    window
	pend   *pending
}

// facts is what analysing one event found; the detectors turn them into
// signals. Zero values mean nothing to report.
type facts struct {
	a          *actor
	bulk       reposentry.Severity // tier newly reached by the identity's window
	credBulk   reposentry.Severity // tier newly reached by a credential shared beyond the identity
	cs         *credState
	newCred    reposentry.Severity
	pend       *pending
	locCountry bool
	locNetwork bool
	locSev     reposentry.Severity
	locWhy     uint8  // why* bits that raised the location signal
	exfil      string // what was opened
	exfilHigh  bool
	priv       reposentry.Severity
	disabled   reposentry.Severity // disabled_account_active
	deprovBy   string              // the deactivation that made it so, "" when the directory did
	adminBulk  reposentry.Severity // platform_admin_bulk_read
}

// core is the state shared by the detectors of one New call.
type core struct {
	cfg         Config
	botPatterns []string // lower-cased
	privileged  map[string]struct{}
	admins      map[string]struct{} // Config.PlatformAdmins, lower-cased
	deprov      map[string]deprov   // deactivations of identities not seen yet, by lower-cased name
	actors      map[string]*actor
	creds       map[string]*credState
	active      []*actor
	activeCred  []*credState

	started   bool
	dataStart int64

	lastEv *reposentry.Event
	lastID reposentry.EventID
	lastT  time.Time
	f      facts

	lastAdvance int64
	lastFull    int64
}

func newCore(cfg Config) *core {
	c := &core{
		cfg:        cfg.withDefaults(),
		privileged: make(map[string]struct{}, len(cfg.Privileged)),
		admins:     make(map[string]struct{}, len(cfg.PlatformAdmins)),
		deprov:     make(map[string]deprov),
		actors:     make(map[string]*actor, 1024),
		creds:      make(map[string]*credState, 64),
	}
	for _, p := range cfg.Privileged {
		c.privileged[strings.ToLower(p)] = struct{}{}
	}
	for _, p := range cfg.PlatformAdmins {
		c.admins[strings.ToLower(strings.TrimSpace(p))] = struct{}{}
	}
	for _, p := range cfg.BotPatterns {
		c.botPatterns = append(c.botPatterns, strings.ToLower(strings.TrimSpace(p)))
	}
	return c
}

// observe analyses ev once, however many detectors call it for the same
// event, and returns what it found.
func (c *core) observe(ev *reposentry.Event) *facts {
	if ev == c.lastEv && ev.ID == c.lastID && ev.Time.Equal(c.lastT) {
		return &c.f
	}
	c.lastEv, c.lastID, c.lastT = ev, ev.ID, ev.Time
	c.f = facts{}
	key := ev.ActorKey()
	if key == "" || ev.Outcome == reposentry.OutcomeFailure {
		return &c.f
	}
	t := ev.Time.UnixNano()
	if !c.started || t < c.dataStart {
		c.started, c.dataStart = true, t
	}
	a := c.actors[key]
	if a == nil {
		a = c.newActor(key, t)
	}
	a.touch(c, ev)
	if t > a.last {
		a.last = t
	}
	c.f.a = a
	var s sighting
	c.sight(a, ev, t, &s)
	switch {
	case ev.Category.IsRead():
		s.firstRead = c.read(a, ev, t, s.novel())
		c.location(a, ev, t, &s)
	case ev.Category == reposentry.CategoryCredentialCreate:
		c.credCreate(a, ev, t)
	}
	a.hours |= 1 << hourOf(t)
	c.exfil(a, ev, t)
	c.privilegedRead(a, ev, t)
	c.deprovision(ev, t)
	c.disabledActive(a, ev, t)
	c.learnOwner(a, ev, t)
	if c.f.bulk != reposentry.SeverityInfo && a.owner() {
		c.f.adminBulk = min(c.f.bulk+1, reposentry.SeverityCritical)
	}
	return &c.f
}

// hourOf is the UTC hour of day of unix nanoseconds t.
func hourOf(t int64) uint {
	h := (t / int64(time.Hour)) % 24
	if h < 0 {
		h += 24
	}
	return uint(h)
}

// sighting is what an event showed that is new for its identity: places and
// a credential first seen after the learning period, recently, and an hour
// of day it was never active at.
type sighting struct {
	country, network       *place // the event's places; nil when not logged
	newCountry, newNetwork bool
	newCred, offHours      bool
	firstRead              bool // a clone or archive of a non-public repository never read before
}

// novel reports whether the event came from somewhere, or with something,
// new for the identity: what makes automation's reads count.
func (s *sighting) novel() bool { return s.newCountry || s.newNetwork || s.newCred }

// Reasons a first_seen_location signal rises above low. The first three are
// strong; the last two weak: travel shifts a person's day by the time zone,
// and anyone may open one unfamiliar repository.
const (
	whyNewCred uint8 = 1 << iota
	whyBulk
	whyUnread // several repositories never read before
	whyOffHours
	whyOneUnread
	whySecret // a secrets- or signing-tagged repository never read before; raises by one level
)

// sensitiveTags are the repository tags whose reads count SensitiveWeight
// times towards bulk_read; secretTags those whose first read from a new
// place raises first_seen_location.
const (
	sensitiveTags = reposentry.TagSecrets | reposentry.TagSigning | reposentry.TagInfrastructure
	secretTags    = reposentry.TagSecrets | reposentry.TagSigning
)

// strongWhy are the reasons that let a new country alert.
const strongWhy = whyNewCred | whyBulk | whyUnread

// sight records the event's country, network and credential and reports
// which are new: first seen after the identity's learning period, within
// LocationFreshness. Application tokens are left out of credentials: they
// rotate hourly by design.
func (c *core) sight(a *actor, ev *reposentry.Event, t int64, s *sighting) {
	learned := c.learnedAt(a)
	fresh := func(p *place) bool {
		return p != nil && t >= learned && p.first >= learned && t-p.first <= int64(c.cfg.LocationFreshness)
	}
	if ev.Geo.Country != "" {
		s.country = seeNamed(&a.countries, c.cfg.MaxCountries, ev.Geo.Country, t)
		if vouches(ev) {
			s.country.vouched = true
		}
		s.newCountry = fresh(s.country) && !s.country.vouched
	}
	if k := keys.Net(ev.SourceIP); k != 0 {
		s.network = seeNetwork(&a.networks, c.cfg.MaxNetworks, k, t)
		if vouches(ev) {
			s.network.vouched = true
		}
		s.newNetwork = fresh(s.network) && !s.network.vouched
	}
	if k := ev.Credential.Key(); k != "" && ev.Credential.Kind != reposentry.CredentialApp {
		// The key is kept as given: parsers intern it, so comparing is cheap.
		s.newCred = fresh(seeNamed(&a.creds, c.cfg.MaxCredentials, k, t))
	}
	s.offHours = t >= learned && a.hours&(1<<hourOf(t)) == 0
}

// vouches reports whether ev is a sign-in that vouches for its country: a
// successful sign-in at an identity provider (which enforces its MFA
// policy) that the provider did not flag as risky, from neither a proxy nor
// a hosting, VPN or Tor network. A traveller signs in from where they are;
// someone replaying a stolen token never does.
func vouches(ev *reposentry.Event) bool {
	if ev.Category != reposentry.CategoryLogin || (ev.Platform != reposentry.PlatformOkta && ev.Platform != reposentry.PlatformEntra) {
		return false
	}
	switch ev.Session.Risk {
	case "medium", "high":
		return false
	}
	return !ev.Session.Proxy && ev.Geo.Class == ""
}

func (c *core) newActor(key string, t int64) *actor {
	a := &actor{key: key, first: t}
	a.newJoiner = t-c.dataStart >= int64(c.cfg.LearningPeriod)
	a.bot = c.isBotName(key)
	lower := strings.ToLower(key)
	_, a.privileged = c.privileged[lower]
	if _, ok := c.admins[lower]; ok {
		a.extra().owner = ownerByConfig
	}
	if len(c.deprov) > 0 {
		if d, ok := c.deprov[lower]; ok {
			x := a.extra()
			x.deprovAt, x.deprovBy = d.at, d.action
			delete(c.deprov, lower)
		}
	}
	c.actors[key] = a
	return a
}

// touch records the event's account, re-evaluating the bot and privileged
// markers only when an account is first joined. Application and deploy-key
// credentials are automation's whoever the platform names as the actor.
func (a *actor) touch(c *core, ev *reposentry.Event) {
	switch {
	case ev.Actor.Type == reposentry.ActorBot, ev.Actor.Type == reposentry.ActorApp, ev.Actor.Type == reposentry.ActorDeployKey,
		ev.Credential.Kind == reposentry.CredentialApp, ev.Credential.Kind == reposentry.CredentialDeployKey:
		a.bot = true
	}
	if ev.Actor.Login == "" {
		return
	}
	for i := range a.accounts {
		if a.accounts[i].plat == ev.Platform && a.accounts[i].login == ev.Actor.Login {
			return
		}
	}
	if len(a.accounts) < 8 {
		a.accounts = append(a.accounts, account{plat: ev.Platform, login: ev.Actor.Login})
	}
	if c.isBotName(ev.Actor.Login) {
		a.bot = true
	}
	lower := strings.ToLower(ev.Actor.Login)
	if _, ok := c.privileged[lower]; ok {
		a.privileged = true
	}
	if _, ok := c.admins[lower]; ok && !a.owner() {
		a.extra().owner = ownerByConfig
	}
}

// isBotName reports whether a login or identity names automation.
func (c *core) isBotName(name string) bool {
	if strings.HasSuffix(name, "[bot]") {
		return true
	}
	lower := strings.ToLower(name)
	for _, p := range c.botPatterns {
		if enrich.Glob(p, lower) {
			return true
		}
	}
	return false
}

// automated reports whether the identity is automation, by name or type or
// by behaviour.
func (a *actor) automated() bool { return a.bot || a.auto }

// learnedAt is when the identity's baseline becomes trustworthy.
func (c *core) learnedAt(a *actor) int64 {
	return max(c.dataStart, a.first) + int64(c.cfg.LearningPeriod)
}

// multiplier scales thresholds for automation still learning and for new
// joiners still onboarding.
func (c *core) multiplier(a *actor, bot bool, t int64) int {
	if bot || a.automated() {
		return c.cfg.BotFactor
	}
	if a.newJoiner && t < c.learnedAt(a) {
		return c.cfg.NewJoinerFactor
	}
	return 1
}

// noveltyOnly reports whether only novel reads count for a window: the
// identity (or the credential, when bot) is automation past its learning
// period, whose volume alone is routine.
func (c *core) noveltyOnly(a *actor, bot bool, t int64) bool {
	return (bot || a.automated()) && t >= c.learnedAt(a)
}

// bulkTier is the bulk_read severity a window reaches. For learned
// automation only the repositories read from a new place or with a new
// credential count, and reaching a tier that way is one severity worse: the
// shape of a stolen automation token. Sensitive repositories count
// SensitiveWeight times.
func (c *core) bulkTier(a *actor, w *window, bot bool, t int64) reposentry.Severity {
	nonPublic, novel := w.weighted(c.cfg.SensitiveWeight)
	if c.noveltyOnly(a, bot, t) {
		if tr := c.tier(novel, 0, 1); tr != reposentry.SeverityInfo {
			return min(tr+1, reposentry.SeverityCritical)
		}
		return reposentry.SeverityInfo
	}
	return c.tier(nonPublic, w.archives, c.multiplier(a, bot, t))
}

// classify counts the days in the identity's learning period on which its
// window reached the medium tier for people (new joiners' included), and
// makes it automation once they reach AutomationDays.
func (c *core) classify(a *actor, t int64) {
	if a.automated() || t >= c.learnedAt(a) || c.tier(a.win.nonPublic, a.win.archives, c.multiplier(a, false, t)) == reposentry.SeverityInfo {
		return
	}
	if x, d := a.extra(), int32(t/int64(24*time.Hour)); d != x.autoDay {
		x.autoDay = d
		x.autoDays++
		if int(x.autoDays) >= c.cfg.AutomationDays {
			a.auto = true
		}
	}
}

// tier maps window counts to a bulk_read severity.
func (c *core) tier(nonPublic, archives, mult int) reposentry.Severity {
	t := c.cfg.Tiers
	switch {
	case nonPublic >= t.Critical*mult:
		return reposentry.SeverityCritical
	case nonPublic >= t.High*mult || archives >= t.HighArchives*mult:
		return reposentry.SeverityHigh
	case nonPublic >= t.Medium*mult:
		return reposentry.SeverityMedium
	}
	return reposentry.SeverityInfo
}

func (c *core) activate(a *actor) {
	if !a.active {
		a.active = true
		c.active = append(c.active, a)
	}
}

func (c *core) activateCred(cs *credState) {
	if !cs.active {
		cs.active = true
		c.activeCred = append(c.activeCred, cs)
	}
}

// remember updates the routine memory with a read of repo and reports whether
// the read is routine: the repository was first read before the current
// window (and not forgotten since), or it is a fetch. GitHub logs a fetch
// only when the client already holds the repository's history, so the
// collection happened at an earlier clone, counted then or made before the
// data or the memory began: a release engineer refreshing a hundred
// checkouts collects nothing new. first reports a repository not in memory
// (or forgotten).
func (c *core) remember(a *actor, repo string, t int64, fetch bool) (routine, first bool) {
	h, now := keys.String(repo), memTime(t)
	i, found := slices.BinarySearchFunc(a.mem, h, func(e memEntry, h uint64) int { return cmp.Compare(e.h, h) })
	if found {
		e := &a.mem[i]
		routine = fetch
		if int64(now)-int64(e.last) > int64(c.cfg.RoutineMaxAge/time.Second) {
			e.first, first = now, true
		} else if e.first < memTime(t-int64(c.cfg.Window)) {
			routine = true
		}
		e.last = now
		return routine, first
	}
	if len(a.mem) >= c.routineCap(a) {
		oldest := 0
		for j := range a.mem {
			if a.mem[j].last < a.mem[oldest].last {
				oldest = j
			}
		}
		a.mem = slices.Delete(a.mem, oldest, oldest+1)
		if oldest < i {
			i--
		}
	}
	// Four at a time: most identities read tens of repositories, and each
	// step is an allocation on the path of a first read.
	a.mem = grow(a.mem, c.routineCap(a), 4)
	a.mem = slices.Insert(a.mem, i, memEntry{h: h, first: now, last: now})
	return fetch, true
}

// routineCap is how many repositories the identity's memory holds.
func (c *core) routineCap(a *actor) int {
	if a.automated() {
		return max(c.cfg.AutomationRoutineRepos, c.cfg.RoutineRepos)
	}
	return c.cfg.RoutineRepos
}

// read counts a repository read and reports whether it was a clone or
// archive download of a non-public repository the identity had not read
// before.
func (c *core) read(a *actor, ev *reposentry.Event, t int64, novel bool) bool {
	if ev.Repo == "" {
		return false
	}
	routine, first := c.remember(a, ev.Repo, t, ev.Category == reposentry.CategoryFetch)
	if routine {
		return false
	}
	r := read{t: t, repo: ev.Repo, country: ev.Geo.Country, ip: ev.SourceIP, id: ev.ID, plat: ev.Platform,
		kind: ev.Credential.Kind, cred: ev.Credential.Key()}
	np := ev.Visibility.NonPublic() || (ev.Visibility == reposentry.VisibilityUnknown && c.cfg.UnknownVisibilityNonPublic)
	if np {
		r.flags |= flagNonPublic
	}
	if ev.Category == reposentry.CategoryArchiveDownload {
		r.flags |= flagArchive
	}
	if novel {
		r.flags |= flagNovel
	}
	if ev.RepoTags&sensitiveTags != 0 {
		r.flags |= flagSensitive
	}
	r.tags = ev.RepoTags
	cut := t - int64(c.cfg.Window)
	a.win.expire(cut)
	a.win.push(&r, c.cfg.MaxWindowReads)
	c.activate(a)
	c.classify(a, t)
	if tr := c.bulkTier(a, &a.win, false, t); tr > a.win.tier {
		a.win.tier, c.f.bulk = tr, tr
		a.lastBulk, a.lastBulkCount = t, int32(a.win.nonPublic)
	}

	if r.cred != "" {
		cs := c.cred(r.cred, ev, a)
		cs.win.expire(cut)
		cs.win.push(&r, c.cfg.MaxWindowReads)
		if tr := c.bulkTier(a, &cs.win, cs.bot, t); tr > cs.win.tier {
			cs.win.tier = tr
			// A credential used by one identity only repeats that
			// identity's signal; it speaks when others shared it.
			if tr > a.win.tier {
				c.f.credBulk, c.f.cs = tr, cs
				a.lastBulk, a.lastBulkCount = t, int32(cs.win.nonPublic)
			}
		}
		if np && cs.pend != nil && cs.pend != a.pend && t <= cs.pend.end {
			c.pendRead(cs.pend, &r)
		}
	}
	if np && a.pend != nil && t <= a.pend.end {
		c.pendRead(a.pend, &r)
	}
	return np && first
}

// cred returns the state of a credential key, creating it on first use.
func (c *core) cred(key string, ev *reposentry.Event, a *actor) *credState {
	cs := c.creds[key]
	if cs == nil {
		cs = &credState{key: key, kind: ev.Credential.Kind}
		c.creds[key] = cs
	}
	if ev.Credential.Kind == reposentry.CredentialDeployKey || ev.Credential.Kind == reposentry.CredentialApp || a.automated() {
		cs.bot = true
	}
	if !slices.Contains(cs.actors, a) && len(cs.actors) < 8 {
		cs.actors = append(cs.actors, a)
	}
	c.activateCred(cs)
	return cs
}

// pendRead counts a non-public read made after a credential creation.
func (c *core) pendRead(p *pending, r *read) {
	if len(p.reads) < c.cfg.MaxEventIDs {
		p.reads = append(p.reads, evRef{id: r.id, plat: r.plat})
	}
	if slices.Contains(p.repos, r.repo) {
		return
	}
	mult := 1
	if p.bot {
		mult = c.cfg.BotFactor
	}
	critical := c.cfg.Tiers.High * mult
	if len(p.repos) >= max(critical, c.cfg.MaxEvidenceRepos) {
		return
	}
	p.repos = append(p.repos, r.repo)
	bar := c.cfg.NewCredentialMinRepos * mult
	if a := p.actor; !p.bot && a.newJoiner && r.t < c.learnedAt(a) {
		// Onboarding: a new joiner's first key is followed by clones.
		bar = c.cfg.Tiers.Medium * c.cfg.NewJoinerFactor
		critical = max(critical, 2*bar)
	}
	tr := reposentry.SeverityInfo
	switch n := len(p.repos); {
	case n >= critical:
		tr = reposentry.SeverityCritical
	case n >= bar:
		tr = reposentry.SeverityHigh
	}
	if tr > p.tier {
		p.tier = tr
		if tr > c.f.newCred {
			c.f.newCred, c.f.pend = tr, p
		}
	}
}

func (c *core) credCreate(a *actor, ev *reposentry.Event, t int64) {
	end := t + int64(c.cfg.CredentialWindow)
	p := a.pend
	if p != nil && t <= p.end {
		p.end = end // another credential in the same hour extends the watch
	} else {
		p = &pending{start: t, end: end, actor: a, bot: a.automated()}
		a.pend = p
	}
	p.action, p.detail, p.kind, p.key = ev.Action, ev.Detail, ev.Credential.Kind, ev.Credential.Key()
	p.country, p.ip, p.created = ev.Geo.Country, ev.SourceIP, evRef{id: ev.ID, plat: ev.Platform}
	if p.key != "" {
		cs := c.cred(p.key, ev, a)
		cs.pend = p
	}
	c.activate(a)
}

// exfilWhat names the exfiltration path an event opens, or "".
func exfilWhat(ev *reposentry.Event) string {
	switch {
	case ev.Action == "private_repository_forking.enable":
		return "enabled forking of private repositories"
	case ev.Action == "org.add_outside_collaborator":
		return "added an outside collaborator"
	case strings.HasPrefix(ev.Action, "repo.transfer") || (ev.Repo != "" && strings.Contains(ev.Action, "transfer") && !strings.Contains(ev.Action, "audit")):
		return "transferred a repository"
	case ev.Category == reposentry.CategoryVisibilityChange &&
		(strings.EqualFold(ev.Detail, "public") || (ev.Detail == "" && ev.Visibility == reposentry.VisibilityPublic)):
		return "made a repository public"
	}
	return ""
}

func (c *core) exfil(a *actor, ev *reposentry.Event, t int64) {
	if w := exfilWhat(ev); w != "" {
		c.f.exfil = w
		c.f.exfilHigh = a.lastBulk != 0 && t-a.lastBulk <= int64(c.cfg.ExfilLookback)
	}
}

// netPrefix renders a network key's prefix for people.
func netPrefix(ip netip.Addr) string {
	ip = ip.Unmap()
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ip.String()
	}
	return p.String()
}

// seeNamed records a sighting of a country or credential in a bounded list
// (the least recently seen forgotten) and returns its entry.
func seeNamed(list *[]namedPlace, max int, name string, t int64) *place {
	l := *list
	for i := range l {
		if p := &l[i]; p.country == name {
			p.last = t
			return &p.place
		}
	}
	l = grow(forget(l, max), max, 1)
	l = append(l, namedPlace{place: place{first: t, last: t}, country: name})
	*list = l
	return &l[len(l)-1].place
}

// seeNetwork is seeNamed for networks, by key.
func seeNetwork(list *[]network, max int, key uint64, t int64) *place {
	l := *list
	for i := range l {
		if p := &l[i]; p.key == key {
			p.last = t
			return &p.place
		}
	}
	l = grow(forget(l, max), max, 1)
	l = append(l, network{place: place{first: t, last: t}, key: key})
	*list = l
	return &l[len(l)-1].place
}

// placed is a place list's element: network or namedPlace.
type placed[T any] interface {
	*T
	sighting() *place
}

func (p *place) sighting() *place { return p }

// forget drops the least recently seen place when list holds max or more.
func forget[T any, P placed[T]](list []T, max int) []T {
	if len(list) < max || len(list) == 0 {
		return list
	}
	oldest := 0
	for j := range list {
		if P(&list[j]).sighting().last < P(&list[oldest]).sighting().last {
			oldest = j
		}
	}
	return slices.Delete(list, oldest, oldest+1)
}

// grow returns s with room for one more element. Long-lived per-identity
// lists grow by an eighth, at least step elements (and to the end of the
// allocator's size class), not by append's doubling, which leaves up to half
// of each unused; never past limit unless s already holds that many.
func grow[T any](s []T, limit, step int) []T {
	if len(s) < cap(s) {
		return s
	}
	n := len(s) + max(len(s)/8, step)
	if n > limit {
		n = max(limit, len(s)+1)
	}
	return append(slices.Grow([]T(nil), n), s...)
}

// location decides first_seen_location for a read. A new country alone is
// what travellers look like: it is signalled low, which does not alert alone
// but raises the severity of whatever else the incident holds (see the alert
// package). It rises to medium with a strong reason (a credential also new,
// a bulk read, or several repositories the identity never read, read from
// the new place) and to high with a strong reason and any other, weak ones
// being an hour of day the identity is never active at, or one unfamiliar
// repository. A new network in a known country rises to medium only with a
// strong reason and another.
func (c *core) location(a *actor, ev *reposentry.Event, t int64, s *sighting) {
	if !s.newCountry && !s.newNetwork {
		return
	}
	p := s.network
	if s.newCountry {
		p = s.country
	}
	if s.firstRead && p.unread < math.MaxUint8 {
		p.unread++
	}
	var why uint8
	for _, r := range [...]struct {
		ok  bool
		bit uint8
	}{{s.newCred, whyNewCred}, {a.win.tier >= reposentry.SeverityMedium, whyBulk}, {p.unread >= 2, whyUnread},
		{s.offHours, whyOffHours}, {p.unread == 1, whyOneUnread}} {
		if r.ok {
			why |= r.bit
		}
	}
	sev := reposentry.SeverityLow
	strong, others := why&strongWhy != 0, bits.OnesCount8(why) >= 2
	switch {
	case s.newCountry && strong && others:
		sev = reposentry.SeverityHigh
	case s.newCountry && strong, strong && others:
		sev = reposentry.SeverityMedium
	}
	if s.firstRead && ev.RepoTags&secretTags != 0 {
		// Secrets and signing keys read for the first time from a new
		// place are what an intruder looks for first.
		sev = min(sev+1, reposentry.SeverityCritical)
		why |= whySecret
	}
	if sev <= p.sev {
		return
	}
	p.sev = sev
	if s.newCountry && s.newNetwork {
		s.network.sev = max(s.network.sev, sev)
	}
	c.f.locCountry, c.f.locNetwork = s.newCountry, !s.newCountry
	c.f.locSev, c.f.locWhy = sev, why
}

func (c *core) privilegedRead(a *actor, ev *reposentry.Event, t int64) {
	if !ev.Category.IsRead() || !(ev.Privileged || a.privileged) {
		return
	}
	x := a.extra()
	if x.privAt != 0 && t-x.privAt > int64(c.cfg.IncidentGap) {
		x.privTier = reposentry.SeverityInfo
	}
	x.privAt = t
	sev := reposentry.SeverityHigh
	if a.win.tier >= reposentry.SeverityMedium || c.f.locCountry || c.f.locNetwork {
		sev = reposentry.SeverityCritical
	}
	if sev > x.privTier {
		x.privTier, c.f.priv = sev, sev
	}
}

// disabledActive decides disabled_account_active: a read, push or credential
// creation by an identity the directory says is disabled, or more than
// DeactivationGrace after an identity provider logged its deactivation. Reads and
// credential creations are critical (collection, persistence), pushes high;
// one signal per incident, rising with severity.
func (c *core) disabledActive(a *actor, ev *reposentry.Event, t int64) {
	deprovd := a.rare != nil && a.rare.deprovAt != 0 && t > a.rare.deprovAt+int64(c.cfg.DeactivationGrace)
	if !ev.Disabled && !deprovd {
		return
	}
	sev := reposentry.SeverityCritical
	switch {
	case ev.Category.IsRead(), ev.Category == reposentry.CategoryCredentialCreate:
	case ev.Category == reposentry.CategoryPush:
		sev = reposentry.SeverityHigh
	default:
		return
	}
	x := a.extra()
	if x.disAt != 0 && t-x.disAt > int64(c.cfg.IncidentGap) {
		x.disTier = reposentry.SeverityInfo
	}
	x.disAt = t
	if sev > x.disTier {
		x.disTier, c.f.disabled = sev, sev
		if !ev.Disabled {
			c.f.deprovBy = x.deprovBy
		}
	}
}

// deprovisionAction says whether ev deactivates (off) or reactivates (on)
// its target user in an identity provider.
func deprovisionAction(ev *reposentry.Event) (off, on bool) {
	switch ev.Platform {
	case reposentry.PlatformOkta:
		switch ev.Action {
		case "user.lifecycle.deactivate", "user.lifecycle.suspend":
			return true, false
		case "user.lifecycle.activate", "user.lifecycle.reactivate", "user.lifecycle.unsuspend":
			return false, true
		}
	case reposentry.PlatformEntra:
		switch ev.Action {
		case "Disable account", "Delete user":
			return true, false
		case "Enable account", "Restore user":
			return false, true
		}
	}
	return false, false
}

// deprovision records an identity provider deactivating (or reactivating)
// a user: the event-time account of what a directory snapshot only states
// at the time it was read. The target is the provider's login, the UPN
// identities resolve to.
func (c *core) deprovision(ev *reposentry.Event, t int64) {
	if ev.TargetUser == "" {
		return
	}
	off, on := deprovisionAction(ev)
	if !off && !on {
		return
	}
	target := strings.ToLower(ev.TargetUser)
	ta := c.actors[target]
	switch {
	case on:
		delete(c.deprov, target)
		if ta != nil && ta.rare != nil {
			ta.rare.deprovAt, ta.rare.deprovBy = 0, ""
		}
	case ta != nil:
		x := ta.extra()
		x.deprovAt, x.deprovBy = t, ev.Platform.String()+" "+ev.Action
	default:
		if len(c.deprov) >= maxPendingDeprov {
			clear(c.deprov)
		}
		c.deprov[target] = deprov{at: t, action: ev.Platform.String() + " " + ev.Action}
	}
}

// learnOwner marks the identity an organization or enterprise owner when it
// performs an owner-only action on GitHub.
func (c *core) learnOwner(a *actor, ev *reposentry.Event, t int64) {
	if ev.Platform != reposentry.PlatformGitHub || a.owner() || !ownerAction(ev) {
		return
	}
	x := a.extra()
	x.owner, x.ownerAt = ev.Action, t
}

// ownerAction reports whether only an organization or enterprise owner can
// perform ev: changes to org.* and business.* settings, members and roles,
// and to audit-log streaming. Team changes are left out: team maintainers,
// who are not owners, make them; so are requests any member can make.
func ownerAction(ev *reposentry.Event) bool {
	switch ev.Category {
	case reposentry.CategorySettingsChange, reposentry.CategoryPermissionChange, reposentry.CategoryMembershipChange:
	default:
		return false
	}
	act := ev.Action
	switch {
	case act == "org.oauth_app_access_requested":
		return false
	case strings.HasPrefix(act, "org."), strings.HasPrefix(act, "business."),
		strings.HasPrefix(act, "audit_log_streaming."), strings.HasPrefix(act, "organization_role."),
		strings.HasPrefix(act, "enterprise_role."):
		return true
	}
	return false
}

// advance expires windows and credential watches up to now and, once a day of
// event time, forgets identities silent for longer than ActorTTL.
func (c *core) advance(now time.Time) {
	n := now.UnixNano()
	if n <= c.lastAdvance {
		return
	}
	c.lastAdvance = n
	// Forget the last event: Process must not keep it, and the pointer alone
	// would keep the caller's event buffer alive once the caller is done
	// with it. No detector of this core is between its Process calls for
	// one event when event time moves on.
	c.lastEv, c.f = nil, facts{}
	cut := n - int64(c.cfg.Window)
	keep := c.active[:0]
	for _, a := range c.active {
		a.win.expire(cut)
		if a.pend != nil && n > a.pend.end {
			a.pend = nil
		}
		if a.win.len() == 0 && a.pend == nil {
			a.win.release()
			a.active = false
			continue
		}
		keep = append(keep, a)
	}
	clear(c.active[len(keep):])
	c.active = keep

	keepC := c.activeCred[:0]
	for _, cs := range c.activeCred {
		cs.win.expire(cut)
		if cs.pend != nil && n > cs.pend.end {
			cs.pend = nil
		}
		if cs.win.len() == 0 && cs.pend == nil {
			delete(c.creds, cs.key)
			cs.active = false
			continue
		}
		keepC = append(keepC, cs)
	}
	clear(c.activeCred[len(keepC):])
	c.activeCred = keepC

	if n-c.lastFull >= int64(24*time.Hour) {
		c.lastFull = n
		for k, a := range c.actors {
			if !a.active && n-a.last > int64(c.cfg.ActorTTL) {
				delete(c.actors, k)
			}
		}
	}
}
