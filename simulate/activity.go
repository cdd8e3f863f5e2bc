package simulate

// Normal behaviour of people and bots, one local day at a time.

// at returns the epoch ms of minute m of local day d at UTC offset off.
func (s *sim) at(d, off, m int) int64 {
	return s.startMs + int64(d)*dayMs + int64(m-off)*60000 + int64(s.r.IntN(60000))
}

// where is the address a person works from on one day.
type where struct {
	ip  string
	net int
	pl  int
	off int
}

func (s *sim) homeWhere(p *person) where {
	return where{ip: p.homeIP, net: p.homeNet, pl: p.office, off: places[p.office].off}
}

func (s *sim) dayWhere(p *person, d int) where {
	if d >= p.travelFrom && d <= p.travelTo {
		n := s.o.hotelNet[p.travelPlace]
		return where{ip: s.o.nets[n].ip(p.idx), net: n, pl: p.travelPlace, off: places[p.travelPlace].off}
	}
	w := s.homeWhere(p)
	switch x := s.r.IntN(100); {
	case x < 45:
		w.ip, w.net = p.officeIP, s.o.officeNt[p.office]
	case x < 80:
		w.ip, w.net = p.vpnIP, s.o.vpnNet[vpnRegion(p.office)]
		w.pl = s.o.nets[w.net].place
	}
	return w
}

// signIn logs a sign-in to the identity provider and the SSO into GitHub.
func (s *sim) signIn(p *person, d, m int, w where) {
	if p.entraID != "" {
		s.okta(s.at(d, w.off, m), oSSO, p, nil, w.ip, w.net, "SUCCESS", "", randUUID(s.r))
		return
	}
	sess := "102" + randString(s.r, 22)
	t := s.at(d, w.off, m)
	s.okta(t, oPushSend, p, nil, w.ip, w.net, "SUCCESS", "", sess)
	if s.r.IntN(80) == 0 { // a push dismissed by mistake, then accepted
		s.okta(t+4000, oMFA, p, nil, w.ip, w.net, "FAILURE", "User rejected Okta push verify", sess)
		t += 30000
		s.okta(t, oPushSend, p, nil, w.ip, w.net, "SUCCESS", "", sess)
	}
	s.okta(t+7000, oMFA, p, nil, w.ip, w.net, "SUCCESS", "", sess)
	s.okta(t+8000, oSessionStart, p, nil, w.ip, w.net, "SUCCESS", "", sess)
	s.okta(t+20000, oSSO, p, nil, w.ip, w.net, "SUCCESS", "", sess)
	s.gh(t+21000, aSSOResponse, p, -1, w.ip, w.pl, webUAs[p.webUA].raw, nil)
}

// git logs one Git operation with the person's usual client and credential.
func (s *sim) git(p *person, d, m int, w where, act ghAction, repo int) {
	s.gh(s.at(d, w.off, m), act, p, repo, w.ip, w.pl, p.gitUA, p.tok)
}

func (s *sim) web(p *person, d, m int, w where, act ghAction, repo int) *ghEv {
	return s.gh(s.at(d, w.off, m), act, p, repo, w.ip, w.pl, webUAs[p.webUA].raw, nil)
}

func (s *sim) pick(list []int) int { return list[s.r.IntN(len(list))] }

// usualRepo is a repository the person works on: mostly their hot ones.
func (s *sim) usualRepo(p *person) int {
	if len(p.hot) > 0 && s.r.IntN(10) < 8 {
		return s.pick(p.hot)
	}
	if len(p.teamRepos) > 0 {
		return s.pick(p.teamRepos)
	}
	return s.pick(s.o.internal)
}

