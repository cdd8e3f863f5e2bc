package baseline

import (
	"cmp"
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
	RuleVolume    = "volume_anomaly"
	RuleBreadth   = "breadth"
	RuleOffHours  = "off_hours"
	RuleDormant   = "dormant_reactivated"
	detectorName  = "baseline"
	historyDays   = 28  // day records kept per identity: the robust statistics' history
	weekDays      = 7   // the window of the weekly count and of repeats
	recentCap     = 10  // new reads remembered per identity for evidence
	dormSlots     = 8   // distinct repositories counted after waking
	weekHours     = 168 // hour-of-week profile size
	secDay        = 86400
	profileCap    = 1 << 14 // profile total past which counters are halved (decay)
	minPeerDays   = 20      // peer member-days before a peer rate is trusted
	peerDecayDays = 4096    // peer member-days past which counts are halved
	// maxDepartments bounds the departments followed as peer populations;
	// directories have dozens to hundreds.
	maxDepartments = 4096
	// The hourly window is four quarter hours: the current one and the
	// three before, so a burst of up to 45 minutes is always counted whole
	// wherever it falls on the clock, and one of up to an hour mostly.
	quarterSec = 900
	quarters   = 4
)

// sensitiveTags are the repository tags a burst's evidence points out: the
// repositories whose copy outside the organisation does the most harm, as
// the detect package weighs them.
const sensitiveTags = reposentry.TagSecrets | reposentry.TagSigning | reposentry.TagInfrastructure

// known is a repository the identity read, packed into 64 bits so that an
// identity's set costs 8 bytes a repository: the repository's hash (see
// repoHash) in the high 47 bits, then a bit set once it was read on two
// distinct days since it became known (routine), then the last day it was
// read. Sorted by value, the set is sorted by hash.
type known uint64

const (
	knownHashShift = 17
	knownRoutine   = 1 << 16
)

func makeKnown(h uint64, routine bool, last uint16) known {
	k := known(h<<knownHashShift | uint64(last))
	if routine {
		k |= knownRoutine
	}
	return k
}

func (k known) hash() uint64  { return uint64(k) >> knownHashShift }
func (k known) routine() bool { return k&knownRoutine != 0 }
func (k known) last() uint16  { return uint16(k) }
func (k known) withLast(day uint16, routine bool) known {
	return makeKnown(k.hash(), routine, day)
}

// recentRead is a new read kept for the evidence of a signal. The repository
// name is the parser's interned string, safe to keep.
type recentRead struct {
	t     int64 // unix nanoseconds
	repo  string
	id    reposentry.EventID
	plat  reposentry.Platform
	day   uint16
	arch  bool
	other bool
}

func (r *recentRead) ref() string { return r.plat.String() + ":" + r.id.String() }

// episode remembers the last severity signalled for a rule, so that a
// signal repeats only when it escalates or a week after the last one.
type episode struct {
	sev reposentry.Severity
	day uint16
}

// covers reports whether the episode signalled sev or more within the
// last week, as raise counts it.
func (e *episode) covers(sev reposentry.Severity, day uint16) bool {
	return int(day)-int(e.day) <= weekDays && e.sev >= sev
}

func (e *episode) raise(sev reposentry.Severity, day uint16) bool {
	if int(day)-int(e.day) > weekDays {
		e.sev = reposentry.SeverityInfo
	}
	if sev <= e.sev {
		return false
	}
	e.sev, e.day = sev, day
	return true
}

// waking follows an identity or credential that read again after
// DormantDays of silence, for one day. It is allocated on waking and
// dropped two days later (see wakeOver), so sleepers cost a nil pointer.
type waking struct {
	at    int64 // unix seconds of the first event after the silence; 0 none
	gap   int64 // the silence, in seconds
	repos [dormSlots]uint32
	n     uint8
	done  bool // signalled, or the day after waking is over
}

// counting reports whether reads at t still count towards the waking.
func (w *waking) counting(t int64) bool {
	if w == nil || w.at == 0 || w.done {
		return false
	}
	if t-w.at > secDay {
		w.done = true
		return false
	}
	return true
}

// see counts a distinct repository (by the low bits of its hash) and
// reports whether the count just reached min.
func (w *waking) see(h uint64, min int) bool {
	k := uint32(h)
	for _, r := range w.repos[:w.n] {
		if r == k {
			return false
		}
	}
	if int(w.n) >= len(w.repos) {
		return false
	}
	w.repos[w.n] = k
	w.n++
	return int(w.n) == min
}

// wakeOver reports whether a waking at w is over for good at t: its day
// has passed, with a day's margin for late events (the engine's lateness is
// minutes), so nothing can still read it and it may be dropped.
func wakeOver(w *waking, t int64) bool { return w != nil && t-w.at > 2*secDay }

// credRec is a credential followed for dormancy.
type credRec struct {
	last int64 // unix seconds
	kind reposentry.CredentialKind
	wake *waking
}

