package simulate

import (
	"crypto/sha256"
	"encoding/base64"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Fixed names of the simulated organisation.
const (
	orgName     = "acme"
	orgID       = 9123456
	business    = "acme-corp"
	businessID  = 4411
	domain      = "acme.example"
	acqDomain   = "northwind.example" // the acquisition, signing in through Entra ID
	oktaAppID   = "0oa9gh1tHubEc1oud4p7"
	oktaAppName = "GitHub Enterprise Cloud"
	entraAppID  = "0f3c9e62-5d1a-4b7e-9a41-6c2d8e0b7f15"
	entraTenant = "8d2e4f60-1b3a-4c5d-9e7f-a0b1c2d3e4f5"
)

type role uint8

const (
	roleDev role = iota
	roleSRE
	roleSecurity
	roleManager
	roleContractor
	roleITAdmin
	roleCI  // machine user with a classic PAT, SSO-linked service account
	roleApp // GitHub App installation, no directory account
)

var roleTitles = [...]string{"Software Engineer", "Site Reliability Engineer", "Security Engineer",
	"Engineering Manager", "Contractor", "IT Administrator", "Service Account", "GitHub App"}

var roleDepartments = [...]string{"Engineering", "Platform", "Security", "Engineering", "External",
	"IT", "Engineering", "Engineering"}

// place is a city with its country and UTC offset (fixed; DST is not modelled).
type place struct {
	cc, country, city, state, postal string
	lat, lon                         float64
	off                              int // minutes east of UTC
}

// Offices are the first entries; the acquisition's office is the last office.
var places = []place{
	{"NL", "Netherlands", "Amsterdam", "North Holland", "1012", 52.37, 4.89, 60},
	{"DE", "Germany", "Berlin", "Berlin", "10115", 52.52, 13.40, 60},
	{"GB", "United Kingdom", "London", "England", "EC1A", 51.51, -0.13, 0},
	{"US", "United States", "New York", "New York", "10001", 40.71, -74.01, -300},
	{"US", "United States", "San Francisco", "California", "94105", 37.79, -122.40, -480},
	{"IN", "India", "Bengaluru", "Karnataka", "560001", 12.97, 77.59, 330},
	{"PL", "Poland", "Warsaw", "Mazowieckie", "00-001", 52.23, 21.01, 60},
	{"CA", "Canada", "Toronto", "Ontario", "M5H", 43.65, -79.38, -300},
	// Travel destinations.
	{"JP", "Japan", "Tokyo", "Tokyo", "100-0001", 35.68, 139.69, 540},
	{"SG", "Singapore", "Singapore", "Singapore", "018956", 1.28, 103.85, 480},
	{"ES", "Spain", "Madrid", "Madrid", "28001", 40.42, -3.70, 60},
	// Attacker origins.
	{"BR", "Brazil", "Sao Paulo", "Sao Paulo", "01000-000", -23.55, -46.63, -180},
	{"HK", "Hong Kong", "Hong Kong", "Hong Kong", "999077", 22.32, 114.17, 480},
	{"VN", "Vietnam", "Hanoi", "Hanoi", "100000", 21.03, 105.85, 420},
	{"US", "United States", "Ashburn", "Virginia", "20147", 39.04, -77.49, -300},
}

const (
	numOffices   = 8
	placeAcq     = 7
	placeTravel0 = 8
	placeBR      = 11
	placeHK      = 12
	placeVN      = 13
	placeAshburn = 14
)

type netKind uint8

const (
	netOffice netKind = iota
	netVPN
	netISP
	netHotel
	netCI
	netVPS
	netProxy
)

// network is one /24 of the 198.18.0.0/15 benchmarking range, so no real
// GeoIP database places the simulated addresses anywhere: geography comes
// from the records themselves.
type network struct {
	prefix string // "198.18.7."
	kind   netKind
	place  int
	asn    uint32
	asOrg  string
	domain string
	proxy  bool
	ips    [253]string // addresses built once, so busy runners allocate nothing
}

func (n *network) ip(host int) string {
	h := host % 253
	if n.ips[h] == "" {
		n.ips[h] = n.prefix + strconv.Itoa(1+h)
	}
	return n.ips[h]
}

type repo struct {
	full    string // "acme/payments-core-api"
	id      int64
	vis     uint8 // visPublic, visPrivate, visInternal
	team    int
	infra   bool
	secrets bool
}

const (
	visPublic uint8 = iota
	visPrivate
	visInternal
)

var visNames = [...]string{"public", "private", "internal"}

type credKind uint8

const (
	credSSH credKind = iota
	credPATClassic
	credPATFine
	credApp
)

var credTypeNames = [...]string{"", "Personal access token (classic)", "Fine-grained personal access token",
	"GitHub App server-to-server token"}

type token struct {
	kind   credKind
	id     int64
	hash   string
	scopes string
	name   string // user_programmatic_access_name, for tokens a scenario creates
}

type person struct {
	idx         int
	first, last string
	display     string
	login       string
	actorID     int64
	upn         string
	oktaID      string
	entraID     string // set for the acquisition's users (Entra ID instead of Okta)
	role        role
	team        int // -1 for none
	office      int
	startMin    int // local minute the working day starts
	lenMin      int
	homeIP      string
	officeIP    string
	vpnIP       string
	homeNet     int
	gitUA       string
	webUA       int
	tok         *token // HTTPS credential; nil = SSH
	teamRepos   []int
	hot         []int
	joinDay     int // first active day; 0 for people who were there before
	leaveDay    int // last active day; a large number for people who stay
	releaser    bool
	integration string // GitHub App name for roleApp
	botRepos    []int  // repositories a CI bot or app builds
	runnerNet   int
	weekendProb float64
	busy        map[int]bool // days whose activity a scenario plans explicitly
	adminCount  bool
	travelPlace int // destination of a trip, when travelFrom <= day <= travelTo
	travelFrom  int
	travelTo    int
}

type team struct {
	slug    string
	members []int
	repos   []int
	infra   bool
}

type org struct {
	people   []*person
	teams    []*team
	repos    []*repo
	nets     []*network
	vpnNet   [3]int // EU, US, APAC egress
	officeNt [numOffices]int
	ispNets  [][]int // per place
	ciNet    int
	hotelNet map[int]int
	attNet   map[int]int // place -> attacker network (BR ISP, HK VPS, VN VPS, Ashburn proxy)
	helpdesk []int       // IT admins who reset passwords
	internal []int       // repositories visible org-wide (internal/public)
	nextTok  int64
	nCI      int
	nApp     int
}

var firstNames = strings.Fields(`James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth
William Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony
Betty Mark Sandra Paul Ashley Steven Emily Andrew Kimberly Joshua Donna Kevin Michelle Brian Carol Priya
Arjun Ananya Rahul Sven Anna Lukas Sophie Jan Eva Piotr Zofia Tomasz Maja Lucas Emma Noah Olivia Liam Mia`)

var lastNames = strings.Fields(`Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez
Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Patel
Sharma Iyer Reddy deVries Jansen Bakker Visser Mueller Schmidt Schneider Fischer Kowalski Nowak Wojcik
Lewandowski Evans Hughes Edwards Collins`)

var teamDomains = strings.Fields(`payments checkout search identity mobile web data ml billing notifications
catalog inventory shipping analytics growth messaging ledger fraud pricing partners`)

var teamAreas = strings.Fields(`core api platform risk edge sync ingest reports portal gateway`)

var components = strings.Fields(`api service web worker lib sdk cli ui jobs events schema proxy docs
scheduler exporter importer adapter client server cache`)

var infraRepos = strings.Fields(`terraform-aws terraform-gcp k8s-clusters helm-charts ansible-playbooks
vault-policies network-config dns-zones ci-runners observability monitoring-rules bootstrap`)

var gitUAs = []string{"git/2.43.0", "git/2.44.0", "git/2.45.2", "git/2.39.3 (Apple Git-146)", "git/2.47.1",
	"JGit/6.9.0.202403050737-r"}

type webUA struct{ raw, os, browser string }

var webUAs = []webUA{
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Mac OS X", "CHROME"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Windows 10", "EDGE"},
	{"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Linux", "FIREFOX"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Mac OS X", "SAFARI"},
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randString(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = base62[r.IntN(len(base62))]
	}
	return string(b)
}

func randUUID(r *rand.Rand) string {
	var b [36]byte
	appendUUID(b[:0], r)
	return string(b[:])
}

// appendUUID appends a version-4-shaped UUID drawn from r.
func appendUUID(dst []byte, r *rand.Rand) []byte {
	const hex = "0123456789abcdef"
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	var raw [16]byte
	for i := 0; i < 8; i++ {
		raw[i] = byte(hi >> (56 - 8*i))
		raw[8+i] = byte(lo >> (56 - 8*i))
	}
	for i, c := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hex[c>>4], hex[c&15])
	}
	return dst
}

