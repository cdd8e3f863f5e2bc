// Package novelty tracks what is first seen per credential and per identity,
// after a learning period and with expiry (ATT&CK T1213.003, T1078): a
// credential read with from a country or network (ASN) it never used, a
// credential first used far from where it was created, an identity reading
// with a client it never used or in an organisation it never acted in.
//
// The detect package already signals first_seen_location per identity (a
// new country, /24 network or credential for the identity); this package
// does not repeat it. It judges each credential against its own history,
// which is what tells automation apart: a CI bot cloning 500 repositories an
// hour is normal for it, the same bot's token used from a new country is
// not, because automation's egress is stable.
//
// Per entity it keeps a compact set of attribute values (16 bytes each: a
// 64-bit key, first and last day, flags), bounded per attribute with the
// least recently seen forgotten first. A value not seen for ExpiryDays is
// forgotten, so coming back to it is new again. Low signals are context for
// the risk stage and must not alert alone; the alert stage alerts from
// medium up.
package novelty

import "fmt"

// Config tunes the novelty detector. The config package would embed it as
// `novelty:`. Zero fields take their defaults.
type Config struct {
	// LearningDays is how old an entity's first sight must be before its
	// sets are trusted; MinEvents is how many events it must also have had.
	LearningDays int `yaml:"learning_days"`
	MinEvents    int `yaml:"min_events"`
	// ExpiryDays is how long a value (or a whole entity) is remembered after
	// it was last seen; coming back after longer is new again.
	ExpiryDays int `yaml:"expiry_days"`
	// CreationWindowDays is how long after a credential's creation its
	// reads are compared with where it was created.
	CreationWindowDays int `yaml:"creation_window_days"`
	// Per-entity caps of remembered values per attribute (least recently
	// seen forgotten first): /24 or /48 networks, ASNs and countries per
	// credential and identity, client families and organisations per
	// identity.
	MaxPrefixes  int `yaml:"max_prefixes"`
	MaxASNs      int `yaml:"max_asns"`
	MaxCountries int `yaml:"max_countries"`
	MaxClients   int `yaml:"max_clients"`
	MaxOrgs      int `yaml:"max_orgs"`
	// MaxCredentialRepos bounds the repositories remembered per credential
	// to tell a first read; beyond it the oldest are forgotten.
	MaxCredentialRepos int `yaml:"max_credential_repos"`
	// MaxCredentials bounds the credentials followed; when full, the least
	// recently used are forgotten.
	MaxCredentials int `yaml:"max_credentials"`
	// SpreadRepos is how many distinct repositories the credential never
	// read a person's credential must read from a country new to both the
	// credential and the identity before credential_new_origin is medium
	// (at most 8).
	SpreadRepos int `yaml:"spread_repos"`
	// AutomationReads and AutomationDays classify an identity as
	// automation by behaviour: more than AutomationReads reads a day on
	// AutomationDays days. Bots, apps and deploy keys are automation by type.
	AutomationReads int `yaml:"automation_reads"`
	AutomationDays  int `yaml:"automation_days"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		LearningDays:       7,
		MinEvents:          20,
		ExpiryDays:         90,
		CreationWindowDays: 14,
		MaxPrefixes:        8,
		MaxASNs:            4,
		MaxCountries:       4,
		MaxClients:         4,
		MaxOrgs:            8,
		MaxCredentialRepos: 16,
		MaxCredentials:     1 << 17,
		SpreadRepos:        3,
		AutomationReads:    200,
		AutomationDays:     3,
	}
}

// maxSpread is the number of repositories an escalation remembers.
const maxSpread = 8

// Validate reports the first setting that cannot work, naming its key as
// written in a configuration file ("novelty.expiry_days").
func (c Config) Validate() error {
	for _, v := range []struct {
		key    string
		v, max int
	}{{"learning_days", c.LearningDays, 365}, {"min_events", c.MinEvents, 1 << 15}, {"expiry_days", c.ExpiryDays, 3650},
		{"creation_window_days", c.CreationWindowDays, 365}, {"max_prefixes", c.MaxPrefixes, 64}, {"max_asns", c.MaxASNs, 64},
		{"max_countries", c.MaxCountries, 64}, {"max_clients", c.MaxClients, 64}, {"max_orgs", c.MaxOrgs, 64},
		{"max_credential_repos", c.MaxCredentialRepos, 1024}, {"max_credentials", c.MaxCredentials, 1 << 26},
		{"spread_repos", c.SpreadRepos, maxSpread}, {"automation_reads", c.AutomationReads, 1 << 15},
		{"automation_days", c.AutomationDays, 255}} {
		if v.v < 0 || v.v > v.max {
			return fmt.Errorf("novelty.%s: %d is outside 0 (default) to %d", v.key, v.v, v.max)
		}
	}
	d := c.withDefaults()
	if d.ExpiryDays <= d.LearningDays {
		return fmt.Errorf("novelty.expiry_days: %d must exceed learning_days (%d), or values are forgotten before they are trusted", d.ExpiryDays, d.LearningDays)
	}
	return nil
}

// withDefaults fills zero (and negative) settings from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	for _, p := range []struct{ v, def *int }{
		{&c.LearningDays, &d.LearningDays}, {&c.MinEvents, &d.MinEvents}, {&c.ExpiryDays, &d.ExpiryDays},
		{&c.CreationWindowDays, &d.CreationWindowDays}, {&c.MaxPrefixes, &d.MaxPrefixes}, {&c.MaxASNs, &d.MaxASNs},
		{&c.MaxCountries, &d.MaxCountries}, {&c.MaxClients, &d.MaxClients}, {&c.MaxOrgs, &d.MaxOrgs},
		{&c.MaxCredentialRepos, &d.MaxCredentialRepos}, {&c.MaxCredentials, &d.MaxCredentials},
		{&c.SpreadRepos, &d.SpreadRepos}, {&c.AutomationReads, &d.AutomationReads}, {&c.AutomationDays, &d.AutomationDays},
	} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
	return c
}