func (s *sim) personDay(p *person, d int) {
	if d < p.joinDay || d > p.leaveDay || p.busy[d] {
		return
	}
	if p.role == roleCI || p.role == roleApp {
		s.botDay(p, d)
		return
	}
	if d == p.leaveDay && p.leaveDay < s.cfg.Days-1 {
		// Deprovisioned at the end of the last day.
		admin := s.o.people[s.o.helpdesk[0]]
		s.okta(s.at(d, places[admin.office].off, 17*60), oDeactivate, p, admin, admin.officeIP, s.o.officeNt[admin.office], "SUCCESS", "", "")
	}
	if !s.workday(d) {
		if s.r.Float64() >= p.weekendProb {
			return
		}
		w := s.homeWhere(p)
		m := 10*60 + s.r.IntN(9*60)
		s.signIn(p, d, m, w)
		if p.role == roleITAdmin {
			// Directory admins never touch code, weekends included: only
			// the privileged-reads-code scenario makes one do so.
			s.adminWork(p, d, w, m+5, 1+s.r.IntN(2))
			return
		}
		for n := 1 + s.r.IntN(4); n > 0; n-- {
			s.git(p, d, m+s.r.IntN(120), w, aFetch+ghAction(s.r.IntN(2)), s.usualRepo(p))
		}
		return
	}
	w := s.dayWhere(p, d)
	start := p.startMin + s.r.IntN(40) - 20
	s.signIn(p, d, start-3, w)
	if s.r.IntN(2) == 0 {
		s.signIn(p, d, start+180+s.r.IntN(120), w)
	}
	span := p.lenMin
	var fetch, push int
	var clone, zip float64
	switch p.role {
	case roleDev, roleContractor:
		fetch, push, clone, zip = 3+s.r.IntN(10), s.r.IntN(6), 0.12, 0.02
	case roleSRE:
		fetch, push, clone, zip = 3+s.r.IntN(8), s.r.IntN(5), 0.2, 0.01
	case roleSecurity:
		fetch, push, clone, zip = s.r.IntN(4), s.r.IntN(2), 0.25, 0.03
	case roleManager:
		fetch, clone, zip = s.r.IntN(3), 0.03, 0.02
	case roleITAdmin:
		s.adminWork(p, d, w, start, s.r.IntN(4))
	}
	if s.release[d] && p.role == roleDev {
		fetch *= 2
	}
	newJoiner := p.joinDay > 0 && d-p.joinDay < 7
	for ; fetch > 0; fetch-- {
		s.git(p, d, start+s.r.IntN(span), w, aFetch, s.usualRepo(p))
	}
	for ; push > 0; push-- {
		m := start + s.r.IntN(span)
		repo := s.usualRepo(p)
		s.git(p, d, m, w, aPush, repo)
		if s.r.IntN(3) == 0 {
			s.web(p, d, m+2, w, aPRCreate, repo)
		}
		if s.r.IntN(4) == 0 {
			s.web(p, d, m+60+s.r.IntN(120), w, aPRMerge, repo)
		}
	}
	if s.r.Float64() < clone {
		repo := s.usualRepo(p)
		if p.role == roleSecurity || s.r.IntN(4) == 0 {
			repo = s.pick(s.o.internal)
			if p.role == roleSecurity && s.r.IntN(2) == 0 {
				repo = s.r.IntN(len(s.o.repos))
			}
		}
		s.git(p, d, start+s.r.IntN(span), w, aClone, repo)
	}
	if newJoiner {
		// New joiners clone their team's repositories and look around.
		for n := 3 + s.r.IntN(8); n > 0; n-- {
			repo := s.usualRepo(p)
			if s.r.IntN(3) == 0 {
				repo = s.pick(s.o.internal)
			}
			s.git(p, d, start+s.r.IntN(span), w, aClone, repo)
		}
	}
	if s.r.Float64() < zip {
		s.web(p, d, start+s.r.IntN(span), w, aDownloadZip, s.usualRepo(p))
	}
	if p.role != roleITAdmin && (d < p.travelFrom || d > p.travelTo) && s.r.IntN(12) == 0 {
		// Evening work from home.
		hw := s.homeWhere(p)
		m := 20*60 + s.r.IntN(150)
		s.signIn(p, d, m, hw)
		s.git(p, d, m+5, hw, aFetch, s.usualRepo(p))
		s.git(p, d, m+40, hw, aPush, s.usualRepo(p))
	}
	if p.role == roleITAdmin && p.idx == s.o.helpdesk[0] && s.r.IntN(3) == 0 {
		s.helpdeskReset(p, d, start+60+s.r.IntN(300), s.o.people[s.r.IntN(len(s.o.people))])
	}
}