// ident is the state kept per identity: about 450 bytes plus 8 a known
// repository and 80 a new read of the current week kept for evidence.
//
// Day statistics are kept in arrays indexed by day modulo their length:
// new reads for historyDays days (the robust statistics' history), the
// counts only the week needs for weekDays days, and the read count only
// for the current day. present marks which of the last historyDays days
// were active; rollover clears the slots of the days it skips, so a slot
// never holds an older day than its index says. The hourly window counts
// by quarter hour, in slots indexed by quarter modulo quarters.
type ident struct {
	key        string
	login      string
	plat       reposentry.Platform
	tz         uint8 // hours after UTC midnight at which the identity's day starts
	tzSet      bool
	bot        bool // automation by actor type or credential kind
	auto       bool // automation by behaviour
	autoDays   uint8
	offSent    bool   // off_hours signalled on the current day
	reads      uint16 // all reads of the current day, for the automation rule (saturating)
	activeDays uint16
	curDay     uint16 // days since the unix epoch, in the identity's day
	present    uint32 // bit day%historyDays: that day was active
	hoursTotal uint32
	first      int64 // unix seconds
	last       int64
	home       uint64 // peer group, refreshed at each day's end
	known      []known
	recent     []recentRead // new reads of the last weekDays days, oldest first, at most recentCap
	wake       *waking
	vol, brd   episode
	hr         episode             // volume over the hourly window, apart so the daily rule fires as it did without it
	qtr        uint32              // quarter hour (unix seconds / quarterSec) of the window's newest slot
	qNew       [quarters]uint8     // new reads per quarter of the window (saturating)
	qArch      [quarters]uint8     // archive downloads per quarter (saturating)
	qSens      [quarters]uint8     // new reads of sensitive repositories per quarter (saturating)
	hourPeak   [historyDays]uint8  // most new reads within the hourly window on each day (saturating)
	newReads   [historyDays]uint16 // clones and archives of repositories not known
	other      [weekDays]uint16    // new reads of repositories of unfamiliar groups
	arch       [weekDays]uint8     // archive downloads among newReads (saturating)
	otherArch  [weekDays]uint8     // archive downloads among other (saturating)
	hours      [weekHours]uint8    // hour-of-week profile, halved when a counter or the total is full
}

// Slots of day in the history and week arrays.
func histSlot(day uint16) int { return int(day) % historyDays }
func weekSlot(day uint16) int { return int(day) % weekDays }

// active reports whether day, within the last historyDays days, was active.
func (a *ident) active(day uint16) bool { return a.present&(1<<histSlot(day)) != 0 }

// todayNew and todayOther are the current day's new and other reads.
func (a *ident) todayNew() uint16   { return a.newReads[histSlot(a.curDay)] }
func (a *ident) todayOther() uint16 { return a.other[weekSlot(a.curDay)] }

func (a *ident) automated() bool { return a.bot || a.auto }

// peerStat is how a peer population's members read, counted at the end of
// each member-day: the member-days seen, and among them those on which the
// member read widely (BreadthMin reads of unfamiliar groups), started
// reading many repositories (DailyFloor new reads) or had done so over
// the week (WeeklyFloor new reads in the seven days ending that day).
type peerStat struct {
	days, wide, daily, weekly float64
}

// peerKind is which of a peerStat's counts a rule compares with.
type peerKind uint8

const (
	peerWide peerKind = iota
	peerDaily
	peerWeekly
)

// detector is the baseline detector. It is driven by one goroutine.
type detector struct {
	cfg        Config
	dormSec    int64
	ids        map[string]*ident
	creds      map[string]credRec
	repoGroup  map[uint64]uint64
	groupName  map[uint64]string
	peers      map[uint64]*peerStat
	depts      map[string]*peerStat // by directory department, at most maxDepartments
	lastSweep  int64
	teamEvents bool
	deptPeers  bool
}

// New returns the baseline detector. Zero settings take their defaults;
// call Config.Validate first to reject settings that cannot work.
func New(cfg Config) engine.Detector {
	cfg = cfg.withDefaults()
	return &detector{
		cfg:        cfg,
		dormSec:    int64(cfg.DormantDays) * secDay,
		ids:        make(map[string]*ident, 64),
		creds:      make(map[string]credRec, 64),
		repoGroup:  make(map[uint64]uint64, 64),
		groupName:  make(map[uint64]string, 16),
		peers:      make(map[uint64]*peerStat, 16),
		depts:      make(map[string]*peerStat, 16),
		teamEvents: *cfg.TeamEvents,
		deptPeers:  *cfg.DepartmentPeers,
	}
}

// Name implements engine.Detector.
func (d *detector) Name() string { return detectorName }

