package identity

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/directory"
	"github.com/reposentry/reposentry/simulate"
)

const seedLDIF = "../directory/testdata/seed.ldif"

func seed(t testing.TB) *directory.Snapshot {
	t.Helper()
	s, err := directory.LoadLDIF(seedLDIF)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testMapping(t testing.TB) *Mapping {
	t.Helper()
	m, err := ParseMappingCSV(strings.NewReader("github_login,login,user_principal_name\n"+
		"alice-gh,,alice@corp.example\n"+
		"carol-gh,,CAROL@corp.example\n"+
		",shared-ci,ci-owner@corp.example\n"+
		"bob-gh,,bob.ops@corp.example\n"), "test.csv")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestResolve(t *testing.T) {
	snap := seed(t)
	type step struct {
		platform reposentry.Platform
		login    string
		hint     string
		want     string
		resolved bool
	}
	gh, okta, gl := reposentry.PlatformGitHub, reposentry.PlatformOkta, reposentry.PlatformGitLab
	tests := []struct {
		name  string
		dir   bool
		steps []step
	}{
		{"mapping wins over hint and directory", true, []step{
			{gh, "Alice-GH", "someone-else@corp.example", "alice@corp.example", true},
			{gh, "alice-gh", "", "alice@corp.example", true},
		}},
		{"mapped mail alias becomes the UPN", true, []step{
			{gh, "bob-gh", "", "bob@corp.example", true},
		}},
		{"bare login maps on every platform", true, []step{
			{gl, "shared-ci", "", "ci-owner@corp.example", true},
			{gh, "SHARED-CI", "", "ci-owner@corp.example", true},
		}},
		{"platform-qualified mapping stays on its platform", true, []step{
			{gl, "alice-gh", "", "gitlab:alice-gh", false},
		}},
		{"hint, canonicalized, then learned", true, []step{
			{gh, "ivan-gh", "Ivan.Dev@corp.example", "ivan@corp.example", true},
			{gh, "ivan-gh", "", "ivan@corp.example", true},
			{gh, "IVAN-GH", "", "ivan@corp.example", true}, // case variants are one account
		}},
		{"hint outside the directory is kept as given", true, []step{
			{gh, "ext", "Contractor@Partner.example", "contractor@partner.example", true},
		}},
		{"directory by login: UPN, mail, sAMAccountName", true, []step{
			{okta, "carol@corp.example", "", "carol@corp.example", true},
			{okta, "bob.ops@corp.example", "", "bob@corp.example", true},
			{gl, "Heidi", "", "heidi@corp.example", true},
		}},
		{"hint beats a directory login match", true, []step{
			{gl, "erin", "frank@corp.example", "frank@corp.example", true},
			{gl, "erin", "", "frank@corp.example", true},
		}},
		{"unresolved and anonymous", true, []step{
			{gh, "Nobody-Here", "", "github:nobody-here", false},
			{gh, "", "", "github:anonymous", false},
			{okta, "", "grace@corp.example", "grace@corp.example", true},
		}},
		{"no directory: login is not joined", false, []step{
			{okta, "carol@corp.example", "", "okta:carol@corp.example", false},
			{gh, "bob-gh", "", "bob.ops@corp.example", true},
			{gh, "x", "Bob.Ops@corp.example", "bob.ops@corp.example", true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Mapping: testMapping(t)}
			if tc.dir {
				cfg.Directory = func() *directory.Snapshot { return snap }
			}
			r := New(cfg)
			for i, st := range tc.steps {
				got, resolved := r.Resolve(st.platform, st.login, st.hint)
				if got != st.want || resolved != st.resolved {
					t.Errorf("step %d Resolve(%v, %q, %q) = %q %v, want %q %v", i, st.platform, st.login, st.hint, got, resolved, st.want, st.resolved)
				}
			}
		})
	}
}

func TestInfo(t *testing.T) {
	snap := seed(t)
	r := New(Config{Mapping: testMapping(t), Directory: func() *directory.Snapshot { return snap },
		Privileged: []string{"CI-Owner@corp.example"}})
	r.Resolve(reposentry.PlatformGitHub, "carol-gh", "")
	r.Resolve(reposentry.PlatformOkta, "carol@corp.example", "")
	r.Resolve(reposentry.PlatformGitHub, "dave-gh", "dave@corp.example")
	r.Resolve(reposentry.PlatformGitHub, "stranger", "")
	tests := []struct {
		id   string
		want reposentry.Identity
	}{
		{"carol@corp.example", reposentry.Identity{ID: "carol@corp.example", Resolved: true,
			Accounts: []string{"github:carol-gh", "okta:carol@corp.example"}, Privileged: true,
			PrivilegedVia: []string{"Domain Admins via IT Admins > Tier0", "Administrators via Domain Admins > IT Admins > Tier0"}}},
		{"dave@corp.example", reposentry.Identity{ID: "dave@corp.example", Resolved: true, Accounts: []string{"github:dave-gh"},
			Privileged: true, Disabled: true,
			PrivilegedVia: []string{"Domain Admins via IT Admins > Tier0", "Administrators via Domain Admins > IT Admins > Tier0", directory.ViaAdminCount}}},
		{"grace@corp.example", reposentry.Identity{ID: "grace@corp.example", Resolved: true, Accounts: []string{}, PrivilegedVia: []string{directory.ViaAdminCount}}},
		{"ci-owner@corp.example", reposentry.Identity{ID: "ci-owner@corp.example", Resolved: true, Accounts: []string{"shared-ci"},
			Privileged: true, PrivilegedVia: []string{"config"}}},
		{"github:stranger", reposentry.Identity{ID: "github:stranger", Accounts: []string{"github:stranger"}}},
	}
	for _, tc := range tests {
		got := r.Info(tc.id)
		if got.ID != tc.want.ID || got.Resolved != tc.want.Resolved || got.Privileged != tc.want.Privileged ||
			got.Disabled != tc.want.Disabled || !slices.Equal(got.Accounts, tc.want.Accounts) ||
			!slices.Equal(got.PrivilegedVia, tc.want.PrivilegedVia) {
			t.Errorf("Info(%q) =\n  %+v\nwant\n  %+v", tc.id, got, tc.want)
		}
		if got.Privileged != r.Privileged(tc.id) {
			t.Errorf("Privileged(%q) = %v, Info says %v", tc.id, r.Privileged(tc.id), got.Privileged)
		}
		if got.Disabled != r.Disabled(tc.id) {
			t.Errorf("Disabled(%q) = %v, Info says %v", tc.id, r.Disabled(tc.id), got.Disabled)
		}
	}
}

func TestSnapshotRefreshResetsCaches(t *testing.T) {
	snap := seed(t)
	cur := (*directory.Snapshot)(nil)
	r := New(Config{Directory: func() *directory.Snapshot { return cur }})
	if id, ok := r.Resolve(reposentry.PlatformOkta, "carol@corp.example", ""); ok || id != "okta:carol@corp.example" {
		t.Fatalf("before the directory: %q %v", id, ok)
	}
	cur = snap
	if id, ok := r.Resolve(reposentry.PlatformOkta, "carol@corp.example", ""); !ok || id != "carol@corp.example" {
		t.Errorf("after the directory arrived: %q %v, want carol@corp.example true", id, ok)
	}
	if !r.Privileged("carol@corp.example") {
		t.Error("carol not privileged")
	}
	cur = snap.WithPolicy(directory.Policy{Groups: []string{"Engineering"}, RIDs: []uint32{}})
	if r.Privileged("carol@corp.example") || !r.Privileged("ivan@corp.example") {
		t.Error("privilege did not follow the refreshed snapshot")
	}
	// Observed joins survive the refresh: alerts list those accounts.
	if got := r.Info("carol@corp.example").Accounts; !slices.Equal(got, []string{"okta:carol@corp.example"}) {
		t.Errorf("accounts after refresh = %q", got)
	}
}

func TestEnrich(t *testing.T) {
	snap := seed(t)
	r := New(Config{Directory: func() *directory.Snapshot { return snap }})
	tests := []struct {
		ev             reposentry.Event
		identity       string
		priv, disabled bool
		dept           string
	}{
		{reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "x"}, IdentityHint: "bob@corp.example"}, "bob@corp.example", true, false, "IT"},
		{reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "ivan"}}, "ivan@corp.example", false, false, "Engineering"},
		// Enrich never lowers a privilege set by an earlier enricher.
		{reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "ivan"}, Privileged: true}, "ivan@corp.example", true, false, "Engineering"},
		// dave's directory account is disabled (userAccountControl 514).
		{reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "dave-gh"}, IdentityHint: "dave@corp.example"}, "dave@corp.example", true, true, "IT"},
		{reposentry.Event{Platform: reposentry.PlatformOkta, Actor: reposentry.Account{Login: "dave@corp.example"}}, "dave@corp.example", true, true, "IT"},
		// A reused event's stale flag is cleared for an enabled user.
		{reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "ivan"}, Disabled: true, Department: "stale"}, "ivan@corp.example", false, false, "Engineering"},
		// Unknown to the directory: nothing is said, so not disabled.
		{reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "stranger"}}, "github:stranger", false, false, ""},
	}
	for _, tc := range tests {
		ev := tc.ev
		ev.Time = snap.Fetched // the seed file's time: the snapshot speaks for it
		r.Enrich(&ev)
		if ev.Identity != tc.identity || ev.Privileged != tc.priv || ev.Disabled != tc.disabled || ev.Department != tc.dept {
			t.Errorf("Enrich(%s/%s) = %q privileged %v disabled %v department %q, want %q %v %v %q", ev.Actor.Login, ev.IdentityHint,
				ev.Identity, ev.Privileged, ev.Disabled, ev.Department, tc.identity, tc.priv, tc.disabled, tc.dept)
		}
	}
	// Without a directory nobody is disabled.
	ev := reposentry.Event{Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "dave-gh"}, IdentityHint: "dave@corp.example"}
	New(Config{}).Enrich(&ev)
	if ev.Disabled {
		t.Error("disabled without a directory")
	}
}

