// Package chain joins identity-provider sign-ins (Okta, Entra ID) to what
// the same identity then does in the code platforms, and raises the
// cross-source detections of an account takeover followed by collection:
//
//   - impossible_travel: two places of one identity, at least one a
//     sign-in, too far apart for the time between them;
//   - risky_signin_then_collection: a risky step (a sign-in from a new
//     country, network or device, from a proxy or hosting network, flagged
//     by the provider, after push fatigue, or an MFA or help-desk reset)
//     followed within hours by repository collection;
//   - signin_burst: sign-ins from many countries or networks within an hour;
//   - privileged_session: a directory-privileged identity signing in to a
//     code platform.
//
// Every detection keys on ev.ActorKey(), the resolved identity, so that a
// sign-in and a clone by the same person meet. Addresses shared by many
// identities (VPN and office egress) are not taken for places. State per
// identity is a few fixed-size rings; nothing is allocated per event unless
// a signal fires or a new identity, network or risky step appears.
package chain

import (
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
)

// Rule ids of the cross-source detections.
const (
	RuleImpossibleTravel  = "impossible_travel"
	RuleRiskyChain        = "risky_signin_then_collection"
	RuleSigninBurst       = "signin_burst"
	RulePrivilegedSession = "privileged_session"
)

const (
	ruleTravel = iota
	ruleChain
	ruleBurst
	rulePriv
	numRules
)

var ruleNames = [numRules]string{RuleImpossibleTravel, RuleRiskyChain, RuleSigninBurst, RulePrivilegedSession}

// New returns the four detections, sharing one state: give the engine all
// of them (each emits only its own rule's signals). Zero settings in cfg take
// their defaults; call cfg.Validate first to report bad ones.
func New(cfg Config) []engine.Detector {
	c := newCore(cfg)
	ds := make([]engine.Detector, numRules)
	for i := range ds {
		ds[i] = &detector{c: c, rule: i}
	}
	return ds
}

// detector is one rule's view of the shared state.
type detector struct {
	c    *core
	rule int
}

// Name implements engine.Detector.
func (d *detector) Name() string { return ruleNames[d.rule] }

// Process implements engine.Detector.
func (d *detector) Process(ev *reposentry.Event, emit func(reposentry.Signal)) {
	d.c.observe(ev)
	d.c.drain(d.rule, emit)
}

// Advance implements engine.Detector. Signals are raised as events arrive;
// advancing forgets expired state.
func (d *detector) Advance(now time.Time, emit func(reposentry.Signal)) {
	d.c.advance(now.UnixNano())
	d.c.drain(d.rule, emit)
}

// Risk kinds of a risky step, a bit set.
const (
	kindUnfamiliar   uint8 = 1 << iota // new country, network (ASN) or device
	kindProxy                          // proxy, anonymizer or hosting network
	kindProviderRisk                   // the identity provider's own verdict
	kindPushFatigue                    // denied pushes, then an approval
	kindMFAReset                       // factors reset or removed
	kindAdminReset                     // someone else reset the password or factors
)

var kindNames = [...]string{"unfamiliar_sign_in", "proxy_or_hosting", "provider_risk", "push_fatigue", "mfa_reset", "admin_reset"}

// Sizes of the per-identity rings.
const (
	knownPlaces = 8  // countries, ASNs, device families learnt
	knownRepos  = 48 // repositories read before, so usual work is not collection
	burstHits   = 8  // recent sign-in places
	maxDenials  = 6  // recent denied pushes
	pendRisky   = 12 // risky steps kept for evidence
	pendReads   = 12 // collection events kept for evidence
	pendRepos   = 32 // distinct repositories counted
	// denialGap collapses the records one denied push produces (Okta logs
	// the failed MFA step and the deny_push event half a second apart).
	denialGap = 2 * int64(time.Second)
	// travelQuiet and privQuiet keep one journey or one privileged
	// session from raising a signal per event.
	travelQuiet = 6 * int64(time.Hour)
	privQuiet   = int64(time.Hour)
	sweepEvery  = int64(time.Hour)
	// outCap bounds signals buffered for a rule whose detector the engine
	// was not given.
	outCap   = 256
	cacheCap = 4096
)

