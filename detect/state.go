package detect

import (
	"net/netip"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
)

// account is one platform account joined to an identity.
type account struct {
	plat  reposentry.Platform
	login string
}

// memEntry is a repository the identity read before: first is the start of
// the current run of reads (reset when the repository was forgotten), last
// the latest read.
type memEntry struct {
	repo        string
	first, last int64
}

// place is a country or network the identity was seen from.
type place struct {
	country     string
	key         uint64 // network key (see netKey) for networks
	first, last int64
	alerted     bool
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

// actor is the state kept per identity.
type actor struct {
	key        string
	accounts   []account
	first      int64
	last       int64
	bot        bool
	privileged bool
	newJoiner  bool
	active     bool
	mem        []memEntry // sorted by repo
	win        window
	countries  []place
	networks   []place
	// lastBulk is when the identity last reached a bulk_read tier and
	// lastBulkCount how many distinct non-public repositories that was.
	lastBulk      int64
	lastBulkCount int
	pend          *pending
	privAt        int64
	privTier      reposentry.Severity
}

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
	exfil      string // what was opened
	exfilHigh  bool
	priv       reposentry.Severity
}

// core is the state shared by the detectors of one New call.
type core struct {
	cfg        Config
	privileged map[string]struct{}
	actors     map[string]*actor
	creds      map[string]*credState
	active     []*actor
	activeCred []*credState

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
		actors:     make(map[string]*actor, 1024),
		creds:      make(map[string]*credState, 64),
	}
	for _, p := range cfg.Privileged {
		c.privileged[strings.ToLower(p)] = struct{}{}
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
	c.location(a, ev, t)
	switch {
	case ev.Category.IsRead():
		c.read(a, ev, t)
	case ev.Category == reposentry.CategoryCredentialCreate:
		c.credCreate(a, ev, t)
	}
	c.exfil(a, ev, t)
	c.privilegedRead(a, ev, t)
	return &c.f
}

func (c *core) newActor(key string, t int64) *actor {
	a := &actor{key: key, first: t}
	a.newJoiner = t-c.dataStart >= int64(c.cfg.LearningPeriod)
	a.bot = c.isBotName(key)
	_, a.privileged = c.privileged[strings.ToLower(key)]
	c.actors[key] = a
	return a
}

