package directory

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// adServer is a minimal LDAPv3 server over loopback that behaves like
// Active Directory where OpenLDAP cannot: it answers
// LDAP_MATCHING_RULE_IN_CHAIN filters on memberOf, returns large member
// lists by ranged retrieval ("member;range=0-1499") and pages results. It
// speaks bind, search (with the paged results control) and unbind — what
// the client uses — and nothing else.
type adServer struct {
	l        net.Listener
	entries  []adEntry // users and groups; groups list member DNs
	external []adEntry // groups outside the searched base, readable by DN only
	// inChainCode, when non-zero, is the result code returned for in-chain
	// filters, as a server that does not support the rule would.
	inChainCode uint16
	password    string

	mu       sync.Mutex
	filters  []string // filters seen, in order
	cookies  int      // searches that continued a paged result
	inChains int
}

type adEntry struct {
	dn      string
	classes []string
	attrs   map[string][]string
}

// maxValRange is AD's default MaxValRange: attributes with more values are
// returned in ranges.
const maxValRange = 1500

func startADServer(t *testing.T, s *adServer) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.l = l
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	return "ldap://" + l.Addr().String()
}

func (s *adServer) serve(c net.Conn) {
	defer c.Close()
	for {
		p, err := ber.ReadPacket(c)
		if err != nil || len(p.Children) < 2 {
			return
		}
		id := p.Children[0].Value.(int64)
		op := p.Children[1]
		var controls []ldap.Control
		if len(p.Children) > 2 {
			for _, cp := range p.Children[2].Children {
				if ctl, err := ldap.DecodeControl(cp); err == nil {
					controls = append(controls, ctl)
				}
			}
		}
		switch op.Tag {
		case ldap.ApplicationBindRequest:
			code := uint16(ldap.LDAPResultSuccess)
			if op.Children[2].Data.String() != s.password {
				code = ldap.LDAPResultInvalidCredentials
			}
			s.write(c, id, result(ldap.ApplicationBindResponse, code, ""), nil)
		case ldap.ApplicationUnbindRequest:
			return
		case ldap.ApplicationSearchRequest:
			s.search(c, id, op, controls)
		default:
			s.write(c, id, result(ldap.ApplicationExtendedResponse, ldap.LDAPResultProtocolError, "unsupported operation"), nil)
		}
	}
}

func result(app ber.Tag, code uint16, diag string) *ber.Packet {
	r := ber.Encode(ber.ClassApplication, ber.TypeConstructed, app, nil, "result")
	r.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(code), "code"))
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matched"))
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diag, "diag"))
	return r
}

func (s *adServer) write(c net.Conn, id int64, op *ber.Packet, controls []ldap.Control) {
	env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "message")
	env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "id"))
	env.AppendChild(op)
	if len(controls) > 0 {
		cs := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "controls")
		for _, ctl := range controls {
			cs.AppendChild(ctl.Encode())
		}
		env.AppendChild(cs)
	}
	c.Write(env.Bytes())
}

func (s *adServer) search(c net.Conn, id int64, op *ber.Packet, controls []ldap.Control) {
	base := op.Children[0].Data.String()
	scope := op.Children[1].Value.(int64)
	filter, err := ldap.DecompileFilter(op.Children[6])
	if err != nil {
		s.write(c, id, result(ldap.ApplicationSearchResultDone, ldap.LDAPResultProtocolError, err.Error()), nil)
		return
	}
	var attrs []string
	for _, a := range op.Children[7].Children {
		attrs = append(attrs, a.Data.String())
	}
	s.mu.Lock()
	s.filters = append(s.filters, filter)
	s.mu.Unlock()
	// Paged results: the cookie is the offset of the next page.
	var paging *ldap.ControlPaging
	if ctl := ldap.FindControl(controls, ldap.ControlTypePaging); ctl != nil {
		paging = ctl.(*ldap.ControlPaging)
	}

	var found []adEntry
	var rangeStart = -1
	switch {
	case scope == ldap.ScopeBaseObject:
		for _, a := range attrs {
			if lo := strings.ToLower(a); strings.HasPrefix(lo, "member;range=") {
				rangeStart, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(lo, "member;range="), "-*"))
			}
		}
		for _, e := range append(slices.Clone(s.entries), s.external...) {
			if strings.EqualFold(e.dn, base) {
				found = append(found, e)
			}
		}
		if len(found) == 0 {
			s.write(c, id, result(ldap.ApplicationSearchResultDone, ldap.LDAPResultNoSuchObject, "no such object"), nil)
			return
		}
	case strings.Contains(filter, ":"+InChainOID+":="):
		s.mu.Lock()
		if paging == nil || len(paging.Cookie) == 0 {
			s.inChains++ // a new search, not the next page of one
		}
		s.mu.Unlock()
		if s.inChainCode != 0 {
			s.write(c, id, result(ldap.ApplicationSearchResultDone, s.inChainCode, "unsupported matching rule"), nil)
			return
		}
		group := filter[strings.Index(filter, ":"+InChainOID+":=")+len(InChainOID)+3:]
		group = strings.TrimRight(group, ")")
		for _, dn := range s.transitive(group, map[string]bool{}) {
			found = append(found, adEntry{dn: dn})
		}
	case strings.Contains(filter, "objectClass=user"):
		found = s.ofClass("user")
	case strings.Contains(filter, "objectClass=group"):
		found = s.ofClass("group")
	}

	start, end := 0, len(found)
	if paging != nil && paging.PagingSize > 0 {
		if len(paging.Cookie) > 0 {
			start, _ = strconv.Atoi(string(paging.Cookie))
			s.mu.Lock()
			s.cookies++
			s.mu.Unlock()
		}
		end = min(start+int(paging.PagingSize), len(found))
	}
	for _, e := range found[start:end] {
		s.write(c, id, s.entryPacket(e, rangeStart), nil)
	}
	var resp []ldap.Control
	if paging != nil {
		next := ldap.NewControlPaging(0)
		if end < len(found) && paging.PagingSize > 0 {
			next.SetCookie([]byte(strconv.Itoa(end)))
		}
		resp = append(resp, next)
	}
	s.write(c, id, result(ldap.ApplicationSearchResultDone, ldap.LDAPResultSuccess, ""), resp)
}

