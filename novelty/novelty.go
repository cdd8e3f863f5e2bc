package novelty

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
	"github.com/reposentry/reposentry/internal/keys"
)

// Rule ids of the signals, as written in Signal.Rule.
const (
	RuleCredentialNewOrigin = "credential_new_origin"
	RuleFarFromCreation     = "credential_far_from_creation"
	RuleNewClient           = "new_client"
	RuleNewOrganisation     = "new_organisation"
	detectorName            = "novelty"
	secDay                  = 86400
	// episodeDays is how long after a value's first sight reads from it
	// still count towards escalating its signal.
	episodeDays = 1
	// maxCreations bounds the creations waiting for their credential's
	// first use.
	maxCreations = 1 << 14
)

// Attribute kinds of a val.
const (
	attrCountry uint8 = iota
	attrASN
	attrPrefix
	attrClient
	attrOrg
	nAttrs
)

// val is one remembered attribute value. h is the value itself where it
// fits (an ASN, a network key, a client family, a country code of up to 7
// bytes: see packString), else a 64-bit FNV-1a hash (a collision only makes
// one value look known).
type val struct {
	h           uint64
	first, last uint16 // days since the unix epoch
	kind        uint8
	flags       uint8 // flagNovel
	sev         reposentry.Severity
}

// Value flags. flagNovel marks a value first seen while its entity was
// learned: reads from it within episodeDays are novel. flagSession marks an
// identity's country it signed in or browsed from without a credential
// (SSO, web session): the person, not only a token, was there.
const (
	flagNovel uint8 = 1 << iota
	flagSession
	allFlags = flagNovel | flagSession
)

// values is an entity's remembered attribute values, all kinds together so
// that an entity pays one slice header.
type values []val

// see records value h of kind at day and returns its index and whether it
// is new: never seen, or not seen for longer than expiry days. At the cap of
// its kind, the least recently seen value of the kind is replaced, so
// indices stay valid while further values are seen.
func (vs *values) see(kind uint8, h uint64, day uint16, limit, expiry int, learned bool) (int, bool) {
	n, victim := 0, -1
	for i := range *vs {
		v := &(*vs)[i]
		if v.kind != kind {
			continue
		}
		if v.h == h {
			if int(day)-int(v.last) > expiry {
				*v = val{h: h, first: day, last: day, kind: kind, flags: novelFlag(learned)}
				return i, true
			}
			v.last = max(v.last, day)
			return i, false
		}
		n++
		if victim < 0 || v.last < (*vs)[victim].last {
			victim = i
		}
	}
	nv := val{h: h, first: day, last: day, kind: kind, flags: novelFlag(learned)}
	if n >= limit && victim >= 0 {
		(*vs)[victim] = nv
		return victim, true
	}
	*vs = append(*vs, nv)
	return len(*vs) - 1, true
}

func novelFlag(learned bool) uint8 {
	if learned {
		return flagNovel
	}
	return 0
}

// novel reports whether the value was first seen while learned, within
// episodeDays of day.
func (v *val) novel(day uint16) bool {
	return v.flags&flagNovel != 0 && int(day)-int(v.first) <= episodeDays
}

// expire drops the values not seen for longer than expiry days.
func (vs *values) expire(day uint16, expiry int) {
	*vs = slices.DeleteFunc(*vs, func(v val) bool { return int(day)-int(v.last) > expiry })
	if len(*vs) == 0 {
		*vs = nil
	}
}

// creation is where and when a credential was created.
type creation struct {
	t       int64 // unix seconds
	country string
	asn     uint32
	net     uint64 // netKey of the address
	action  string
	kind    reposentry.CredentialKind
	id      reposentry.EventID
	plat    reposentry.Platform
}

func (c *creation) ref() string { return c.plat.String() + ":" + c.id.String() }

// escalation follows a person's credential reading from a country new to it
// and to the identity: the distinct repositories it never read, read from
// there.
type escalation struct {
	country uint64
	repos   [maxSpread]uint32
	n       uint8
}

