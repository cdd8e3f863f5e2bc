// Package directory models a point-in-time copy of an Active Directory (or
// any LDAP directory shaped like one): its users, its groups and who is
// privileged through which group. A Snapshot is built once — from an LDIF
// export, a JSON snapshot file or a live LDAP server (Client) — and is then
// read-only, so one snapshot may be shared by every pipeline goroutine.
package directory

import (
	"encoding/binary"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// User is a directory user account.
type User struct {
	DN                string   `json:"dn"`
	SAMAccountName    string   `json:"sAMAccountName,omitempty"`
	UserPrincipalName string   `json:"userPrincipalName,omitempty"`
	Mail              string   `json:"mail,omitempty"`
	DisplayName       string   `json:"displayName,omitempty"`
	Department        string   `json:"department,omitempty"`
	MemberOf          []string `json:"memberOf,omitempty"`
	// PrimaryGroupID is the RID of the user's primary group, which AD does
	// not list in memberOf (513 Domain Users; 512 Domain Admins).
	PrimaryGroupID uint32 `json:"primaryGroupID,omitempty"`
	// AdminCount is true when adminCount=1: the account is or once was in a
	// protected group (SDProp never clears it).
	AdminCount         bool   `json:"adminCount,omitempty"`
	UserAccountControl uint32 `json:"userAccountControl,omitempty"`
	// Disabled is userAccountControl's ACCOUNTDISABLE bit (UACAccountDisable), or set
	// explicitly in a JSON snapshot.
	Disabled bool `json:"disabled,omitempty"`

	idx int // position in Snapshot.Users, the key of the privilege table
}

// Group is a directory group.
type Group struct {
	DN string `json:"dn"`
	CN string `json:"cn,omitempty"`
	// ObjectSID is the group's SID in text form ("S-1-5-21-…-512"), empty
	// when the directory has none (OpenLDAP).
	ObjectSID string   `json:"objectSid,omitempty"`
	Member    []string `json:"member,omitempty"`
	MemberOf  []string `json:"memberOf,omitempty"`
}

// UACAccountDisable is userAccountControl's ACCOUNTDISABLE bit.
const UACAccountDisable = 0x2

// DefaultPrivilegedGroups are the protected AD groups whose members
// administer the domain, matched by cn.
var DefaultPrivilegedGroups = []string{"Domain Admins", "Enterprise Admins", "Schema Admins",
	"Administrators", "Account Operators", "Server Operators", "Backup Operators"}

// DefaultPrivilegedRIDs are the well-known relative ids of the same groups,
// matched on the last sub-authority of objectSid because group names are
// localized and renamable while SIDs are not.
var DefaultPrivilegedRIDs = []uint32{512, 519, 518, 544, 548, 549, 551}

// Policy says which groups make their transitive members privileged.
type Policy struct {
	// Groups are group cns or DNs (case-insensitive) or full SIDs
	// ("S-1-5-32-544"); nil means DefaultPrivilegedGroups.
	Groups []string
	// RIDs are relative ids matched against groups' objectSid; nil means
	// DefaultPrivilegedRIDs, an empty non-nil slice disables RID matching.
	RIDs []uint32
	// AdminCountPrivileged makes adminCount=1 alone privileged. It is off by
	// default because adminCount over-reports (former admins keep it), but
	// the reason is always reported.
	AdminCountPrivileged bool
}

// Expansion says how nested group membership was resolved.
type Expansion uint8

// Expansion methods.
const (
	// ExpansionLocal: from the member/memberOf values in the snapshot.
	ExpansionLocal Expansion = iota
	// ExpansionInChain: the server answered LDAP_MATCHING_RULE_IN_CHAIN
	// queries (Active Directory).
	ExpansionInChain
	// ExpansionRecursive: the server ignored the in-chain rule, so the
	// client expanded member values recursively (OpenLDAP).
	ExpansionRecursive
)

var expansionNames = [...]string{"local", "in_chain", "recursive"}

func (e Expansion) String() string {
	if int(e) < len(expansionNames) {
		return expansionNames[e]
	}
	return "unknown"
}

// ViaAdminCount is the privilege reason reported for adminCount=1.
const ViaAdminCount = "adminCount=1"

// Snapshot is a directory at one point in time. Build it with New (or a
// loader) and do not modify it afterwards: it is shared read-only.
type Snapshot struct {
	Users  []*User
	Groups []*Group
	// Source names where the snapshot came from: a file path or an LDAP URL.
	Source string
	// Fetched is when the directory was read (zero when unknown).
	Fetched time.Time
	// Expansion is how nested membership was resolved.
	Expansion Expansion
	// InChain holds, per privileged group DN (normalized), the user DNs
	// (normalized) the server reported as transitive members; it adds to
	// what the member/memberOf graph shows.
	InChain map[string][]string

	policy Policy
	index  map[string]*User  // lower-cased sAMAccountName, UPN, mail
	byDN   map[string]*User  // normalized DN
	groups map[string]*Group // normalized DN
	priv   []privilege       // by User.idx
}

type privilege struct {
	privileged bool
	via        []string
}

// New indexes users and groups and resolves privilege under p. The
// snapshot keeps the slices; callers must not modify them afterwards.
func New(users []*User, groups []*Group, p Policy) *Snapshot {
	return build(users, groups, nil, p)
}

// build is New with the server's transitive memberships (Snapshot.InChain).
func build(users []*User, groups []*Group, inChain map[string][]string, p Policy) *Snapshot {
	s := &Snapshot{Users: users, Groups: groups, InChain: inChain}
	s.index = make(map[string]*User, 3*len(users))
	s.byDN = make(map[string]*User, len(users))
	s.groups = make(map[string]*Group, len(groups))
	for i, u := range users {
		u.idx = i
		u.Disabled = u.Disabled || u.UserAccountControl&UACAccountDisable != 0
		s.byDN[NormalizeDN(u.DN)] = u
	}
	// Keys in order of authority: a UPN beats another user's mail, which
	// beats another user's sAMAccountName.
	for _, key := range []func(*User) string{
		func(u *User) string { return u.UserPrincipalName },
		func(u *User) string { return u.Mail },
		func(u *User) string { return u.SAMAccountName },
	} {
		for _, u := range users {
			if k := strings.ToLower(strings.TrimSpace(key(u))); k != "" {
				if _, dup := s.index[k]; !dup {
					s.index[k] = u
				}
			}
		}
	}
	for _, g := range groups {
		s.groups[NormalizeDN(g.DN)] = g
	}
	s.resolve(p)
	return s
}

// WithPolicy returns a snapshot sharing s's users and groups with privilege
// resolved under p.
func (s *Snapshot) WithPolicy(p Policy) *Snapshot {
	c := *s
	c.resolve(p)
	return &c
}

// Policy returns the policy privilege was resolved under.
func (s *Snapshot) Policy() Policy { return s.policy }

// Lookup finds a user by sAMAccountName, userPrincipalName or mail,
// ignoring case. It allocates only when key is not already lower case.
func (s *Snapshot) Lookup(key string) (*User, bool) {
	if u, ok := s.index[key]; ok {
		return u, true
	}
	if lower := strings.ToLower(key); lower != key {
		u, ok := s.index[lower]
		return u, ok
	}
	return nil, false
}

// UserByDN finds a user by distinguished name.
func (s *Snapshot) UserByDN(dn string) (*User, bool) {
	u, ok := s.byDN[NormalizeDN(dn)]
	return u, ok
}

// GroupByDN finds a group by distinguished name.
func (s *Snapshot) GroupByDN(dn string) (*Group, bool) {
	g, ok := s.groups[NormalizeDN(dn)]
	return g, ok
}

// Privileged reports whether u is privileged and why: the privileged groups
// reached, each with the chain of groups it was reached through ("Domain
// Admins via IT Admins > Tier0"), and "adminCount=1" where set. via is
// shared: callers must not modify it. u must come from this snapshot.
func (s *Snapshot) Privileged(u *User) (bool, []string) {
	if u == nil || u.idx >= len(s.priv) || s.Users[u.idx] != u {
		return false, nil
	}
	p := s.priv[u.idx]
	return p.privileged, p.via
}

// matcher returns the test for a privileged group under p.
func (p Policy) matcher() func(*Group) bool {
	names := p.Groups
	if names == nil {
		names = DefaultPrivilegedGroups
	}
	rids := p.RIDs
	if rids == nil {
		rids = DefaultPrivilegedRIDs
	}
	wanted := make(map[string]bool, len(names))
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case strings.HasPrefix(strings.ToUpper(n), "S-1-"):
			wanted[strings.ToUpper(n)] = true
		case strings.Contains(n, "="):
			wanted[NormalizeDN(n)] = true
		default:
			wanted[strings.ToLower(n)] = true
		}
	}
	return func(g *Group) bool {
		if wanted[strings.ToLower(g.CN)] || wanted[NormalizeDN(g.DN)] || (g.ObjectSID != "" && wanted[strings.ToUpper(g.ObjectSID)]) {
			return true
		}
		rid, ok := SIDRID(g.ObjectSID)
		return ok && slices.Contains(rids, rid)
	}
}

