package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry/repotag"
	"go.yaml.in/yaml/v3"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default() does not validate: %v", err)
	}
}

func TestParseEmptyKeepsDefaults(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n"} {
		c, err := Parse("empty.yaml", strings.NewReader(src))
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("Parse(%q) differs from Default()", src)
		}
	}
}

func TestPartialSectionKeepsDefaults(t *testing.T) {
	c, err := Parse("partial.yaml", strings.NewReader("detect:\n  window: 5m\n  tiers:\n    medium: 20\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Detect.Window = 5 * time.Minute
	want.Detect.Tiers.Medium = 20
	if !reflect.DeepEqual(c, want) {
		t.Errorf("partial detect section: got %+v, want %+v", c.Detect, want.Detect)
	}
}

func TestRepositoriesPartialKeepsOtherTags(t *testing.T) {
	c, err := Parse("repos.yaml", strings.NewReader("repositories:\n  tags:\n    secrets: [\"*-creds\"]\n  repos:\n    acme/core: [core_product]\n"))
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	if !slices.Equal(c.Repositories.Tags["secrets"], []string{"*-creds"}) || !slices.Equal(c.Repositories.Tags["signing"], def.Repositories.Tags["signing"]) {
		t.Errorf("tags = %v; want secrets replaced and signing kept", c.Repositories.Tags)
	}
	if !slices.Equal(c.Repositories.Repos["acme/core"], []string{"core_product"}) {
		t.Errorf("repos = %v", c.Repositories.Repos)
	}
	if got := Default().Repositories.Tags["secrets"]; !slices.Equal(got, repotag.Default().Tags["secrets"]) {
		t.Errorf("parsing a file changed the defaults: secrets = %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // substrings of the error
	}{
		{"unknown top-level key", "bots: [\"*-ci\"]\nthresholds: 3\n", []string{`cfg.yaml:2: unknown key "thresholds"`}},
		{"unknown nested key", "detect:\n  tiers:\n    mediun: 3\n", []string{`cfg.yaml:3: unknown key "detect.tiers.mediun"`}},
		{"unknown key in list item", "identities:\n  - id: a@acme.example\n    acounts: [x]\n", []string{`cfg.yaml:3: unknown key "identities.acounts"`}},
		{"duration not a duration", "detect:\n  window: 10 minutes\n", []string{"cfg.yaml:2:", `"10 minutes" is not a duration`}},
		{"duration as a bare number", "detect:\n  window: 600\n", []string{"cfg.yaml:2:", `"600" is not a duration`}},
		{"syntax error", "bots: [\n", []string{"cfg.yaml:"}},
		{"two documents", "bots: [\"*-ci\"]\n---\nbots: []\n", []string{"cfg.yaml:2: more than one YAML document"}},
		{"empty privileged account", "privileged:\n  accounts: [\"\"]\n", []string{"cfg.yaml: privileged.accounts[0]: empty value"}},
		{"unknown platform", "privileged:\n  accounts: [\"githab:root\"]\n", []string{"privileged.accounts[0]", `unknown platform "githab"`}},
		{"identity without accounts", "identities:\n  - id: a@acme.example\n", []string{"identities[0].accounts", "lists no account"}},
		{"identity with spaces", "identities:\n  - id: Jane Doe\n    accounts: [jdoe]\n", []string{"identities[0].id", "white space"}},
		{"account joined twice", "identities:\n  - id: a@acme.example\n    accounts: [github:x]\n  - id: b@acme.example\n    accounts: [GitHub:X]\n",
			[]string{"identities[1].accounts[0]", `already joined to "a@acme.example"`}},
		{"match-all bot pattern", "bots: [\"svc-*\", \"*\"]\n", []string{"bots[1]", "every login"}},
		{"record size too small", "input:\n  max_record_bytes: 10\n", []string{"input.max_record_bytes", "out of range"}},
		{"detect validation", "detect:\n  tiers:\n    medium: 50\n    high: 10\n", []string{"cfg.yaml: detect.tiers"}},
		{"alert validation", "alert:\n  risk_threshold: 300\n", []string{"cfg.yaml: alert.risk_threshold"}},
		{"bad severity", "alert:\n  min_severity: severe\n", []string{"cfg.yaml:", `unknown severity "severe"`}},
		{"engine validation", "engine:\n  tick: -5m\n", []string{"cfg.yaml: engine.tick"}},
		{"unknown repository tag", "repositories:\n  tags:\n    secret: [\"*vault*\"]\n", []string{"cfg.yaml: repositories.tags.secret", `unknown tag "secret"`}},
		{"unknown tag on a repository", "repositories:\n  repos:\n    acme/keys: [signing, crown-jewels]\n", []string{"cfg.yaml: repositories.repos.acme/keys[1]", `unknown tag "crown-jewels"`}},
		{"unknown key in repositories", "repositories:\n  tag: {}\n", []string{`cfg.yaml:2: unknown key "repositories.tag"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("cfg.yaml", strings.NewReader(tt.src))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tt.src)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadNamesMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yaml")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load(%q) = %v, want an error naming the file", path, err)
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	src := "privileged:\n  accounts: [admin-jsmith, github:root-ops]\n  identities: [ciso@acme.example]\n" +
		"identities:\n  - id: Jane.Doe@acme.example\n    accounts: [github:jdoe-acme, gitlab:jdoe]\n" +
		"bots: [\"*-ci\", \"svc-*\"]\ninput:\n  max_record_bytes: 65536\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Input.MaxRecordBytes != 65536 || len(c.Identities) != 1 || len(c.Bots) != 2 {
		t.Fatalf("loaded %+v", c)
	}
	s := c.Static()
	if want := []string{"admin-jsmith", "github:root-ops"}; !slices.Equal(s.Privileged, want) {
		t.Errorf("Static().Privileged = %q, want %q", s.Privileged, want)
	}
	if !slices.Equal(s.Bots, c.Bots) {
		t.Errorf("Static().Bots = %q, want %q", s.Bots, c.Bots)
	}
}

// TestExample loads the documented example: it must load, show the real
// defaults for the sections it documents, and mention every key a
// configuration can have.
func TestExample(t *testing.T) {
	c, err := Load("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	// Compared as YAML, where an empty list and a nil one are the same.
	for _, s := range []struct {
		name      string
		got, want any
	}{{"detect", c.Detect, def.Detect}, {"alert", c.Alert, def.Alert}, {"engine", c.Engine, def.Engine},
		{"repositories", c.Repositories, def.Repositories}, {"baseline", c.Baseline, def.Baseline}, {"chain", c.Chain, def.Chain}} {
		got, _ := yaml.Marshal(s.got)
		want, _ := yaml.Marshal(s.want)
		if string(got) != string(want) {
			t.Errorf("example.yaml's %s section is not the defaults; update the example:\n%s\nwant:\n%s", s.name, got, want)
		}
	}
	if len(c.Identities) == 0 || len(c.Privileged.Accounts) == 0 || len(c.Bots) == 0 {
		t.Errorf("example.yaml does not illustrate identities, privileged accounts and bots")
	}

	src, err := os.ReadFile("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	documented := keyPaths(&doc, "", nil)
	var all yaml.Node
	if err := all.Encode(def); err != nil {
		t.Fatal(err)
	}
	for _, k := range keyPaths(&all, "", nil) {
		if !slices.Contains(documented, k) {
			t.Errorf("example.yaml does not document key %q", k)
		}
	}
}

func TestExamplesConfig(t *testing.T) {
	c, err := Load("../examples/reposentry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(c.Privileged.Accounts, "github:admin-jsmith") {
		t.Errorf("examples/reposentry.yaml does not list github:admin-jsmith as privileged: %q", c.Privileged.Accounts)
	}
	for _, b := range []string{"*-ci", "svc-*"} {
		if !slices.Contains(c.Bots, b) {
			t.Errorf("examples/reposentry.yaml lacks bot pattern %q", b)
		}
	}
}

// keyPaths lists the dotted paths of every mapping key under n; list items
// share their list's path.
func keyPaths(n *yaml.Node, prefix string, out []string) []string {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			out = keyPaths(c, prefix, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if prefix != "" {
				p = prefix + "." + p
			}
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
			out = keyPaths(n.Content[i+1], p, out)
		}
	}
	return out
}

// FuzzParse: whatever the input, Parse either fails with an error naming the
// file or returns a configuration that validates.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"", "bots: [\"*-ci\"]\n", "detect:\n  window: 10m\n  tiers: {medium: 3}\n",
		"identities:\n  - id: a@b\n    accounts: [github:a]\n", "engine: {lateness: 1h}\n", "input: {max_record_bytes: 2048}\n",
		"privileged: {accounts: [x], identities: [y]}\n", "a: [\n", "---\n---\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := Parse("fuzz.yaml", strings.NewReader(src))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse returned a configuration that does not validate: %v", err)
		}
	})
}

func TestDisable(t *testing.T) {
	c, err := Parse("d.yaml", strings.NewReader("disable: [baseline, sigma]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Disabled("baseline") || !c.Disabled("sigma") || c.Disabled("chain") {
		t.Errorf("Disabled = %v", c.Disable)
	}
	if _, err := Parse("d.yaml", strings.NewReader("disable: [detect]\n")); err == nil || !strings.Contains(err.Error(), "disable[0]") {
		t.Errorf("an unknown family was accepted: %v", err)
	}
}
