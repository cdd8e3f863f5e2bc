package directory

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// seedPrivilege is what the seed directory (testdata/seed.ldif) must yield
// under the default policy, whichever way it is read: from the LDIF file or
// from slapd loaded with it.
var seedPrivilege = []struct {
	sam        string
	privileged bool
	via        []string
	disabled   bool
}{
	{"alice", true, []string{"Domain Admins", "Administrators via Domain Admins", ViaAdminCount}, false},
	{"bob", true, []string{"Domain Admins via IT Admins", "Administrators via Domain Admins > IT Admins"}, false},
	{"carol", true, []string{"Domain Admins via IT Admins > Tier0", "Administrators via Domain Admins > IT Admins > Tier0"}, false},
	{"dave", true, []string{"Domain Admins via IT Admins > Tier0", "Administrators via Domain Admins > IT Admins > Tier0", ViaAdminCount}, true},
	{"erin", false, nil, false},
	{"frank", true, []string{"Forest Owners"}, false},
	{"grace", false, []string{ViaAdminCount}, false},
	{"heidi", true, []string{"Domain Admins (primaryGroupID=512)", "Administrators via Domain Admins"}, false},
	{"ivan", false, nil, false},
}

func checkSeedPrivilege(t *testing.T, s *Snapshot) {
	t.Helper()
	if len(s.Users) != len(seedPrivilege) {
		t.Errorf("%d users, want %d (the computer WS01 must be skipped)", len(s.Users), len(seedPrivilege))
	}
	for _, tc := range seedPrivilege {
		u, ok := s.Lookup(tc.sam)
		if !ok {
			t.Errorf("Lookup(%q): not found", tc.sam)
			continue
		}
		priv, via := s.Privileged(u)
		if priv != tc.privileged || !slices.Equal(via, tc.via) {
			t.Errorf("Privileged(%s) = %v %q, want %v %q", tc.sam, priv, via, tc.privileged, tc.via)
		}
		if u.Disabled != tc.disabled {
			t.Errorf("%s: Disabled = %v, want %v", tc.sam, u.Disabled, tc.disabled)
		}
	}
}

func TestSeedLDIFPrivilege(t *testing.T) {
	s, err := LoadLDIF("testdata/seed.ldif")
	if err != nil {
		t.Fatal(err)
	}
	checkSeedPrivilege(t, s)
}

func TestPolicy(t *testing.T) {
	base, err := LoadLDIF("testdata/seed.ldif")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		policy Policy
		want   map[string][]string // sam → via of privileged users; others unprivileged
	}{
		{"adminCount counts", Policy{Groups: []string{"Tier0"}, RIDs: []uint32{}, AdminCountPrivileged: true}, map[string][]string{
			"alice": {ViaAdminCount}, "carol": {"Tier0"}, "dave": {"Tier0", ViaAdminCount}, "grace": {ViaAdminCount}}},
		{"by DN, no RIDs", Policy{Groups: []string{"CN=IT Admins, OU=Groups, DC=corp, DC=example"}, RIDs: []uint32{}}, map[string][]string{
			"bob": {"IT Admins"}, "carol": {"IT Admins via Tier0"}, "dave": {"IT Admins via Tier0", ViaAdminCount}}},
		{"by SID", Policy{Groups: []string{"s-1-5-32-544"}, RIDs: []uint32{}}, map[string][]string{
			"alice": {"Administrators via Domain Admins", ViaAdminCount},
			"bob":   {"Administrators via Domain Admins > IT Admins"},
			"carol": {"Administrators via Domain Admins > IT Admins > Tier0"},
			"dave":  {"Administrators via Domain Admins > IT Admins > Tier0", ViaAdminCount},
			"heidi": {"Administrators via Domain Admins"}}},
		{"RID only", Policy{Groups: []string{}, RIDs: []uint32{519}}, map[string][]string{"frank": {"Forest Owners"}}},
		{"cycle group is harmless", Policy{Groups: []string{"Cycle A"}, RIDs: []uint32{}}, map[string][]string{"erin": {"Cycle A via Cycle B"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := base.WithPolicy(tc.policy)
			for _, u := range s.Users {
				priv, via := s.Privileged(u)
				want, wantPriv := tc.want[u.SAMAccountName]
				if u.AdminCount && !wantPriv {
					want = []string{ViaAdminCount}
				}
				if priv != wantPriv || !slices.Equal(via, want) {
					t.Errorf("%s: Privileged = %v %q, want %v %q", u.SAMAccountName, priv, via, wantPriv, want)
				}
			}
		})
	}
	// The original keeps its own policy: snapshots are shared read-only.
	checkSeedPrivilege(t, base)
}