// TestPeerGroupOf: the department when set, else the first OU of the DN.
func TestPeerGroupOf(t *testing.T) {
	for _, tc := range []struct {
		u    directory.User
		want string
	}{
		{directory.User{DN: "CN=Ann,OU=Payments,OU=People,DC=corp", Department: "Platform"}, "Platform"},
		{directory.User{DN: "CN=Ann,OU=Payments,OU=People,DC=corp"}, "OU=Payments"},
		{directory.User{DN: "cn=Ann, ou=Berlin ,dc=corp"}, "OU=Berlin"},
		{directory.User{DN: "CN=Ann,CN=Users,DC=corp"}, ""},
		{directory.User{}, ""},
	} {
		if got := peerGroupOf(&tc.u); got != tc.want {
			t.Errorf("peerGroupOf(%q, %q) = %q, want %q", tc.u.DN, tc.u.Department, got, tc.want)
		}
	}
}

// TestEnrichDisabledFromSnapshotTime: a snapshot read at a known time says
// nothing about events before it.
func TestEnrichDisabledFromSnapshotTime(t *testing.T) {
	fetched := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	snap := *seed(t)
	snap.Fetched = fetched
	r := New(Config{Directory: func() *directory.Snapshot { return &snap }})
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{fetched.Add(-time.Hour), false},
		{fetched, true},
		{fetched.Add(24 * time.Hour), true},
	} {
		ev := reposentry.Event{Time: tc.at, Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "dave-gh"}, IdentityHint: "dave@corp.example"}
		r.Enrich(&ev)
		if ev.Disabled != tc.want || !ev.Privileged {
			t.Errorf("event at %s: disabled %v privileged %v, want disabled %v", tc.at, ev.Disabled, ev.Privileged, tc.want)
		}
	}
}

