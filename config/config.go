// Package config reads reposentry's YAML configuration file (hunt --config,
// serve --config): detection thresholds, risk and engine settings, the
// identity mapping, privileged principals and bot patterns.
//
// Decoding is strict: an unknown key is an error naming the file, the line
// and the key, because a misspelt threshold silently left at its default is a
// detection silently weakened.
package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/alert"
	"github.com/reposentry/reposentry/baseline"
	"github.com/reposentry/reposentry/chain"
	"github.com/reposentry/reposentry/detect"
	"github.com/reposentry/reposentry/directory"
	"github.com/reposentry/reposentry/engine"
	"github.com/reposentry/reposentry/enrich"
	"github.com/reposentry/reposentry/geo"
	"github.com/reposentry/reposentry/novelty"
	"github.com/reposentry/reposentry/repotag"
	"github.com/reposentry/reposentry/source"
	"go.yaml.in/yaml/v3"
)

// DetectionFamilies are the detection families the disable key can turn off.
var DetectionFamilies = []string{"baseline", "novelty", "chain", "sigma"}

// Disabled reports whether the detection family is turned off.
func (c Config) Disabled(family string) bool { return slices.Contains(c.Disable, family) }

// Config is the whole configuration file.
type Config struct {
	// Detect tunes the built-in detections.
	Detect detect.Config `yaml:"detect"`
	// Alert tunes the risk stage that turns signals into alerts.
	Alert alert.Config `yaml:"alert"`
	// Engine tunes event-time ordering, lateness and deduplication.
	Engine engine.Config `yaml:"engine"`
	// Disable turns detection families off: "baseline", "novelty",
	// "chain", "sigma" (the threshold detections of detect always run).
	Disable []string `yaml:"disable"`
	// Baseline tunes the behaviour baselines (days of history per identity).
	Baseline baseline.Config `yaml:"baseline"`
	// Novelty tunes first-seen tracking per credential and of the
	// identity's clients and organisations.
	Novelty novelty.Config `yaml:"novelty"`
	// Chain tunes the cross-source detections over identity-provider
	// sessions.
	Chain chain.Config `yaml:"chain"`
	// Privileged lists principals whose every read deserves a look.
	Privileged PrivilegedConfig `yaml:"privileged"`
	// Identities joins platform accounts to the people behind them.
	Identities []Identity `yaml:"identities"`
	// Bots are glob patterns over logins that mark automation accounts
	// (machine users that the platform logs as ordinary users).
	Bots []string `yaml:"bots"`
	// Input bounds what is read.
	Input InputConfig `yaml:"input"`
	// IdentityMap is a mapping file (CSV with a header such as
	// "github_login,user_principal_name", or YAML shaped like identities)
	// joining accounts to people, on top of identities.
	IdentityMap string `yaml:"identity_map"`
	// Directory says where people and their privilege come from.
	Directory DirectoryConfig `yaml:"directory"`
	// GeoIP locates addresses and classes networks (hosting, VPN, Tor,
	// residential proxy) with MaxMind DB files; without databases, the
	// country the record carries is used.
	GeoIP geo.Config `yaml:"geoip"`
	// Repositories tags repositories by sensitivity (secrets, signing,
	// infrastructure, ...) from name patterns and lists; detections weigh
	// reads of sensitive repositories more.
	Repositories repotag.Config `yaml:"repositories"`
}

// DirectoryConfig names the directory: a snapshot file, or a live LDAP
// server that hunt reads once at start (serve refreshes it).
type DirectoryConfig struct {
	// Snapshot is an LDIF or JSON export of users and groups. With ldap.url
	// it is the last good copy, used when the live directory cannot be
	// read; a .json snapshot is rewritten after every successful read.
	Snapshot string `yaml:"snapshot"`
	// LDAP is a live directory; used when ldap.url is set.
	LDAP directory.Config `yaml:"ldap"`
	// PrivilegedGroups are group cns, DNs or SIDs whose members (through
	// nested groups) are privileged; empty means Domain Admins, Enterprise
	// Admins, Schema Admins, Administrators and Account, Server and Backup
	// Operators, matched by name or by well-known RID.
	PrivilegedGroups []string `yaml:"privileged_groups"`
	// AdminCountPrivileged makes adminCount=1 alone privileged (it
	// over-reports: former admins keep it).
	AdminCountPrivileged bool `yaml:"admin_count_privileged"`
	// Optional lets a run go on without the directory when it cannot be
	// read; by default that is an error.
	Optional bool `yaml:"optional"`
}

