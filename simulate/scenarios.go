package simulate

import (
	"time"
)

// Scenario names as written in labels.jsonl.
const (
	ScenarioLapsus       = "lapsus_mass_clone"
	ScenarioScatteredSp  = "scattered_spider"
	ScenarioAPT41        = "apt41_low_and_slow"
	ScenarioInsider      = "departing_insider"
	ScenarioDomainAdmin  = "privileged_domain_admin_reads_code"
	ScenarioStolenCI     = "stolen_ci_token"
	ScenarioTokenTheft   = "token_theft_far_from_creation"
	BenignNewJoiner      = "new_joiner_wide_clone"
	BenignReleaseStorm   = "release_day_fetch_storm"
	BenignTraveller      = "traveller_usual_repos"
	BenignSREIncident    = "sre_incident_infra_clone"
	BenignAdminWork      = "admin_without_code"
	BenignCIUsualRunners = "ci_bot_usual_runners"
	BenignTokenOnTrip    = "benign_token_on_trip"
)

// Scenarios lists the attack scenarios in the order they are planned.
var Scenarios = []string{ScenarioLapsus, ScenarioScatteredSp, ScenarioAPT41, ScenarioInsider, ScenarioDomainAdmin, ScenarioStolenCI,
	ScenarioTokenTheft}

// label is one line of labels.jsonl or benign.jsonl.
type label struct {
	Scenario    string   `json:"scenario"`
	Entity      string   `json:"entity"`
	Start       string   `json:"start"`
	End         string   `json:"end"`
	EventIDs    []string `json:"event_ids"`
	LookalikeOf string   `json:"lookalike_of,omitempty"`
	first, last int64
}

func (l *label) extend(ms int64) {
	if l.first == 0 || ms < l.first {
		l.first = ms
	}
	if ms > l.last {
		l.last = ms
	}
}

func (l *label) finish() {
	l.Start = time.UnixMilli(l.first).UTC().Format(msLayout)
	// The end is the last event's time: a window that closes on it.
	l.End = time.UnixMilli(l.last).UTC().Format(msLayout)
}

// begin opens a label; the events added until the next begin are its own.
func (s *sim) begin(scenario string, p *person, lookalikeOf string) {
	l := &label{Scenario: scenario, Entity: p.upn, LookalikeOf: lookalikeOf}
	s.cur = l
	if lookalikeOf == "" {
		s.labels = append(s.labels, l)
	} else {
		s.benign = append(s.benign, l)
	}
}

// picker hands out people for scenarios, each at most once.
type picker struct {
	s    *sim
	used map[int]bool
}

func (pk *picker) take(ok func(p *person) bool) *person {
	n := len(pk.s.o.people)
	off := pk.s.r.IntN(n)
	for i := 0; i < n; i++ {
		p := pk.s.o.people[(off+i)%n]
		if !pk.used[p.idx] && ok(p) {
			pk.used[p.idx] = true
			return p
		}
	}
	return nil
}

func regular(rl role) func(p *person) bool {
	return func(p *person) bool {
		return p.role == rl && p.joinDay == 0 && p.travelFrom < 0 && p.entraID == "" && !p.releaser && p.team >= 0
	}
}

// window is the range of days scenarios start in: after ten days of
// history when there are at least 14 days, else the second half.
func (s *sim) window() (lo, hi int) {
	if s.cfg.Days >= 14 {
		return 11, s.cfg.Days - 1
	}
	return max(2, s.cfg.Days/2), s.cfg.Days - 1
}

func (s *sim) dayIn(lo, hi int, work bool) int {
	hi = max(lo, hi)
	for i := 0; i < 50; i++ {
		d := lo + s.r.IntN(hi-lo+1)
		if !work || s.workday(d) {
			return d
		}
	}
	for d := lo; d <= hi; d++ {
		if s.workday(d) {
			return d
		}
	}
	return lo
}

func markBusy(p *person, days ...int) {
	if p.busy == nil {
		p.busy = map[int]bool{}
	}
	for _, d := range days {
		p.busy[d] = true
	}
}