// Process implements engine.Detector.
func (d *detector) Process(ev *reposentry.Event, emit func(reposentry.Signal)) {
	key := ev.ActorKey()
	if key == "" || ev.Outcome == reposentry.OutcomeFailure {
		return
	}
	t := ev.Time.Unix()
	if d.teamEvents && ev.Action == "team.add_repository" && ev.Repo != "" && ev.Detail != "" {
		d.assignTeam(ev)
	}
	a := d.ids[key]
	if a == nil {
		a = &ident{key: key, first: t, last: t}
		a.curDay = a.dayOf(t)
		a.present = 1 << histSlot(a.curDay)
		a.activeDays = 1
		d.ids[key] = a
	}
	if a.login == "" && ev.Actor.Login != "" {
		a.login, a.plat = ev.Actor.Login, ev.Platform
	}
	switch {
	case ev.Actor.Type == reposentry.ActorBot, ev.Actor.Type == reposentry.ActorApp, ev.Actor.Type == reposentry.ActorDeployKey,
		ev.Credential.Kind == reposentry.CredentialApp, ev.Credential.Kind == reposentry.CredentialDeployKey:
		if !a.bot {
			a.bot, a.known = true, nil
		}
	}
	if wakeOver(a.wake, t) {
		a.wake = nil
	}
	if t-a.last >= d.dormSec {
		a.wake = &waking{at: t, gap: t - a.last}
	}
	if day := a.dayOf(t); day > a.curDay {
		d.rollover(a, ev, day, t)
	}
	read := ev.Category.IsRead() && ev.Repo != ""
	if read && !a.automated() && !a.offSent && d.learned(a, t) && a.hoursTotal >= uint32(d.cfg.OffHoursMinEvents) {
		if p := a.hourProb(t); p < d.cfg.OffHoursProb {
			a.offSent = true
			emit(d.offHoursSignal(a, ev, p))
		}
	}
	a.addHour(t)
	if read {
		a.reads = sat16(a.reads)
		h := repoHash(ev.Repo)
		d.wakeRead(a, ev, h, t, emit)
		if !a.automated() {
			d.read(a, ev, h, t, emit)
		}
	}
	d.credential(a, ev, t, read, emit)
	if t > a.last {
		a.last = t
	}
}

// Advance implements engine.Detector: once a day of event time it forgets
// identities and credentials silent for longer than IdentityTTL.
func (d *detector) Advance(now time.Time, _ func(reposentry.Signal)) {
	n := now.Unix()
	if d.lastSweep == 0 {
		d.lastSweep = n
	}
	if n-d.lastSweep < secDay {
		return
	}
	d.lastSweep = n
	ttl := int64(d.cfg.IdentityTTL / time.Second)
	for k, a := range d.ids {
		if n-a.last > ttl {
			delete(d.ids, k)
		}
	}
	for k, c := range d.creds {
		if n-c.last > ttl {
			delete(d.creds, k)
		}
	}
}

// dayOf is the identity's day of unix seconds t, in days since the epoch.
func (a *ident) dayOf(t int64) uint16 {
	s := t - int64(a.tz)*3600
	return uint16(min(max(s/secDay, 0), math.MaxUint16))
}

// learned reports whether the identity has enough history to be judged.
func (d *detector) learned(a *ident, t int64) bool {
	return int(a.activeDays) > d.cfg.LearningDays && t-a.first >= int64(d.cfg.LearningDays)*secDay
}

// rollover closes the identity's current day and opens day. ev is the
// event that opened it: its department is the identity's current one.
func (d *detector) rollover(a *ident, ev *reposentry.Event, day uint16, t int64) {
	if a.active(a.curDay) {
		if int(a.reads) > d.cfg.AutomationReads && !a.automated() {
			a.autoDays++
			if int(a.autoDays) >= d.cfg.AutomationDays {
				a.auto, a.known = true, nil
			}
		}
		if !a.automated() && d.learned(a, t) {
			day := memberDay{
				wide:   int(a.todayOther()) >= d.cfg.BreadthMin,
				daily:  int(a.todayNew()) >= d.cfg.DailyFloor,
				weekly: a.weekNew(a.curDay) >= d.cfg.WeeklyFloor,
			}
			a.home = d.homeGroup(a)
			if a.home != 0 {
				ps := d.peers[a.home]
				if ps == nil {
					ps = &peerStat{}
					d.peers[a.home] = ps
				}
				ps.count(day)
			}
			if ps := d.deptStat(ev.Department, true); ps != nil {
				ps.count(day)
			}
		}
	}
	// Clear the slots of the days skipped and of the new day.
	for k := 1; k <= min(int(day)-int(a.curDay), historyDays); k++ {
		dd := a.curDay + uint16(k)
		a.newReads[histSlot(dd)], a.hourPeak[histSlot(dd)] = 0, 0
		a.present &^= 1 << histSlot(dd)
		if k <= weekDays {
			w := weekSlot(dd)
			a.other[w], a.arch[w], a.otherArch[w] = 0, 0, 0
		}
	}
	a.curDay = day
	a.present |= 1 << histSlot(day)
	a.reads, a.offSent = 0, false
	a.pruneRecent()
	if a.activeDays < math.MaxUint16 {
		a.activeDays++
	}
	if !a.tzSet && int(a.activeDays) > d.cfg.LearningDays {
		a.tz, a.tzSet = a.quietHour(), true
	}
}