func TestPrivilegedForeignUser(t *testing.T) {
	s, err := LoadLDIF("testdata/seed.ldif")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*User{nil, {DN: "cn=stranger"}, {DN: s.Users[0].DN, idx: 0}} {
		if priv, via := s.Privileged(u); priv || via != nil {
			t.Errorf("Privileged(%v) = %v %q for a user not from the snapshot", u, priv, via)
		}
	}
}

func TestLookup(t *testing.T) {
	users := []*User{
		{DN: "cn=a", SAMAccountName: "Ann", UserPrincipalName: "ann@corp.example", Mail: "Ann.Other@corp.example"},
		{DN: "cn=b", SAMAccountName: "ann.other", UserPrincipalName: "bob@corp.example", Mail: "ann@corp.example"},
	}
	s := New(users, nil, Policy{})
	tests := []struct {
		key    string
		wantDN string
	}{
		{"ann", "cn=a"},
		{"ANN@CORP.EXAMPLE", "cn=a"},       // UPN beats b's mail; case ignored
		{"Ann.Other@corp.example", "cn=a"}, // a's mail
		{"ann.other", "cn=b"},              // b's sAMAccountName
		{"bob@corp.example", "cn=b"},       // UPN
		{"bob", ""},                        // b's sAMAccountName is ann.other
		{"nobody@corp.example", ""},
		{"", ""},
		{"CN=A", ""},              // DNs are not lookup keys
		{"ann@corp.example ", ""}, // keys are not trimmed on lookup
		{`corp\ann`, ""},          // down-level logon names are not keys
	}
	for _, tc := range tests {
		u, ok := s.Lookup(tc.key)
		got := ""
		if ok {
			got = u.DN
		}
		if got != tc.wantDN || ok != (tc.wantDN != "") {
			t.Errorf("Lookup(%q) = %q %v, want %q", tc.key, got, ok, tc.wantDN)
		}
	}
}