func (s *adServer) ofClass(class string) []adEntry {
	var out []adEntry
	for _, e := range s.entries {
		if slices.Contains(e.classes, class) {
			out = append(out, e)
		}
	}
	return out
}

// transitive returns the user DNs under group at any depth, as AD's
// in-chain rule does, external groups included.
func (s *adServer) transitive(group string, seen map[string]bool) []string {
	if seen[strings.ToLower(group)] {
		return nil
	}
	seen[strings.ToLower(group)] = true
	var out []string
	for _, e := range append(slices.Clone(s.entries), s.external...) {
		if !strings.EqualFold(e.dn, group) {
			continue
		}
		for _, m := range e.attrs["member"] {
			if s.isUser(m) {
				out = append(out, m)
			} else {
				out = append(out, s.transitive(m, seen)...)
			}
		}
	}
	return out
}

func (s *adServer) isUser(dn string) bool {
	for _, e := range s.entries {
		if strings.EqualFold(e.dn, dn) {
			return slices.Contains(e.classes, "user")
		}
	}
	return false
}

// entryPacket encodes e; member lists longer than maxValRange, or any when
// rangeStart ≥ 0, go out as "member;range=lo-hi" the way AD sends them.
func (s *adServer) entryPacket(e adEntry, rangeStart int) *ber.Packet {
	p := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultEntry, nil, "entry")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, e.dn, "dn"))
	list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
	add := func(name string, vals []string) {
		a := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attribute")
		a.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, name, "type"))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "values")
		for _, v := range vals {
			set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, "value"))
		}
		a.AppendChild(set)
		list.AppendChild(a)
	}
	ranged := func(vals []string, lo int) {
		hi := min(lo+maxValRange, len(vals))
		name := fmt.Sprintf("member;range=%d-%d", lo, hi-1)
		if hi == len(vals) {
			name = fmt.Sprintf("member;range=%d-*", lo)
		}
		add(name, vals[lo:hi])
	}
	if rangeStart >= 0 {
		ranged(e.attrs["member"], rangeStart)
	} else {
		add("objectClass", e.classes)
		for k, v := range e.attrs {
			if k == "member" && len(v) > maxValRange {
				ranged(v, 0)
				continue
			}
			add(k, v)
		}
	}
	p.AppendChild(list)
	return p
}