// memberDay is what a member's day adds to its peer populations' counts.
type memberDay struct {
	wide, daily, weekly bool
}

// count adds a member-day.
func (ps *peerStat) count(m memberDay) {
	ps.days++
	ps.wide += float64(b2i(m.wide))
	ps.daily += float64(b2i(m.daily))
	ps.weekly += float64(b2i(m.weekly))
	if ps.days > peerDecayDays {
		ps.days, ps.wide, ps.daily, ps.weekly = ps.days/2, ps.wide/2, ps.daily/2, ps.weekly/2
	}
}

// deptStat returns the peer statistics of department dept: nil when dept
// is empty, department peers are off, or (with add false) it has none yet.
// Past maxDepartments departments, new ones are not followed.
func (d *detector) deptStat(dept string, add bool) *peerStat {
	if dept == "" || !d.deptPeers {
		return nil
	}
	ps := d.depts[dept]
	if ps == nil && add && len(d.depts) < maxDepartments {
		ps = &peerStat{}
		d.depts[strings.Clone(dept)] = ps // the event's string may pin a larger buffer
	}
	return ps
}

// pruneRecent drops the evidence no signal can show any more: reads before
// the current week (volume and breadth show the week, dormancy the day of
// waking). It frees the buffer when empty and shrinks it when mostly unused.
func (a *ident) pruneRecent() {
	from := int(a.curDay) - weekDays + 1
	i := 0
	for i < len(a.recent) && int(a.recent[i].day) < from {
		i++
	}
	if i == 0 {
		return
	}
	n := len(a.recent) - i
	switch {
	case n == 0:
		a.recent = nil
	case 2*n <= cap(a.recent):
		a.recent = append([]recentRead(nil), a.recent[i:]...)
	default:
		a.recent = a.recent[:copy(a.recent, a.recent[i:])]
	}
}

// keepRecent remembers r for evidence, forgetting the oldest past
// recentCap. The buffer grows one size at a time (1, 2, 4, 8, recentCap),
// since most identities keep none or one.
func (a *ident) keepRecent(r recentRead) {
	if len(a.recent) == recentCap {
		copy(a.recent, a.recent[1:])
		a.recent[recentCap-1] = r
		return
	}
	if len(a.recent) == cap(a.recent) {
		g := make([]recentRead, len(a.recent), min(recentCap, max(1, 2*len(a.recent))))
		copy(g, a.recent)
		a.recent = g
	}
	a.recent = append(a.recent, r)
}

// quietHour estimates where the identity's day starts: the middle of its
// quietest six consecutive hours of the day (UTC), so that a working day
// that straddles UTC midnight is counted as one day.
func (a *ident) quietHour() uint8 {
	var hod [24]uint32
	for i, c := range a.hours {
		hod[i%24] += uint32(c)
	}
	best, bestSum := 0, uint32(math.MaxUint32)
	for h := range 24 {
		var s uint32
		for j := range 6 {
			s += hod[(h+j)%24]
		}
		if s < bestSum {
			best, bestSum = h, s
		}
	}
	return uint8((best + 3) % 24)
}

// hourOfWeek is the UTC hour of the week of unix seconds t, Monday 00:00 = 0
// (the epoch was a Thursday).
func hourOfWeek(t int64) int {
	h := (t/3600 + 3*24) % weekHours
	if h < 0 {
		h += weekHours
	}
	return int(h)
}

// addHour counts an event in t's hour of the week. The profile decays by
// halving every counter when one of them or the total is full, which keeps
// the shares and lets old habits fade.
func (a *ident) addHour(t int64) {
	h := hourOfWeek(t)
	if a.hours[h] == math.MaxUint8 {
		a.halveHours()
	}
	a.hours[h]++
	a.hoursTotal++
	if a.hoursTotal >= profileCap {
		a.halveHours()
	}
}

func (a *ident) halveHours() {
	a.hoursTotal = 0
	for i := range a.hours {
		a.hours[i] /= 2
		a.hoursTotal += uint32(a.hours[i])
	}
}

// hourProb is the learned probability of activity in t's hour of the week:
// half from the hour of the week, half from the hour of the day spread over
// the week, so a weekend hour the identity works on weekdays is not odd.
func (a *ident) hourProb(t int64) float64 {
	if a.hoursTotal == 0 {
		return 0
	}
	how := hourOfWeek(t)
	var hod uint32
	for d := range weekDays {
		hod += uint32(a.hours[d*24+how%24])
	}
	tot := float64(a.hoursTotal)
	return 0.5*float64(a.hours[how])/tot + 0.5*float64(hod)/(weekDays*tot)
}

// repoHash is the hash a repository is known by: the high 47 bits of its
// FNV-1a hash, so that it packs into a known entry. A collision only makes
// one repository look like another; among a million repositories its odds
// are below one in 200.
func repoHash(repo string) uint64 { return keys.String(repo) >> knownHashShift }

