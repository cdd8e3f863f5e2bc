// Package repotag gives repositories their sensitivity tags (secrets,
// signing, infrastructure, ...) from configuration: glob patterns over
// "owner/name" and explicit lists. Detections weigh reads of sensitive
// repositories more.
package repotag

import (
	"fmt"
	"slices"
	"strings"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/enrich"
)

// Config is the `repositories:` section of the configuration file.
type Config struct {
	// Tags maps a tag name (infrastructure, secrets, security, signing,
	// core_product) to glob patterns over "owner/name", matched ignoring
	// case with enrich.Glob's syntax ('*' any run, '?' one character,
	// brackets literal). A tag given in a file replaces that tag's default
	// patterns; an empty list turns the tag's patterns off.
	Tags map[string][]string `yaml:"tags"`
	// Repos maps an "owner/name" repository (any case) to tags it has in
	// addition to those its name matches.
	Repos map[string][]string `yaml:"repos"`
}

// Default returns the default patterns: names that usually hold
// infrastructure code, secrets, security tooling and signing material. It
// returns fresh maps, so decoding a file into it never alters another's.
func Default() Config {
	return Config{
		Tags: map[string][]string{
			"infrastructure": {"*terraform*", "*infra*", "*-iac", "*deploy*", "*k8s*", "*helm*"},
			"secrets":        {"*secret*", "*vault*", "*credential*"},
			"security":       {"*security*", "*detection*"},
			"signing":        {"*signing*", "*release-keys*"},
		},
		Repos: map[string][]string{},
	}
}

// Validate reports the first unknown tag name or unusable pattern, naming
// its key.
func (c Config) Validate() error {
	for _, name := range sortedKeys(c.Tags) {
		if _, ok := reposentry.ParseRepoTag(name); !ok {
			return fmt.Errorf("repositories.tags.%s: unknown tag %q (known: %s)", name, name, known())
		}
		for i, p := range c.Tags[name] {
			if strings.TrimSpace(p) == "" {
				return fmt.Errorf("repositories.tags.%s[%d]: empty pattern", name, i)
			}
		}
	}
	for _, repo := range sortedKeys(c.Repos) {
		if owner, name, ok := strings.Cut(repo, "/"); !ok || owner == "" || name == "" {
			return fmt.Errorf("repositories.repos.%s: %q is not an owner/name repository", repo, repo)
		}
		for i, t := range c.Repos[repo] {
			if _, ok := reposentry.ParseRepoTag(t); !ok {
				return fmt.Errorf("repositories.repos.%s[%d]: unknown tag %q (known: %s)", repo, i, t, known())
			}
		}
	}
	return nil
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// known lists the tag names for error messages.
func known() string {
	var all reposentry.RepoTags = 1<<16 - 1
	return strings.Join(all.Names(), ", ")
}

// pattern is one compiled tag pattern.
type pattern struct {
	glob string // lower-cased
	tag  reposentry.RepoTags
}

// Enricher sets Event.RepoTags. It is not safe for concurrent use: give each
// pipeline goroutine its own.
type Enricher struct {
	patterns []pattern
	explicit map[string]reposentry.RepoTags // lower-cased repository → tags
	max      int
	// cache holds each repository's tags as logged, so a repository costs
	// allocations only the first time it is seen.
	cache map[string]reposentry.RepoTags
}

// DefaultMaxCached bounds the cache of an Enricher built with maxCached 0.
const DefaultMaxCached = 1 << 16

// New returns an enricher for cfg, which must have passed Validate (unknown
// tag names are an error here too). maxCached bounds its per-repository
// cache; 0 means DefaultMaxCached.
func New(cfg Config, maxCached int) (*Enricher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Enricher{explicit: make(map[string]reposentry.RepoTags, len(cfg.Repos)), max: maxCached}
	if e.max <= 0 {
		e.max = DefaultMaxCached
	}
	for _, name := range sortedKeys(cfg.Tags) {
		tag, _ := reposentry.ParseRepoTag(name)
		for _, p := range cfg.Tags[name] {
			e.patterns = append(e.patterns, pattern{glob: strings.ToLower(strings.TrimSpace(p)), tag: tag})
		}
	}
	for repo, tags := range cfg.Repos {
		k := strings.ToLower(strings.TrimSpace(repo))
		for _, t := range tags {
			tag, _ := reposentry.ParseRepoTag(t)
			e.explicit[k] |= tag
		}
	}
	e.cache = make(map[string]reposentry.RepoTags, 256)
	return e, nil
}

// Tags returns the tags of repository repo ("owner/name"); it allocates
// nothing once repo has been seen.
func (e *Enricher) Tags(repo string) reposentry.RepoTags {
	if repo == "" {
		return 0
	}
	if t, ok := e.cache[repo]; ok {
		return t
	}
	if len(e.cache) >= e.max {
		clear(e.cache) // bounded: a stream of unique names cannot grow it forever
	}
	lower := strings.ToLower(repo)
	t := e.explicit[lower]
	for _, p := range e.patterns {
		if t&p.tag == 0 && enrich.Glob(p.glob, lower) {
			t |= p.tag
		}
	}
	// Clone the key: the event's strings may alias a parser buffer.
	e.cache[strings.Clone(repo)] = t
	return t
}

// Enrich sets ev.RepoTags to the tags of ev.Repo (none when it has no
// repository).
func (e *Enricher) Enrich(ev *reposentry.Event) { ev.RepoTags = e.Tags(ev.Repo) }
