package identity

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reposentry/reposentry"
)

func TestParseMappingCSV(t *testing.T) {
	type want struct {
		platform reposentry.Platform
		login    string
		identity string // "" means unmapped
	}
	tests := []struct {
		name    string
		in      string
		wantErr string
		checks  []want
	}{
		{name: "simulator identities.csv",
			in: "github_login,user_principal_name\nereddy-acme,emma.reddy@acme.example\nRNowak-ACME,Rahul.Nowak@acme.example\n",
			checks: []want{
				{reposentry.PlatformGitHub, "ereddy-acme", "emma.reddy@acme.example"},
				{reposentry.PlatformGitHub, "rnowak-acme", "rahul.nowak@acme.example"},
				{reposentry.PlatformGitLab, "ereddy-acme", ""}, // github_login is GitHub only
			}},
		{name: "several account columns, BOM, CRLF, quotes, empty cells",
			in: "\ufeffgitlab_login, login ,account,email\r\njdoe,,okta:jane@acme.example,jane.doe@acme.example\r\n,shared-bot,,\"bots@acme.example\"\r\n",
			checks: []want{
				{reposentry.PlatformGitLab, "jdoe", "jane.doe@acme.example"},
				{reposentry.PlatformGitHub, "jdoe", ""},
				{reposentry.PlatformOkta, "jane@acme.example", "jane.doe@acme.example"},
				{reposentry.PlatformBitbucket, "shared-bot", "bots@acme.example"},
			}},
		{name: "header only", in: "login,upn\n", checks: []want{{reposentry.PlatformGitHub, "x", ""}}},
		{name: "empty", in: "", wantErr: "m.csv: empty file"},
		{name: "no identity column", in: "github_login,gitlab_login\na,b\n", wantErr: "m.csv:1: header"},
		{name: "unknown column", in: "github_login,upn,team\na,b,c\n", wantErr: `m.csv:1: unknown column "team"`},
		{name: "unknown platform column", in: "sourceforge_login,upn\na,b\n", wantErr: `m.csv:1: column "sourceforge_login": unknown platform`},
		{name: "two identity columns", in: "login,upn,mail\na,b,c\n", wantErr: "m.csv:1: two identity columns"},
		{name: "short row", in: "github_login,upn\na,a@x\nb\n", wantErr: "m.csv:3: wrong number of fields"},
		{name: "bad quote", in: "github_login,upn\na,a@x\n\"b,b@x\nc,c@x\n", wantErr: "m.csv:3"},
		{name: "empty identity", in: "github_login,upn\na,a@x\n\nb, \n", wantErr: "m.csv:4: empty upn"},
		{name: "no account", in: "github_login,gitlab_login,upn\n,,a@x\n", wantErr: `m.csv:2: no account for "a@x"`},
		{name: "conflict", in: "github_login,upn\na,a@x\nA,b@x\n", wantErr: `m.csv:3: account "github:a" is joined to both "a@x" and "b@x"`},
		{name: "bad account value", in: "account,upn\nfoo:bar,a@x\n", wantErr: `m.csv:2: account "foo:bar": unknown platform "foo"`},
		{name: "space in identity", in: "login,upn\na,jane doe\n", wantErr: `m.csv:2: identity "jane doe" contains white space`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMappingCSV(strings.NewReader(tc.in), "m.csv")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.checks {
				got, ok := m.Lookup(c.platform, c.login)
				if got != c.identity || ok != (c.identity != "") {
					t.Errorf("Lookup(%v, %q) = %q %v, want %q", c.platform, c.login, got, ok, c.identity)
				}
			}
		})
	}
}