// groupPrefix is the name heuristic: owner and the repository name up to
// its first '-' ("acme/payments-api" → "acme/payments").
func groupPrefix(repo string) string {
	slash := strings.IndexByte(repo, '/')
	if i := strings.IndexByte(repo[slash+1:], '-'); i > 0 {
		return repo[:slash+1+i]
	}
	return repo
}

// groupOf returns the group of a repository, recording it on first sight.
func (d *detector) groupOf(h uint64, repo string) uint64 {
	if g, ok := d.repoGroup[h]; ok {
		return g
	}
	name := groupPrefix(repo)
	g := keys.String(name)
	d.setGroup(h, g, name)
	return g
}

func (d *detector) setGroup(h, g uint64, name string) {
	if len(d.repoGroup) >= d.cfg.MaxRepos {
		clear(d.repoGroup)
	}
	d.repoGroup[h] = g
	if _, ok := d.groupName[g]; !ok {
		if len(d.groupName) >= d.cfg.MaxRepos {
			clear(d.groupName)
		}
		d.groupName[g] = name
	}
}

// assignTeam makes a team.add_repository event's team the repository's
// group.
func (d *detector) assignTeam(ev *reposentry.Event) {
	team := ev.Detail
	if !strings.Contains(team, "/") {
		owner := ev.Org
		if i := strings.IndexByte(ev.Repo, '/'); owner == "" && i > 0 {
			owner = ev.Repo[:i]
		}
		team = owner + "/" + team
	}
	name := "team " + team
	d.setGroup(repoHash(ev.Repo), keys.String(name), name)
}

// homeGroup is the most common group among the identity's routine
// repositories (read on at least two days); 0 when it has none.
func (d *detector) homeGroup(a *ident) uint64 {
	var groups [16]uint64
	var counts [16]int
	n := 0
	for _, k := range a.known {
		if !k.routine() {
			continue
		}
		g, ok := d.repoGroup[k.hash()]
		if !ok {
			continue
		}
		j := slices.Index(groups[:n], g)
		if j < 0 {
			if n == len(groups) {
				continue
			}
			j, groups[n] = n, g
			n++
		}
		counts[j]++
	}
	best := -1
	for j := range n {
		if best < 0 || counts[j] > counts[best] {
			best = j
		}
	}
	if best < 0 {
		return 0
	}
	return groups[best]
}

// familiar reports whether the identity routinely reads a repository of
// group g.
func (d *detector) familiar(a *ident, g uint64) bool {
	for _, k := range a.known {
		if k.routine() && d.repoGroup[k.hash()] == g {
			return true
		}
	}
	return false
}

// Read kinds remember tells apart.
const (
	readKnown = iota // read before today, within NewReadDays
	readFresh        // first read today
	readNew          // a clone or archive of a repository not read within NewReadDays
)

// remember records a read of repository h on day today and says what kind
// of read it is. A fetch is never new: the client already held the history.
func (d *detector) remember(a *ident, h uint64, today uint16, fetch bool) int {
	i, found := slices.BinarySearchFunc(a.known, h, func(e known, h uint64) int { return cmp.Compare(e.hash(), h) })
	if found {
		e := &a.known[i]
		stale := int(today)-int(e.last()) > d.cfg.NewReadDays
		kind, routine := readKnown, e.routine()
		switch {
		case stale:
			routine = false
			if !fetch {
				kind = readNew
			}
		case e.last() == today && !routine:
			kind = readFresh
		case e.last() != today:
			routine = true // read on a second distinct day
		}
		*e = e.withLast(today, routine)
		return kind
	}
	if len(a.known) >= d.cfg.MaxKnownRepos {
		// Forget the least recently read, preferring one read on a single
		// day over a routine one.
		victim := 0
		for j, e := range a.known {
			v := a.known[victim]
			if (!e.routine() && v.routine()) || (e.routine() == v.routine() && e.last() < v.last()) {
				victim = j
			}
		}
		a.known = slices.Delete(a.known, victim, victim+1)
		if victim < i {
			i--
		}
	}
	if len(a.known) == cap(a.known) {
		// Grow by a quarter, not append's doubling: most identities
		// stop at a few dozen repositories and would keep the slack.
		g := slices.Grow([]known(nil), min(d.cfg.MaxKnownRepos, len(a.known)+len(a.known)/4+8))
		a.known = append(g, a.known...)
	}
	a.known = slices.Insert(a.known, i, makeKnown(h, false, today))
	if fetch {
		return readFresh
	}
	return readNew
}

