package directory

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Config says how to read the directory over LDAP. The yaml tags let the
// configuration file embed it as is; durations are Go durations ("30s").
type Config struct {
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string `yaml:"url"`
	// StartTLS upgrades an ldap:// connection before binding.
	StartTLS bool `yaml:"start_tls"`
	// BindDN is the account to bind as; empty binds anonymously.
	BindDN string `yaml:"bind_dn"`
	// PasswordEnv names the environment variable holding the bind password;
	// PasswordFile is a file holding it (a trailing newline is dropped). At
	// most one may be set. The password itself never appears in errors.
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
	// BaseDN is where users and groups are searched (subtree).
	BaseDN string `yaml:"base_dn"`
	// UserFilter and GroupFilter select users and groups; empty means
	// DefaultUserFilter and DefaultGroupFilter.
	UserFilter  string `yaml:"user_filter"`
	GroupFilter string `yaml:"group_filter"`
	// PrivilegedGroups, PrivilegedRIDs and AdminCountPrivileged make the
	// Policy (see there for the defaults).
	PrivilegedGroups     []string `yaml:"privileged_groups"`
	PrivilegedRIDs       []uint32 `yaml:"privileged_rids"`
	AdminCountPrivileged bool     `yaml:"admin_count_privileged"`
	// Timeout bounds dialing and each request; 0 means 30s.
	Timeout time.Duration `yaml:"timeout"`
	// RefreshInterval is how often a Cache re-reads the directory; 0 means
	// one hour.
	RefreshInterval time.Duration `yaml:"refresh_interval"`
	// InsecureSkipVerify disables certificate verification (tests only).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// CACertFile is a PEM bundle trusted in addition to the system roots.
	CACertFile string `yaml:"ca_cert_file"`
	// PageSize is the paged-results page size; 0 means 1000 (AD's
	// MaxPageSize).
	PageSize uint32 `yaml:"page_size"`
}

// Default filters. Computers are users to AD, hence the exclusion.
const (
	DefaultUserFilter  = "(&(|(objectClass=user)(objectClass=inetOrgPerson))(!(objectClass=computer)))"
	DefaultGroupFilter = "(|(objectClass=group)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"
)

// InChainOID is LDAP_MATCHING_RULE_IN_CHAIN, Active Directory's transitive
// membership matching rule.
const InChainOID = "1.2.840.113556.1.4.1941"

// Policy returns the privilege policy the configuration describes.
func (c Config) Policy() Policy {
	return Policy{Groups: c.PrivilegedGroups, RIDs: c.PrivilegedRIDs, AdminCountPrivileged: c.AdminCountPrivileged}
}

// Client reads Snapshots from an LDAP server. It holds no connection
// between fetches, so it is safe for concurrent use.
type Client struct {
	cfg Config
	tls *tls.Config
}

// maxExpand bounds the base-object reads of the recursive fallback, so a
// hostile or broken directory cannot keep a fetch going forever.
const maxExpand = 10000

var (
	userAttrs  = []string{"sAMAccountName", "userPrincipalName", "mail", "displayName", "department", "memberOf", "primaryGroupID", "adminCount", "userAccountControl", "objectClass"}
	groupAttrs = []string{"cn", "objectSid", "member", "uniqueMember", "memberOf", "objectClass"}
)

