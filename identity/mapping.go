// Package identity joins platform accounts to the people behind them: from
// a mapping file, from the SAML name ids that records carry, and from the
// directory (mail, userPrincipalName, sAMAccountName). Detections key their
// state on the resolved identity, so one person's reads through several
// accounts add up, and privilege comes from the person's directory groups.
package identity

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/reposentry/reposentry"
	"go.yaml.in/yaml/v3"
)

// Mapping joins accounts to identities. Keys are "<platform>:<login>" or a
// bare login (any platform), lower-cased; identities are lower-cased.
type Mapping struct {
	byAccount map[string]string
	accounts  map[string][]string // identity → its accounts, in file order
}

// NewMapping returns an empty mapping.
func NewMapping() *Mapping {
	return &Mapping{byAccount: map[string]string{}, accounts: map[string][]string{}}
}

// Add joins account ("<platform>:<login>" or a bare login) to identity. It
// fails when the account is malformed or already joined to another
// identity.
func (m *Mapping) Add(account, identity string) error {
	account = strings.ToLower(strings.TrimSpace(account))
	identity = strings.ToLower(strings.TrimSpace(identity))
	if err := checkAccount(account); err != nil {
		return err
	}
	if identity == "" {
		return fmt.Errorf("account %q: empty identity", account)
	}
	if strings.ContainsAny(identity, " \t") {
		return fmt.Errorf("identity %q contains white space", identity)
	}
	if prev, ok := m.byAccount[account]; ok {
		if prev != identity {
			return fmt.Errorf("account %q is joined to both %q and %q", account, prev, identity)
		}
		return nil
	}
	m.byAccount[account] = identity
	m.accounts[identity] = append(m.accounts[identity], account)
	return nil
}

// Lookup returns the identity the account on platform p is joined to: the
// platform-qualified entry first, then the bare login. It allocates; the
// Resolver calls it once per account.
func (m *Mapping) Lookup(p reposentry.Platform, login string) (string, bool) {
	if m == nil {
		return "", false
	}
	login = strings.ToLower(login)
	if id, ok := m.byAccount[p.String()+":"+login]; ok {
		return id, true
	}
	id, ok := m.byAccount[login]
	return id, ok
}

// Accounts returns the accounts the mapping joins to identity; the slice
// is shared.
func (m *Mapping) Accounts(identity string) []string {
	if m == nil {
		return nil
	}
	return m.accounts[identity]
}

// Len reports how many accounts are mapped.
func (m *Mapping) Len() int {
	if m == nil {
		return 0
	}
	return len(m.byAccount)
}

func checkAccount(a string) error {
	if a == "" {
		return errors.New("empty account")
	}
	if strings.ContainsAny(a, " \t") {
		return fmt.Errorf("account %q contains white space", a)
	}
	platform, login, ok := strings.Cut(a, ":")
	if !ok {
		return nil
	}
	if login == "" {
		return fmt.Errorf("account %q has no login after the platform", a)
	}
	if _, ok := parsePlatform(platform); !ok {
		return fmt.Errorf("account %q: unknown platform %q", a, platform)
	}
	return nil
}

func parsePlatform(s string) (reposentry.Platform, bool) {
	for p := reposentry.PlatformGitHub; p <= reposentry.PlatformEntra; p++ {
		if strings.EqualFold(s, p.String()) {
			return p, true
		}
	}
	return reposentry.PlatformUnknown, false
}

// LoadMapping reads a mapping file: CSV (".csv") or YAML (".yaml",
// ".yml"). Errors name the file and line.
func LoadMapping(path string) (*Mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity mapping: %w", err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return ParseMappingCSV(bytes.NewReader(b), path)
	case ".yaml", ".yml":
		return ParseMappingYAML(b, path)
	}
	return nil, fmt.Errorf("identity mapping %s: unknown extension: want .csv, .yaml or .yml", path)
}

// identityColumns are the header names accepted for the identity column.
var identityColumns = []string{"user_principal_name", "upn", "identity", "email", "mail"}

