package chain

import (
	"fmt"
	"strings"
	"time"
)

// Config tunes the cross-source detections. Zero fields take the defaults
// of DefaultConfig.
type Config struct {
	// Learning is how long after an identity is first seen its countries,
	// networks and devices are only learnt: a sign-in from something new
	// counts as risky only afterwards.
	Learning time.Duration `yaml:"learning"`
	// CollectionWindow is how long after a risky step repository collection
	// by the same identity completes a chain.
	CollectionWindow time.Duration `yaml:"collection_window"`
	// MinRepos is how many distinct repositories, unfamiliar to the
	// identity, read after a risky step make collection.
	MinRepos int `yaml:"min_repos"`
	// BulkRepos is how many distinct non-public ones make it bulk (critical).
	BulkRepos int `yaml:"bulk_repos"`
	// MaxSpeedKmh is the travel speed above which two places are impossible.
	MaxSpeedKmh float64 `yaml:"max_speed_kmh"`
	// MinTravelKm is the least distance, after subtracting the uncertainty
	// of country-level places, that counts as travel.
	MinTravelKm float64 `yaml:"min_travel_km"`
	// EgressIdentities is how many identities must share an address's /24
	// (IPv6 /48) for it to count as shared egress (VPN, office), which says
	// nothing about where a person is. At most 16.
	EgressIdentities int `yaml:"egress_identities"`
	// PushDenials denied pushes followed by an approval within PushWindow
	// are push fatigue.
	PushDenials int           `yaml:"push_denials"`
	PushWindow  time.Duration `yaml:"push_window"`
	// BurstWindow, BurstCountries and BurstNetworks: sign-ins from that many
	// countries, or /24 networks that are not shared egress, within the
	// window are a burst.
	BurstWindow    time.Duration `yaml:"burst_window"`
	BurstCountries int           `yaml:"burst_countries"`
	BurstNetworks  int           `yaml:"burst_networks"`
	// RiskLevel is the lowest identity-provider risk verdict ("low",
	// "medium", "high") that is a risky step.
	RiskLevel string `yaml:"risk_level"`
	// HostingASNs and HostingOrgs name the networks of hosting providers,
	// VPS and proxies: a sign-in from one is risky. Orgs are
	// case-insensitive patterns where * matches anything.
	HostingASNs []uint32 `yaml:"hosting_asns"`
	HostingOrgs []string `yaml:"hosting_orgs"`
	// CodeApps are the patterns (case-insensitive, * matches anything) of
	// the applications that are code platforms, for privileged_session.
	CodeApps []string `yaml:"code_apps"`
	// IdleTTL is how long an identity's state is kept after its last event.
	IdleTTL time.Duration `yaml:"idle_ttl"`
}

// DefaultConfig returns the defaults, every one spelt out.
func DefaultConfig() Config {
	return Config{
		Learning:         7 * 24 * time.Hour,
		CollectionWindow: 4 * time.Hour,
		MinRepos:         5,
		BulkRepos:        15,
		MaxSpeedKmh:      1000,
		MinTravelKm:      500,
		EgressIdentities: 5,
		PushDenials:      3,
		PushWindow:       15 * time.Minute,
		BurstWindow:      time.Hour,
		BurstCountries:   3,
		BurstNetworks:    4,
		RiskLevel:        "high",
		HostingOrgs:      []string{"*hosting*", "*vps*", "*proxy*", "*data center*", "*datacenter*", "*cloud server*", "*anonymi*", "*tor exit*"},
		CodeApps:         []string{"*github*", "*gitlab*", "*bitbucket*", "*azure devops*"},
		IdleTTL:          30 * 24 * time.Hour,
	}
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	durs := []struct{ v, def *time.Duration }{{&c.Learning, &d.Learning}, {&c.CollectionWindow, &d.CollectionWindow},
		{&c.PushWindow, &d.PushWindow}, {&c.BurstWindow, &d.BurstWindow}, {&c.IdleTTL, &d.IdleTTL}}
	for _, x := range durs {
		if *x.v == 0 {
			*x.v = *x.def
		}
	}
	ints := []struct{ v, def *int }{{&c.MinRepos, &d.MinRepos}, {&c.BulkRepos, &d.BulkRepos}, {&c.EgressIdentities, &d.EgressIdentities},
		{&c.PushDenials, &d.PushDenials}, {&c.BurstCountries, &d.BurstCountries}, {&c.BurstNetworks, &d.BurstNetworks}}
	for _, x := range ints {
		if *x.v == 0 {
			*x.v = *x.def
		}
	}
	if c.MaxSpeedKmh == 0 {
		c.MaxSpeedKmh = d.MaxSpeedKmh
	}
	if c.MinTravelKm == 0 {
		c.MinTravelKm = d.MinTravelKm
	}
	if c.RiskLevel == "" {
		c.RiskLevel = d.RiskLevel
	}
	if c.HostingOrgs == nil {
		c.HostingOrgs = d.HostingOrgs
	}
	if c.CodeApps == nil {
		c.CodeApps = d.CodeApps
	}
	return c
}

// maxTracked bounds the counts kept per identity (distinct repositories,
// networks, countries in a burst), so state stays small.
const maxTracked = 16

// Validate reports the first setting that cannot work, naming its key as
// written in a configuration file ("chain.min_repos").
func (c Config) Validate() error {
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"learning", c.Learning}, {"collection_window", c.CollectionWindow}, {"push_window", c.PushWindow},
		{"burst_window", c.BurstWindow}, {"idle_ttl", c.IdleTTL}} {
		if d.v < 0 {
			return fmt.Errorf("chain.%s: %v is negative; give a positive duration or 0 for the default", d.key, d.v)
		}
	}
	for _, n := range []struct {
		key string
		v   int
		max int
	}{{"min_repos", c.MinRepos, 32}, {"bulk_repos", c.BulkRepos, 32}, {"egress_identities", c.EgressIdentities, maxTracked},
		{"push_denials", c.PushDenials, maxDenials}, {"burst_countries", c.BurstCountries, burstHits},
		{"burst_networks", c.BurstNetworks, burstHits}} {
		if n.v < 0 || n.v > n.max {
			return fmt.Errorf("chain.%s: %d is outside 0 (default) to %d", n.key, n.v, n.max)
		}
	}
	if c.MaxSpeedKmh < 0 || c.MinTravelKm < 0 {
		return fmt.Errorf("chain.max_speed_kmh %v / chain.min_travel_km %v: must not be negative", c.MaxSpeedKmh, c.MinTravelKm)
	}
	if c.RiskLevel != "" && riskRank(c.RiskLevel) == 0 {
		return fmt.Errorf("chain.risk_level: %q is not one of low, medium, high", c.RiskLevel)
	}
	for _, p := range append(append([]string{}, c.HostingOrgs...), c.CodeApps...) {
		if strings.Trim(p, "*") == "" {
			return fmt.Errorf("chain: pattern %q matches everything; name part of the organisation or application", p)
		}
	}
	return nil
}

// riskRank orders provider risk levels; 0 for none or unknown.
func riskRank(s string) int {
	switch s {
	case "low":
		return 1
	case "medium":
		return 2
	case "high":
		return 3
	}
	return 0
}

// match reports whether s matches the lower-case glob pattern p (only *
// is special), ignoring ASCII case in s, without allocating.
func match(p, s string) bool {
	// Greedy matching with one backtrack point, the classic wildcard walk.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == lower(s[si]):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