// resolve computes every user's privilege once, so Privileged is a slice
// index on the hot path. Reaches are computed per group and shared by the
// group's members, so the cost grows with groups × nesting depth, not users
// × depth.
func (s *Snapshot) resolve(p Policy) {
	s.policy = p
	isPriv := p.matcher()
	privileged := make(map[string]bool)
	for _, g := range s.Groups {
		if isPriv(g) {
			privileged[NormalizeDN(g.DN)] = true
		}
	}
	// Groups configured by DN count even when the snapshot lacks their
	// entry (a memberOf pointing outside the export).
	for _, n := range p.Groups {
		if strings.Contains(n, "=") {
			privileged[NormalizeDN(n)] = true
		}
	}

	// parents[groupDN] are the groups that list it as member or that it
	// lists in memberOf: both sides are read because exports and servers
	// fill one or the other.
	parents := make(map[string][]string, len(s.groups))
	userGroups := make(map[*User][]string, len(s.Users))
	addEdge := func(m map[string][]string, child, parent string) {
		if !slices.Contains(m[child], parent) {
			m[child] = append(m[child], parent)
		}
	}
	for _, g := range s.Groups {
		gdn := NormalizeDN(g.DN)
		for _, m := range g.Member {
			mdn := NormalizeDN(m)
			if u, ok := s.byDN[mdn]; ok {
				if !slices.Contains(userGroups[u], gdn) {
					userGroups[u] = append(userGroups[u], gdn)
				}
			} else {
				addEdge(parents, mdn, gdn)
			}
		}
		for _, m := range g.MemberOf {
			addEdge(parents, gdn, NormalizeDN(m))
		}
	}
	// Primary groups by RID within each domain: AD lists them nowhere else.
	byRID := make(map[uint32]string)
	for _, g := range s.Groups {
		if rid, ok := SIDRID(g.ObjectSID); ok && strings.HasPrefix(g.ObjectSID, "S-1-5-21-") {
			byRID[rid] = NormalizeDN(g.DN)
		}
	}
	name := func(dn string) string {
		if g := s.groups[dn]; g != nil {
			if g.CN != "" {
				return g.CN
			}
			return g.DN
		}
		return dn
	}
	memo := make(map[string][]reach, len(s.groups))
	reaches := func(start string) []reach {
		if r, ok := memo[start]; ok {
			return r
		}
		// Breadth-first up the parents, so each privileged group is reported
		// with its shortest chain; prev doubles as the visited set, which
		// is what stops membership cycles.
		var out []reach
		prev := map[string]string{start: ""}
		depth := map[string]int{start: 0}
		for queue := []string{start}; len(queue) > 0; queue = queue[1:] {
			dn := queue[0]
			if privileged[dn] {
				var chain []string
				for c := prev[dn]; c != ""; c = prev[c] {
					chain = append(chain, name(c))
				}
				text := name(dn)
				if len(chain) > 0 {
					text += " via " + strings.Join(chain, " > ")
				}
				out = append(out, reach{group: dn, text: text, depth: depth[dn]})
			}
			for _, pdn := range parents[dn] {
				if _, seen := prev[pdn]; !seen {
					prev[pdn] = dn
					depth[pdn] = depth[dn] + 1
					queue = append(queue, pdn)
				}
			}
		}
		memo[start] = out
		return out
	}

	inChain := slices.Sorted(maps.Keys(s.InChain))
	s.priv = make([]privilege, len(s.Users))
	for _, u := range s.Users {
		var direct []string
		primary := ""
		var via []string
		if u.PrimaryGroupID != 0 {
			if dn, ok := byRID[u.PrimaryGroupID]; ok {
				primary = dn
				direct = append(direct, dn)
			} else if u.PrimaryGroupID == 512 {
				via = append(via, "Domain Admins (primaryGroupID=512)")
			}
		}
		for _, m := range u.MemberOf {
			if dn := NormalizeDN(m); !slices.Contains(direct, dn) {
				direct = append(direct, dn)
			}
		}
		for _, dn := range userGroups[u] {
			if !slices.Contains(direct, dn) {
				direct = append(direct, dn)
			}
		}
		// Each privileged group once, by its shortest chain (first direct
		// group on ties), nearest first.
		var best []reach
		for _, dn := range direct {
			for _, r := range reaches(dn) {
				if r.depth == 0 && dn == primary {
					r.text += " (primaryGroupID=" + strconv.FormatUint(uint64(u.PrimaryGroupID), 10) + ")"
				}
				i := slices.IndexFunc(best, func(b reach) bool { return b.group == r.group })
				switch {
				case i < 0:
					best = append(best, r)
				case r.depth < best[i].depth:
					best[i] = r
				}
			}
		}
		slices.SortStableFunc(best, func(a, b reach) int { return a.depth - b.depth })
		for _, r := range best {
			via = append(via, r.text)
		}
		// Server-computed transitive memberships the graph could not show
		// (groups outside the searched base, for one).
		udn := NormalizeDN(u.DN)
		for _, gdn := range inChain {
			if slices.ContainsFunc(best, func(b reach) bool { return b.group == gdn }) || !slices.Contains(s.InChain[gdn], udn) {
				continue
			}
			via = append(via, name(gdn)+" (nested)")
		}
		priv := len(via) > 0
		if u.AdminCount {
			via = append(via, ViaAdminCount)
			priv = priv || p.AdminCountPrivileged
		}
		s.priv[u.idx] = privilege{privileged: priv, via: via}
	}
}