// NewClient checks cfg and returns a client for it.
func NewClient(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("directory: ldap url %q: want ldap://host[:port] or ldaps://host[:port]", cfg.URL)
	}
	switch u.Scheme {
	case "ldap":
	case "ldaps":
		if cfg.StartTLS {
			return nil, fmt.Errorf("directory: ldap url %q: start_tls applies to ldap:// only, ldaps:// is TLS already", cfg.URL)
		}
	default:
		return nil, fmt.Errorf("directory: ldap url %q: scheme %q is not ldap or ldaps", cfg.URL, u.Scheme)
	}
	if cfg.BaseDN == "" {
		return nil, fmt.Errorf("directory: ldap %s: base_dn is required", cfg.URL)
	}
	if cfg.PasswordEnv != "" && cfg.PasswordFile != "" {
		return nil, fmt.Errorf("directory: ldap %s: set password_env or password_file, not both", cfg.URL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = time.Hour
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 1000
	}
	if cfg.UserFilter == "" {
		cfg.UserFilter = DefaultUserFilter
	}
	if cfg.GroupFilter == "" {
		cfg.GroupFilter = DefaultGroupFilter
	}
	for _, f := range []string{cfg.UserFilter, cfg.GroupFilter} {
		if _, err := ldap.CompileFilter(f); err != nil {
			return nil, fmt.Errorf("directory: ldap filter %q: %w", f, err)
		}
	}
	c := &Client{cfg: cfg}
	c.tls = &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if cfg.CACertFile != "" {
		pem, err := os.ReadFile(cfg.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("directory: ldap ca_cert_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("directory: ldap ca_cert_file %s: no PEM certificate in it", cfg.CACertFile)
		}
		c.tls.RootCAs = pool
	}
	return c, nil
}

// Config returns the client's configuration with defaults filled in.
func (c *Client) Config() Config { return c.cfg }

func (c *Client) password() (string, error) {
	switch {
	case c.cfg.PasswordEnv != "":
		pw, ok := os.LookupEnv(c.cfg.PasswordEnv)
		if !ok || pw == "" {
			return "", fmt.Errorf("directory: ldap %s: environment variable %s (the bind password) is not set", c.cfg.URL, c.cfg.PasswordEnv)
		}
		return pw, nil
	case c.cfg.PasswordFile != "":
		b, err := os.ReadFile(c.cfg.PasswordFile)
		if err != nil {
			// The path error names the file, never its content.
			return "", fmt.Errorf("directory: ldap %s: bind password: %w", c.cfg.URL, err)
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			return "", fmt.Errorf("directory: ldap %s: password file %s is empty", c.cfg.URL, c.cfg.PasswordFile)
		}
		return pw, nil
	}
	return "", nil
}

// connect dials, upgrades and binds; the connection closes when ctx ends.
func (c *Client) connect(ctx context.Context) (*ldap.Conn, func(), error) {
	pw, err := c.password()
	if err != nil {
		return nil, nil, err
	}
	d := &net.Dialer{Timeout: c.cfg.Timeout}
	conn, err := ldap.DialURL(c.cfg.URL, ldap.DialWithDialer(d), ldap.DialWithTLSConfig(c.tls))
	if err != nil {
		return nil, nil, fmt.Errorf("directory: ldap connect to %s: %w", c.cfg.URL, err)
	}
	conn.SetTimeout(c.cfg.Timeout)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	done := func() {
		stop()
		conn.Close()
	}
	if c.cfg.StartTLS {
		if err := conn.StartTLS(c.tls); err != nil {
			done()
			return nil, nil, fmt.Errorf("directory: ldap StartTLS with %s (does the server offer TLS?): %w", c.cfg.URL, err)
		}
	}
	if c.cfg.BindDN != "" {
		if err := conn.Bind(c.cfg.BindDN, pw); err != nil {
			done()
			return nil, nil, fmt.Errorf("directory: ldap bind to %s as %q: %w", c.cfg.URL, c.cfg.BindDN, scrub(err, pw))
		}
	}
	return conn, done, nil
}

// scrub guarantees the password does not leak through a server's
// diagnostic message, whatever the server echoes.
func scrub(err error, pw string) error {
	if pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), pw, "***"))
}

// Fetch reads every user and group under BaseDN and resolves nested
// membership of the privileged groups: with AD's in-chain matching rule
// where the server supports it, else by expanding member values
// recursively (reading members outside the searched base one by one).
func (c *Client) Fetch(ctx context.Context) (*Snapshot, error) {
	conn, done, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	f := fetch{c: c, conn: conn, ctx: ctx}
	users, err := f.search(c.cfg.UserFilter, userAttrs)
	if err != nil {
		return nil, err
	}
	groups, err := f.search(c.cfg.GroupFilter, groupAttrs)
	if err != nil {
		return nil, err
	}
	for _, e := range users {
		f.addUser(e)
	}
	for _, e := range groups {
		if err := f.addGroup(e); err != nil {
			return nil, err
		}
	}
	policy := c.cfg.Policy()
	isPriv := policy.matcher()
	inChain := map[string][]string{}
	expansion := ExpansionLocal
	var privileged []*Group
	for _, g := range f.groups {
		if isPriv(g) {
			privileged = append(privileged, g)
		}
	}
	for _, g := range privileged {
		members, ok, err := f.inChain(g)
		if err != nil {
			return nil, err
		}
		if ok {
			inChain[NormalizeDN(g.DN)] = members
			if expansion == ExpansionLocal {
				expansion = ExpansionInChain
			}
			continue
		}
		if err := f.expand(g, map[string]bool{}); err != nil {
			return nil, err
		}
		expansion = ExpansionRecursive // any group expanded by hand marks the snapshot
	}
	s := build(f.users, f.groups, inChain, policy)
	s.Source = c.cfg.URL
	s.Fetched = time.Now().UTC()
	s.Expansion = expansion
	return s, nil
}