func TestParseLDIF(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string // substring; "" means success
		check   func(t *testing.T, s *Snapshot)
	}{
		{name: "folding, base64, comments, CRLF, version without blank line",
			in: "version: 1\r\ndn: CN=Zoë Q,OU=People,DC=x\r\nobjectClass: user\r\n# a comment\r\n  that continues\r\n" +
				"sAMAccountName: zo\r\n e\r\ndisplayName:: Wm/DqyBR\r\nmail:   zoe@x.example\r\nuserAccountControl: 514\r\n\r\n" +
				"dn:: Q049RyxEQz14\nobjectClass: top\nobjectClass: group\ncn: G\nobjectSid:: AQIAAAAAAAUgAAAAIAIAAA==\nmember: CN=Zoë Q,OU=People,DC=x\n",
			check: func(t *testing.T, s *Snapshot) {
				u, ok := s.Lookup("zoe")
				if !ok || u.DisplayName != "Zoë Q" || u.Mail != "zoe@x.example" || !u.Disabled {
					t.Fatalf("user = %+v %v", u, ok)
				}
				if len(s.Groups) != 1 || s.Groups[0].DN != "CN=G,DC=x" || s.Groups[0].ObjectSID != "S-1-5-32-544" {
					t.Fatalf("groups = %+v", s.Groups)
				}
				if priv, via := s.Privileged(u); !priv || !slices.Equal(via, []string{"G"}) {
					t.Errorf("Privileged = %v %q, want true [G] (RID 544)", priv, via)
				}
			}},
		{name: "changetype add, options, skipped entries, multiple blank lines",
			in: "\n\n# only a comment\n\ndn: DC=x\nobjectClass: domain\n\n\n\ndn: CN=PC,DC=x\nobjectClass: user\nobjectClass: computer\nsAMAccountName: PC$\n\n" +
				"dn: CN=U,DC=x\nchangetype: add\nobjectClass: inetOrgPerson\ncn;lang-en: U\nmail: u@x\nmail: second@x\nadminCount: 1\nprimaryGroupID: 512\nuserAccountControl: -2147483646\n",
			check: func(t *testing.T, s *Snapshot) {
				if len(s.Users) != 1 || s.Users[0].Mail != "u@x" || !s.Users[0].AdminCount || s.Users[0].PrimaryGroupID != 512 {
					t.Fatalf("users = %+v", s.Users)
				}
				if s.Users[0].UserAccountControl != 0x80000002 || !s.Users[0].Disabled {
					t.Errorf("userAccountControl = %#x, want 0x80000002 (signed AD value)", s.Users[0].UserAccountControl)
				}
				if priv, via := s.Privileged(s.Users[0]); !priv || !slices.Equal(via, []string{"Domain Admins (primaryGroupID=512)", ViaAdminCount}) {
					t.Errorf("Privileged = %v %q", priv, via)
				}
			}},
		{name: "blank lines with spaces", in: "dn: CN=a,DC=x\nobjectClass: user\nsAMAccountName: a\n  \n   \ndn: CN=b,DC=x\nobjectClass: user\nsAMAccountName: b\n",
			check: func(t *testing.T, s *Snapshot) {
				if len(s.Users) != 2 || s.Users[0].SAMAccountName != "a" || s.Users[1].SAMAccountName != "b" {
					t.Fatalf("users = %+v", s.Users)
				}
			}},
		{name: "empty input", in: "", check: func(t *testing.T, s *Snapshot) {
			if len(s.Users)+len(s.Groups) != 0 {
				t.Errorf("users %d groups %d, want none", len(s.Users), len(s.Groups))
			}
		}},
		{name: "no dn first", in: "objectClass: user\ncn: x\n", wantErr: "mem.ldif:1: record starts with \"objectclass\""},
		{name: "bad base64", in: "dn: CN=x\nobjectClass: user\nmail:: !!!\n", wantErr: "mem.ldif:3: attribute mail: invalid base64"},
		{name: "url value", in: "dn: CN=x\njpegPhoto:< file:///etc/passwd\n", wantErr: "mem.ldif:2: attribute jpegPhoto: URL values are not supported"},
		{name: "no colon", in: "dn: CN=x\n\ndn: CN=y\nbroken line\n", wantErr: "mem.ldif:4: expected \"attribute: value\""},
		{name: "bad attribute", in: "dn: CN=x\nbad attr: v\n", wantErr: "mem.ldif:2: invalid attribute description"},
		{name: "leading continuation", in: " dn: CN=x\n", wantErr: "mem.ldif:1: continuation line with no line to continue"},
		{name: "modify record", in: "dn: CN=x\nchangetype: modify\nreplace: mail\n", wantErr: "mem.ldif:2: changetype \"modify\" is not supported"},
		{name: "two dns", in: "dn: CN=x\nobjectClass: user\ndn: CN=y\n", wantErr: "mem.ldif:3: second dn in one record"},
		{name: "bad number", in: "# c\ndn: CN=x\nobjectClass: user\nuserAccountControl: lots\n", wantErr: "mem.ldif:4: useraccountcontrol of \"CN=x\""},
		{name: "bad sid", in: "dn: CN=g\nobjectClass: group\nobjectSid:: AAAA\n", wantErr: "mem.ldif:3: objectSid of \"CN=g\" is not a SID"},
		{name: "bad version", in: "version: 2\n\ndn: CN=x\n", wantErr: "mem.ldif:1: unsupported LDIF version \"2\""},
		{name: "error line after folding", in: "dn: CN=x,\n DC=y\nobjectClass: user\nprimaryGroupID: \n 5x\n", wantErr: "mem.ldif:4: primarygroupid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseLDIF(strings.NewReader(tc.in), "mem.ldif")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
}

func TestLoadErrorsNameFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ file, content, want string }{
		{"bad.ldif", "dn: CN=x\nbroken\n", "bad.ldif:2:"},
		{"bad.json", "{\"users\": [\n{\"dn\": \"x\", \"adminCount\": \"yes\"}]}", "bad.json:2:"},
		{"syntax.json", "{\n\"users\": [,]}", "syntax.json:2:"},
		{"unknown.json", "{\"users\": [], \"people\": []}", "unknown field \"people\""},
		{"nodn.json", "{\"users\": [{\"mail\": \"a@b\"}]}", "users[0] has no dn"},
		{"missing.ldif", "", "missing.ldif"},
	} {
		path := filepath.Join(dir, tc.file)
		if tc.file != "missing.ldif" {
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Load(path, Policy{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%s) err = %v, want it to contain %q", tc.file, err, tc.want)
		}
	}
}