// plan schedules every scenario and look-alike instance with its events.
func (s *sim) plan() {
	pk := &picker{s: s, used: map[int]bool{}}
	for _, h := range s.o.helpdesk[:1] {
		pk.used[h] = true
	}
	inst := 1 + s.cfg.Users/1500
	lo, hi := s.window()
	for i := 0; i < inst; i++ {
		if p := pk.take(regular(roleDev)); p != nil {
			s.lapsus(p, s.dayIn(lo, hi, false))
		}
		if p := pk.take(regular(roleDev)); p != nil {
			s.scatteredSpider(p, s.dayIn(lo, hi, true))
		}
		if p := pk.take(regular(roleDev)); p != nil {
			s.apt41(p, lo, hi)
		}
		if p := pk.take(regular(roleDev)); p != nil {
			s.departing(p, lo, s.dayIn(max(lo, hi-3), hi, true))
		}
		if p := pk.take(func(p *person) bool { return p.role == roleITAdmin }); p != nil {
			s.domainAdmin(p, s.dayIn(lo, hi, true))
		}
		if p := pk.take(func(p *person) bool { return p.role == roleCI }); p != nil {
			s.stolenCI(p, s.dayIn(lo, hi, false))
		}
		// Benign look-alikes.
		if p := pk.take(func(p *person) bool {
			return p.role == roleDev && p.entraID == "" && p.team >= 0 && !p.releaser && p.travelFrom < 0
		}); p != nil {
			s.newJoiner(p, s.dayIn(lo, hi, true))
		}
		if p := pk.take(func(p *person) bool { return p.releaser }); p != nil {
			s.releaseStorm(p, lo, hi)
		}
		if p := pk.take(regular(roleDev)); p != nil {
			s.traveller(p, lo, hi)
		}
		if p := pk.take(regular(roleSRE)); p != nil {
			s.sreIncident(p, s.dayIn(lo, hi, true))
		}
		if p := pk.take(func(p *person) bool { return p.role == roleITAdmin }); p != nil {
			s.adminDay(p, s.dayIn(lo, hi, true))
		}
		if p := pk.take(func(p *person) bool { return p.role == roleCI }); p != nil {
			s.ciRebuild(p, s.dayIn(lo, hi, true))
		}
	}
	// Scenarios added after the first six draw from their own generator and
	// pick their people last, so adding them leaves the earlier scenarios'
	// people, days and events as they were.
	s.r, s.side = s.side, s.r
	for i := 0; i < inst; i++ {
		if p := pk.take(regular(roleDev)); p != nil {
			s.tokenTheft(p, lo, hi)
		}
		if p := pk.take(regular(roleDev)); p != nil {
			s.tokenOnTrip(p, lo, hi)
		}
	}
	s.r, s.side = s.side, s.r
	for _, l := range s.labels {
		l.finish()
	}
	for _, l := range s.benign {
		l.finish()
	}
	s.res.Labels, s.res.Benign = len(s.labels), len(s.benign)
}

// beyondTeam returns n distinct repositories of other teams, preferring
// those matching want.
func (s *sim) beyondTeam(p *person, n int, want func(*repo) bool) []int {
	seen := map[int]bool{}
	var out []int
	for tries := 0; len(out) < n && tries < n*50; tries++ {
		i := s.r.IntN(len(s.o.repos))
		rp := s.o.repos[i]
		if seen[i] || (rp.team == p.team && p.team >= 0) || (want != nil && tries < n*40 && !want(rp)) {
			continue
		}
		seen[i] = true
		out = append(out, i)
	}
	return out
}

func private(rp *repo) bool { return rp.vis == visPrivate }

func attackerWhere(s *sim, pl int, host int) where {
	n := s.o.attNet[pl]
	return where{ip: s.o.nets[n].ip(host), net: n, pl: pl, off: places[pl].off}
}