// fetch is one Fetch's state.
type fetch struct {
	c      *Client
	conn   *ldap.Conn
	ctx    context.Context
	users  []*User
	groups []*Group
	known  map[string]bool   // normalized DNs of users and groups read
	byDN   map[string]*Group // groups by normalized DN
	reads  int
}

func (f *fetch) err(what string, err error) error {
	if cerr := f.ctx.Err(); cerr != nil {
		return fmt.Errorf("directory: ldap %s on %s: %w", what, f.c.cfg.URL, cerr)
	}
	return fmt.Errorf("directory: ldap %s on %s: %w", what, f.c.cfg.URL, err)
}

func (f *fetch) search(filter string, attrs []string) ([]*ldap.Entry, error) {
	req := ldap.NewSearchRequest(f.c.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
	res, err := f.conn.SearchWithPaging(req, f.c.cfg.PageSize)
	if err != nil {
		return nil, f.err(fmt.Sprintf("search %s under %q", filter, f.c.cfg.BaseDN), err)
	}
	return res.Entries, nil
}

func (f *fetch) mark(dn string) bool {
	if f.known == nil {
		f.known = map[string]bool{}
	}
	n := NormalizeDN(dn)
	if f.known[n] {
		return false
	}
	f.known[n] = true
	return true
}

func (f *fetch) addUser(e *ldap.Entry) {
	if !f.mark(e.DN) {
		return
	}
	u := &User{DN: e.DN,
		SAMAccountName:    e.GetEqualFoldAttributeValue("sAMAccountName"),
		UserPrincipalName: e.GetEqualFoldAttributeValue("userPrincipalName"),
		Mail:              e.GetEqualFoldAttributeValue("mail"),
		DisplayName:       e.GetEqualFoldAttributeValue("displayName"),
		Department:        e.GetEqualFoldAttributeValue("department"),
		MemberOf:          e.GetEqualFoldAttributeValues("memberOf"),
		AdminCount:        e.GetEqualFoldAttributeValue("adminCount") == "1",
	}
	// Unparsable numbers count as absent: one odd entry should not fail
	// the whole directory.
	u.PrimaryGroupID, _ = parseUint32(e.GetEqualFoldAttributeValue("primaryGroupID"))
	u.UserAccountControl, _ = parseUint32(e.GetEqualFoldAttributeValue("userAccountControl"))
	f.users = append(f.users, u)
}

func (f *fetch) addGroup(e *ldap.Entry) error {
	if !f.mark(e.DN) {
		return nil
	}
	g := &Group{DN: e.DN, CN: e.GetEqualFoldAttributeValue("cn"),
		MemberOf: e.GetEqualFoldAttributeValues("memberOf")}
	if sid, ok := ParseSID(e.GetEqualFoldRawAttributeValue("objectSid")); ok {
		g.ObjectSID = sid
	}
	g.Member = append(e.GetEqualFoldAttributeValues("member"), e.GetEqualFoldAttributeValues("uniqueMember")...)
	ranged, err := f.rangedMembers(e)
	if err != nil {
		return err
	}
	g.Member = append(g.Member, ranged...)
	f.groups = append(f.groups, g)
	if f.byDN == nil {
		f.byDN = map[string]*Group{}
	}
	f.byDN[NormalizeDN(g.DN)] = g
	return nil
}

// rangedMembers follows AD's ranged retrieval: a group with more members
// than MaxValRange returns "member;range=0-1499" and must be read again
// for "member;range=1500-*" until a range ends in "*".
func (f *fetch) rangedMembers(e *ldap.Entry) ([]string, error) {
	var out []string
	for {
		var next int
		var found, last bool
		for _, a := range e.Attributes {
			lo := strings.ToLower(a.Name)
			if !strings.HasPrefix(lo, "member;range=") {
				continue
			}
			found = true
			out = append(out, a.Values...)
			_, hi, _ := strings.Cut(lo[len("member;range="):], "-")
			if hi == "*" {
				last = true
				break
			}
			n, err := strconv.Atoi(hi)
			if err != nil {
				return nil, fmt.Errorf("directory: ldap %s: group %q: bad range attribute %q", f.c.cfg.URL, e.DN, a.Name)
			}
			next = n + 1
		}
		if !found || last {
			return out, nil
		}
		req := ldap.NewSearchRequest(e.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"member;range=" + strconv.Itoa(next) + "-*"}, nil)
		res, err := f.conn.Search(req)
		if err != nil {
			return nil, f.err(fmt.Sprintf("ranged read of %q", e.DN), err)
		}
		if len(res.Entries) == 0 {
			return out, nil
		}
		e = res.Entries[0]
	}
}

