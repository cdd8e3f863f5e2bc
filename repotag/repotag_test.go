package repotag

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/reposentry/reposentry"
	"go.yaml.in/yaml/v3"
)

func TestTags(t *testing.T) {
	custom := Default()
	custom.Repos = map[string][]string{"Acme/Payments-Core": {"core_product", "secrets"}}
	custom.Tags["signing"] = []string{"acme/?pg-keys"}
	tests := []struct {
		name string
		cfg  Config
		repo string
		want []string
	}{
		{"terraform is infrastructure", Default(), "acme/platform-terraform", []string{"infrastructure"}},
		{"case is ignored", Default(), "ACME/Vault-Config", []string{"secrets"}},
		{"suffix pattern", Default(), "acme/network-iac", []string{"infrastructure"}},
		{"several tags", Default(), "acme/deploy-secrets", []string{"infrastructure", "secrets"}},
		{"security tooling", Default(), "acme/detection-rules", []string{"security"}},
		{"release keys", Default(), "acme/release-keys", []string{"signing"}},
		{"ordinary repository", Default(), "acme/web-frontend", nil},
		{"no repository", Default(), "", nil},
		{"explicit list adds to the patterns", custom, "acme/payments-core", []string{"secrets", "core_product"}},
		{"replaced tag patterns", custom, "acme/gpg-keys", []string{"signing"}},
		{"replaced defaults no longer match", custom, "acme/code-signing", nil},
		{"glob brackets are literal", Config{Tags: map[string][]string{"secrets": {"*[vault]"}}}, "acme/x[vault]", []string{"secrets"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(tc.cfg, 0)
			if err != nil {
				t.Fatal(err)
			}
			// Twice: the cached answer must equal the computed one.
			for range 2 {
				if got := e.Tags(tc.repo).Names(); !slices.Equal(got, tc.want) {
					t.Errorf("Tags(%q) = %q, want %q", tc.repo, got, tc.want)
				}
			}
			ev := reposentry.Event{Repo: tc.repo, RepoTags: reposentry.TagCoreProduct}
			e.Enrich(&ev)
			if got := ev.RepoTags.Names(); !slices.Equal(got, tc.want) {
				t.Errorf("Enrich set %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"defaults", Default(), ""},
		{"empty", Config{}, ""},
		{"unknown tag", Config{Tags: map[string][]string{"secret": {"*x*"}}}, `repositories.tags.secret: unknown tag "secret"`},
		{"empty pattern", Config{Tags: map[string][]string{"secrets": {"*x*", " "}}}, "repositories.tags.secrets[1]: empty pattern"},
		{"unknown tag on a repository", Config{Repos: map[string][]string{"acme/x": {"signing", "keys"}}}, `repositories.repos.acme/x[1]: unknown tag "keys"`},
		{"repository without owner", Config{Repos: map[string][]string{"vault": {"secrets"}}}, "repositories.repos.vault: \"vault\" is not an owner/name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
			if _, nerr := New(tc.cfg, 0); (nerr == nil) != (err == nil) {
				t.Errorf("New() = %v, Validate() = %v", nerr, err)
			}
		})
	}
}

func TestYAMLKeepsOtherDefaults(t *testing.T) {
	c := Default()
	src := "tags:\n  secrets: [\"*-creds\"]\nrepos:\n  acme/core: [core_product]\n"
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if !slices.Equal(c.Tags["secrets"], []string{"*-creds"}) {
		t.Errorf("secrets = %q, want the file's patterns", c.Tags["secrets"])
	}
	if !slices.Equal(c.Tags["signing"], Default().Tags["signing"]) {
		t.Errorf("signing = %q, want its defaults kept", c.Tags["signing"])
	}
	if !slices.Equal(c.Repos["acme/core"], []string{"core_product"}) {
		t.Errorf("repos = %v", c.Repos)
	}
}

func TestCacheBounded(t *testing.T) {
	e, err := New(Default(), 8)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		e.Tags(fmt.Sprintf("acme/repo-%d", i))
		if len(e.cache) > 8 {
			t.Fatalf("cache holds %d repositories, bound is 8", len(e.cache))
		}
	}
}

func TestEnrichAllocatesOnlyOnFirstSight(t *testing.T) {
	e, err := New(Default(), 0)
	if err != nil {
		t.Fatal(err)
	}
	ev := reposentry.Event{Repo: string([]byte("acme/infra-live"))}
	e.Enrich(&ev)
	if n := testing.AllocsPerRun(100, func() { e.Enrich(&ev) }); n != 0 {
		t.Errorf("Enrich allocates %v times per event after the first sight", n)
	}
	if ev.RepoTags != reposentry.TagInfrastructure {
		t.Errorf("RepoTags = %q", ev.RepoTags.Names())
	}
}

func BenchmarkEnrich(b *testing.B) {
	e, err := New(Default(), 0)
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]reposentry.Event, 2000)
	for i := range evs {
		evs[i].Repo = fmt.Sprintf("acme/service-%04d", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.Enrich(&evs[i%len(evs)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