// reach is a privileged group reached from a group, with the chain text.
type reach struct {
	group string // normalized DN of the privileged group
	text  string
	depth int
}

// NormalizeDN returns dn in a canonical form for comparison: attribute
// types and values lower-cased, no spaces around separators. DNs that do
// not parse are lower-cased and trimmed.
func NormalizeDN(dn string) string {
	d, err := ldap.ParseDN(dn)
	if err != nil || len(d.RDNs) == 0 {
		return strings.ToLower(strings.TrimSpace(dn))
	}
	var b strings.Builder
	for i, r := range d.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, a := range r.Attributes {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(strings.ToLower(a.Type))
			b.WriteByte('=')
			b.WriteString(escapeDNValue(strings.ToLower(a.Value)))
		}
	}
	return b.String()
}

// escapeDNValue escapes the RFC 4514 special characters so that values
// containing them do not merge with the next RDN after normalization.
func escapeDNValue(v string) string {
	if !strings.ContainsAny(v, `,+"\<>;=#`) && !strings.HasPrefix(v, " ") && !strings.HasSuffix(v, " ") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if strings.IndexByte(`,+"\<>;=`, c) >= 0 || (c == '#' && i == 0) || (c == ' ' && (i == 0 || i == len(v)-1)) {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// SIDRID returns the last sub-authority (the relative id) of a text SID.
func SIDRID(sid string) (uint32, bool) {
	i := strings.LastIndexByte(sid, '-')
	if i < 0 || !strings.HasPrefix(sid, "S-") {
		return 0, false
	}
	v, err := strconv.ParseUint(sid[i+1:], 10, 32)
	return uint32(v), err == nil
}

// ParseSID turns objectSid as a directory returns it — the binary form AD
// stores, or already text ("S-1-5-…") — into text. ok is false for values
// that are neither.
func ParseSID(b []byte) (string, bool) {
	if len(b) >= 2 && b[0] == 'S' && b[1] == '-' {
		return string(b), true
	}
	// Binary: revision, sub-authority count, 48-bit big-endian authority,
	// then count little-endian uint32 sub-authorities.
	if len(b) < 8 || b[0] != 1 || len(b) != 8+4*int(b[1]) {
		return "", false
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	out := "S-1-" + strconv.FormatUint(auth, 10)
	for i := 0; i < int(b[1]); i++ {
		out += "-" + strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10)
	}
	return out, true
}