// Policy is the privilege policy the directory section describes.
func (d DirectoryConfig) Policy() directory.Policy {
	return directory.Policy{Groups: d.PrivilegedGroups, AdminCountPrivileged: d.AdminCountPrivileged}
}

// PrivilegedConfig lists privileged principals.
type PrivilegedConfig struct {
	// Accounts are logins (any platform) or "<platform>:<login>" accounts.
	Accounts []string `yaml:"accounts"`
	// Identities are identity ids: directory user names or emails.
	Identities []string `yaml:"identities"`
}

// Identity joins accounts to one person.
type Identity struct {
	// ID is the person's stable id, e.g. "jane.doe@acme.example".
	ID string `yaml:"id"`
	// Accounts are "<platform>:<login>" accounts, or bare logins for any
	// platform.
	Accounts []string `yaml:"accounts"`
}

// InputConfig bounds what sources read.
type InputConfig struct {
	// MaxRecordBytes is the longest record (line, JSON value) accepted;
	// longer ones are rejected as line_too_long and reading goes on.
	MaxRecordBytes int `yaml:"max_record_bytes"`
}

// maxRecordLimit keeps a configured record size from exhausting memory.
const maxRecordLimit = 1 << 30

// Default returns the configuration used without a file. Its bot patterns
// are the usual names of machine users and apps; enrichment matches them to
// logins and the detections also to identity ids, since a service account
// is often named as such only in the directory ("svc-github-ci1@…").
func Default() Config {
	bots := []string{"*[bot]", "svc-*", "*-ci", "ci-*", "*-bot", "bot-*"}
	d := detect.DefaultConfig()
	d.BotPatterns = append([]string(nil), bots...)
	return Config{
		Detect:   d,
		Alert:    alert.DefaultConfig(),
		Engine:   engine.DefaultConfig(),
		Baseline: baseline.DefaultConfig(),
		Novelty:  novelty.DefaultConfig(),
		Chain:    chain.DefaultConfig(),
		Bots:     bots,
		Input:    InputConfig{MaxRecordBytes: source.DefaultMaxRecordBytes},
		// Fresh maps on every call: decoding a file merges into them.
		Repositories: repotag.Default(),
	}
}

// Load reads and validates the configuration file at path. Keys the file
// leaves out keep their defaults.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	return Parse(path, f)
}

