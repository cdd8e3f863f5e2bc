package simulate

// A fine-grained token stolen after its owner created it where and when they
// always work, then used days later from a hosting network abroad; and its
// benign look-alike, a token created at home and used on a trip.

var tokenNames = []string{"laptop-cli", "local-dev", "release-notes", "gh-scripts", "ide-sync"}

// Attacker clients: the stock git and curl of a freshly rented VPS.
const (
	vpsGitUA  = "git/2.34.1"
	vpsCurlUA = "curl/7.81.0"
)

// newPAT creates a named fine-grained token and logs its request and grant.
// Both carry the token's token_id and hashed_token, the same fields its Git
// and API uses carry, so the token can be followed from creation to use.
func (s *sim) newPAT(p *person, ms int64, w where) *token {
	tok := s.o.newToken(s.r, credPATFine, "")
	tok.name = tokenNames[s.r.IntN(len(tokenNames))]
	ua := webUAs[p.webUA].raw
	s.gh(ms, aPATRequest, p, -1, w.ip, w.pl, ua, tok).detail = expiry(ms)
	s.gh(ms+int64(5000+s.r.IntN(60000)), aPATGranted, p, -1, w.ip, w.pl, ua, tok).detail = expiry(ms)
	return tok
}

// workdays returns up to n working days from d on, within the run.
func (s *sim) workdays(d, n int) []int {
	var out []int
	for ; d < s.cfg.Days && len(out) < n; d++ {
		if s.workday(d) {
			out = append(out, d)
		}
	}
	return out
}

// startDay picks a working day in [lo, hi] followed, within gap days, by
// need working days before the run ends; when none is, a working day of
// the window as far from its end as it allows.
func (s *sim) startDay(lo, hi, gap, need int) int {
	var ok []int
	for d := lo; d <= hi; d++ {
		if w := s.workdays(d+1, need); s.workday(d) && len(w) == need && w[0] <= d+gap {
			ok = append(ok, d)
		}
	}
	if len(ok) == 0 {
		return s.dayIn(lo, max(lo, hi-need), true)
	}
	return s.pick(ok)
}

// workDay plans an ordinary working day from w starting at local minute
// start: a sign-in, then fetches and pushes to the usual repositories with
// tok at the person's usual volume, now and then a clone.
func (s *sim) workDay(p *person, d, start int, w where, tok *token) {
	markBusy(p, d)
	s.signIn(p, d, start-3, w)
	op := func(act ghAction) {
		m := start + s.r.IntN(p.lenMin)
		s.gh(s.at(d, w.off, m), act, p, s.usualRepo(p), w.ip, w.pl, p.gitUA, tok)
	}
	for n := 3 + s.r.IntN(10); n > 0; n-- {
		op(aFetch)
	}
	for n := s.r.IntN(6); n > 0; n-- {
		op(aPush)
	}
	if s.r.IntN(8) == 0 {
		op(aClone)
	}
}

// tokenTheft: a developer creates a fine-grained token at the office in
// working hours; one to three days later the token, stolen, clones or
// downloads four to seven non-public repositories a day, mostly the team's,
// for three or four working days from a hosting network in another country,
// inside the victim's working hours, while the victim works as usual. At
// most seven repositories a day keeps it under bulk thresholds.
func (s *sim) tokenTheft(p *person, lo, hi int) {
	s.begin(ScenarioTokenTheft, p, "")
	c := s.startDay(lo, hi, 3, 3)
	off := places[p.office].off
	office := where{ip: p.officeIP, net: s.o.officeNt[p.office], pl: p.office, off: off}
	tok := s.newPAT(p, s.at(c, off, p.startMin+60+s.r.IntN(max(1, p.lenMin-120))), office)

	// The first use comes one to three days later, on a working day that
	// leaves three working days of use when the run allows.
	first := min(c+1, s.cfg.Days-1)
	var cand []int
	for d := c + 1; d <= min(c+3, s.cfg.Days-1); d++ {
		if s.workday(d) && len(s.workdays(d, 3)) == 3 {
			cand = append(cand, d)
		}
	}
	if len(cand) > 0 {
		first = s.pick(cand)
	}
	days := s.workdays(first, 3+s.r.IntN(2))
	if len(days) == 0 {
		days = []int{first}
	}
	perDay := make([]int, len(days))
	total := 0
	for i := range perDay {
		perDay[i] = 4 + s.r.IntN(4)
		total += perDay[i]
	}
	targets := s.theftTargets(p, total)

	w := attackerWhere(s, []int{placeHK, placeVN}[s.r.IntN(2)], s.r.IntN(250))
	k := 0
	for i, d := range days {
		for n := 0; n < perDay[i] && k < len(targets); n++ {
			m := p.startMin + 15 + s.r.IntN(max(1, p.lenMin-30))
			act, ua := aClone, vpsGitUA
			if s.r.IntN(4) == 0 {
				act, ua = aDownloadZip, vpsCurlUA // the API's zipball, with the token
			}
			s.gh(s.at(d, off, m), act, p, targets[k], w.ip, w.pl, ua, tok)
			k++
		}
	}
}

// theftTargets returns n distinct non-public repositories: about three in
// four of the victim's team, the rest of other teams.
func (s *sim) theftTargets(p *person, n int) []int {
	var own, other []int
	for _, i := range s.r.Perm(len(s.o.repos)) {
		switch rp := s.o.repos[i]; {
		case rp.vis == visPublic:
		case rp.team == p.team:
			own = append(own, i)
		default:
			other = append(other, i)
		}
	}
	nOther := max(1, n/4)
	nOwn := min(len(own), n-nOther)
	out := append(own[:nOwn:nOwn], other[:min(len(other), n-nOwn)]...)
	s.r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// tokenOnTrip: a developer works a day from home and creates a fine-grained
// token there, then travels and works two or three days from a hotel
// abroad, with that token, on the usual repositories at the usual volume.
func (s *sim) tokenOnTrip(p *person, lo, hi int) {
	s.begin(BenignTokenOnTrip, p, ScenarioTokenTheft)
	c := s.startDay(lo, hi, 3, 2)
	home := s.homeWhere(p)
	start := p.startMin + s.r.IntN(40) - 20
	s.workDay(p, c, start, home, p.tok)
	m := start + 60 + s.r.IntN(max(1, p.lenMin-120))
	tok := s.newPAT(p, s.at(c, home.off, m), home)
	for n := 1 + s.r.IntN(2); n > 0; n-- {
		m += 5 + s.r.IntN(30)
		s.gh(s.at(c, home.off, m), aFetch, p, s.usualRepo(p), home.ip, home.pl, p.gitUA, tok)
	}

	pl := placeTravel0 + s.r.IntN(placeBR-placeTravel0)
	n := s.o.hotelNet[pl]
	w := where{ip: s.o.nets[n].ip(s.r.IntN(250)), net: n, pl: pl, off: places[pl].off}
	days := s.workdays(c+1, 2+s.r.IntN(2))
	if len(days) == 0 {
		days = []int{min(c+1, s.cfg.Days-1)}
	}
	for _, d := range days {
		s.workDay(p, d, 9*60+s.r.IntN(30), w, tok)
	}
}
