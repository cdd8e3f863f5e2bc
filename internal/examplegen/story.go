package main

import (
	"cmp"
	"slices"
	"time"
)

// event is one GitHub audit-log event with the field names and value shapes
// of log-formats.md §1; the struct's field order is the output's key order.
type event struct {
	Timestamp              int64     `json:"@timestamp"`
	DocumentID             string    `json:"_document_id"`
	Action                 string    `json:"action"`
	OperationType          string    `json:"operation_type,omitempty"`
	Actor                  string    `json:"actor,omitempty"`
	ActorID                int64     `json:"actor_id,omitempty"`
	ActorIP                string    `json:"actor_ip,omitempty"`
	ActorLocation          *location `json:"actor_location,omitempty"`
	UserAgent              string    `json:"user_agent,omitempty"`
	Business               string    `json:"business"`
	BusinessID             int64     `json:"business_id"`
	Org                    string    `json:"org"`
	OrgID                  int64     `json:"org_id"`
	Repo                   string    `json:"repo,omitempty"`
	RepoID                 int64     `json:"repo_id,omitempty"`
	Repository             string    `json:"repository,omitempty"`
	RepositoryPublic       *bool     `json:"repository_public,omitempty"`
	Visibility             string    `json:"visibility,omitempty"`
	PublicRepo             *bool     `json:"public_repo,omitempty"`
	TransportProtocol      int       `json:"transport_protocol,omitempty"`
	TransportProtocolName  string    `json:"transport_protocol_name,omitempty"`
	User                   string    `json:"user,omitempty"`
	UserID                 int64     `json:"user_id,omitempty"`
	Team                   string    `json:"team,omitempty"`
	ProgrammaticAccessType string    `json:"programmatic_access_type,omitempty"`
	TokenID                int64     `json:"token_id,omitempty"`
	HashedToken            string    `json:"hashed_token,omitempty"`
	TokenScopes            string    `json:"token_scopes,omitempty"`
	ExternalIdentityNameID string    `json:"external_identity_nameid,omitempty"`
	CreatedAt              int64     `json:"created_at"`
}

type location struct {
	CountryCode string `json:"country_code"`
}

// where an action comes from: the address, its country and the client.
type where struct {
	ip, country, ua string
}

const browserUA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"

func (o *org) base(t time.Time, p *person, action, op string, w where) event {
	ms := t.UnixMilli()
	return event{
		Timestamp: ms, CreatedAt: ms, DocumentID: o.docID(), Action: action, OperationType: op,
		Actor: p.login, ActorID: p.id, ActorIP: w.ip, ActorLocation: &location{w.country}, UserAgent: w.ua,
		Business: businessName, BusinessID: businessID, Org: orgName, OrgID: orgID,
		ExternalIdentityNameID: p.nameid,
	}
}

// home is where p normally works from.
func (o *org) home(p *person) where { return where{o.ip(p.net), p.country, p.ua} }

// git records a Git transfer (git.clone, git.fetch, git.push) of r.
func (o *org) git(t time.Time, p *person, action string, r *repo, c credential, w where) event {
	op := "access"
	if action == "git.push" {
		op = "modify"
	}
	e := o.base(t, p, action, op, w)
	public := r.visibility == "public"
	e.Repo, e.Repository, e.RepositoryPublic = r.name, r.name, &public
	if c.ssh() {
		e.TransportProtocol, e.TransportProtocolName = 2, "ssh"
	} else {
		e.TransportProtocol, e.TransportProtocolName = 1, "http"
		setToken(&e, c)
	}
	return e
}

// zip records a source archive download of r, through the browser when c is
// an SSH key (no token) and through the API with the token otherwise.
func (o *org) zip(t time.Time, p *person, r *repo, c credential, w where) event {
	e := o.base(t, p, "repo.download_zip", "access", w)
	e.Repo, e.RepoID, e.Visibility = r.name, r.id, r.visibility
	if !c.ssh() {
		setToken(&e, c)
	}
	return e
}

// setToken fills the token fields of e from c.
func setToken(e *event, c credential) {
	e.ProgrammaticAccessType, e.TokenID, e.HashedToken, e.TokenScopes = c.kind, c.id, c.hash, c.scopes
}