// lapsus: MFA push fatigue, a new fine-grained PAT, then a mass clone of
// private repositories and archive downloads from a new country.
func (s *sim) lapsus(p *person, d int) {
	s.begin(ScenarioLapsus, p, "")
	w := attackerWhere(s, placeBR, s.r.IntN(200))
	m := 60 + s.r.IntN(180) // 01:00-04:00 at the victim's office
	off := places[p.office].off
	t := s.at(d, off, m)
	sess := "102" + randString(s.r, 22)
	for i := 6 + s.r.IntN(7); i > 0; i-- {
		s.okta(t, oPushSend, p, nil, w.ip, w.net, "SUCCESS", "", sess)
		s.okta(t+20000, oMFA, p, nil, w.ip, w.net, "FAILURE", "User rejected Okta push verify", sess)
		if i%2 == 0 {
			s.okta(t+20500, oDenyPush, p, nil, w.ip, w.net, "DENY", "User rejected Okta push verify", sess)
		}
		t += int64(60000 + s.r.IntN(120000))
	}
	s.okta(t, oPushSend, p, nil, w.ip, w.net, "SUCCESS", "", sess)
	s.okta(t+9000, oMFA, p, nil, w.ip, w.net, "SUCCESS", "", sess)
	s.okta(t+10000, oSessionStart, p, nil, w.ip, w.net, "SUCCESS", "", sess)
	s.okta(t+30000, oSSO, p, nil, w.ip, w.net, "SUCCESS", "", sess)
	ua := webUAs[1].raw
	s.gh(t+31000, aSSOResponse, p, -1, w.ip, w.pl, ua, nil)
	tok := s.o.newToken(s.r, credPATFine, "")
	t += 5 * 60000
	s.gh(t, aPATRequest, p, -1, w.ip, w.pl, ua, nil).detail = expiry(t)
	s.gh(t+15000, aPATGranted, p, -1, w.ip, w.pl, ua, nil).detail = expiry(t)
	t += 3 * 60000
	repos := s.beyondTeam(p, 40+s.r.IntN(30), private)
	for _, repo := range repos {
		s.gh(t, aClone, p, repo, w.ip, w.pl, "git/2.34.1", tok)
		t += int64(20000 + s.r.IntN(100000))
	}
	for _, repo := range repos[:8+s.r.IntN(8)] {
		s.gh(t, aDownloadZip, p, repo, w.ip, w.pl, ua, nil)
		t += int64(10000 + s.r.IntN(40000))
	}
}

func expiry(ms int64) string {
	return time.UnixMilli(ms).UTC().AddDate(0, 0, 30).Format("2006-01-02T15:04:05Z")
}

// scatteredSpider: a help-desk MFA reset, a sign-in through a residential
// proxy, SSO to GitHub, a new SSH key, clones of infrastructure
// repositories and code searches for secrets.
func (s *sim) scatteredSpider(p *person, d int) {
	s.begin(ScenarioScatteredSp, p, "")
	agent := s.o.people[s.o.helpdesk[0]]
	aoff := places[agent.office].off
	t := s.at(d, aoff, agent.startMin+90+s.r.IntN(180))
	s.okta(t, oResetPassword, p, agent, agent.officeIP, s.o.officeNt[agent.office], "SUCCESS", "", "")
	s.okta(t+90000, oFactorResetAll, p, agent, agent.officeIP, s.o.officeNt[agent.office], "SUCCESS", "", "")
	w := attackerWhere(s, placeAshburn, s.r.IntN(250))
	t += int64(10+s.r.IntN(20)) * 60000
	sess := "102" + randString(s.r, 22)
	s.okta(t, oSessionStart, p, nil, w.ip, w.net, "SUCCESS", "", sess)
	s.okta(t+60000, oFactorActivate, p, nil, w.ip, w.net, "SUCCESS", "", sess)
	s.okta(t+90000, oSSO, p, nil, w.ip, w.net, "SUCCESS", "", sess)
	ua := webUAs[0].raw
	s.gh(t+91000, aSSOResponse, p, -1, w.ip, w.pl, ua, nil)
	t += 4 * 60000
	s.gh(t, aPublicKeyCreate, p, -1, w.ip, w.pl, ua, nil).detail = "laptop-recovery"
	t += 2 * 60000
	for _, q := range []string{"AWS_SECRET_ACCESS_KEY", "password+filename:.env", "BEGIN+RSA+PRIVATE+KEY", "vpn+config", "okta+api+token", "kubeconfig"}[:4+s.r.IntN(3)] {
		s.gh(t, aAPISearch, p, -1, w.ip, w.pl, "python-requests/2.31.0", nil).detail = q
		t += int64(30000 + s.r.IntN(60000))
	}
	for _, repo := range s.beyondTeam(p, 10+s.r.IntN(10), func(rp *repo) bool { return rp.infra || rp.secrets }) {
		s.gh(t, aClone, p, repo, w.ip, w.pl, "git/2.40.1", nil)
		t += int64(30000 + s.r.IntN(150000))
	}
}