// Parse reads and validates a configuration from r; name is the file name
// used in error messages.
func Parse(name string, r io.Reader) (Config, error) {
	c := Default()
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	err := dec.Decode(&c)
	if err != nil && !errors.Is(err, io.EOF) { // an empty file means defaults
		return Config{}, decodeError(name, err)
	}
	if err == nil {
		var extra yaml.Node
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("%s:%d: more than one YAML document; put the whole configuration in one", name, extra.Line)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

var (
	lineRe    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownRe = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
	durRe     = regexp.MustCompile("^cannot unmarshal !!\\w+ `(.*)` into time\\.Duration$")
)

// decodeError rewrites yaml.v3's messages as "file:line: message", and
// unknown fields as the key's full path, which is what a person edits.
func decodeError(name string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		lm := lineRe.FindStringSubmatch(m)
		if lm == nil {
			out = append(out, name+": "+strings.TrimPrefix(m, "yaml: "))
			continue
		}
		msg := lm[2]
		if um := unknownRe.FindStringSubmatch(msg); um != nil {
			key := um[1]
			if section := sectionOf(um[2]); section != "" {
				key = section + "." + key
			}
			msg = fmt.Sprintf("unknown key %q", key)
		} else if dm := durRe.FindStringSubmatch(msg); dm != nil {
			msg = fmt.Sprintf("%q is not a duration; write one such as \"10m\", \"36h\" or \"1h30m\"", dm[1])
		}
		out = append(out, name+":"+lm[1]+": "+msg)
	}
	return errors.New(strings.Join(out, "\n"))
}

// sectionOf maps a Go type name in a yaml.v3 message ("detect.Tiers") to the
// key path of that section ("detect.tiers"); "" for the top level.
func sectionOf(typeName string) string {
	sections := map[string]string{}
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		if _, seen := sections[t.String()]; seen {
			return
		}
		sections[t.String()] = path
		for f := range t.Fields() {
			if !f.IsExported() {
				continue
			}
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if key == "-" {
				continue
			}
			if key == "" {
				key = strings.ToLower(f.Name) // yaml.v3's default key
			}
			sub := key
			if path != "" {
				sub = path + "." + key
			}
			walk(f.Type, sub)
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return sections[typeName]
}

// Validate reports the first setting that cannot work, naming its key.
func (c Config) Validate() error {
	// The sections owned by other packages validate themselves where they
	// know how; the check is dynamic so a section without Validate still
	// loads.
	for _, s := range []struct {
		name string
		v    any
	}{{"detect", c.Detect}, {"alert", c.Alert}, {"engine", c.Engine}, {"baseline", c.Baseline}, {"novelty", c.Novelty}, {"chain", c.Chain}} {
		if v, ok := s.v.(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				if !strings.HasPrefix(err.Error(), s.name+".") {
					return fmt.Errorf("%s: %w", s.name, err)
				}
				return err
			}
		}
	}
	for i, a := range c.Privileged.Accounts {
		if err := checkAccount(a); err != nil {
			return fmt.Errorf("privileged.accounts[%d]: %w", i, err)
		}
	}
	for i, id := range c.Privileged.Identities {
		if err := checkName(id); err != nil {
			return fmt.Errorf("privileged.identities[%d]: %w", i, err)
		}
	}
	owner := make(map[string]string)
	for i, ident := range c.Identities {
		if err := checkName(ident.ID); err != nil {
			return fmt.Errorf("identities[%d].id: %w", i, err)
		}
		if len(ident.Accounts) == 0 {
			return fmt.Errorf("identities[%d].accounts: identity %q lists no account", i, ident.ID)
		}
		for j, a := range ident.Accounts {
			if err := checkAccount(a); err != nil {
				return fmt.Errorf("identities[%d].accounts[%d]: %w", i, j, err)
			}
			key := strings.ToLower(a)
			if prev, ok := owner[key]; ok && !strings.EqualFold(prev, ident.ID) {
				return fmt.Errorf("identities[%d].accounts[%d]: account %q is already joined to %q", i, j, a, prev)
			}
			owner[key] = ident.ID
		}
	}
	for i, f := range c.Disable {
		if !slices.Contains(DetectionFamilies, f) {
			return fmt.Errorf("disable[%d]: %q is not one of %s", i, f, strings.Join(DetectionFamilies, ", "))
		}
	}
	for i, b := range c.Bots {
		if !enrich.ValidGlob(strings.TrimSpace(b)) {
			return fmt.Errorf("bots[%d]: pattern %q would match every login", i, b)
		}
	}
	if err := c.Repositories.Validate(); err != nil {
		return err
	}
	if n := c.Input.MaxRecordBytes; n < 1024 || n > maxRecordLimit {
		return fmt.Errorf("input.max_record_bytes: %d is out of range (1024 to %d)", n, maxRecordLimit)
	}
	return nil
}

// checkName rejects empty names and names with spaces, which are always
// typing mistakes in logins and identity ids.
func checkName(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("empty value")
	}
	if strings.ContainsAny(s, " \t\n") {
		return fmt.Errorf("%q contains white space", s)
	}
	return nil
}

// checkAccount accepts a bare login or "<platform>:<login>" with a platform
// reposentry knows.
func checkAccount(a string) error {
	if err := checkName(a); err != nil {
		return err
	}
	platform, login, ok := strings.Cut(a, ":")
	if !ok {
		return nil
	}
	if login == "" {
		return fmt.Errorf("account %q has no login after the platform", a)
	}
	for p := reposentry.PlatformGitHub; p <= reposentry.PlatformEntra; p++ {
		if strings.EqualFold(platform, p.String()) {
			return nil
		}
	}
	return fmt.Errorf("account %q: unknown platform %q", a, platform)
}

// Static returns the account-level enrichment configuration: the
// privileged accounts and the bot patterns.
func (c Config) Static() enrich.StaticConfig {
	return enrich.StaticConfig{Privileged: c.Privileged.Accounts, Bots: c.Bots}
}
