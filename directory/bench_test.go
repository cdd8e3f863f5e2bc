package directory

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// synthetic builds a directory of n users in n/20 groups, each group
// nested in the previous one (a deep chain under Domain Admins), the shape
// that makes privilege resolution work hardest.
func synthetic(n int) ([]*User, []*Group) {
	ng := max(n/20, 1)
	groups := make([]*Group, ng)
	for i := range groups {
		groups[i] = &Group{DN: fmt.Sprintf("CN=G%d,OU=Groups,DC=x", i), CN: fmt.Sprintf("G%d", i)}
		if i > 0 {
			groups[i].MemberOf = []string{groups[i-1].DN}
		}
	}
	groups[0].CN = "Domain Admins"
	users := make([]*User, n)
	for i := range users {
		users[i] = &User{DN: fmt.Sprintf("CN=U%d,OU=People,DC=x", i), SAMAccountName: fmt.Sprintf("u%d", i),
			UserPrincipalName: fmt.Sprintf("u%d@x.example", i)}
		g := groups[i%ng]
		g.Member = append(g.Member, users[i].DN)
	}
	return users, groups
}

func TestLookupPrivilegedAllocs(t *testing.T) {
	s, err := LoadLDIF("testdata/seed.ldif")
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"carol", "alice@corp.example", "bob.ops@corp.example", "nobody"}
	allocs := testing.AllocsPerRun(100, func() {
		for _, k := range keys {
			if u, ok := s.Lookup(k); ok {
				s.Privileged(u)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("Lookup+Privileged of lower-case keys allocates %.1f times per run, want 0", allocs)
	}
}

func BenchmarkPrivileged(b *testing.B) {
	users, groups := synthetic(10000)
	s := New(users, groups, Policy{})
	keys := make([]string, 0, 64)
	for i := 0; i < 64; i++ {
		keys = append(keys, fmt.Sprintf("u%d@x.example", i*151%10000))
	}
	b.ReportAllocs()
	b.ResetTimer()
	priv := 0
	for i := 0; b.Loop(); i++ {
		u, _ := s.Lookup(keys[i%len(keys)])
		if p, _ := s.Privileged(u); p {
			priv++
		}
	}
	if priv == 0 {
		b.Fatal("no user privileged: the synthetic chain is broken")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkNew measures indexing and privilege resolution of a 10,000-user
// directory, the cost paid at load and at each refresh.
func BenchmarkNew(b *testing.B) {
	users, groups := synthetic(10000)
	b.ReportAllocs()
	for b.Loop() {
		New(users, groups, Policy{})
	}
	b.ReportMetric(float64(len(users))*float64(b.N)/b.Elapsed().Seconds(), "users/s")
}

func BenchmarkParseLDIF(b *testing.B) {
	users, groups := synthetic(2000)
	var buf bytes.Buffer
	buf.WriteString("version: 1\n\n")
	for _, g := range groups {
		fmt.Fprintf(&buf, "dn: %s\nobjectClass: group\ncn: %s\n", g.DN, g.CN)
		for _, m := range g.Member {
			fmt.Fprintf(&buf, "member: %s\n", m)
		}
		buf.WriteString("\n")
	}
	for _, u := range users {
		fmt.Fprintf(&buf, "dn: %s\nobjectClass: user\nsAMAccountName: %s\nuserPrincipalName: %s\nuserAccountControl: 512\n\n", u.DN, u.SAMAccountName, u.UserPrincipalName)
	}
	in := buf.Bytes()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseLDIF(bytes.NewReader(in), "bench.ldif"); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzLDIF(f *testing.F) {
	for _, s := range []string{
		"version: 1\n\ndn: CN=a,DC=x\nobjectClass: user\nsAMAccountName: a\nmemberOf: CN=g,DC=x\n\ndn: CN=g,DC=x\nobjectClass: group\ncn: g\nmember: CN=a,DC=x\nmemberOf: CN=g,DC=x\n",
		"dn:: Q049YSxEQz14\nobjectClass: user\nmail:: YUB4\n  more\n# c\n c2\nuserAccountControl: 514\nprimaryGroupID: 512\nadminCount: 1\n",
		"dn: CN=g,DC=x\nobjectClass: group\nobjectSid:: AQIAAAAAAAUgAAAAIAIAAA==\nmember: CN=g,DC=x\n",
		"dn: CN=x\nchangetype: add\nobjectClass: inetOrgPerson\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseLDIF(bytes.NewReader(b), "fuzz.ldif")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "directory: fuzz.ldif:") {
				t.Fatalf("error does not name file and line: %v", err)
			}
			return
		}
		// Whatever was parsed must resolve and survive a JSON round trip.
		for _, u := range s.Users {
			p, via := s.Privileged(u)
			if p && len(via) == 0 {
				t.Fatalf("%q privileged with no reason", u.DN)
			}
		}
		var buf bytes.Buffer
		if err := s.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := ParseJSON(buf.Bytes(), "round-trip")
		if err != nil {
			t.Fatalf("JSON of a parsed LDIF does not read back: %v\n%s", err, buf.String())
		}
		if len(back.Users) != len(s.Users) || len(back.Groups) != len(s.Groups) {
			t.Fatalf("round trip: %d/%d users, %d/%d groups", len(back.Users), len(s.Users), len(back.Groups), len(s.Groups))
		}
		for i, u := range back.Users {
			p1, v1 := s.Privileged(s.Users[i])
			p2, v2 := back.Privileged(u)
			if p1 != p2 || strings.Join(v1, "|") != strings.Join(v2, "|") {
				t.Fatalf("round trip changed privilege of %q: %v %q → %v %q", u.DN, p1, v1, p2, v2)
			}
		}
	})
}
