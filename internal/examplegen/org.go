package main

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"time"
)

// The organisation. Ids are fictional but shaped like GitHub's.
const (
	orgName      = "acme"
	orgID        = 9123456
	businessName = "acme-corp"
	businessID   = 4411
	days         = 10
)

// start is a Monday; the detections' 7-day learning period ends on the
// second Monday, and every attack happens after it.
var start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// credential is how an account authenticates its Git operations.
type credential struct {
	kind   string // programmatic_access_type; "" for SSH keys
	id     int64
	hash   string
	scopes string
}

// ssh reports whether the credential is an SSH key, which GitHub logs
// without token fields and over transport 2.
func (c credential) ssh() bool { return c.kind == "" }

const (
	patClassic     = "Personal access token (classic)"
	patFineGrained = "Fine-grained personal access token"
	oauthToken     = "OAuth access token"
)

type person struct {
	login   string
	id      int64
	nameid  string // SAML NameID; "" for machine users
	country string
	net     string  // the /24 they work from, "198.18.10"
	offset  float64 // hours from UTC of their working day
	team    int
	cred    credential
	ua      string
	// workset are the repositories they work on: cloned once, then fetched
	// and pushed to.
	workset []*repo
}

type repo struct {
	name       string // "acme/payments-core"
	id         int64
	visibility string // public, private, internal
	team       int    // -1 for the open-source repositories
}

type office struct {
	country string
	net     string
	offset  float64
}

var offices = []office{
	{"US", "198.18.10", -5}, // New York
	{"NL", "198.18.20", 1},  // Amsterdam
	{"GB", "198.18.30", 0},  // London
	{"IN", "198.18.40", 5.5},
}

var teams = []string{"payments", "platform", "mobile", "data", "web"}

var components = []string{"core", "api", "gateway", "ledger", "worker", "web", "cli", "sdk", "infra", "config",
	"docs", "tests", "schemas", "scheduler", "notifier", "auth", "billing", "search", "reports", "exporter",
	"importer", "cache", "proxy", "console", "metrics", "jobs", "events", "admin"}

var publicRepos = []string{".github", "acme-cli", "acme-go", "acme-js", "acme-python", "acme-ui-kit", "docs",
	"examples", "helm-charts", "homebrew-tap", "status-page", "terraform-provider-acme"}

// People: login, SAML name, team. The named ones play a part in the story
// (see examples/README.md); the others are background.
var staff = []struct{ login, name string }{
	{"admin-jsmith", "john.smith"}, {"mallory-acme", "mallory.reed"}, {"kwame-acme", "kwame.mensah"},
	{"priya-acme", "priya.raman"}, {"jdoe-acme", "jane.doe"}, {"bstone-acme", "bob.stone"},
	{"cwu-acme", "carol.wu"}, {"dkim-acme", "daniel.kim"}, {"eolsen-acme", "erik.olsen"},
	{"fnakamura-acme", "fumiko.nakamura"}, {"gadeyemi-acme", "grace.adeyemi"}, {"hmuller-acme", "hans.muller"},
	{"ilopez-acme", "isabel.lopez"}, {"jkowalski-acme", "jakub.kowalski"}, {"kpatel-acme", "kiran.patel"},
	{"lrossi-acme", "luca.rossi"}, {"mdubois-acme", "marie.dubois"}, {"nsingh-acme", "nikhil.singh"},
	{"oberg-acme", "olga.berg"}, {"pnovak-acme", "petr.novak"}, {"qzhang-acme", "qing.zhang"},
	{"rsilva-acme", "rafael.silva"}, {"sahmed-acme", "sara.ahmed"}, {"tjansen-acme", "tom.jansen"},
	{"ukaya-acme", "umut.kaya"}, {"vmoreau-acme", "victor.moreau"}, {"wlee-acme", "wendy.lee"},
	{"xgarcia-acme", "ximena.garcia"}, {"ybrown-acme", "yusuf.brown"},
	// The new joiner: first seen after the learning period.
	{"tcho-acme", "tomas.cho"},
}

// Fixed homes for the people the story needs to control.
var homes = map[string]int{"admin-jsmith": 0, "mallory-acme": 0, "kwame-acme": 1, "priya-acme": 1, "tcho-acme": 0}