func (o *org) newToken(r *rand.Rand, kind credKind, scopes string) *token {
	o.nextTok++
	var secret [16]byte
	for i := range secret {
		secret[i] = byte(r.Uint32())
	}
	sum := sha256.Sum256(secret[:])
	return &token{kind: kind, id: 70000000 + o.nextTok*37, hash: base64.StdEncoding.EncodeToString(sum[:]), scopes: scopes}
}

func (o *org) addNet(kind netKind, pl int, asn uint32, asOrg, dom string, proxy bool) int {
	i := len(o.nets)
	o.nets = append(o.nets, &network{prefix: "198." + strconv.Itoa(18+i/256) + "." + strconv.Itoa(i%256) + ".",
		kind: kind, place: pl, asn: asn, asOrg: asOrg, domain: dom, proxy: proxy})
	return i
}

// vpnRegion maps an office to its VPN concentrator.
func vpnRegion(office int) int {
	switch places[office].cc {
	case "US", "CA":
		return 1
	case "IN":
		return 2
	}
	return 0
}

func buildNetworks(o *org) {
	asn := uint32(64600)
	next := func() uint32 { asn++; return asn }
	for i := 0; i < numOffices; i++ {
		o.officeNt[i] = o.addNet(netOffice, i, 64512, "Acme Corp", domain, false)
	}
	o.vpnNet[0] = o.addNet(netVPN, 0, 64512, "Acme Corp", domain, false)
	o.vpnNet[1] = o.addNet(netVPN, 3, 64512, "Acme Corp", domain, false)
	o.vpnNet[2] = o.addNet(netVPN, 5, 64512, "Acme Corp", domain, false)
	o.ispNets = make([][]int, len(places))
	for i := 0; i < numOffices; i++ {
		for k := 0; k < 3; k++ {
			a := next()
			o.ispNets[i] = append(o.ispNets[i], o.addNet(netISP, i, a,
				places[i].city+" Broadband "+strconv.Itoa(k+1), "isp"+strconv.Itoa(int(a))+".example", false))
		}
	}
	o.ciNet = o.addNet(netCI, 3, 64520, "Example Cloud Compute", "cloud.example", false)
	o.hotelNet = map[int]int{}
	for pl := placeTravel0; pl < placeBR; pl++ {
		a := next()
		o.hotelNet[pl] = o.addNet(netHotel, pl, a, places[pl].city+" Hotel WiFi", "hotel"+strconv.Itoa(int(a))+".example", false)
	}
	o.attNet = map[int]int{
		placeBR:      o.addNet(netISP, placeBR, next(), "Sao Paulo Telecom", "sptel.example", false),
		placeHK:      o.addNet(netVPS, placeHK, next(), "Harbour VPS Hosting Ltd", "harbourvps.example", false),
		placeVN:      o.addNet(netVPS, placeVN, next(), "Red River Cloud Servers", "rrcloud.example", false),
		placeAshburn: o.addNet(netProxy, placeAshburn, next(), "Residential Proxy Network LLC", "resiproxy.example", true),
	}
}