// read handles a read by a person.
func (d *detector) read(a *ident, ev *reposentry.Event, h uint64, t int64, emit func(reposentry.Signal)) {
	fetch := ev.Category == reposentry.CategoryFetch
	kind := d.remember(a, h, a.curDay, fetch)
	g := d.groupOf(h, ev.Repo)
	arch := ev.Category == reposentry.CategoryArchiveDownload
	if kind == readKnown || kind == readFresh && !arch {
		return
	}
	// An archive of a repository first read today (cloned, then zipped)
	// counts as an archive download of the day's new reads.
	learned := d.learned(a, t)
	other := learned && !d.familiar(a, g)
	w := weekSlot(a.curDay)
	if arch {
		a.arch[w] = sat8(a.arch[w])
		if other {
			a.otherArch[w] = sat8(a.otherArch[w])
		}
	}
	if kind == readNew {
		n := histSlot(a.curDay)
		a.newReads[n] = sat16(a.newReads[n])
		if other {
			a.other[w] = sat16(a.other[w])
		}
	}
	a.countHour(t, kind == readNew, arch, ev.RepoTags&sensitiveTags != 0)
	a.keepRecent(recentRead{t: ev.Time.UnixNano(), repo: ev.Repo, id: ev.ID, plat: ev.Platform, day: a.curDay, arch: arch, other: other})
	if !learned {
		return
	}
	d.checkVolume(a, ev, emit)
	d.checkHourly(a, ev, emit)
	if other {
		d.checkBreadth(a, ev, emit)
	}
}

func sat16(v uint16) uint16 { return v + uint16(min(1, math.MaxUint16-int(v))) }
func sat8(v uint8) uint8    { return v + uint8(min(1, math.MaxUint8-int(v))) }

// week sums the identity's last seven days (today included).
type week struct {
	sum, other          int
	repeat, otherRepeat int // days with at least SpreadMin new (other) reads
	arch, otherArch     int
}

func (d *detector) week(a *ident) week {
	var w week
	for k := range weekDays {
		day := int(a.curDay) - k
		if day < 0 {
			break
		}
		if !a.active(uint16(day)) {
			continue
		}
		n, o, s := int(a.newReads[histSlot(uint16(day))]), int(a.other[weekSlot(uint16(day))]), weekSlot(uint16(day))
		w.sum += n
		w.other += o
		w.arch += int(a.arch[s])
		w.otherArch += int(a.otherArch[s])
		if n >= d.cfg.SpreadMin {
			w.repeat++
		}
		if o >= d.cfg.SpreadMin {
			w.otherRepeat++
		}
	}
	return w
}

// stats are robust statistics of a count per active day: new reads over
// the history before the current week (history), or the busiest hour's
// new reads over the past days (hourHistory).
type stats struct {
	median, mad float64
	days        int
}

// The days of the current week are left out: reads spread over days would
// otherwise raise their own baseline and hide (low and slow).
func (d *detector) history(a *ident) stats {
	var buf [historyDays]float64
	n := 0
	for k := weekDays; k < historyDays; k++ {
		day := int(a.curDay) - k
		if day < 0 {
			break
		}
		if a.active(uint16(day)) {
			buf[n] = float64(a.newReads[histSlot(uint16(day))])
			n++
		}
	}
	return robust(buf[:n])
}

// hourHistory is the robust statistics of the identity's busiest hour on
// its past active days, today left out. Unlike the daily history it keeps
// the current week: a burst is an hour, so this week's bursts are few days
// among up to 27 and cannot move the median, and the baseline is trusted
// from the end of learning rather than a week later.
func (d *detector) hourHistory(a *ident) stats {
	var buf [historyDays]float64
	n := 0
	for k := 1; k < historyDays; k++ {
		day := int(a.curDay) - k
		if day < 0 {
			break
		}
		if a.active(uint16(day)) {
			buf[n] = float64(a.hourPeak[histSlot(uint16(day))])
			n++
		}
	}
	return robust(buf[:n])
}