// helpdeskReset is a help-desk password (and sometimes factor) reset for a
// user who lost access, followed by the user signing in as usual.
func (s *sim) helpdeskReset(admin *person, d, m int, u *person) {
	if u.role == roleCI || u.role == roleApp || u.entraID != "" || d < u.joinDay || d > u.leaveDay || u.busy[d] {
		return
	}
	aw := where{ip: admin.officeIP, net: s.o.officeNt[admin.office], off: places[admin.office].off}
	t := s.at(d, aw.off, m)
	s.okta(t, oResetPassword, u, admin, aw.ip, aw.net, "SUCCESS", "", "")
	if s.r.IntN(3) == 0 {
		s.okta(t+60000, oFactorResetAll, u, admin, aw.ip, aw.net, "SUCCESS", "", "")
		s.okta(t+15*60000, oFactorActivate, u, nil, u.homeIP, u.homeNet, "SUCCESS", "", "")
	}
	s.signIn(u, d, m+20-(aw.off-places[u.office].off), s.homeWhere(u))
}

var adminActions = []ghAction{aOrgAddMember, aOrgInviteMember, aOrgUpdateMember, aTeamAddMember,
	aTeamRemoveMember, aTeamAddRepo, aRepoAddMember, aRepoCreate}

// adminWork logs n organisation, team and member changes.
func (s *sim) adminWork(p *person, d int, w where, start, n int) {
	for ; n > 0; n-- {
		act := adminActions[s.r.IntN(len(adminActions))]
		t := s.o.teams[s.r.IntN(len(s.o.teams))]
		repo := -1
		if act == aTeamAddRepo || act == aRepoAddMember || act == aRepoCreate {
			repo = s.r.IntN(len(s.o.repos))
		}
		e := s.web(p, d, start+s.r.IntN(p.lenMin), w, act, repo)
		if act != aTeamAddRepo && act != aRepoCreate {
			e.user = s.o.people[s.r.IntN(len(s.o.people))].login
		}
		e.detail = t.slug
	}
}

// botDay is a CI machine user's or GitHub App's day: builds follow people's
// working hours, plus a nightly build of every repository it serves.
func (s *sim) botDay(p *person, d int) {
	w := where{ip: "", net: p.runnerNet, pl: s.o.nets[p.runnerNet].place}
	share := 1 / float64(s.o.nCI)
	if p.role == roleApp {
		share = 1 / float64(3*s.o.nApp)
	}
	if !s.workday(d) {
		share *= 0.1
	}
	if s.release[d] {
		share *= 2
	}
	for h := 0; h < 24; h++ {
		rate := s.botRate[h] * share
		n := int(rate)
		if s.r.Float64() < rate-float64(n) {
			n++
		}
		for ; n > 0; n-- {
			act := aFetch
			switch x := s.r.IntN(10); {
			case p.role == roleCI && x < 6:
				act = aClone
			case p.role == roleApp && x < 3:
				act = aPush
			}
			s.botOp(p, d, h*60+s.r.IntN(60), w, act, s.pick(p.botRepos))
		}
	}
	if p.role == roleCI {
		for i, repo := range p.botRepos {
			s.botOp(p, d, 2*60+i*50/len(p.botRepos), w, aClone, repo)
		}
	}
}

func (s *sim) botOp(p *person, d, m int, w where, act ghAction, repo int) {
	s.gh(s.at(d, 0, m), act, p, repo, s.o.nets[w.net].ip(s.r.IntN(250)), w.pl, p.gitUA, p.tok)
}