// at returns day d (0-based) at the given UTC hour, plus a random
// millisecond so no two events share a time by accident.
func (o *org) at(d int, hour float64) time.Time {
	return start.AddDate(0, 0, d).Add(time.Duration(hour*float64(time.Hour)) + time.Duration(o.rng.IntN(1000))*time.Millisecond)
}

// workHour returns a random UTC hour inside p's working day.
func (o *org) workHour(p *person) float64 {
	return 9 + o.rng.Float64()*8.5 - p.offset
}

func (o *org) pick(rs []*repo) *repo { return rs[o.rng.IntN(len(rs))] }

// story returns every event of the ten days, in time order.
func (o *org) story() []event {
	var evs []event
	add := func(e ...event) { evs = append(evs, e...) }

	for _, p := range o.people {
		switch p.login {
		case "admin-jsmith":
			add(o.admin(p)...)
		case "tcho-acme":
			add(o.newJoiner(p)...)
		default:
			add(o.developer(p)...)
		}
	}
	add(o.buildBot(o.byName["acme-build-ci"])...)
	add(o.deployBot(o.byName["svc-deploy"])...)
	add(o.lapsus(o.byName["mallory-acme"])...)
	add(o.traveller(o.byName["kwame-acme"])...)
	add(o.abroad(o.byName["wlee-acme"])...)
	add(o.newToken(o.byName["bstone-acme"], 2)...)
	add(o.newToken(o.byName["dkim-acme"], 8)...)

	slices.SortStableFunc(evs, func(a, b event) int {
		if c := cmp.Compare(a.Timestamp, b.Timestamp); c != 0 {
			return c
		}
		return cmp.Compare(a.DocumentID, b.DocumentID)
	})
	return evs
}

