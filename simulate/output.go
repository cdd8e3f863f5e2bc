package simulate

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Meta is meta.json, written next to labels.jsonl: what evaluate needs to
// turn false alerts into a rate per 1,000 identities per day.
type Meta struct {
	Identities int    `json:"identities"`
	Days       int    `json:"days"`
	Seed       int64  `json:"seed"`
	Start      string `json:"start"`
	End        string `json:"end"`
	Org        string `json:"org"`
	Result
}

func (s *sim) writeSideFiles() error {
	for _, f := range []struct {
		name string
		ls   []*label
	}{{"labels.jsonl", s.labels}, {"benign.jsonl", s.benign}} {
		if err := s.writeFile(f.name, false, func() {
			for _, l := range f.ls {
				b, _ := json.Marshal(l) // a struct of strings cannot fail
				s.bw.Write(b)
				s.bw.WriteByte('\n')
			}
		}); err != nil {
			return err
		}
	}
	if err := s.writeFile("identities.csv", false, func() {
		s.bw.WriteString("github_login,user_principal_name\n")
		for _, p := range s.o.people {
			if p.upn != "" {
				s.bw.WriteString(p.login + "," + p.upn + "\n")
			}
		}
	}); err != nil {
		return err
	}
	if err := s.writeFile("directory/directory.ldif", false, s.writeLDIF); err != nil {
		return err
	}
	m := Meta{Identities: s.res.Identities, Days: s.cfg.Days, Seed: s.cfg.Seed,
		Start: s.cfg.Start.Format(time.RFC3339), End: s.cfg.Start.AddDate(0, 0, s.cfg.Days).Format(time.RFC3339),
		Org: orgName, Result: s.res}
	b, _ := json.MarshalIndent(m, "", "  ") // plain struct: cannot fail
	return s.writeFile("meta.json", false, func() { s.bw.Write(append(b, '\n')) })
}

const baseDN = "DC=acme,DC=example"

// sid renders a domain SID with relative id rid as objectSid's binary form.
func sid(rid uint32) string {
	b := []byte{1, 5, 0, 0, 0, 0, 0, 5}
	for _, v := range []uint32{21, 1004336348, 1177238915, 682003330, rid} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return base64.StdEncoding.EncodeToString(b)
}

type ldapGroup struct {
	dn, cn, desc string
	rid          uint32
	admin        bool
	members      []string
	memberOf     []string
}