// ident is the state kept per identity.
type ident struct {
	login    string
	plat     reposentry.Platform
	first    uint16 // day of first sight
	last     uint16 // day of the latest event
	learned  uint16 // day the learning period ended; 0 while learning
	day      uint16 // day dayReads counts
	events   uint16 // saturating
	dayReads uint16
	autoDays uint8
	bot      bool // automation by type
	auto     bool // automation by behaviour
	vals     values
	pend     *creation // a creation whose credential the event did not name
}

func (a *ident) automated() bool { return a.bot || a.auto }

// cred is the state kept per credential.
type cred struct {
	kind    reposentry.CredentialKind
	first   uint16
	last    uint16
	learned uint16
	events  uint16
	// firstReads counts the clones and archives of repositories the
	// credential had not read (saturating).
	firstReads uint16
	farSev     reposentry.Severity
	vals       values
	repos      []uint32 // low bits of repository hashes, least recent first
	esc        *escalation
	made       *creation
}

// detector is the novelty detector. It is driven by one goroutine.
type detector struct {
	cfg      Config
	ids      map[string]*ident
	creds    map[string]*cred
	made     map[uint64]*creation // creations by hash of the credential's hash and id
	sweepDay uint16
	// families caches clientFamily by user agent: an organisation has few
	// distinct ones, and the parsers intern them, so keeping them is safe.
	families map[string]uint8
}

// maxFamilies bounds the user-agent cache; past it the cache starts over.
const maxFamilies = 4096

// family returns clientFamily(ua), cached.
func (d *detector) family(ua string) uint8 {
	if f, ok := d.families[ua]; ok {
		return f
	}
	f := clientFamily(ua)
	if len(d.families) >= maxFamilies {
		clear(d.families)
	}
	d.families[ua] = f
	return f
}

// New returns the novelty detector (rule ids Rule*); it is also an
// engine.Stateful with StateKey "novelty/v1". Zero settings take their
// defaults; call Config.Validate first to reject settings that cannot work.
func New(cfg Config) engine.Detector {
	return &detector{
		cfg:      cfg.withDefaults(),
		ids:      make(map[string]*ident, 64),
		creds:    make(map[string]*cred, 64),
		made:     make(map[uint64]*creation, 16),
		families: make(map[string]uint8, 64),
	}
}

// Name implements engine.Detector.
func (d *detector) Name() string { return detectorName }

// dayOf is the UTC day of unix seconds t, since the epoch, clamped.
func dayOf(t int64) uint16 {
	return uint16(min(max(t/secDay, 0), math.MaxUint16))
}

// Process implements engine.Detector.
func (d *detector) Process(ev *reposentry.Event, emit func(reposentry.Signal)) {
	key := ev.ActorKey()
	if key == "" || ev.Outcome == reposentry.OutcomeFailure {
		return
	}
	t := ev.Time.Unix()
	day := dayOf(t)
	cfg := &d.cfg
	a := d.ids[key]
	if a == nil || int(day)-int(a.last) > cfg.ExpiryDays {
		a = &ident{first: day, last: day, day: day}
		d.ids[key] = a
	}
	read := ev.Category.IsRead() && ev.Repo != ""
	d.touch(a, ev, day, read)
	learned := a.learned != 0

	// Indices, not pointers: a later see may grow a.vals.
	fi, oi, idCountryNovel := -1, -1, false
	if ev.Geo.Country != "" {
		i, _ := a.vals.see(attrCountry, packString(ev.Geo.Country), day, cfg.MaxCountries, cfg.ExpiryDays, learned)
		idCountryNovel = a.vals[i].novel(day)
		if ev.Credential.Key() == "" {
			a.vals[i].flags |= flagSession
		}
	}
	if f := d.family(ev.UserAgent); f != 0 {
		fi, _ = a.vals.see(attrClient, uint64(f), day, cfg.MaxClients, cfg.ExpiryDays, learned)
	}
	if org := orgOf(ev); org != "" {
		var fresh bool
		if oi, fresh = a.vals.see(attrOrg, keys.String(org), day, cfg.MaxOrgs, cfg.ExpiryDays, learned); !fresh || !learned {
			oi = -1
		}
	}
	if read {
		if fi >= 0 {
			d.newClient(a, key, ev, &a.vals[fi], emit)
		}
		if oi >= 0 {
			d.newOrg(a, key, ev, &a.vals[oi], emit)
		}
	}
	if ev.Category == reposentry.CategoryCredentialCreate {
		d.created(a, ev, t)
	}
	k := ev.Credential.Key()
	if k == "" || ev.Credential.Kind == reposentry.CredentialApp {
		return
	}
	c := d.credential(a, k, ev, day)
	d.credentialSeen(a, c, key, ev, t, day, read, idCountryNovel, emit)
}