// ParseMappingCSV reads a CSV mapping with a header line, as `reposentry
// simulate` writes identities.csv:
//
//	github_login,user_principal_name
//	jdoe-acme,jane.doe@acme.example
//
// The identity column is one of user_principal_name, upn, identity, email
// or mail. Account columns are "<platform>_login" (github_login,
// gitlab_login, okta_login, …), "login" (any platform) or "account"
// (values "<platform>:<login>"); a row may fill several, and empty cells
// are skipped. name is used in errors.
func ParseMappingCSV(r io.Reader, name string) (*Mapping, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("identity mapping %s: empty file, want a header line", name)
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	header = slices.Clone(header) // ReuseRecord: the next Read overwrites it
	idCol := -1
	type col struct {
		idx    int
		prefix string // "github:" for github_login, "" for login and account
	}
	var cols []col
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch {
		case slices.Contains(identityColumns, h):
			if idCol >= 0 {
				return nil, fmt.Errorf("identity mapping %s:1: two identity columns (%q and %q)", name, header[idCol], header[i])
			}
			idCol = i
		case h == "login" || h == "account":
			cols = append(cols, col{idx: i})
		case strings.HasSuffix(h, "_login"):
			p, ok := parsePlatform(strings.TrimSuffix(h, "_login"))
			if !ok {
				return nil, fmt.Errorf("identity mapping %s:1: column %q: unknown platform", name, header[i])
			}
			cols = append(cols, col{idx: i, prefix: p.String() + ":"})
		default:
			return nil, fmt.Errorf("identity mapping %s:1: unknown column %q (want <platform>_login, login or account, and one of %s)",
				name, header[i], strings.Join(identityColumns, ", "))
		}
	}
	if idCol < 0 || len(cols) == 0 {
		return nil, fmt.Errorf("identity mapping %s:1: header %q needs an account column (<platform>_login, login or account) and an identity column (%s)",
			name, strings.Join(header, ","), strings.Join(identityColumns, ", "))
	}
	m := NewMapping()
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return m, nil
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		id := strings.TrimSpace(rec[idCol])
		if id == "" {
			return nil, fmt.Errorf("identity mapping %s:%d: empty %s", name, line, header[idCol])
		}
		n := 0
		for _, c := range cols {
			v := strings.TrimSpace(rec[c.idx])
			if v == "" {
				continue
			}
			n++
			if err := m.Add(c.prefix+v, id); err != nil {
				return nil, fmt.Errorf("identity mapping %s:%d: %w", name, line, err)
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("identity mapping %s:%d: no account for %q", name, line, id)
		}
	}
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		// StartLine is where the bad record begins, where a person looks.
		return fmt.Errorf("identity mapping %s:%d: %w", name, pe.StartLine, pe.Err)
	}
	return fmt.Errorf("identity mapping %s: %w", name, err)
}

// ParseMappingYAML reads a YAML mapping in the shape of the configuration's
// identities section, either at the top level or under "identities":
//
//	identities:
//	  - id: jane.doe@acme.example
//	    accounts: [github:jdoe-acme, gitlab:jdoe]
func ParseMappingYAML(b []byte, name string) (*Mapping, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("identity mapping %s: %w", name, err)
	}
	m := NewMapping()
	if len(doc.Content) == 0 {
		return m, nil
	}
	list := doc.Content[0]
	if list.Kind == yaml.MappingNode {
		var found *yaml.Node
		for i := 0; i+1 < len(list.Content); i += 2 {
			if k := list.Content[i]; k.Value == "identities" {
				found = list.Content[i+1]
			} else {
				return nil, fmt.Errorf("identity mapping %s:%d: unknown key %q, want identities", name, k.Line, k.Value)
			}
		}
		if found == nil {
			return nil, fmt.Errorf("identity mapping %s:%d: no identities key", name, list.Line)
		}
		list = found
	}
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		return m, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("identity mapping %s:%d: want a list of {id, accounts}", name, list.Line)
	}
	for _, item := range list.Content {
		if item.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("identity mapping %s:%d: want {id, accounts}", name, item.Line)
		}
		var id string
		var accounts []*yaml.Node
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, v := item.Content[i], item.Content[i+1]
			switch k.Value {
			case "id":
				if v.Kind != yaml.ScalarNode {
					return nil, fmt.Errorf("identity mapping %s:%d: id must be a string", name, v.Line)
				}
				id = v.Value
			case "accounts":
				if v.Kind != yaml.SequenceNode {
					return nil, fmt.Errorf("identity mapping %s:%d: accounts must be a list", name, v.Line)
				}
				accounts = v.Content
			default:
				return nil, fmt.Errorf("identity mapping %s:%d: unknown key %q, want id or accounts", name, k.Line, k.Value)
			}
		}
		if strings.TrimSpace(id) == "" {
			return nil, fmt.Errorf("identity mapping %s:%d: entry has no id", name, item.Line)
		}
		if len(accounts) == 0 {
			return nil, fmt.Errorf("identity mapping %s:%d: identity %q lists no account", name, item.Line, id)
		}
		for _, a := range accounts {
			if a.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("identity mapping %s:%d: account must be a string", name, a.Line)
			}
			if err := m.Add(a.Value, id); err != nil {
				return nil, fmt.Errorf("identity mapping %s:%d: %w", name, a.Line, err)
			}
		}
	}
	return m, nil
}