func TestResolveAllocs(t *testing.T) {
	snap := seed(t)
	r := New(Config{Mapping: testMapping(t), Directory: func() *directory.Snapshot { return snap }})
	calls := []struct {
		p           reposentry.Platform
		login, hint string
	}{
		{reposentry.PlatformGitHub, "alice-gh", ""},
		{reposentry.PlatformGitHub, "ivan-gh", "ivan.dev@corp.example"},
		{reposentry.PlatformOkta, "carol@corp.example", ""},
		{reposentry.PlatformGitHub, "nobody", ""},
	}
	for _, c := range calls { // first sight may allocate
		r.Resolve(c.p, c.login, c.hint)
	}
	for _, c := range calls {
		id, _ := r.Resolve(c.p, c.login, c.hint)
		r.Privileged(id)
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, c := range calls {
			id, _ := r.Resolve(c.p, c.login, c.hint)
			r.Privileged(id)
			r.Disabled(id)
		}
	})
	if allocs != 0 {
		t.Errorf("warm Resolve+Privileged+Disabled allocates %.1f times per run, want 0", allocs)
	}
	ev := reposentry.Event{Time: snap.Fetched, Platform: reposentry.PlatformGitHub, Actor: reposentry.Account{Login: "dave-gh"}, IdentityHint: "dave@corp.example"}
	r.Enrich(&ev)
	if allocs := testing.AllocsPerRun(100, func() { r.Enrich(&ev) }); allocs != 0 || !ev.Disabled {
		t.Errorf("warm Enrich allocates %.1f times per event (disabled %v), want 0", allocs, ev.Disabled)
	}
}