// robust is the median and median absolute deviation of v, which it sorts
// and overwrites.
func robust(v []float64) stats {
	n := len(v)
	if n == 0 {
		return stats{}
	}
	slices.Sort(v)
	med := median(v)
	for i := range v {
		v[i] = math.Abs(v[i] - med)
	}
	slices.Sort(v)
	return stats{median: med, mad: median(v), days: n}
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// grade is the severity of a volume or breadth finding: low on one day
// without archives (the shape of an incident or a one-off task), medium when
// it repeats on two days of a week or includes archive downloads, high with
// both (the shape of a departing insider).
func grade(repeat, archives bool) reposentry.Severity {
	switch {
	case repeat && archives:
		return reposentry.SeverityHigh
	case repeat || archives:
		return reposentry.SeverityMedium
	}
	return reposentry.SeverityLow
}

// thresholds are what a day's and a week's new reads must reach.
func (d *detector) thresholds(s stats) (daily, weekly int) {
	scale := max(1.4826*s.mad, 1)
	daily = max(d.cfg.DailyFloor, int(math.Ceil(s.median+d.cfg.K*scale)))
	weekly = max(d.cfg.WeeklyFloor, int(math.Ceil(weekDays*s.median+d.cfg.K*math.Sqrt(weekDays)*scale)))
	return daily, weekly
}

// checkVolume signals a day's or a week's new reads reaching the identity's
// own history by K robust deviations, unless the peers say that much is
// usual: each trigger that fired is dropped when either peer population,
// the home group or the department, reached its floor (DailyFloor in a
// day, WeeklyFloor in a week) on more than PeerRateMax of its member-days,
// as a release or platform team does. Peers only silence: they never raise
// what the identity's own history did not.
func (d *detector) checkVolume(a *ident, ev *reposentry.Event, emit func(reposentry.Signal)) {
	w := d.week(a)
	today := int(a.todayNew())
	if today < d.cfg.DailyFloor && w.sum < d.cfg.WeeklyFloor {
		return
	}
	s := d.history(a)
	daily, weekly := d.thresholds(s)
	byDay, byWeek := today >= daily, w.sum >= weekly
	if !byDay && !byWeek {
		return
	}
	p := d.peersOf(a, ev)
	p.own = d.ownWeek(a)
	byDay = byDay && !p.usual(peerDaily, d.cfg.PeerRateMax)
	byWeek = byWeek && !p.usual(peerWeekly, d.cfg.PeerRateMax)
	if !byDay && !byWeek {
		return
	}
	sev := grade(w.repeat >= 2, w.arch > 0)
	if !a.vol.raise(sev, a.curDay) {
		return
	}
	kind := peerDaily
	if !byDay {
		kind = peerWeekly
	}
	emit(d.volumeSignal(a, ev, w, s, sev, daily, weekly, kind, p))
}

// countHour counts a read at unix seconds t in the hourly window: a new
// read adds one to its quarter, as do, to their own counts for severity
// and evidence, an archive download (of a repository new or first read
// today) and a new read of a sensitive repository. It then raises the
// day's busiest hour. Late events (the engine's lateness is minutes) count
// in the newest quarter. The window runs on across the identity's day
// boundary, which falls in its quietest hours.
func (a *ident) countHour(t int64, isNew, arch, sensitive bool) {
	q := uint32(min(max(t/quarterSec, 0), math.MaxUint32))
	if q > a.qtr {
		for k := uint32(1); k <= min(q-a.qtr, quarters); k++ {
			s := (a.qtr + k) % quarters
			a.qNew[s], a.qArch[s], a.qSens[s] = 0, 0, 0
		}
		a.qtr = q
	}
	s := a.qtr % quarters
	if arch {
		a.qArch[s] = sat8(a.qArch[s])
	}
	if !isNew {
		return
	}
	a.qNew[s] = sat8(a.qNew[s])
	if sensitive {
		a.qSens[s] = sat8(a.qSens[s])
	}
	p := &a.hourPeak[histSlot(a.curDay)]
	*p = max(*p, uint8(min(a.hourNew(), math.MaxUint8)))
}

// hourNew is the count of new reads in the hourly window.
func (a *ident) hourNew() int { return sum4(&a.qNew) }

// sum4 adds the window's quarter counts.
func sum4(q *[quarters]uint8) int {
	n := 0
	for _, c := range q {
		n += int(c)
	}
	return n
}

// hourlyThreshold is what the hourly window's new reads must reach.
func (d *detector) hourlyThreshold(s stats) int {
	return max(d.cfg.HourlyFloor, int(math.Ceil(s.median+d.cfg.K*max(1.4826*s.mad, 1))))
}

// checkHourly signals a burst: the hourly window's new reads reaching the
// identity's busiest hours by K robust deviations. As the daily rule's
// one-off day, it is low (context for the identity's risk) unless it
// includes archive downloads (medium). Sensitive repositories are evidence,
// not severity: an SRE's incident clones infrastructure and secrets
// repositories in a burst as an intruder does. It is the same evidence as
// the daily and weekly volume signal, so it stays silent when that one
// already said as much this week, and fires again only when it escalates.
func (d *detector) checkHourly(a *ident, ev *reposentry.Event, emit func(reposentry.Signal)) {
	n := a.hourNew()
	if n < d.cfg.HourlyFloor {
		return
	}
	s := d.hourHistory(a)
	thr := d.hourlyThreshold(s)
	if n < thr {
		return
	}
	sev := grade(false, sum4(&a.qArch) > 0)
	if a.vol.covers(sev, a.curDay) || !a.hr.raise(sev, a.curDay) {
		return
	}
	emit(d.hourlySignal(a, ev, n, s, sev, thr))
}

// peerView is an identity's two peer populations: its home group and, with
// DepartmentPeers and a directory, its department (deptName is empty
// without). Either statistic is nil while the population has no member-day
// yet. own, when set, is the identity's own part of both populations'
// counts, which rates leave out.
type peerView struct {
	home, dept *peerStat
	deptName   string
	own        peerStat
}

// peersOf looks up the identity's peer populations. It runs only once a
// rule fired on the identity's own history, so it stays off the hot path.
func (d *detector) peersOf(a *ident, ev *reposentry.Event) peerView {
	if a.home == 0 {
		a.home = d.homeGroup(a)
	}
	p := peerView{home: d.peers[a.home]}
	if d.deptPeers && ev.Department != "" {
		p.dept, p.deptName = d.deptStat(ev.Department, false), ev.Department
	}
	return p
}

// usual reports whether either population reaches k's count on more than
// limit of its member-days, each only once it has enough member-days to say.
func (p peerView) usual(k peerKind, limit float64) bool {
	for _, ps := range [...]*peerStat{p.home, p.dept} {
		if rate, _, ok := p.rate(ps, k); ok && rate > limit {
			return true
		}
	}
	return false
}

// rate is the share of the population ps's member-days, the identity's own
// left out, reaching k's count; ok is false while there are too few
// member-days to say.
func (p peerView) rate(ps *peerStat, k peerKind) (rate, days float64, ok bool) {
	if ps == nil {
		return 0, 0, false
	}
	days = ps.days - p.own.days
	if days < minPeerDays {
		return 0, 0, false
	}
	return max(ps.hits(k)-p.own.hits(k), 0) / days, days, true
}

// rate is the share of member-days reaching k's count; ok is false while
// there are too few member-days to say.
func (ps *peerStat) rate(k peerKind) (rate, days float64, ok bool) {
	return peerView{}.rate(ps, k)
}

// hits is the count of member-days reaching k's count.
func (ps *peerStat) hits(k peerKind) float64 {
	switch k {
	case peerDaily:
		return ps.daily
	case peerWeekly:
		return ps.weekly
	}
	return ps.wide
}

// ownWeek is what the identity itself added to its peer populations on the
// six days before today, as rollover counted them (once it had learned).
// Volume leaves it out of the peers' rates: an insider's own days of
// collection, counted in a small group's statistics, must not make their
// next days look usual for the group. Older own days stay in: diluted by
// then, they are part of the group's history like anyone's.
func (d *detector) ownWeek(a *ident) peerStat {
	var own peerStat
	learnedFrom := a.first + int64(d.cfg.LearningDays)*secDay
	for j := 1; j < weekDays; j++ {
		day := int(a.curDay) - j
		if day < 0 {
			break
		}
		// A day is counted when it closes, if the identity had learned.
		if !a.active(uint16(day)) || int64(day+1)*secDay+int64(a.tz)*3600 < learnedFrom {
			continue
		}
		own.count(memberDay{
			wide:   int(a.other[weekSlot(uint16(day))]) >= d.cfg.BreadthMin,
			daily:  int(a.newReads[histSlot(uint16(day))]) >= d.cfg.DailyFloor,
			weekly: a.weekNew(uint16(day)) >= d.cfg.WeeklyFloor,
		})
	}
	return own
}

// weekNew is the identity's new reads over the seven days ending on day,
// which must be within the last historyDays-weekDays days.
func (a *ident) weekNew(day uint16) int {
	n := 0
	for k := range weekDays {
		dd := int(day) - k
		if dd < 0 {
			break
		}
		if a.active(uint16(dd)) {
			n += int(a.newReads[histSlot(uint16(dd))])
		}
	}
	return n
}

// checkBreadth signals reads of unfamiliar groups unless either peer
// population, the home group or the directory department, reads that widely
// on more than PeerRateMax of its member-days: for a security or release
// team, whose repository groups say little, the department is what tells.
func (d *detector) checkBreadth(a *ident, ev *reposentry.Event, emit func(reposentry.Signal)) {
	if int(a.todayOther()) < d.cfg.BreadthMin {
		return
	}
	p := d.peersOf(a, ev)
	if p.usual(peerWide, d.cfg.PeerRateMax) {
		return
	}
	w := d.week(a)
	sev := grade(w.otherRepeat >= 2, w.otherArch > 0)
	if !a.brd.raise(sev, a.curDay) {
		return
	}
	emit(d.breadthSignal(a, ev, w, sev, p))
}

// wakeRead counts a read by an identity that woke from dormancy.
func (d *detector) wakeRead(a *ident, ev *reposentry.Event, h uint64, t int64, emit func(reposentry.Signal)) {
	if a.wake.counting(t) && a.wake.see(h, d.cfg.DormantMinRepos) {
		a.wake.done = true
		emit(d.dormantSignal(a, ev, a.wake, "identity"))
	}
}

// credential follows the event's credential for dormancy. Application
// tokens rotate hourly by design and are left out.
func (d *detector) credential(a *ident, ev *reposentry.Event, t int64, read bool, emit func(reposentry.Signal)) {
	k := ev.Credential.Key()
	if k == "" || ev.Credential.Kind == reposentry.CredentialApp {
		return
	}
	c, ok := d.creds[k]
	if !ok {
		if len(d.creds) < d.cfg.MaxCredentials {
			d.creds[k] = credRec{last: t, kind: ev.Credential.Kind}
		}
		return
	}
	if wakeOver(c.wake, t) {
		c.wake = nil
	}
	if t-c.last >= d.dormSec {
		c.wake = &waking{at: t, gap: t - c.last}
	}
	if read && c.wake.counting(t) && c.wake.see(repoHash(ev.Repo), d.cfg.DormantMinRepos) {
		c.wake.done = true
		// When the identity slept too, its own signal says it already.
		if a.wake == nil || a.wake.at == 0 || t-a.wake.at > secDay {
			emit(d.dormantSignal(a, ev, c.wake, "credential"))
		}
	}
	c.last = max(c.last, t)
	d.creds[k] = c
}