func weekend(d int) bool {
	wd := start.AddDate(0, 0, d).Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// developer is a person's ordinary ten days: the working set cloned over the
// first days, then fetches and pushes in working hours, the odd archive
// download, a little weekend work.
func (o *org) developer(p *person) []event {
	var evs []event
	var cloned []*repo
	spread := 3 // days over which the working set is first cloned
	if p.login == "priya-acme" {
		spread = 5
	}
	for d := range days {
		if p.login == "kwame-acme" && d == 9 {
			continue // travelling: see traveller
		}
		if weekend(d) {
			if len(cloned) > 0 && o.rng.IntN(100) < 15 {
				for range 1 + o.rng.IntN(3) {
					evs = append(evs, o.git(o.at(d, 11+o.rng.Float64()*8-p.offset), p, "git.fetch", o.pick(cloned), p.cred, o.home(p)))
				}
			}
			continue
		}
		for i, r := range p.workset {
			if i%spread == d {
				evs = append(evs, o.git(o.at(d, o.workHour(p)), p, "git.clone", r, p.cred, o.home(p)))
				cloned = append(cloned, r)
			}
		}
		if len(cloned) == 0 {
			continue
		}
		if p.login == "priya-acme" && d >= 7 {
			// The morning script: fetch all 30 repositories in a few
			// minutes. All were cloned in the first week.
			h := 8.1 - p.offset
			for i, r := range p.workset {
				evs = append(evs, o.git(o.at(d, h+float64(i)*0.004), p, "git.fetch", r, p.cred, o.home(p)))
			}
		}
		for range 3 + o.rng.IntN(4) {
			evs = append(evs, o.git(o.at(d, o.workHour(p)), p, "git.fetch", o.pick(cloned), p.cred, o.home(p)))
		}
		for range 1 + o.rng.IntN(3) {
			evs = append(evs, o.git(o.at(d, o.workHour(p)), p, "git.push", o.pick(cloned), p.cred, o.home(p)))
		}
		if o.rng.IntN(100) < 8 {
			w := o.home(p)
			w.ua = browserUA
			evs = append(evs, o.zip(o.at(d, o.workHour(p)), p, o.pick(cloned), credential{}, w))
		}
		if o.rng.IntN(100) < 6 { // a fresh clone on a new laptop
			evs = append(evs, o.git(o.at(d, o.workHour(p)), p, "git.clone", o.pick(cloned), p.cred, o.home(p)))
		}
	}
	return evs
}

// admin is the privileged org administrator: membership and team changes
// through the web UI every weekday, and never a Git operation, until the
// last day when he clones two repositories (detection d).
func (o *org) admin(p *person) []event {
	var evs []event
	w := o.home(p)
	w.ua = browserUA
	members := o.people[4 : len(o.people)-1] // not the new joiner, who arrives later
	for d := range days {
		if weekend(d) {
			continue
		}
		for range 1 + o.rng.IntN(3) {
			u := members[o.rng.IntN(len(members))]
			var e event
			switch o.rng.IntN(3) {
			case 0:
				e = o.base(o.at(d, o.workHour(p)), p, "team.add_member", "modify", w)
				e.Team = orgName + "/" + teams[u.team]
			case 1:
				r := o.pick(o.byTeam[u.team])
				e = o.base(o.at(d, o.workHour(p)), p, "repo.add_member", "modify", w)
				e.Repo, e.RepoID, e.Visibility = r.name, r.id, r.visibility
			default:
				e = o.base(o.at(d, o.workHour(p)), p, "org.update_member", "modify", w)
			}
			e.User, e.UserID = u.login, u.id
			evs = append(evs, e)
		}
	}
	// Friday: the new joiner is invited and added.
	tcho := o.byName["tcho-acme"]
	e := o.base(o.at(4, 15.5), p, "org.add_member", "create", w)
	e.User, e.UserID = tcho.login, tcho.id
	evs = append(evs, e)
	e = o.base(o.at(4, 15.6), p, "team.add_member", "modify", w)
	e.User, e.UserID, e.Team = tcho.login, tcho.id, orgName+"/"+teams[tcho.team]
	evs = append(evs, e)

	// Detection (d): the privileged identity reads code.
	gw := o.home(p)
	gw.ua = "git/2.45.2"
	for i, name := range []string{"payments-core", "payments-ledger"} {
		r := o.repoNamed(orgName + "/" + name)
		evs = append(evs, o.git(o.at(9, 16.08+float64(i)*0.05), p, "git.clone", r, p.cred, gw))
	}
	return evs
}

// newJoiner starts on the second Monday, after the learning period, and
// clones 12 of his team's repositories within half an hour (near miss).
func (o *org) newJoiner(p *person) []event {
	var evs []event
	team := o.byTeam[p.team]
	p.workset = nil
	for _, j := range o.rng.Perm(len(team))[:12] {
		p.workset = append(p.workset, team[j])
	}
	h := 9.4 - p.offset
	for i, r := range p.workset {
		evs = append(evs, o.git(o.at(7, h+float64(i)*0.035), p, "git.clone", r, p.cred, o.home(p)))
	}
	for d := 7; d < days; d++ {
		for range 3 + o.rng.IntN(4) {
			evs = append(evs, o.git(o.at(d, 11-p.offset+o.rng.Float64()*6), p, "git.fetch", o.pick(p.workset), p.cred, o.home(p)))
		}
		if d > 7 {
			evs = append(evs, o.git(o.at(d, o.workHour(p)), p, "git.push", o.pick(p.workset), p.cred, o.home(p)))
		}
	}
	return evs
}

// buildBot is the CI machine user: clones of any repository around the
// clock, more in working hours, and on the second Tuesday a full rebuild that
// clones every repository twice in 40 minutes (near miss: 304 clones).
func (o *org) buildBot(b *person) []event {
	var evs []event
	for d := range days {
		for h := range 24 {
			n := 1 + o.rng.IntN(3)
			if !weekend(d) && h >= 8 && h < 22 {
				n += 2
			}
			for range n {
				evs = append(evs, o.git(o.at(d, float64(h)+o.rng.Float64()), b, "git.clone", o.pick(o.repos), b.cred, o.home(b)))
			}
		}
	}
	order := append(o.rng.Perm(len(o.repos)), o.rng.Perm(len(o.repos))...)
	for i, j := range order {
		t := o.at(8, 3+float64(i)*(40.0/60)/float64(len(order)))
		evs = append(evs, o.git(t, b, "git.clone", o.repos[j], b.cred, o.home(b)))
	}
	return evs
}

// deployBot clones and fetches the deployable services on weekdays.
func (o *org) deployBot(b *person) []event {
	var services []*repo
	for _, r := range o.repos {
		for _, s := range []string{"-api", "-gateway", "-worker", "-web"} {
			if len(r.name) > len(s) && r.name[len(r.name)-len(s):] == s {
				services = append(services, r)
			}
		}
	}
	var evs []event
	for d := range days {
		if weekend(d) {
			continue
		}
		for range 8 + o.rng.IntN(5) {
			action := "git.clone"
			if o.rng.IntN(3) == 0 {
				action = "git.fetch"
			}
			evs = append(evs, o.git(o.at(d, 14+o.rng.Float64()*8), b, action, o.pick(services), b.cred, o.home(b)))
		}
	}
	return evs
}

// lapsus is detections (a) and (b): on the second Tuesday at 02:04 UTC
// (21:04 in New York) a fine-grained token is granted for mallory-acme from
// Brazil, used within 20 minutes to clone 40 private repositories she never
// touched and download 6 more as archives; then a repository is made public
// and private forking is enabled for the organisation.
func (o *org) lapsus(p *person) []event {
	attacker := where{"203.0.113.77", "BR", "git/2.34.1"}
	tok := o.token(patFineGrained, "")
	web := attacker
	web.ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"

	var evs []event
	e := o.base(o.at(8, 2.07), p, "personal_access_token.access_granted", "create", web)
	e.User, e.UserID = p.login, p.id
	e.ProgrammaticAccessType, e.TokenID, e.HashedToken = tok.kind, tok.id, tok.hash
	evs = append(evs, e)

	own := map[*repo]bool{}
	for _, r := range p.workset {
		own[r] = true
	}
	var targets []*repo
	for _, j := range o.rng.Perm(len(o.repos)) {
		if r := o.repos[j]; r.visibility != "public" && !own[r] {
			targets = append(targets, r)
		}
	}
	for i, r := range targets[:40] {
		evs = append(evs, o.git(o.at(8, 2.1+float64(i)*0.0075), p, "git.clone", r, tok, attacker))
	}
	api := attacker
	api.ua = "curl/8.5.0"
	for i, r := range targets[40:46] {
		evs = append(evs, o.zip(o.at(8, 2.15+float64(i)*0.03), p, r, tok, api))
	}

	leak := targets[0]
	e = o.base(o.at(8, 2.55), p, "repo.access", "modify", web)
	public := true
	e.Repo, e.RepoID, e.Visibility, e.PublicRepo = leak.name, leak.id, "public", &public
	evs = append(evs, e)
	evs = append(evs, o.base(o.at(8, 2.6), p, "private_repository_forking.enable", "modify", web))
	return evs
}

// traveller is detection (c): kwame-acme, who works from Amsterdam, is
// used from Singapore on the last day: a fetch of one of his repositories,
// then clones of three repositories of another team he has never read.
func (o *org) traveller(p *person) []event {
	w := where{"192.0.2.44", "SG", p.ua}
	evs := []event{o.git(o.at(9, 3.15), p, "git.fetch", p.workset[0], p.cred, w)}
	other := o.byTeam[(p.team+2)%len(teams)]
	for i := range 3 {
		evs = append(evs, o.git(o.at(9, 3.35+float64(i)*0.2), p, "git.clone", other[i], p.cred, w))
	}
	return evs
}

// abroad is a near miss: wlee-acme works from Lisbon for a day and reads only
// her own repositories, as a traveller does.
func (o *org) abroad(p *person) []event {
	w := where{"203.0.113.140", "PT", p.ua}
	var evs []event
	for i, action := range []string{"git.fetch", "git.fetch", "git.clone"} {
		evs = append(evs, o.git(o.at(8, 9.5-p.offset+float64(i)*0.5), p, action, p.workset[i%len(p.workset)], p.cred, w))
	}
	return evs
}

// newToken is a near miss: a developer gets a fine-grained token approved
// and uses it for two ordinary fetches.
func (o *org) newToken(p *person, d int) []event {
	tok := o.token(patFineGrained, "")
	w := o.home(p)
	h := 10.2 - p.offset
	bw := w
	bw.ua = browserUA
	e := o.base(o.at(d, h), p, "personal_access_token.access_granted", "create", bw)
	e.User, e.UserID = p.login, p.id
	e.ProgrammaticAccessType, e.TokenID, e.HashedToken = tok.kind, tok.id, tok.hash
	evs := []event{e}
	for i := range 2 {
		evs = append(evs, o.git(o.at(d, h+0.2+float64(i)*0.3), p, "git.fetch", p.workset[i], tok, w))
	}
	return evs
}

func (o *org) repoNamed(name string) *repo {
	for _, r := range o.repos {
		if r.name == name {
			return r
		}
	}
	panic("examplegen: no repository " + name)
}