type org struct {
	rng    *rand.Rand
	repos  []*repo
	byTeam [][]*repo
	people []*person
	byName map[string]*person
	bots   []*person
}

func newOrg(rng *rand.Rand) *org {
	o := &org{rng: rng, byName: make(map[string]*person), byTeam: make([][]*repo, len(teams))}
	id := int64(70011000)
	for t, team := range teams {
		for i, c := range components {
			vis := "private"
			if t == 1 && i < 4 { // platform's shared libraries are internal
				vis = "internal"
			}
			id += 37
			r := &repo{name: orgName + "/" + team + "-" + c, id: id, visibility: vis, team: t}
			o.repos = append(o.repos, r)
			o.byTeam[t] = append(o.byTeam[t], r)
		}
	}
	for _, name := range publicRepos {
		id += 37
		o.repos = append(o.repos, &repo{name: orgName + "/" + name, id: id, visibility: "public", team: -1})
	}

	gitVersions := []string{"git/2.43.0", "git/2.44.0", "git/2.45.2", "git/2.39.3 (Apple Git-146)", "git/2.47.1.windows.1"}
	for i, s := range staff {
		off := offices[rng.IntN(len(offices))]
		if h, ok := homes[s.login]; ok {
			off = offices[h]
		}
		p := &person{
			login: s.login, id: 5810000 + int64(i)*7919, nameid: s.name + "@acme.example",
			country: off.country, net: off.net, offset: off.offset,
			team: i % len(teams), ua: gitVersions[rng.IntN(len(gitVersions))],
		}
		switch s.login {
		case "mallory-acme":
			p.team = 0
			p.cred = credential{} // SSH, so the attacker's new token stands out
		case "priya-acme", "tcho-acme":
			p.team = 1
			if s.login == "tcho-acme" {
				p.team = 2
			}
			p.cred = o.token(oauthToken, "")
		default:
			switch rng.IntN(4) {
			case 0:
				p.cred = credential{}
			case 1:
				p.cred = o.token(patClassic, "repo,workflow,read:org")
			case 2:
				p.cred = o.token(patFineGrained, "")
			default:
				p.cred = o.token(oauthToken, "")
			}
		}
		team := o.byTeam[p.team]
		n := 5 + rng.IntN(4)
		if s.login == "priya-acme" {
			// Priya maintains the build tooling: she works in 30
			// repositories across teams and fetches them all each
			// morning with a script.
			for _, j := range rng.Perm(len(o.repos) - len(publicRepos))[:30] {
				p.workset = append(p.workset, o.repos[j])
			}
		} else if s.login != "admin-jsmith" { // the admin never uses Git
			for _, j := range rng.Perm(len(team))[:n] {
				p.workset = append(p.workset, team[j])
			}
		}
		o.people = append(o.people, p)
		o.byName[p.login] = p
	}
	for i, login := range []string{"acme-build-ci", "svc-deploy"} {
		b := &person{login: login, id: 9900100 + int64(i)*13, country: "US", net: "198.51.100", ua: "git/2.43.0",
			cred: o.token(patClassic, "repo,read:packages"), team: -1}
		o.bots = append(o.bots, b)
		o.byName[login] = b
	}
	return o
}

// token returns a new credential with a token id and the base64 SHA-256 of
// a made-up token, as GitHub's hashed_token is.
func (o *org) token(kind, scopes string) credential {
	id := 60000000 + o.rng.Int64N(40000000)
	var secret [20]byte
	for i := range secret {
		secret[i] = byte(o.rng.UintN(256))
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("ghp_%x", secret)))
	return credential{kind: kind, id: id, hash: base64.StdEncoding.EncodeToString(sum[:]), scopes: scopes}
}

// ip returns an address in net; the last octet varies like DHCP leases do.
func (o *org) ip(net string) string {
	return fmt.Sprintf("%s.%d", net, 10+o.rng.IntN(200))
}

// docID returns a 22-character id shaped like GitHub's _document_id.
func (o *org) docID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(o.rng.UintN(256))
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// uuid returns a version-4 UUID for a stream file name.
func (o *org) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(o.rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