// touch counts the event for the identity: login, learning, automation.
func (d *detector) touch(a *ident, ev *reposentry.Event, day uint16, read bool) {
	if a.login == "" && ev.Actor.Login != "" {
		a.login, a.plat = ev.Actor.Login, ev.Platform
	}
	switch {
	case ev.Actor.Type == reposentry.ActorBot, ev.Actor.Type == reposentry.ActorApp, ev.Actor.Type == reposentry.ActorDeployKey,
		ev.Credential.Kind == reposentry.CredentialApp, ev.Credential.Kind == reposentry.CredentialDeployKey:
		a.bot = true
	}
	if day > a.day {
		if int(a.dayReads) > d.cfg.AutomationReads && a.autoDays < math.MaxUint8 {
			a.autoDays++
			a.auto = a.auto || int(a.autoDays) >= d.cfg.AutomationDays
		}
		a.day, a.dayReads = day, 0
	}
	if read {
		a.dayReads = sat16(a.dayReads)
	}
	a.events = sat16(a.events)
	a.last = max(a.last, day)
	if a.learned == 0 && int(day)-int(a.first) >= d.cfg.LearningDays && int(a.events) >= d.cfg.MinEvents {
		a.learned = day
	}
}

func sat16(v uint16) uint16 { return v + uint16(min(1, math.MaxUint16-int(v))) }

// credential returns the credential's state, creating it (and linking it to
// its creation) on first sight or after it was silent for ExpiryDays.
func (d *detector) credential(a *ident, k string, ev *reposentry.Event, day uint16) *cred {
	c := d.creds[k]
	if c != nil && int(day)-int(c.last) <= d.cfg.ExpiryDays {
		return c
	}
	if c == nil && len(d.creds) >= d.cfg.MaxCredentials {
		d.evictCredentials()
	}
	c = &cred{kind: ev.Credential.Kind, first: day, last: day}
	d.creds[k] = c
	c.made = d.takeCreation(a, ev)
	return c
}

// evictCredentials forgets the least recently used credentials: all of
// those last used on the oldest day among them, so that a full map is
// scanned once per batch, not once per new credential.
func (d *detector) evictCredentials() {
	oldest := uint16(math.MaxUint16)
	for _, c := range d.creds {
		oldest = min(oldest, c.last)
	}
	for k, c := range d.creds {
		if c.last == oldest {
			delete(d.creds, k)
		}
	}
}