// step is one event kept for a signal's evidence.
type step struct {
	t      int64
	id     reposentry.EventID
	plat   reposentry.Platform
	kinds  uint8
	action string
	detail string
}

func mkstep(ev *reposentry.Event, t int64, kinds uint8, detail string) step {
	return step{t: t, id: ev.ID, plat: ev.Platform, kinds: kinds, action: ev.Action, detail: detail}
}

// place is the last located event of an identity.
type place struct {
	cc    uint16
	login bool
	s     step
}

type hit struct {
	t   int64
	cc  uint16
	net uint32
}

// pending is a risky step waiting for collection; allocated only when an
// identity has one.
type pending struct {
	start, until int64
	kinds        uint8
	lowSent      uint8
	fired        reposentry.Severity
	stage        uint8 // collection stage last reported (see checkChain)
	nr, nc       int
	total        int // collection events, kept or not
	nrepo        int
	nonPublic    int
	archive      bool
	cred         bool
	risky        [pendRisky]step
	coll         [pendReads]step
	repos        [pendRepos]uint32
}

// ident is everything kept about one identity.
type ident struct {
	key         string
	h           uint32
	first, last int64
	countries   [knownPlaces]uint16
	asns        [knownPlaces]uint32
	devs        [knownPlaces]uint8
	repos       [knownRepos]uint32
	cpos, apos  uint8
	dpos, hpos  uint8
	npos        uint8
	rpos        int
	at          place
	travelAt    int64
	burstAt     int64
	privAt      int64
	hits        [burstHits]hit
	denials     *[maxDenials]step // allocated at the first denied push
	pend        *pending
}

// netUse counts the identities seen on one /24 (IPv6 /48).
type netUse struct {
	ids    [maxTracked]uint32
	n      int
	shared bool
	last   int64
}

type core struct {
	cfg         Config
	hostingOrgs []string
	codeApps    []string
	hostingASN  map[uint32]bool
	orgCache    map[string]bool
	appCache    map[string]bool
	minRisk     int
	seed        uint64 // keys the hashes of identities and repositories; saved with the state
	ids         map[string]*ident
	nets        map[uint64]*netUse
	nextSweep   int64

	lastEv *reposentry.Event
	lastID reposentry.EventID
	lastT  time.Time

	out [numRules][]reposentry.Signal
}

func newCore(cfg Config) *core {
	cfg = cfg.WithDefaults()
	c := &core{cfg: cfg, hostingASN: map[uint32]bool{}, orgCache: map[string]bool{}, appCache: map[string]bool{},
		minRisk: riskRank(cfg.RiskLevel), seed: rand.Uint64(), ids: map[string]*ident{}, nets: map[uint64]*netUse{}}
	if c.minRisk == 0 {
		c.minRisk = riskRank("high")
	}
	for _, a := range cfg.HostingASNs {
		c.hostingASN[a] = true
	}
	for _, p := range cfg.HostingOrgs {
		c.hostingOrgs = append(c.hostingOrgs, strings.ToLower(p))
	}
	for _, p := range cfg.CodeApps {
		c.codeApps = append(c.codeApps, strings.ToLower(p))
	}
	return c
}

func (c *core) drain(rule int, emit func(reposentry.Signal)) {
	out := c.out[rule]
	if len(out) == 0 {
		return
	}
	for i := range out {
		emit(out[i])
	}
	clear(out)
	c.out[rule] = out[:0]
}

func (c *core) emit(rule int, s reposentry.Signal) {
	if len(c.out[rule]) < outCap {
		c.out[rule] = append(c.out[rule], s)
	}
}

func (c *core) get(key string, t int64) *ident {
	a := c.ids[key]
	if a == nil {
		a = &ident{key: key, h: c.hash(key), first: t, last: t}
		c.ids[key] = a
	}
	if t < a.first {
		a.first = t
	}
	if t > a.last {
		a.last = t
	}
	return a
}