// touch records the event's account, re-evaluating the bot and privileged
// markers only when an account is first joined.
func (a *actor) touch(c *core, ev *reposentry.Event) {
	if ev.Actor.Type == reposentry.ActorBot || ev.Actor.Type == reposentry.ActorApp || ev.Actor.Type == reposentry.ActorDeployKey {
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
	if _, ok := c.privileged[strings.ToLower(ev.Actor.Login)]; ok {
		a.privileged = true
	}
}

// isBotName reports whether a login or identity names automation.
func (c *core) isBotName(name string) bool {
	if strings.HasSuffix(name, "[bot]") {
		return true
	}
	lower := strings.ToLower(name)
	for _, p := range c.cfg.BotPatterns {
		if ok, _ := path.Match(strings.ToLower(p), lower); ok {
			return true
		}
	}
	return false
}

// learnedAt is when the identity's baseline becomes trustworthy.
func (c *core) learnedAt(a *actor) int64 {
	return max(c.dataStart, a.first) + int64(c.cfg.LearningPeriod)
}

// multiplier scales thresholds for automation and for new joiners still
// onboarding.
func (c *core) multiplier(a *actor, bot bool, t int64) int {
	if bot || a.bot {
		return c.cfg.BotFactor
	}
	if a.newJoiner && t < c.learnedAt(a) {
		return c.cfg.NewJoinerFactor
	}
	return 1
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
// window (and not forgotten since), or it is a fetch, which needs an earlier
// clone. A fetch of an unknown repository is routine while the data is still
// cold, because the clone most likely predates the data.
func (c *core) remember(a *actor, repo string, t int64, fetch bool) bool {
	i, found := slices.BinarySearchFunc(a.mem, repo, func(e memEntry, r string) int { return strings.Compare(e.repo, r) })
	if found {
		e := &a.mem[i]
		routine := false
		if t-e.last > int64(c.cfg.RoutineMaxAge) {
			e.first = t
		} else if fetch || e.first < t-int64(c.cfg.Window) {
			routine = true
		}
		e.last = t
		return routine
	}
	if len(a.mem) >= c.cfg.RoutineRepos {
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
	a.mem = slices.Insert(a.mem, i, memEntry{repo: repo, first: t, last: t})
	return fetch && t-c.dataStart < int64(c.cfg.LearningPeriod)
}

func (c *core) read(a *actor, ev *reposentry.Event, t int64) {
	if ev.Repo == "" {
		return
	}
	if c.remember(a, ev.Repo, t, ev.Category == reposentry.CategoryFetch) {
		return
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
	cut := t - int64(c.cfg.Window)
	a.win.expire(cut)
	a.win.push(&r, c.cfg.MaxWindowReads)
	c.activate(a)
	if tr := c.tier(a.win.nonPublic, a.win.archives, c.multiplier(a, false, t)); tr > a.win.tier {
		a.win.tier, c.f.bulk = tr, tr
		a.lastBulk, a.lastBulkCount = t, a.win.nonPublic
	}

	if r.cred != "" {
		cs := c.cred(r.cred, ev, a)
		cs.win.expire(cut)
		cs.win.push(&r, c.cfg.MaxWindowReads)
		if tr := c.tier(cs.win.nonPublic, cs.win.archives, c.multiplier(a, cs.bot, t)); tr > cs.win.tier {
			cs.win.tier = tr
			// A credential used by one identity only repeats that
			// identity's signal; it speaks when others shared it.
			if tr > a.win.tier {
				c.f.credBulk, c.f.cs = tr, cs
				a.lastBulk, a.lastBulkCount = t, cs.win.nonPublic
			}
		}
		if np && cs.pend != nil && cs.pend != a.pend && t <= cs.pend.end {
			c.pendRead(cs.pend, &r)
		}
	}
	if np && a.pend != nil && t <= a.pend.end {
		c.pendRead(a.pend, &r)
	}
}

// cred returns the state of a credential key, creating it on first use.
func (c *core) cred(key string, ev *reposentry.Event, a *actor) *credState {
	cs := c.creds[key]
	if cs == nil {
		cs = &credState{key: key, kind: ev.Credential.Kind}
		c.creds[key] = cs
	}
	if ev.Credential.Kind == reposentry.CredentialDeployKey || ev.Credential.Kind == reposentry.CredentialApp || a.bot {
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
		p = &pending{start: t, end: end, actor: a, bot: a.bot}
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

// netKey packs an address's /24 (IPv4) or /48 (IPv6) into one comparable
// word; 0 means no usable network.
func netKey(ip netip.Addr) uint64 {
	if !ip.IsValid() || ip.IsLoopback() || ip.IsUnspecified() {
		return 0
	}
	ip = ip.Unmap()
	if ip.Is4() {
		b := ip.As4()
		return 1<<56 | uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])
	}
	b := ip.As16()
	return 2<<56 | uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(b[4])<<8 | uint64(b[5])
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

// see records a sighting in a bounded place list (oldest forgotten) and
// returns its entry.
func see(list *[]place, max int, country string, key uint64, t int64) *place {
	for i := range *list {
		p := &(*list)[i]
		if p.key == key && p.country == country {
			p.last = t
			return p
		}
	}
	if len(*list) >= max {
		oldest := 0
		for j := range *list {
			if (*list)[j].last < (*list)[oldest].last {
				oldest = j
			}
		}
		*list = slices.Delete(*list, oldest, oldest+1)
	}
	*list = append(*list, place{country: country, key: key, first: t, last: t})
	return &(*list)[len(*list)-1]
}

func (c *core) location(a *actor, ev *reposentry.Event, t int64) {
	var pc, pn *place
	if ev.Geo.Country != "" {
		pc = see(&a.countries, c.cfg.MaxCountries, ev.Geo.Country, 0, t)
	}
	if k := netKey(ev.SourceIP); k != 0 {
		pn = see(&a.networks, c.cfg.MaxNetworks, "", k, t)
	}
	if !ev.Category.IsRead() {
		return
	}
	learned := c.learnedAt(a)
	if t < learned {
		return
	}
	fresh := func(p *place) bool {
		return p != nil && !p.alerted && p.first >= learned && t-p.first <= int64(c.cfg.LocationFreshness)
	}
	switch {
	case fresh(pc):
		c.f.locCountry = true
		pc.alerted = true
		if pn != nil {
			pn.alerted = true
		}
	case fresh(pn):
		c.f.locNetwork = true
		pn.alerted = true
	}
}

func (c *core) privilegedRead(a *actor, ev *reposentry.Event, t int64) {
	if !ev.Category.IsRead() || !(ev.Privileged || a.privileged) {
		return
	}
	if a.privAt != 0 && t-a.privAt > int64(c.cfg.IncidentGap) {
		a.privTier = reposentry.SeverityInfo
	}
	a.privAt = t
	sev := reposentry.SeverityHigh
	if a.win.tier >= reposentry.SeverityMedium || c.f.locCountry || c.f.locNetwork {
		sev = reposentry.SeverityCritical
	}
	if sev > a.privTier {
		a.privTier, c.f.priv = sev, sev
	}
}

// advance expires windows and credential watches up to now and, once a day of
// event time, forgets identities silent for longer than ActorTTL.
func (c *core) advance(now time.Time) {
	n := now.UnixNano()
	if n <= c.lastAdvance {
		return
	}
	c.lastAdvance = n
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