// buildOrg creates n identities: people in roles and teams, bots, repositories.
func buildOrg(r *rand.Rand, n, days int) *org {
	o := &org{}
	buildNetworks(o)
	nCI := max(2*(1+n/1500), n/400) // two per scenario instance: the victim and the look-alike
	nApp := max(1, n/500)
	o.nCI, o.nApp = nCI, nApp
	people := n - nCI - nApp
	nIT := max(3, people/100)
	nSec := max(2, people/60)
	nMgr := max(2, people/12)
	nCon := max(2, people/25)
	nSRE := max(3, people/25)
	nDev := people - nIT - nSec - nMgr - nCon - nSRE
	logins := map[string]int{}
	upns := map[string]int{}
	uniq := func(m map[string]int, s string) string {
		m[s]++
		if c := m[s]; c > 1 {
			return s + strconv.Itoa(c)
		}
		return s
	}
	add := func(rl role) *person {
		p := &person{idx: len(o.people), role: rl, team: -1, leaveDay: 1 << 30}
		p.first = firstNames[r.IntN(len(firstNames))]
		p.last = lastNames[r.IntN(len(lastNames))]
		p.display = p.first + " " + p.last
		p.actorID = 5800000 + int64(p.idx)*13 + int64(r.IntN(13))
		p.oktaID = "00u" + randString(r, 17)
		p.webUA = r.IntN(len(webUAs))
		p.gitUA = gitUAs[r.IntN(len(gitUAs))]
		p.office = r.IntN(numOffices - 1)
		p.startMin = 7*60 + r.IntN(180)
		p.lenMin = 480 + r.IntN(90)
		p.weekendProb = 0.03
		o.people = append(o.people, p)
		return p
	}
	naming := func(p *person, dom string) {
		base := strings.ToLower(p.first[:1] + p.last)
		p.login = uniq(logins, base+"-acme")
		p.upn = uniq(upns, strings.ToLower(p.first)+"."+strings.ToLower(p.last)) + "@" + dom
	}
	for _, c := range []struct {
		rl role
		n  int
	}{{roleDev, nDev}, {roleSRE, nSRE}, {roleSecurity, nSec}, {roleManager, nMgr}, {roleContractor, nCon}, {roleITAdmin, nIT}} {
		for i := 0; i < c.n; i++ {
			p := add(c.rl)
			dom := domain
			if c.rl == roleDev && i%8 == 7 {
				p.office = placeAcq
				p.entraID = randUUID(r)
				dom = acqDomain
			}
			if c.rl == roleContractor {
				p.office = 6
			}
			naming(p, dom)
			isp := o.ispNets[p.office][r.IntN(3)]
			p.homeNet = isp
			p.homeIP = o.nets[isp].ip(r.IntN(250))
			p.officeIP = o.nets[o.officeNt[p.office]].ip(r.IntN(4))
			p.vpnIP = o.nets[o.vpnNet[vpnRegion(p.office)]].ip(r.IntN(6))
			switch {
			case r.IntN(3) == 0:
				p.tok = nil // SSH
			case r.IntN(2) == 0:
				p.tok = o.newToken(r, credPATFine, "")
			default:
				p.tok = o.newToken(r, credPATClassic, "repo,read:org,workflow")
			}
			if c.rl == roleSRE {
				p.weekendProb = 0.2
			}
			if c.rl == roleITAdmin {
				p.adminCount = true
				p.weekendProb = 0.05
			}
		}
	}
	// Bots.
	for i := 0; i < nCI; i++ {
		p := add(roleCI)
		p.first, p.last = "CI", "Build "+strconv.Itoa(i+1)
		p.display = "CI Build Service " + strconv.Itoa(i+1)
		p.login = "acme-ci-" + strconv.Itoa(i+1)
		p.upn = "svc-github-ci" + strconv.Itoa(i+1) + "@" + domain
		p.tok = o.newToken(r, credPATClassic, "repo,read:packages")
		p.runnerNet = o.ciNet
		p.gitUA = "git/2.43.0"
		p.office = 3
	}
	appNames := []string{"acme-deployer", "renovate", "acme-security-scanner", "acme-docs-bot", "acme-release"}
	for i := 0; i < nApp; i++ {
		p := add(roleApp)
		name := appNames[i%len(appNames)]
		if i >= len(appNames) {
			name += "-" + strconv.Itoa(i/len(appNames)+1)
		}
		p.integration = name
		p.login = name + "[bot]"
		p.display = name
		p.upn = ""
		p.tok = o.newToken(r, credApp, "")
		p.runnerNet = o.ciNet
		p.gitUA = "git/2.43.0"
		p.office = 3
	}
	buildTeams(r, o, days)
	for _, p := range o.people {
		if p.role == roleITAdmin {
			o.helpdesk = append(o.helpdesk, p.idx)
		}
	}
	return o
}