// hash is a seeded FNV-1a of s folded to 32 bits. Unlike hash/maphash its
// seed can be saved, so hashes kept in the state stay valid after a restart;
// the random seed still keeps outsiders from choosing colliding names.
func (c *core) hash(s string) uint32 {
	h := 14695981039346656037 ^ c.seed
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	h ^= h >> 29 // fold the well-mixed high bits into the low ones
	return uint32(h ^ h>>32)
}

func isIdP(p reposentry.Platform) bool {
	return p == reposentry.PlatformOkta || p == reposentry.PlatformEntra
}

// observe updates the state with ev once, however many of the detectors
// pass it on.
func (c *core) observe(ev *reposentry.Event) {
	if ev == c.lastEv && ev.ID == c.lastID && ev.Time.Equal(c.lastT) {
		return
	}
	c.lastEv, c.lastID, c.lastT = ev, ev.ID, ev.Time
	key := ev.ActorKey()
	if key == "" {
		return
	}
	t := ev.Time.UnixNano()
	idp := isIdP(ev.Platform)
	if idp && ev.TargetUser != "" && ev.Outcome != reposentry.OutcomeFailure && !strings.EqualFold(ev.TargetUser, key) &&
		isAdminReset(ev) {
		// A help-desk or admin reset is a risky step of the person reset,
		// not of the agent.
		kinds := kindAdminReset
		if ev.Category == reposentry.CategoryMFAChange {
			kinds |= kindMFAReset
		}
		v := c.get(lowerKey(ev.TargetUser), t)
		c.expire(v, t)
		c.risky(v, ev, t, kinds)
	}
	a := c.get(key, t)
	c.expire(a, t)
	if ev.Outcome == reposentry.OutcomeFailure {
		if idp && ev.Category == reposentry.CategoryLogin && (ev.Session.Factor == "push" || containsFold(ev.Action, "push")) {
			a.deny(ev, t)
		}
		return
	}
	net, shared := c.noteNet(ev.SourceIP, a.h, t)
	cc := ccode(ev.Geo.Country)
	dev := deviceFamily(ev.UserAgent)
	login := ev.Category == reposentry.CategoryLogin
	switch {
	case login:
		c.signIn(a, ev, t, cc, dev, net, shared)
	case ev.Category == reposentry.CategoryMFAChange:
		if (ev.TargetUser == "" || strings.EqualFold(ev.TargetUser, key)) && isRemoval(ev.Action) {
			c.risky(a, ev, t, kindMFAReset)
		}
	case ev.Category.IsRead():
		c.read(a, ev, t)
	case ev.Category == reposentry.CategoryCredentialCreate && !idp:
		// Identity providers log every OAuth token grant as a credential;
		// only a code platform's new token or key is collection tooling.
		if p := a.pend; p != nil {
			p.cred = true
			p.addColl(ev, t, ev.Detail)
			c.checkChain(a, ev)
		}
	}
	if !login && !ev.Category.IsRead() {
		return
	}
	if cc != 0 && !shared {
		c.travel(a, ev, t, cc, login)
	}
	// Learn where the identity works from what it does successfully.
	if cc != 0 {
		addKnown(a.countries[:], &a.cpos, cc)
	}
	if ev.Geo.ASN != 0 {
		addKnown(a.asns[:], &a.apos, ev.Geo.ASN)
	}
	if dev != 0 && login {
		addKnown(a.devs[:], &a.dpos, dev)
	}
}

// expire drops a pending risky step whose window has passed.
func (c *core) expire(a *ident, t int64) {
	if a.pend != nil && t > a.pend.until {
		a.pend = nil
	}
}