// credentialSeen records the event's attributes for its credential and
// decides the credential's signals on reads.
func (d *detector) credentialSeen(a *ident, c *cred, key string, ev *reposentry.Event, t int64, day uint16, read, idCountryNovel bool, emit func(reposentry.Signal)) {
	cfg := &d.cfg
	c.events = sat16(c.events)
	c.last = max(c.last, day)
	if c.learned == 0 && int(day)-int(c.first) >= cfg.LearningDays && int(c.events) >= cfg.MinEvents {
		c.learned = day
	}
	learned := c.learned != 0
	ci, ai := -1, -1
	if ev.Geo.Country != "" {
		ci, _ = c.vals.see(attrCountry, packString(ev.Geo.Country), day, cfg.MaxCountries, cfg.ExpiryDays, learned)
	}
	if ev.Geo.ASN != 0 {
		ai, _ = c.vals.see(attrASN, uint64(ev.Geo.ASN), day, cfg.MaxASNs, cfg.ExpiryDays, learned)
	}
	newNet := false
	if nk := keys.Net(ev.SourceIP); nk != 0 {
		_, newNet = c.vals.see(attrPrefix, nk, day, cfg.MaxPrefixes, cfg.ExpiryDays, learned)
	}
	if !read {
		return
	}
	h := uint32(keys.String(ev.Repo))
	firstRead := c.remember(h, cfg.MaxCredentialRepos) && ev.Category != reposentry.CategoryFetch
	if firstRead {
		c.firstReads = sat16(c.firstReads)
	}
	if c.made != nil {
		d.farFromCreation(a, c, key, ev, t, emit)
	}
	var cv, av *val
	if ci >= 0 && c.vals[ci].novel(day) {
		cv = &c.vals[ci]
	}
	if ai >= 0 && c.vals[ai].novel(day) {
		av = &c.vals[ai]
	}
	if cv == nil && av == nil {
		return
	}
	auto := a.automated() || c.kind == reposentry.CredentialDeployKey
	sev, risk := reposentry.SeverityLow, 20
	spread := 0
	if auto {
		sev, risk = reposentry.SeverityMedium, 50
	} else if cv != nil && idCountryNovel {
		if c.esc == nil || c.esc.country != cv.h {
			c.esc = &escalation{country: cv.h}
		}
		if firstRead {
			c.esc.add(h)
		}
		spread = int(c.esc.n)
		if spread >= cfg.SpreadRepos {
			sev, risk = reposentry.SeverityMedium, 45
		}
	}
	prev := reposentry.SeverityInfo
	for _, v := range [...]*val{cv, av} {
		if v != nil {
			prev = max(prev, v.sev)
		}
	}
	if sev <= prev {
		return
	}
	for _, v := range [...]*val{cv, av} {
		if v != nil {
			v.sev = sev
		}
	}
	since := day
	for _, v := range [...]*val{cv, av} {
		if v != nil {
			since = min(since, v.first)
		}
	}
	emit(d.originSignal(a, c, key, ev, originFacts{sev: sev, risk: risk, auto: auto, country: cv != nil, asn: av != nil,
		newNet: newNet, idCountry: idCountryNovel, spread: spread, since: since}))
}

// add counts a distinct repository.
func (e *escalation) add(h uint32) {
	if slices.Contains(e.repos[:e.n], h) || int(e.n) >= len(e.repos) {
		return
	}
	e.repos[e.n] = h
	e.n++
}

// remember records a read of repository h and reports whether the
// credential had not read it (among the limit it remembers).
func (c *cred) remember(h uint32, limit int) bool {
	if i := slices.Index(c.repos, h); i >= 0 {
		// Move it last: the first are forgotten first.
		copy(c.repos[i:], c.repos[i+1:])
		c.repos[len(c.repos)-1] = h
		return false
	}
	if len(c.repos) >= limit {
		copy(c.repos, c.repos[1:])
		c.repos[len(c.repos)-1] = h
		return true
	}
	c.repos = append(c.repos, h)
	return true
}

// farFromCreation compares a read within CreationWindowDays of the
// credential's creation with where it was created: another country is
// medium, another network (ASN) in the same country low. Another country is
// low too when the identity signed in from there without a credential (a
// person who created a token before a trip and uses it abroad), and for a
// deploy key, which a person creates and a machine elsewhere uses by design.
func (d *detector) farFromCreation(a *ident, c *cred, key string, ev *reposentry.Event, t int64, emit func(reposentry.Signal)) {
	m := c.made
	if t-m.t > int64(d.cfg.CreationWindowDays)*secDay {
		c.made = nil
		return
	}
	if t < m.t {
		return
	}
	sev, risk := reposentry.SeverityInfo, 0
	switch {
	case m.country != "" && ev.Geo.Country != "" && m.country != ev.Geo.Country:
		sev, risk = reposentry.SeverityMedium, 45
		if c.kind == reposentry.CredentialDeployKey || a.signedInFrom(ev.Geo.Country) {
			sev, risk = reposentry.SeverityLow, 20
		}
	case m.asn != 0 && ev.Geo.ASN != 0 && m.asn != ev.Geo.ASN && (m.country == "" || m.country == ev.Geo.Country):
		sev, risk = reposentry.SeverityLow, 15
	}
	if sev <= c.farSev {
		return
	}
	c.farSev = sev
	emit(d.farSignal(a, c, key, ev, sev, risk))
}