// adFixture is a small AD: Domain Admins whose members come partly through
// a group in another domain (outside the searched base, so only the
// in-chain rule sees through it), and a Backup Operators group too large
// for one read.
func adFixture(bigGroup int) *adServer {
	const base = "DC=ad,DC=example"
	user := func(sam string) adEntry {
		return adEntry{dn: "CN=" + sam + ",OU=People," + base, classes: []string{"top", "person", "user"},
			attrs: map[string][]string{"sAMAccountName": {sam}, "userPrincipalName": {sam + "@ad.example"}, "userAccountControl": {"512"}}}
	}
	s := &adServer{password: "ad-secret"}
	s.entries = append(s.entries, user("direct"), user("nested"), user("plain"))
	big := adEntry{dn: "CN=Backup Operators,CN=Builtin," + base, classes: []string{"top", "group"},
		attrs: map[string][]string{"cn": {"Backup Operators"}, "objectSid": {"S-1-5-32-551"}}}
	for i := range bigGroup {
		u := user(fmt.Sprintf("bk%04d", i))
		s.entries = append(s.entries, u)
		big.attrs["member"] = append(big.attrs["member"], u.dn)
	}
	s.entries = append(s.entries,
		adEntry{dn: "CN=Domain Admins,CN=Users," + base, classes: []string{"top", "group"},
			attrs: map[string][]string{"cn": {"Domain Admins"}, "member": {
				"CN=direct,OU=People," + base, "CN=Forest Ops,CN=Users,DC=other,DC=example"}}},
		big)
	s.external = []adEntry{{dn: "CN=Forest Ops,CN=Users,DC=other,DC=example", classes: []string{"top", "group"},
		attrs: map[string][]string{"cn": {"Forest Ops"}, "member": {"CN=nested,OU=People," + base}}}}
	return s
}

func TestADInChain(t *testing.T) {
	tests := []struct {
		name          string
		inChainCode   uint16
		wantExpansion Expansion
		nestedVia     string
	}{
		// AD answers the in-chain rule: "nested" is privileged through a
		// group the searches never returned.
		{"server supports in-chain", 0, ExpansionInChain, "Domain Admins (nested)"},
		// A server that rejects the rule: the client reads the outside
		// group by DN and sees the same membership with its chain.
		{"server rejects in-chain", ldap.LDAPResultInappropriateMatching, ExpansionRecursive, "Domain Admins via Forest Ops"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := adFixture(3200)
			srv.inChainCode = tc.inChainCode
			url := startADServer(t, srv)
			t.Setenv("REPOSENTRY_TEST_AD_PW", srv.password)
			c := mustClient(t, Config{URL: url, BindDN: "CN=reader,DC=ad,DC=example", PasswordEnv: "REPOSENTRY_TEST_AD_PW",
				BaseDN: "DC=ad,DC=example", Timeout: 5 * time.Second})
			s, err := c.Fetch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if s.Expansion != tc.wantExpansion {
				t.Errorf("Expansion = %v, want %v", s.Expansion, tc.wantExpansion)
			}
			for _, w := range []struct {
				sam  string
				priv bool
				via  []string
			}{
				{"direct", true, []string{"Domain Admins"}},
				{"nested", true, []string{tc.nestedVia}},
				{"plain", false, nil},
				{"bk3199", true, []string{"Backup Operators"}},
			} {
				u, ok := s.Lookup(w.sam)
				if !ok {
					t.Errorf("%s not fetched", w.sam)
					continue
				}
				if priv, via := s.Privileged(u); priv != w.priv || !slices.Equal(via, w.via) {
					t.Errorf("Privileged(%s) = %v %q, want %v %q", w.sam, priv, via, w.priv, w.via)
				}
			}
			// 3200 members come in three ranges; 3203 users in four pages.
			g, ok := s.GroupByDN("CN=Backup Operators,CN=Builtin,DC=ad,DC=example")
			if !ok || len(g.Member) != 3200 {
				t.Errorf("Backup Operators has %d members, want 3200 read by ranged retrieval", len(g.Member))
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if srv.cookies < 3 {
				t.Errorf("%d continued pages, want at least 3 (3203 users in pages of 1000)", srv.cookies)
			}
			if srv.inChains != 2 {
				t.Errorf("%d in-chain searches started, want one per privileged group (2)", srv.inChains)
			}
			if !slices.ContainsFunc(srv.filters, func(f string) bool {
				return f == "(&"+DefaultUserFilter+"(memberOf:"+InChainOID+":=CN=Domain Admins,CN=Users,DC=ad,DC=example))"
			}) {
				t.Errorf("no in-chain filter for Domain Admins among %q", srv.filters)
			}
		})
	}
}

func TestADWrongPassword(t *testing.T) {
	srv := adFixture(0)
	url := startADServer(t, srv)
	t.Setenv("REPOSENTRY_TEST_AD_PW", "not-"+srv.password)
	c := mustClient(t, Config{URL: url, BindDN: "CN=reader,DC=ad,DC=example", PasswordEnv: "REPOSENTRY_TEST_AD_PW", BaseDN: "DC=ad,DC=example"})
	_, err := c.Fetch(context.Background())
	var lerr *ldap.Error
	if !errors.As(err, &lerr) || lerr.ResultCode != ldap.LDAPResultInvalidCredentials || strings.Contains(err.Error(), srv.password) {
		t.Errorf("err = %v, want Invalid Credentials without the password", err)
	}
}