func TestParseMappingYAML(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantErr  string
		identity string
		accounts []string
	}{
		{name: "under identities", in: "identities:\n  - id: Jane.Doe@acme.example\n    accounts: [github:jdoe-acme, gitlab:JDOE, jane]\n",
			identity: "jane.doe@acme.example", accounts: []string{"github:jdoe-acme", "gitlab:jdoe", "jane"}},
		{name: "top-level list", in: "- id: a@x\n  accounts:\n    - okta:a@x\n", identity: "a@x", accounts: []string{"okta:a@x"}},
		{name: "empty document", in: "", identity: "a@x"},
		{name: "null identities", in: "identities:\n", identity: "a@x"},
		{name: "syntax", in: "identities: [\n", wantErr: "m.yaml: yaml:"},
		{name: "unknown top key", in: "people: []\n", wantErr: `m.yaml:1: unknown key "people"`},
		{name: "not a list", in: "identities: 3\n", wantErr: "m.yaml:1: want a list"},
		{name: "item not a map", in: "identities:\n  - jane\n", wantErr: "m.yaml:2: want {id, accounts}"},
		{name: "unknown item key", in: "identities:\n  - id: a@x\n    acounts: [a]\n", wantErr: `m.yaml:3: unknown key "acounts"`},
		{name: "no id", in: "identities:\n  - accounts: [a]\n", wantErr: "m.yaml:2: entry has no id"},
		{name: "no accounts", in: "identities:\n  - id: a@x\n", wantErr: `m.yaml:2: identity "a@x" lists no account`},
		{name: "accounts not a list", in: "identities:\n  - id: a@x\n    accounts: a\n", wantErr: "m.yaml:3: accounts must be a list"},
		{name: "bad account", in: "identities:\n  - id: a@x\n    accounts:\n      - github:a\n      - nope:b\n", wantErr: `m.yaml:5: account "nope:b": unknown platform`},
		{name: "conflict", in: "- id: a@x\n  accounts: [j]\n- id: b@x\n  accounts: [j]\n", wantErr: `m.yaml:4: account "j" is joined to both`},
		{name: "id not scalar", in: "- id: [a]\n  accounts: [j]\n", wantErr: "m.yaml:1: id must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMappingYAML([]byte(tc.in), "m.yaml")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Accounts(tc.identity); !slices.Equal(got, tc.accounts) {
				t.Errorf("Accounts(%q) = %q, want %q", tc.identity, got, tc.accounts)
			}
			if m.Len() != len(tc.accounts) {
				t.Errorf("Len = %d, want %d", m.Len(), len(tc.accounts))
			}
		})
	}
}

func TestLoadMapping(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"ok.csv":   "login,upn\na,a@x\n",
		"ok.yml":   "- id: a@x\n  accounts: [a]\n",
		"bad.yaml": "- id: a@x\n  accounts: [a, 'b c']\n",
		"m.txt":    "login,upn\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ file, wantErr string }{
		{"ok.csv", ""},
		{"ok.yml", ""},
		{"bad.yaml", "bad.yaml:2: account \"b c\" contains white space"},
		{"m.txt", "unknown extension"},
		{"missing.csv", "missing.csv"},
	} {
		m, err := LoadMapping(filepath.Join(dir, tc.file))
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.file, err)
			} else if id, ok := m.Lookup(reposentry.PlatformGitHub, "A"); !ok || id != "a@x" {
				t.Errorf("%s: Lookup = %q %v", tc.file, id, ok)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.file, err, tc.wantErr)
		}
	}
}

func TestMappingAdd(t *testing.T) {
	m := NewMapping()
	for _, tc := range []struct{ account, identity, wantErr string }{
		{"github:a", "a@x", ""},
		{"GitHub:A", "A@X", ""}, // same pair again, other case: no conflict
		{"github:a", "b@x", "joined to both"},
		{"", "a@x", "empty account"},
		{"github:", "a@x", "no login after the platform"},
		{"a b", "a@x", "white space"},
		{"c", " ", "empty identity"},
	} {
		err := m.Add(tc.account, tc.identity)
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("Add(%q, %q) = %v, want %q", tc.account, tc.identity, err, tc.wantErr)
		}
	}
	if got := m.Accounts("a@x"); !slices.Equal(got, []string{"github:a"}) {
		t.Errorf("Accounts = %q", got)
	}
	var nilMap *Mapping
	if _, ok := nilMap.Lookup(reposentry.PlatformGitHub, "a"); ok || nilMap.Len() != 0 || nilMap.Accounts("a") != nil {
		t.Error("a nil Mapping must behave as empty")
	}
}

func FuzzMappingCSV(f *testing.F) {
	for _, s := range []string{
		"github_login,user_principal_name\nereddy-acme,emma.reddy@acme.example\n",
		"gitlab_login,login,account,email\njdoe,,okta:jane@acme.example,jane.doe@acme.example\n",
		"login,upn\n\"a\"\"b\",c\n",
		"\ufefflogin,upn\r\na,b\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMappingCSV(strings.NewReader(string(b)), "fuzz.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "identity mapping fuzz.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// Every mapped account resolves to its identity.
		for id, accounts := range m.accounts {
			for _, a := range accounts {
				plat, login := reposentry.PlatformUnknown, a // bare logins: no platform entry can shadow them
				if p, l, ok := strings.Cut(a, ":"); ok {
					plat, _ = parsePlatform(p)
					login = l
				}
				if got, found := m.Lookup(plat, login); !found || got != id {
					t.Fatalf("account %q of %q: Lookup = %q %v", a, id, got, found)
				}
			}
		}
	})
}