func (c *core) signIn(a *ident, ev *reposentry.Event, t int64, cc uint16, dev uint8, net uint64, shared bool) {
	var kinds uint8
	if a.denialsWithin(t, int64(c.cfg.PushWindow)) >= c.cfg.PushDenials {
		kinds |= kindPushFatigue
	}
	if t-a.first >= int64(c.cfg.Learning) && !shared &&
		(cc != 0 && !hasKnown(a.countries[:], cc) || ev.Geo.ASN != 0 && !hasKnown(a.asns[:], ev.Geo.ASN) ||
			dev != 0 && !hasKnown(a.devs[:], dev)) {
		kinds |= kindUnfamiliar
	}
	if ev.Session.Proxy || c.hosting(ev.Geo) {
		kinds |= kindProxy
	}
	if r := riskRank(ev.Session.Risk); r > 0 && r >= c.minRisk {
		kinds |= kindProviderRisk
	}
	if kinds&kindPushFatigue != 0 {
		// The denied pushes are steps of the chain too.
		for i := range a.denials {
			if d := &a.denials[i]; d.t != 0 && d.t <= t && t-d.t <= int64(c.cfg.PushWindow) {
				c.riskyStep(a, *d, t)
			}
		}
		a.denials = nil
	}
	if kinds != 0 {
		c.risky(a, ev, t, kinds)
	}
	if ev.Privileged && t-a.privAt >= privQuiet {
		app := ev.Session.App
		if app == "" {
			app = ev.Detail
		}
		if app != "" && c.codeApp(app) {
			a.privAt = t
			c.emit(rulePriv, c.privilegedSignal(a, ev, app, kinds != 0))
		}
	}
	if !shared && (cc != 0 || net != 0) {
		a.hits[a.hpos%burstHits] = hit{t: t, cc: cc, net: uint32(net ^ net>>32)}
		a.hpos++
		c.burst(a, ev, t)
	}
}

// risky records a risky step and raises the low context signal for kinds
// not yet reported in this window.
func (c *core) risky(a *ident, ev *reposentry.Event, t int64, kinds uint8) {
	p := a.pend
	if p == nil {
		p = &pending{start: t}
		a.pend = p
	}
	p.until = max(p.until, t+int64(c.cfg.CollectionWindow))
	p.kinds |= kinds
	detail := ev.Geo.Country
	if ev.Category != reposentry.CategoryLogin && ev.TargetUser != "" {
		detail = ev.TargetUser
	}
	if p.nr < pendRisky {
		p.risky[p.nr] = mkstep(ev, t, kinds, detail)
		p.nr++
	}
	if fresh := kinds &^ p.lowSent; fresh != 0 && p.fired == reposentry.SeverityInfo {
		p.lowSent |= fresh
		c.emit(ruleChain, c.riskySignal(a, ev, t, fresh, detail))
	}
}

// riskyStep adds an earlier event (a denied push) to the risky steps of a
// window opened at t.
func (c *core) riskyStep(a *ident, s step, t int64) {
	p := a.pend
	if p == nil {
		p = &pending{start: s.t, until: t + int64(c.cfg.CollectionWindow)}
		a.pend = p
	}
	p.start = min(p.start, s.t)
	if p.nr < pendRisky {
		p.risky[p.nr] = s
		p.nr++
	}
}

func (p *pending) addColl(ev *reposentry.Event, t int64, detail string) {
	p.total++
	if p.nc < pendReads {
		p.coll[p.nc] = mkstep(ev, t, 0, detail)
		p.nc++
	}
}

func (c *core) read(a *ident, ev *reposentry.Event, t int64) {
	if ev.Repo == "" {
		return
	}
	h := c.hash(ev.Repo)
	familiar := hasKnown(a.repos[:], h)
	p := a.pend
	if p == nil {
		if !familiar {
			a.repos[a.rpos%knownRepos] = h
			a.rpos = (a.rpos + 1) % knownRepos
		}
		return
	}
	counted := false
	if ev.Category == reposentry.CategoryArchiveDownload {
		p.archive, counted = true, true
	}
	if !familiar && p.nrepo < pendRepos && !hasKnown(p.repos[:p.nrepo], h) {
		p.repos[p.nrepo] = h
		p.nrepo++
		// Unknown visibility counts as non-public: missing it must not
		// hide a bulk clone.
		if ev.Visibility != reposentry.VisibilityPublic {
			p.nonPublic++
		}
		counted = true
	}
	if counted {
		p.addColl(ev, t, ev.Repo)
		c.checkChain(a, ev)
	}
}