// apt41: two or three clones a day, off-hours, from a VPS network, for two
// weeks or as long as the run allows, with the victim's own credential.
func (s *sim) apt41(p *person, lo, hi int) {
	s.begin(ScenarioAPT41, p, "")
	w := attackerWhere(s, placeHK, s.r.IntN(250))
	off := places[p.office].off
	first := lo + s.r.IntN(max(1, hi-lo-14))
	last := min(hi, first+15)
	repos := s.beyondTeam(p, 3*(last-first+1), func(rp *repo) bool { return rp.vis != visPublic })
	k := 0
	for d := first; d <= last; d++ {
		for n := 2 + s.r.IntN(2); n > 0; n-- {
			repo := repos[k%len(repos)]
			k++
			s.gh(s.at(d, off, 60+s.r.IntN(240)), aClone, p, repo, w.ip, w.pl, "git/2.34.1", p.tok)
		}
	}
}

// departing: in the last working days before leaving, clones far beyond
// the team and archive downloads, from the usual places in working hours.
func (s *sim) departing(p *person, lo, leave int) {
	s.begin(ScenarioInsider, p, "")
	p.leaveDay = leave
	repos := s.beyondTeam(p, 30+s.r.IntN(30), nil)
	var days []int
	for d := max(lo, leave-6); d <= leave; d++ {
		if s.workday(d) {
			days = append(days, d)
		}
	}
	if len(days) == 0 {
		days = []int{leave}
	}
	for i, repo := range repos {
		d := days[i*len(days)/len(repos)]
		w := s.dayWhere(p, d)
		m := p.startMin + s.r.IntN(p.lenMin)
		s.git(p, d, m, w, aClone, repo)
		if i%4 == 0 {
			s.web(p, d, m+3, w, aDownloadZip, repo)
		}
	}
}

// domainAdmin: a member of IT Admins (nested in Domain Admins) cloning
// repositories, which IT admins otherwise never do.
func (s *sim) domainAdmin(p *person, d int) {
	s.begin(ScenarioDomainAdmin, p, "")
	w := where{ip: p.officeIP, net: s.o.officeNt[p.office], pl: p.office, off: places[p.office].off}
	m := p.startMin + 60 + s.r.IntN(120)
	for _, repo := range s.beyondTeam(p, 8+s.r.IntN(8), func(rp *repo) bool { return rp.vis != visPublic }) {
		s.git(p, d, m, w, aClone, repo)
		m += 2 + s.r.IntN(10)
	}
}

// stolenCI: a CI machine user's token used from a new country to clone.
func (s *sim) stolenCI(p *person, d int) {
	s.begin(ScenarioStolenCI, p, "")
	w := attackerWhere(s, placeVN, s.r.IntN(250))
	t := s.at(d, 0, s.r.IntN(22*60))
	for _, repo := range s.beyondTeam(p, 40+s.r.IntN(40), nil) {
		s.gh(t, aClone, p, repo, w.ip, w.pl, "git/2.30.2", p.tok)
		t += int64(5000 + s.r.IntN(60000))
	}
}

// newJoiner: someone who joins and, in their first two days, creates a
// fine-grained PAT and clones widely from the office.
func (s *sim) newJoiner(p *person, d int) {
	s.begin(BenignNewJoiner, p, ScenarioLapsus)
	p.joinDay = d
	d2 := d + 1
	for d2 < s.cfg.Days-1 && !s.workday(d2) {
		d2++
	}
	markBusy(p, d, d2)
	w := where{ip: p.officeIP, net: s.o.officeNt[p.office], pl: p.office, off: places[p.office].off}
	s.signIn(p, d, p.startMin, w)
	t := s.at(d, w.off, p.startMin+120)
	tok := s.o.newToken(s.r, credPATFine, "")
	p.tok = tok
	s.gh(t, aPATRequest, p, -1, w.ip, w.pl, webUAs[p.webUA].raw, nil).detail = expiry(t)
	s.gh(t+3600000, aPATGranted, p, -1, w.ip, w.pl, webUAs[p.webUA].raw, nil).detail = expiry(t)
	repos := append([]int{}, p.teamRepos...)
	repos = append(repos, s.o.internal...)
	repos = append(repos, s.beyondTeam(p, 10, private)...)
	repos = uniqueInts(repos)
	if len(repos) > 60 {
		repos = repos[:60]
	}
	for i, repo := range repos {
		day, m := d, p.startMin+150+i*4
		if i >= len(repos)/2 {
			day, m = d2, p.startMin+30+(i-len(repos)/2)*6
		}
		if i == len(repos)/2 && d2 != d {
			s.signIn(p, d2, p.startMin, w)
		}
		s.git(p, day, m, w, aClone, repo)
	}
}