// TestGolden loads the seed LDIF, writes it as a JSON snapshot and compares
// with testdata/seed.golden.json; then reads the JSON back and checks that
// privilege resolves the same.
func TestGolden(t *testing.T) {
	s, err := LoadLDIF("testdata/seed.ldif")
	if err != nil {
		t.Fatal(err)
	}
	s.Fetched = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // the file's mtime differs per checkout
	var buf bytes.Buffer
	if err := s.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "seed.golden.json")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("JSON snapshot differs from %s (go test -update rewrites it):\n%s", golden, buf.String())
	}
	back, err := ParseJSON(buf.Bytes(), "round-trip")
	if err != nil {
		t.Fatal(err)
	}
	checkSeedPrivilege(t, back)
	var again bytes.Buffer
	if err := back.WriteJSON(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Errorf("JSON round trip changed the snapshot")
	}
	var js map[string]any
	if err := json.Unmarshal(buf.Bytes(), &js); err != nil || js["source"] != "testdata/seed.ldif" {
		t.Errorf("snapshot JSON source = %v (%v), want testdata/seed.ldif", js["source"], err)
	}
}

func TestNormalizeDN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"CN=Domain Admins,CN=Users,DC=corp,DC=example", "cn=domain admins,cn=users,dc=corp,dc=example"},
		{"cn=Domain Admins, cn=Users , dc=corp,dc=example", "cn=domain admins,cn=users,dc=corp,dc=example"},
		{`CN=Smith\, John,OU=People,DC=x`, `cn=smith\, john,ou=people,dc=x`},
		{`CN=a\+b+UID=7,DC=x`, `cn=a\+b+uid=7,dc=x`},
		{"not a dn", "not a dn"},
		{"  Weird  ", "weird"},
	}
	for _, tc := range tests {
		if got := NormalizeDN(tc.in); got != tc.want {
			t.Errorf("NormalizeDN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseSID(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
		ok   bool
	}{
		{[]byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0}, "S-1-5-32-544", true},
		{[]byte("S-1-5-21-1-2-3-512"), "S-1-5-21-1-2-3-512", true},
		{[]byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0}, "", false}, // count says 2, one given
		{[]byte{2, 0, 0, 0, 0, 0, 0, 5}, "", false},              // revision 2
		{nil, "", false},
	}
	for _, tc := range tests {
		got, ok := ParseSID(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseSID(%v) = %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		sid string
		rid uint32
		ok  bool
	}{{"S-1-5-21-1-2-3-512", 512, true}, {"S-1-5-32-544", 544, true}, {"X-1-2", 0, false}, {"S-1-5-x", 0, false}, {"", 0, false}} {
		if rid, ok := SIDRID(tc.sid); rid != tc.rid || ok != tc.ok {
			t.Errorf("SIDRID(%q) = %d %v, want %d %v", tc.sid, rid, ok, tc.rid, tc.ok)
		}
	}
}