// inChain asks the server for the group's transitive user members. ok is
// false when the server does not support the rule: it rejects the filter,
// or (OpenLDAP) treats the unknown rule as undefined and returns nothing
// although the group has direct members.
func (f *fetch) inChain(g *Group) ([]string, bool, error) {
	filter := "(&" + f.c.cfg.UserFilter + "(memberOf:" + InChainOID + ":=" + ldap.EscapeFilter(g.DN) + "))"
	req := ldap.NewSearchRequest(f.c.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		filter, []string{"1.1"}, nil)
	res, err := f.conn.SearchWithPaging(req, f.c.cfg.PageSize)
	if err != nil {
		var lerr *ldap.Error
		if f.ctx.Err() == nil && errors.As(err, &lerr) && lerr.ResultCode != ldap.ErrorNetwork {
			return nil, false, nil
		}
		return nil, false, f.err("in-chain search for "+g.DN, err)
	}
	if len(res.Entries) == 0 && len(g.Member) > 0 {
		return nil, false, nil
	}
	members := make([]string, 0, len(res.Entries))
	for _, e := range res.Entries {
		members = append(members, NormalizeDN(e.DN))
	}
	return members, true, nil
}

// expand walks g's members depth-first, reading the entries the searches
// did not return (groups outside the base or filter) so that the
// snapshot's graph is complete; seen breaks membership cycles.
func (f *fetch) expand(g *Group, seen map[string]bool) error {
	n := NormalizeDN(g.DN)
	if seen[n] {
		return nil
	}
	seen[n] = true
	for _, m := range g.Member {
		mdn := NormalizeDN(m)
		if !f.known[mdn] {
			if err := f.read(m); err != nil {
				return err
			}
		}
		if sub := f.byDN[mdn]; sub != nil {
			if err := f.expand(sub, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// read fetches one entry by DN and adds it as a user or group.
func (f *fetch) read(dn string) error {
	if f.reads >= maxExpand {
		return fmt.Errorf("directory: ldap %s: more than %d member entries outside the searched base; narrow the privileged groups", f.c.cfg.URL, maxExpand)
	}
	f.reads++
	req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", append(append([]string{}, userAttrs...), groupAttrs...), nil)
	res, err := f.conn.Search(req)
	if err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			f.mark(dn) // dangling member value: nothing to expand
			return nil
		}
		return f.err(fmt.Sprintf("read of member %q", dn), err)
	}
	for _, e := range res.Entries {
		classes := e.GetEqualFoldAttributeValues("objectClass")
		switch {
		case hasClass(classes, "group", "groupOfNames", "groupOfUniqueNames"):
			if err := f.addGroup(e); err != nil {
				return err
			}
		case hasClass(classes, "user", "person", "inetOrgPerson") && !hasClass(classes, "computer"):
			f.addUser(e)
		default:
			f.mark(e.DN)
		}
	}
	return nil
}

func hasClass(classes []string, want ...string) bool {
	for _, c := range classes {
		for _, w := range want {
			if strings.EqualFold(c, w) {
				return true
			}
		}
	}
	return false
}