// newClient signals a read with a client family the learned identity never
// used within ExpiryDays. Unknown clients ("other") are not compared: they
// say nothing about a change of tool.
func (d *detector) newClient(a *ident, key string, ev *reposentry.Event, v *val, emit func(reposentry.Signal)) {
	if v.sev != reposentry.SeverityInfo || int(v.h) == len(families)-1 || !v.novel(dayOf(ev.Time.Unix())) {
		return
	}
	v.sev = reposentry.SeverityLow
	emit(d.clientSignal(a, key, ev, v))
}

// newOrg signals a clone or archive download of a non-public repository
// in an organisation the learned identity never acted in within ExpiryDays.
func (d *detector) newOrg(a *ident, key string, ev *reposentry.Event, v *val, emit func(reposentry.Signal)) {
	if ev.Category == reposentry.CategoryFetch || !ev.Visibility.NonPublic() {
		return
	}
	v.sev = reposentry.SeverityLow
	emit(d.orgSignal(a, key, ev))
}

// signedInFrom reports whether the identity signed in or browsed from
// country without a credential within ExpiryDays.
func (a *ident) signedInFrom(country string) bool {
	h := packString(country)
	for i := range a.vals {
		if v := &a.vals[i]; v.kind == attrCountry && v.h == h {
			return v.flags&flagSession != 0
		}
	}
	return false
}

// orgOf is the event's organisation, else the owner of its repository.
func orgOf(ev *reposentry.Event) string {
	if ev.Org != "" {
		return ev.Org
	}
	if i := strings.IndexByte(ev.Repo, '/'); i > 0 {
		return ev.Repo[:i]
	}
	return ""
}

// createdKind is the kind of credential a creation event creates, and
// whether the event's own credential is the one created. GitHub's
// personal_access_token.* events name the token they are about (token_id is
// the user_programmatic_access_id that its later uses log as token_id);
// public_key.create, deploy_key.create and oauth_* events log the credential
// the actor acted with, not the one created.
func createdKind(ev *reposentry.Event) (reposentry.CredentialKind, bool) {
	act := ev.Action
	switch {
	case strings.HasPrefix(act, "personal_access_token."):
		k := ev.Credential.Kind
		if k != reposentry.CredentialPATClassic && k != reposentry.CredentialPATFineGrained {
			k = reposentry.CredentialPATFineGrained
		}
		return k, true
	case strings.HasPrefix(act, "deploy_key."):
		return reposentry.CredentialDeployKey, false
	case strings.HasPrefix(act, "public_key."):
		return reposentry.CredentialSSHKey, false
	case strings.HasPrefix(act, "oauth_authorization.") || strings.HasPrefix(act, "oauth_access."):
		return reposentry.CredentialOAuth, false
	}
	return reposentry.CredentialUnknown, false
}

// created remembers where a credential was created. When the event names
// the credential, it is found by its hash or id on first use; else the
// identity's first credential of the created kind never seen before, used
// within CreationWindowDays, is taken to be it.
func (d *detector) created(a *ident, ev *reposentry.Event, t int64) {
	kind, named := createdKind(ev)
	if kind == reposentry.CredentialUnknown || (ev.Geo.Country == "" && ev.Geo.ASN == 0) {
		return
	}
	m := &creation{t: t, country: ev.Geo.Country, asn: ev.Geo.ASN, net: keys.Net(ev.SourceIP), action: ev.Action,
		kind: kind, id: ev.ID, plat: ev.Platform}
	if !named || ev.Credential.Key() == "" {
		a.pend = m
		return
	}
	for _, s := range [...]string{ev.Credential.Hash, ev.Credential.ID} {
		if s == "" {
			continue
		}
		if c := d.creds[s]; c != nil {
			// Already in use (the creation was logged late): compare from now on.
			c.made, c.farSev = m, reposentry.SeverityInfo
			return
		}
	}
	if len(d.made) >= maxCreations {
		d.expireCreations(t)
		if len(d.made) >= maxCreations {
			return
		}
	}
	for _, s := range [...]string{ev.Credential.Hash, ev.Credential.ID} {
		if s != "" {
			d.made[keys.String(s)] = m
		}
	}
}