// TestSimulatorFiles reads what `reposentry simulate` writes: every login
// in identities.csv must resolve to its UPN, found in directory.ldif, and
// the IT admins must be privileged through Domain Admins.
func TestSimulatorFiles(t *testing.T) {
	out := t.TempDir()
	if _, err := simulate.Run(simulate.Config{Users: 40, Days: 4, Seed: 7, Out: out}); err != nil {
		t.Fatal(err)
	}
	m, err := LoadMapping(filepath.Join(out, "identities.csv"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := directory.LoadLDIF(filepath.Join(out, "directory", "directory.ldif"))
	if err != nil {
		t.Fatal(err)
	}
	r := New(Config{Mapping: m, Directory: func() *directory.Snapshot { return snap }})
	f, err := os.Open(filepath.Join(out, "identities.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	rows, admins := 0, 0
	for sc.Scan() {
		login, upn, _ := strings.Cut(sc.Text(), ",")
		rows++
		id, ok := r.Resolve(reposentry.PlatformGitHub, login, "")
		if !ok || id != upn {
			t.Errorf("Resolve(github, %q) = %q %v, want %q", login, id, ok, upn)
		}
		info := r.Info(id)
		if !info.Resolved {
			t.Errorf("%s: not in the directory", upn)
		}
		u, _ := snap.Lookup(upn)
		inIT := u != nil && slices.ContainsFunc(u.MemberOf, func(g string) bool { return strings.HasPrefix(g, "CN=IT Admins,") })
		if inIT {
			admins++
			if !info.Privileged || !slices.Contains(info.PrivilegedVia, "Domain Admins via IT Admins") {
				t.Errorf("%s is in IT Admins but Info = %+v", upn, info)
			}
		} else if info.Privileged {
			t.Errorf("%s is privileged (%q) without being in IT Admins", upn, info.PrivilegedVia)
		}
	}
	if rows == 0 || admins == 0 {
		t.Errorf("%d mapped logins, %d IT admins: the simulator output lacks the cases this test needs", rows, admins)
	}
}

func BenchmarkResolve(b *testing.B) {
	snap := seed(b)
	r := New(Config{Mapping: testMapping(b), Directory: func() *directory.Snapshot { return snap }})
	logins := []string{"alice-gh", "carol-gh", "bob-gh", "ivan", "heidi", "nobody", "dave@corp.example"}
	hints := []string{"", "", "", "ivan.dev@corp.example", "", "", ""}
	for i := range logins {
		r.Resolve(reposentry.PlatformGitHub, logins[i], hints[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		j := i % len(logins)
		id, _ := r.Resolve(reposentry.PlatformGitHub, logins[j], hints[j])
		r.Privileged(id)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}