// writeLDIF writes an AD-shaped snapshot: people and service accounts with
// their groups, and Domain Admins reached through the nested IT Admins group.
func (s *sim) writeLDIF() {
	w := s.bw
	userDN := make([]string, len(s.o.people))
	userCN := make([]string, len(s.o.people))
	cns := map[string]int{}
	for _, p := range s.o.people {
		if p.upn == "" {
			continue
		}
		ou := "OU=" + places[p.office].city + ",OU=People"
		if p.role == roleCI {
			ou = "OU=Service Accounts"
		}
		if p.entraID != "" {
			ou = "OU=Northwind,OU=People"
		}
		cn := p.display
		if cns[cn]++; cns[cn] > 1 {
			cn += " " + strconv.Itoa(cns[cn])
		}
		userCN[p.idx] = cn
		userDN[p.idx] = "CN=" + cn + "," + ou + "," + baseDN
	}
	grp := func(cn, ou, desc string, rid uint32) *ldapGroup {
		return &ldapGroup{dn: "CN=" + cn + "," + ou + "," + baseDN, cn: cn, desc: desc, rid: rid}
	}
	da := grp("Domain Admins", "CN=Users", "Designated administrators of the domain", 512)
	da.admin = true
	it := grp("IT Admins", "OU=Groups", "IT operations staff", 1105)
	it.admin = true
	it.memberOf = []string{da.dn}
	da.members = []string{it.dn}
	ghUsers := grp("GitHub Users", "OU=Groups", "Members of the GitHub Enterprise organisation", 1106)
	byRole := map[role]*ldapGroup{
		roleDev:        grp("Engineering", "OU=Groups", "Software engineering", 1107),
		roleSRE:        grp("SRE", "OU=Groups", "Site reliability engineering", 1108),
		roleSecurity:   grp("Security", "OU=Groups", "Security engineering", 1109),
		roleManager:    grp("Engineering Managers", "OU=Groups", "Engineering management", 1110),
		roleContractor: grp("Contractors", "OU=Groups", "External contractors", 1111),
		roleITAdmin:    it,
		roleCI:         grp("Service Accounts", "OU=Groups", "Non-human accounts", 1112),
	}
	teamGroups := make([]*ldapGroup, len(s.o.teams))
	for i, t := range s.o.teams {
		teamGroups[i] = grp("gh-team-"+t.slug, "OU=Groups", "GitHub team "+t.slug, uint32(1200+i))
	}
	groups := []*ldapGroup{da, it, ghUsers}
	for _, rl := range []role{roleDev, roleSRE, roleSecurity, roleManager, roleContractor, roleCI} {
		groups = append(groups, byRole[rl])
	}
	groups = append(groups, teamGroups...)
	memberOf := make([][]string, len(s.o.people))
	for _, p := range s.o.people {
		if p.upn == "" {
			continue
		}
		gs := []*ldapGroup{ghUsers, byRole[p.role]}
		if p.team >= 0 && p.role != roleManager {
			gs = append(gs, teamGroups[p.team])
		}
		for _, g := range gs {
			g.members = append(g.members, userDN[p.idx])
			memberOf[p.idx] = append(memberOf[p.idx], g.dn)
		}
	}
	w.WriteString("version: 1\n\ndn: " + baseDN + "\nobjectClass: top\nobjectClass: domain\ndc: acme\n\n")
	for _, g := range groups {
		w.WriteString("dn: " + g.dn + "\nobjectClass: top\nobjectClass: group\ncn: " + g.cn +
			"\nsAMAccountName: " + g.cn + "\ndescription: " + g.desc + "\ngroupType: -2147483646\nobjectSid:: " + sid(g.rid) + "\n")
		if g.admin {
			w.WriteString("adminCount: 1\n")
		}
		for _, m := range g.members {
			w.WriteString("member: " + m + "\n")
		}
		for _, m := range g.memberOf {
			w.WriteString("memberOf: " + m + "\n")
		}
		w.WriteString("\n")
	}
	for _, p := range s.o.people {
		if p.upn == "" {
			continue
		}
		sam, _, _ := strings.Cut(p.upn, "@")
		if len(sam) > 20 {
			sam = sam[:20]
		}
		uac := "512"
		switch {
		case p.role == roleCI:
			uac = "66048"
		case p.leaveDay < s.cfg.Days-1:
			uac = "514"
		}
		created := s.cfg.Start.AddDate(-1, 0, p.idx%300)
		if p.joinDay > 0 {
			created = s.cfg.Start.AddDate(0, 0, p.joinDay-7)
		}
		pl := places[p.office]
		w.WriteString("dn: " + userDN[p.idx] + "\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: user\n" +
			"cn: " + userCN[p.idx] +
			"\ngivenName: " + p.first + "\nsn: " + p.last + "\ndisplayName: " + p.display +
			"\nsAMAccountName: " + sam + "\nuserPrincipalName: " + p.upn + "\nmail: " + p.upn +
			"\ndepartment: " + roleDepartments[p.role] + "\ntitle: " + roleTitles[p.role] +
			"\nc: " + pl.cc + "\nl: " + pl.city + "\nuserAccountControl: " + uac +
			"\nwhenCreated: " + created.Format("20060102150405") + ".0Z\n")
		if p.adminCount {
			w.WriteString("adminCount: 1\n")
		}
		for _, g := range memberOf[p.idx] {
			w.WriteString("memberOf: " + g + "\n")
		}
		w.WriteString("\n")
	}
}