func (o *org) addRepo(name string, tm int, vis uint8) int {
	i := len(o.repos)
	rp := &repo{full: orgName + "/" + name, id: 700000000 + int64(i)*7919, vis: vis, team: tm}
	for _, w := range []string{"terraform", "k8s", "helm", "ansible", "infra", "network", "dns", "runners", "bootstrap"} {
		if strings.Contains(name, w) {
			rp.infra = true
		}
	}
	for _, w := range []string{"secrets", "vault", "credentials"} {
		if strings.Contains(name, w) {
			rp.secrets = true
		}
	}
	o.repos = append(o.repos, rp)
	if vis != visPrivate {
		o.internal = append(o.internal, i)
	}
	return i
}

func pickVis(r *rand.Rand) uint8 {
	switch x := r.IntN(100); {
	case x < 5:
		return visPublic
	case x < 20:
		return visInternal
	}
	return visPrivate
}

func buildTeams(r *rand.Rand, o *org, days int) {
	var devs, sres, secs, mgrs, cons []*person
	for _, p := range o.people {
		switch p.role {
		case roleDev:
			devs = append(devs, p)
		case roleSRE:
			sres = append(sres, p)
		case roleSecurity:
			secs = append(secs, p)
		case roleManager:
			mgrs = append(mgrs, p)
		case roleContractor:
			cons = append(cons, p)
		}
	}
	names := map[string]bool{}
	newTeam := func(slug string) *team {
		for names[slug] {
			slug += "x"
		}
		names[slug] = true
		t := &team{slug: slug}
		o.teams = append(o.teams, t)
		return t
	}
	// Developer teams of 6 to 10.
	for i := 0; i < len(devs); {
		size := min(6+r.IntN(5), len(devs)-i)
		t := newTeam(teamDomains[r.IntN(len(teamDomains))] + "-" + teamAreas[r.IntN(len(teamAreas))])
		ti := len(o.teams) - 1
		for _, p := range devs[i : i+size] {
			p.team = ti
			t.members = append(t.members, p.idx)
		}
		i += size
		nRepos := size*2 + r.IntN(size*2+1)
		used := map[string]bool{}
		for k := 0; k < nRepos; k++ {
			c := components[r.IntN(len(components))]
			name := t.slug + "-" + c
			if used[name] {
				name += "-" + strconv.Itoa(k)
			}
			used[name] = true
			t.repos = append(t.repos, o.addRepo(name, ti, pickVis(r)))
		}
		t.repos = append(t.repos, o.addRepo(t.slug+"-infra", ti, visPrivate))
		if r.IntN(3) == 0 {
			t.repos = append(t.repos, o.addRepo(t.slug+"-secrets", ti, visPrivate))
		}
	}
	// SRE team owns the shared infrastructure.
	sre := newTeam("sre")
	ti := len(o.teams) - 1
	sre.infra = true
	for _, p := range sres {
		p.team = ti
		sre.members = append(sre.members, p.idx)
	}
	for k := 0; k < len(sres)*3; k++ {
		name := infraRepos[k%len(infraRepos)]
		if k >= len(infraRepos) {
			name += "-" + strconv.Itoa(k/len(infraRepos)+1)
		}
		sre.repos = append(sre.repos, o.addRepo(name, ti, visPrivate))
	}
	sec := newTeam("security")
	ti = len(o.teams) - 1
	for _, p := range secs {
		p.team = ti
		sec.members = append(sec.members, p.idx)
	}
	for _, n := range []string{"security-tooling", "detections", "vault-secrets-rotation", "threat-models"} {
		sec.repos = append(sec.repos, o.addRepo(n, ti, visPrivate))
	}
	for _, n := range []string{"handbook", "shared-libs", "design-system", "engineering-rfcs"} {
		o.addRepo(n, -1, visInternal)
	}
	for _, n := range []string{"acme-oss-sdk", "acme.github.io"} {
		o.addRepo(n, -1, visPublic)
	}
	devTeams := len(o.teams) - 2
	for i, p := range mgrs {
		if devTeams > 0 {
			p.team = i % devTeams
		}
	}
	for _, p := range cons {
		if devTeams > 0 {
			p.team = r.IntN(devTeams)
			o.teams[p.team].members = append(o.teams[p.team].members, p.idx)
		}
	}
	for _, p := range o.people {
		if p.team >= 0 && p.role != roleCI && p.role != roleApp {
			t := o.teams[p.team]
			p.teamRepos = t.repos
			if p.role == roleContractor && len(t.repos) > 4 {
				p.teamRepos = t.repos[:4]
			}
			nh := min(len(p.teamRepos), 2+r.IntN(3))
			for _, k := range r.Perm(len(p.teamRepos))[:nh] {
				p.hot = append(p.hot, p.teamRepos[k])
			}
		}
	}
	// Release engineers: one developer per five teams.
	for i := 0; i < devTeams; i += 5 {
		if m := o.teams[i].members; len(m) > 0 {
			o.people[m[0]].releaser = true
		}
	}
	// Bots build disjoint shares of all repositories; apps touch all.
	var ci, apps []*person
	for _, p := range o.people {
		switch p.role {
		case roleCI:
			ci = append(ci, p)
		case roleApp:
			apps = append(apps, p)
		}
	}
	for i := range o.repos {
		ci[i%len(ci)].botRepos = append(ci[i%len(ci)].botRepos, i)
		apps[i%len(apps)].botRepos = append(apps[i%len(apps)].botRepos, i)
	}
	// New joiners: about 2% start during the period; about 1% travel for
	// a few days.
	for _, p := range o.people {
		p.travelFrom, p.travelTo = -1, -1
		if p.role != roleDev && p.role != roleManager {
			continue
		}
		if r.IntN(50) == 0 {
			p.joinDay = 1 + r.IntN(days-2)
		} else if r.IntN(100) == 0 {
			p.travelPlace = placeTravel0 + r.IntN(placeBR-placeTravel0)
			p.travelFrom = 1 + r.IntN(days-2)
			p.travelTo = p.travelFrom + 2 + r.IntN(3)
		}
	}
}