// checkChain raises the chain signal when collection is complete, and again
// when it grows a stage: a credential or archive alone, then the
// repository threshold, then bulk. The risk stage updates the alert each
// time, with at most three signals per risky window.
func (c *core) checkChain(a *ident, ev *reposentry.Event) {
	p := a.pend
	var stage uint8
	switch {
	case p.nonPublic >= c.cfg.BulkRepos:
		stage = 3
	case p.nrepo >= c.cfg.MinRepos:
		stage = 2
	case p.archive || p.cred:
		stage = 1
	}
	if stage <= p.stage {
		return
	}
	p.stage = stage
	sev := reposentry.SeverityHigh
	if stage == 3 || bits.OnesCount8(p.kinds) >= 2 {
		sev = reposentry.SeverityCritical
	}
	p.fired = max(p.fired, sev)
	c.emit(ruleChain, c.chainSignal(a, ev, sev))
}

func (c *core) travel(a *ident, ev *reposentry.Event, t int64, cc uint16, login bool) {
	cur, ok := centroids[cc]
	if !ok {
		return
	}
	prev := &a.at
	if prev.cc != 0 && prev.cc != cc && t >= prev.s.t && (login || prev.login) && t-a.travelAt >= travelQuiet {
		if from, ok := centroids[prev.cc]; ok {
			d := distanceKm(from, cur)
			hours := max(float64(t-prev.s.t)/float64(time.Hour), 1.0/60)
			if d >= c.cfg.MinTravelKm && d/hours > c.cfg.MaxSpeedKmh {
				a.travelAt = t
				c.emit(ruleTravel, c.travelSignal(a, ev, t, cc, d, hours))
			}
		}
	}
	prev.cc, prev.login, prev.s = cc, login, mkstep(ev, t, 0, ev.Geo.Country)
}

func (c *core) burst(a *ident, ev *reposentry.Event, t int64) {
	if t-a.burstAt < int64(c.cfg.BurstWindow) {
		return
	}
	var ccs [burstHits]uint16
	var nets [burstHits]uint32
	nc, nn := 0, 0
	for _, h := range a.hits {
		if h.t == 0 || h.t > t || t-h.t > int64(c.cfg.BurstWindow) {
			continue
		}
		if h.cc != 0 && !hasKnown(ccs[:nc], h.cc) {
			ccs[nc] = h.cc
			nc++
		}
		if h.net != 0 && !hasKnown(nets[:nn], h.net) {
			nets[nn] = h.net
			nn++
		}
	}
	if nc >= c.cfg.BurstCountries || nn >= c.cfg.BurstNetworks {
		a.burstAt = t
		c.emit(ruleBurst, c.burstSignal(a, ev, t, ccs[:nc], nn))
	}
}

// deny records a denied push, collapsing the records one denial produces.
func (a *ident) deny(ev *reposentry.Event, t int64) {
	if a.denials == nil {
		a.denials = new([maxDenials]step)
	}
	last := a.denials[(int(a.npos)+maxDenials-1)%maxDenials].t
	if last != 0 && t >= last && t-last < denialGap {
		return
	}
	a.denials[a.npos] = mkstep(ev, t, kindPushFatigue, ev.Geo.Country)
	a.npos = (a.npos + 1) % maxDenials
}

func (a *ident) denialsWithin(t, w int64) int {
	if a.denials == nil {
		return 0
	}
	n := 0
	for i := range a.denials {
		if d := a.denials[i].t; d != 0 && d <= t && t-d <= w {
			n++
		}
	}
	return n
}

// noteNet records that identity h used addr's network and reports the
// network's key and whether enough identities share it to be egress.
func (c *core) noteNet(addr netip.Addr, h uint32, t int64) (uint64, bool) {
	key := netKey(addr)
	if key == 0 {
		return 0, false
	}
	u := c.nets[key]
	if u == nil {
		u = &netUse{}
		c.nets[key] = u
	}
	u.last = t
	if !u.shared && !hasKnown(u.ids[:u.n], h) {
		u.ids[u.n] = h
		u.n++
		u.shared = u.n >= c.cfg.EgressIdentities
	}
	return key, u.shared
}