func uniqueInts(in []int) []int {
	seen := map[int]bool{}
	out := in[:0]
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// releaseStorm: a release engineer fetching every repository of the
// release within an hour on release day.
func (s *sim) releaseStorm(p *person, lo, hi int) {
	d := -1
	for k := lo; k <= hi; k++ {
		if s.release[k] {
			d = k
			break
		}
	}
	if d < 0 {
		d = s.dayIn(lo, hi, true)
		s.release[d] = true
	}
	s.begin(BenignReleaseStorm, p, ScenarioInsider)
	markBusy(p, d)
	w := where{ip: p.vpnIP, net: s.o.vpnNet[vpnRegion(p.office)], off: places[p.office].off}
	w.pl = s.o.nets[w.net].place
	s.signIn(p, d, p.startMin, w)
	m := p.startMin + 120
	repos := s.beyondTeam(p, 60+s.r.IntN(60), nil)
	repos = append(repos, p.teamRepos...)
	for i, repo := range repos {
		s.git(p, d, m+i/2, w, aFetch, repo)
	}
	for i := 0; i < 5; i++ {
		s.git(p, d, m+90+i*10, w, aPush, s.usualRepo(p))
	}
}

// traveller: a few working days from a hotel abroad, signing in and
// working on the usual repositories in the local working hours there.
func (s *sim) traveller(p *person, lo, hi int) {
	s.begin(BenignTraveller, p, ScenarioAPT41)
	pl := placeTravel0 + s.r.IntN(3)
	n := s.o.hotelNet[pl]
	w := where{ip: s.o.nets[n].ip(s.r.IntN(250)), net: n, pl: pl, off: places[pl].off}
	d := s.dayIn(lo, max(lo, hi-2), true)
	for k := 0; k < 3 && d+k < s.cfg.Days; k++ {
		day := d + k
		if !s.workday(day) {
			continue
		}
		markBusy(p, day)
		s.signIn(p, day, 9*60, w)
		for i := 0; i < 4+s.r.IntN(6); i++ {
			s.git(p, day, 9*60+10+s.r.IntN(8*60), w, aFetch, s.usualRepo(p))
		}
		s.git(p, day, 9*60+30+s.r.IntN(6*60), w, aClone, s.usualRepo(p))
		s.git(p, day, 10*60+s.r.IntN(6*60), w, aPush, s.usualRepo(p))
	}
}

// sreIncident: an SRE cloning many infrastructure repositories during an
// incident, in working hours, from the VPN.
func (s *sim) sreIncident(p *person, d int) {
	s.begin(BenignSREIncident, p, ScenarioScatteredSp)
	markBusy(p, d)
	w := where{ip: p.vpnIP, net: s.o.vpnNet[vpnRegion(p.office)], off: places[p.office].off}
	w.pl = s.o.nets[w.net].place
	m := p.startMin + 60 + s.r.IntN(120)
	s.signIn(p, d, m-5, w)
	repos := append([]int{}, p.teamRepos...)
	repos = append(repos, s.beyondTeam(p, 10, func(rp *repo) bool { return rp.infra })...)
	for i, repo := range repos {
		if i >= 25 {
			break
		}
		s.git(p, d, m+i*4, w, aClone, repo)
	}
	for i := 0; i < 6; i++ {
		s.git(p, d, m+120+i*15, w, aPush, s.pick(p.teamRepos))
	}
}

// adminDay: a reorganisation day of team and member changes, no code read.
func (s *sim) adminDay(p *person, d int) {
	s.begin(BenignAdminWork, p, ScenarioDomainAdmin)
	markBusy(p, d)
	w := where{ip: p.officeIP, net: s.o.officeNt[p.office], pl: p.office, off: places[p.office].off}
	s.signIn(p, d, p.startMin, w)
	s.adminWork(p, d, w, p.startMin+10, 40+s.r.IntN(40))
}

// ciRebuild: a CI bot rebuilding every repository's cache from its usual
// runners during the working day.
func (s *sim) ciRebuild(p *person, d int) {
	s.begin(BenignCIUsualRunners, p, ScenarioStolenCI)
	w := where{net: p.runnerNet, pl: s.o.nets[p.runnerNet].place}
	m := 13 * 60
	for i := range s.o.repos {
		s.botOp(p, d, m+i*90/len(s.o.repos), w, aClone, i)
	}
}