// takeCreation finds the creation of a credential seen for the first time.
func (d *detector) takeCreation(a *ident, ev *reposentry.Event) *creation {
	if len(d.made) > 0 {
		for _, s := range [...]string{ev.Credential.Hash, ev.Credential.ID} {
			if s == "" {
				continue
			}
			if m := d.made[keys.String(s)]; m != nil {
				for _, s := range [...]string{ev.Credential.Hash, ev.Credential.ID} {
					delete(d.made, keys.String(s))
				}
				return m
			}
		}
	}
	if m := a.pend; m != nil && compatible(m.kind, ev.Credential.Kind) {
		a.pend = nil
		return m
	}
	return nil
}

// compatible reports whether a credential of kind used may be one created
// as kind made: an SSH key added as a user key may be logged as a deploy key
// when its actor is not known, and personal access tokens of either kind.
func compatible(made, used reposentry.CredentialKind) bool {
	switch made {
	case reposentry.CredentialPATClassic, reposentry.CredentialPATFineGrained:
		return used == reposentry.CredentialPATClassic || used == reposentry.CredentialPATFineGrained
	case reposentry.CredentialSSHKey, reposentry.CredentialDeployKey:
		return used == reposentry.CredentialSSHKey || used == reposentry.CredentialDeployKey
	}
	return made == used
}

func (d *detector) expireCreations(t int64) {
	win := int64(d.cfg.CreationWindowDays) * secDay
	for h, m := range d.made {
		if t-m.t > win {
			delete(d.made, h)
		}
	}
}

// Advance implements engine.Detector: at each new day of event time it
// forgets values, credentials and identities not seen for ExpiryDays and
// creations older than CreationWindowDays. Lookups treat expired values as
// forgotten already, so the sweep only frees memory and when it runs
// changes no decision.
func (d *detector) Advance(now time.Time, _ func(reposentry.Signal)) {
	t := now.Unix()
	day := dayOf(t)
	if day <= d.sweepDay {
		return
	}
	d.sweepDay = day
	exp := d.cfg.ExpiryDays
	win := int64(d.cfg.CreationWindowDays) * secDay
	for k, a := range d.ids {
		if int(day)-int(a.last) > exp {
			delete(d.ids, k)
			continue
		}
		a.vals.expire(day, exp)
		if a.pend != nil && t-a.pend.t > win {
			a.pend = nil
		}
	}
	for k, c := range d.creds {
		if int(day)-int(c.last) > exp {
			delete(d.creds, k)
			continue
		}
		c.vals.expire(day, exp)
		if c.made != nil && t-c.made.t > win {
			c.made = nil
		}
	}
	d.expireCreations(t)
}

// packString keeps a short string (a country code) as the value itself, so
// it can be shown again: its length in the top byte and its bytes below.
// Longer strings are hashed with the top byte 0xff.
func packString(s string) uint64 {
	if len(s) > 7 {
		return keys.String(s) | 0xff<<56
	}
	h := uint64(len(s)) << 56
	for i := 0; i < len(s); i++ {
		h |= uint64(s[i]) << (8 * (6 - i))
	}
	return h
}

// unpackString reverses packString; "" for a hashed string.
func unpackString(h uint64) string {
	n := int(h >> 56)
	if n > 7 {
		return ""
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(h >> (8 * (6 - i)))
	}
	return string(b)
}