// netKey is the /24 of an IPv4 address or the /48 of an IPv6 one, tagged
// by family; 0 for no address.
func netKey(addr netip.Addr) uint64 {
	switch {
	case !addr.IsValid():
		return 0
	case addr.Is4() || addr.Is4In6():
		b := addr.Unmap().As4()
		return 4<<56 | uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])
	}
	b := addr.As16()
	return 6<<56 | uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(b[4])<<8 | uint64(b[5])
}

func (c *core) hosting(g reposentry.Geo) bool {
	if g.ASN != 0 && c.hostingASN[g.ASN] {
		return true
	}
	return g.ASOrg != "" && cached(c.orgCache, g.ASOrg, c.hostingOrgs)
}

func (c *core) codeApp(app string) bool { return cached(c.appCache, app, c.codeApps) }

// cached matches s against patterns, remembering the answer: the strings
// are interned names of few networks and applications.
func cached(m map[string]bool, s string, patterns []string) bool {
	if v, ok := m[s]; ok {
		return v
	}
	v := false
	for _, p := range patterns {
		if match(p, s) {
			v = true
			break
		}
	}
	if len(m) >= cacheCap {
		clear(m)
	}
	m[s] = v
	return v
}

// advance forgets idle identities, expired risky steps and unused networks.
func (c *core) advance(now int64) {
	// Forget the last event: it lives in the engine's buffer, which it
	// would keep reachable (1.5 MB) after the hunt. The engine never
	// advances between two detectors' Process calls for one event.
	c.lastEv = nil
	if now < c.nextSweep {
		return
	}
	c.nextSweep = now + sweepEvery
	idle := now - int64(c.cfg.IdleTTL)
	for k, a := range c.ids {
		switch {
		case a.last < idle:
			delete(c.ids, k)
		case a.pend != nil && now > a.pend.until:
			a.pend = nil
		}
		if a.denials != nil && a.denialsWithin(now, int64(c.cfg.PushWindow)) == 0 {
			a.denials, a.npos = nil, 0
		}
	}
	for k, u := range c.nets {
		if u.last < idle {
			delete(c.nets, k)
		}
	}
}

func hasKnown[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func addKnown[T comparable](s []T, pos *uint8, v T) {
	if hasKnown(s, v) {
		return
	}
	s[int(*pos)%len(s)] = v
	*pos = uint8((int(*pos) + 1) % len(s))
}

// lowerKey lower-cases an account name the way the enricher keys
// identities; it allocates only for names that have upper case.
func lowerKey(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// isAdminReset reports whether an identity-provider event done to another
// user resets their password or factors.
func isAdminReset(ev *reposentry.Event) bool {
	return ev.Category == reposentry.CategoryMFAChange && isRemoval(ev.Action) ||
		containsFold(ev.Action, "password") && (containsFold(ev.Action, "reset") || containsFold(ev.Action, "update") || containsFold(ev.Action, "change"))
}

// isRemoval reports whether an MFA change removes factors: a reset, a
// deactivation or a deletion, which an attacker needs before enrolling
// their own.
func isRemoval(action string) bool {
	for _, w := range [...]string{"reset", "deactivat", "delet", "remov", "unenroll", "suspend"} {
		if containsFold(action, w) {
			return true
		}
	}
	return false
}

// deviceFamily reduces a user agent to operating system and client family,
// the granularity at which a new device means something (versions change
// weekly); 0 for no user agent.
func deviceFamily(ua string) uint8 {
	if ua == "" {
		return 0
	}
	var os, client uint8 = 7, 15
	switch {
	case strings.Contains(ua, "Windows"):
		os = 1
	case strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"):
		os = 3
	case strings.Contains(ua, "Mac OS"), strings.Contains(ua, "Macintosh"):
		os = 2
	case strings.Contains(ua, "Android"):
		os = 4
	case strings.Contains(ua, "CrOS"):
		os = 6
	case strings.Contains(ua, "Linux"), strings.Contains(ua, "X11"):
		os = 5
	}
	for i, p := range [...]string{"Edg/", "OPR/", "Firefox/", "Chrome/", "Safari/", "curl/", "python", "git/", "okhttp", "Go-http"} {
		if strings.Contains(ua, p) {
			client = uint8(i + 1)
			break
		}
	}
	return os<<4 | client
}
