// Package detect holds reposentry's built-in behavioural detections of source
// code collection (ATT&CK T1213.003): bulk reads of repositories (worse by
// an organization owner, and with sensitive repositories counting more),
// bulk reads right after a credential is created, exfiltration paths being
// opened, reads from a location never seen for the identity, reads by
// privileged identities and activity of accounts disabled in the directory.
//
// The detectors returned by one New call share one per-identity state, so
// each event is analysed once however many detections look at it. They must
// therefore be driven by one goroutine, with every detector seeing an event
// before the next event is processed (the engine's contract).
//
// Each detector is an engine.Stateful for that shared state, with one key,
// StateKey: save it once, from any of the detectors, and load it once, into
// any of the detectors of a fresh New call. Everything learnt is saved, open
// windows and credential watches included, so a restored run raises exactly
// the signals the uninterrupted one would; the settings are not, and come
// from the Config given to New.
package detect

import (
	"fmt"
	"strings"
	"time"

	"github.com/reposentry/reposentry/enrich"
)

// Tiers are the counts of distinct non-public repositories read in one window
// at which bulk_read reaches each severity.
type Tiers struct {
	// Medium, High and Critical are counts of distinct non-public
	// repositories in one window.
	Medium   int `yaml:"medium"`
	High     int `yaml:"high"`
	Critical int `yaml:"critical"`
	// HighArchives is the count of distinct non-public repositories
	// downloaded as an archive that makes a bulk read high on its own.
	HighArchives int `yaml:"high_archives"`
}

// Config tunes the detections. The config package embeds it as `detect:`.
type Config struct {
	// Window is the sliding event-time window of bulk_read.
	Window time.Duration `yaml:"window"`
	// Tiers are the bulk_read thresholds for people. For automation past
	// its learning period they apply to the repositories it read from a
	// new place or with a new credential, one severity higher.
	Tiers Tiers `yaml:"tiers"`
	// BotFactor multiplies every threshold for automation (bots, apps,
	// deploy keys, logins or identities matching BotPatterns, identities
	// classified by behaviour) while it is still learning: without a
	// baseline, volume is all there is. Once learned, automation's volume
	// alone never alerts; only reads from a new place or with a new
	// credential count (see Tiers).
	BotFactor int `yaml:"bot_factor"`
	// BotPatterns are globs, case-insensitive, on logins and identity ids
	// that mark automation ("*-ci", "svc-*"), with enrich.Glob's syntax:
	// '*' any run, '?' one character, brackets literal ("*[bot]" matches
	// "dependabot[bot]"). Logins ending in "[bot]" always do. The top-level
	// bots list marks logins during enrichment; these also match identities.
	BotPatterns []string `yaml:"bot_patterns"`
	// AutomationDays is the count of distinct days, during an identity's
	// learning period, on which its reads reach the medium tier that make it
	// automation from then on: people do not mass-clone day after day.
	AutomationDays int `yaml:"automation_days"`
	// Privileged lists logins or identities treated as privileged in
	// addition to those enrichment marks (Event.Privileged).
	Privileged []string `yaml:"privileged"`
	// PlatformAdmins lists logins or identities that are organization or
	// enterprise owners, in addition to those learned from the audit log
	// (owner-only actions: org.* and business.* settings, member and role
	// changes, audit-log streaming changes). An owner can read every
	// repository, so an owner's bulk read is one severity worse
	// (platform_admin_bulk_read).
	PlatformAdmins []string `yaml:"platform_admins"`
	// SensitiveWeight is how many repositories a read of a non-public
	// repository tagged secrets, signing or infrastructure (see the
	// top-level repositories section) counts as towards the bulk_read
	// tiers; 1 counts them like any other.
	SensitiveWeight int `yaml:"sensitive_weight"`
	// LearningPeriod is how much event time must pass, both since the data's
	// start and since an identity's first event, before first_seen_location
	// trusts the identity's baseline.
	LearningPeriod time.Duration `yaml:"learning_period"`
	// NewJoinerFactor multiplies the bulk thresholds of an identity that first
	// appeared after the data's learning period, during its own learning
	// period: a new joiner clones many repositories while onboarding.
	NewJoinerFactor int `yaml:"new_joiner_factor"`
	// RoutineRepos bounds the per-identity memory of repositories read
	// before (least recently read forgotten first).
	RoutineRepos int `yaml:"routine_repos"`
	// AutomationRoutineRepos is the same bound for automation, which
	// routinely reads thousands of repositories.
	AutomationRoutineRepos int `yaml:"automation_routine_repos"`
	// RoutineMaxAge is how long a repository stays routine after its last
	// read.
	RoutineMaxAge time.Duration `yaml:"routine_max_age"`
	// CredentialWindow is how long after a credential is created reads count
	// towards new_credential_bulk_read.
	CredentialWindow time.Duration `yaml:"credential_window"`
	// NewCredentialMinRepos is the count of distinct non-public repositories
	// read after a credential creation that raises new_credential_bulk_read.
	NewCredentialMinRepos int `yaml:"new_credential_min_repos"`
	// ExfilLookback is how far back a bulk read makes exfil_path_opened high.
	ExfilLookback time.Duration `yaml:"exfil_lookback"`
	// MaxCountries, MaxNetworks and MaxCredentials bound the per-identity
	// memory of places and credentials seen.
	MaxCountries   int `yaml:"max_countries"`
	MaxNetworks    int `yaml:"max_networks"`
	MaxCredentials int `yaml:"max_credentials"`
	// LocationFreshness is how long after the first sighting of a location
	// or credential (by any event, a login say) a read with it still counts
	// as new.
	LocationFreshness time.Duration `yaml:"location_freshness"`
	// IncidentGap is the quiet time after which privileged_read may signal
	// again for the same identity.
	IncidentGap time.Duration `yaml:"incident_gap"`
	// DeactivationGrace is how long after an identity provider logs a
	// user's deactivation (Okta user.lifecycle.deactivate or suspend, Entra
	// Disable account or Delete user) the user's activity is still the end
	// of their last working day rather than disabled_account_active:
	// helpdesks deactivate at a fixed hour in their own time zone, not the
	// leaver's.
	DeactivationGrace time.Duration `yaml:"deactivation_grace"`
	// UnknownVisibilityNonPublic counts reads of repositories of unknown
	// visibility as non-public: platforms that omit visibility mostly log
	// authenticated access only.
	UnknownVisibilityNonPublic bool `yaml:"unknown_visibility_non_public"`
	// MaxEventIDs caps the event ids listed in one signal.
	MaxEventIDs int `yaml:"max_event_ids"`
	// MaxEvidenceRepos caps the repositories named in one signal's evidence.
	MaxEvidenceRepos int `yaml:"max_evidence_repos"`
	// MaxWindowReads caps the reads remembered per window; past it the
	// oldest are dropped (the count is then already far past every tier).
	MaxWindowReads int `yaml:"max_window_reads"`
	// ActorTTL is how long an identity may stay silent before its baseline
	// is forgotten.
	ActorTTL time.Duration `yaml:"actor_ttl"`
}

// DefaultConfig returns the defaults: thresholds deliberately less noisy than
// Elastic's (which fire on 10 private repositories per token), because only
// distinct, non-routine repositories count here.
func DefaultConfig() Config {
	return Config{
		Window:                     10 * time.Minute,
		Tiers:                      Tiers{Medium: 15, High: 30, Critical: 75, HighArchives: 10},
		BotFactor:                  20,
		AutomationDays:             2,
		LearningPeriod:             7 * 24 * time.Hour,
		NewJoinerFactor:            2,
		RoutineRepos:               256,
		AutomationRoutineRepos:     16384,
		RoutineMaxAge:              30 * 24 * time.Hour,
		CredentialWindow:           time.Hour,
		NewCredentialMinRepos:      5,
		ExfilLookback:              24 * time.Hour,
		MaxCountries:               16,
		MaxNetworks:                64,
		MaxCredentials:             16,
		LocationFreshness:          24 * time.Hour,
		IncidentGap:                2 * time.Hour,
		SensitiveWeight:            2,
		DeactivationGrace:          12 * time.Hour,
		UnknownVisibilityNonPublic: true,
		MaxEventIDs:                200,
		MaxEvidenceRepos:           50,
		MaxWindowReads:             4096,
		ActorTTL:                   90 * 24 * time.Hour,
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"window", c.Window}, {"learning_period", c.LearningPeriod}, {"routine_max_age", c.RoutineMaxAge},
		{"credential_window", c.CredentialWindow}, {"exfil_lookback", c.ExfilLookback},
		{"location_freshness", c.LocationFreshness}, {"incident_gap", c.IncidentGap}, {"actor_ttl", c.ActorTTL},
		{"deactivation_grace", c.DeactivationGrace}} {
		if d.v < 0 {
			return fmt.Errorf("detect.%s is negative (%s)", d.name, d.v)
		}
	}
	t := c.Tiers
	if t.Medium < 0 || t.High < 0 || t.Critical < 0 || t.HighArchives < 0 {
		return fmt.Errorf("detect.tiers has a negative threshold (%+v)", t)
	}
	if t.Medium > 0 && t.High > 0 && t.Critical > 0 && (t.Medium > t.High || t.High > t.Critical) {
		return fmt.Errorf("detect.tiers must rise from medium to high to critical (got %d, %d, %d)", t.Medium, t.High, t.Critical)
	}
	if c.SensitiveWeight < 0 || c.SensitiveWeight > maxSensitiveWeight {
		return fmt.Errorf("detect.sensitive_weight: %d is out of range (1 to %d)", c.SensitiveWeight, maxSensitiveWeight)
	}
	for _, p := range c.BotPatterns {
		if !enrich.ValidGlob(strings.TrimSpace(p)) {
			return fmt.Errorf("detect.bot_patterns: glob %q would match every login", p)
		}
	}
	return nil
}

// maxSensitiveWeight keeps one sensitive repository from making a bulk read
// on its own.
const maxSensitiveWeight = 10

// withDefaults fills zero settings from DefaultConfig, so a partial YAML
// section still yields working detections.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setI := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setD(&c.Window, d.Window)
	setD(&c.LearningPeriod, d.LearningPeriod)
	setD(&c.RoutineMaxAge, d.RoutineMaxAge)
	setD(&c.CredentialWindow, d.CredentialWindow)
	setD(&c.ExfilLookback, d.ExfilLookback)
	setD(&c.LocationFreshness, d.LocationFreshness)
	setD(&c.IncidentGap, d.IncidentGap)
	setD(&c.ActorTTL, d.ActorTTL)
	setD(&c.DeactivationGrace, d.DeactivationGrace)
	setI(&c.Tiers.Medium, d.Tiers.Medium)
	setI(&c.Tiers.High, d.Tiers.High)
	setI(&c.Tiers.Critical, d.Tiers.Critical)
	setI(&c.Tiers.HighArchives, d.Tiers.HighArchives)
	setI(&c.BotFactor, d.BotFactor)
	setI(&c.NewJoinerFactor, d.NewJoinerFactor)
	setI(&c.RoutineRepos, d.RoutineRepos)
	setI(&c.AutomationRoutineRepos, d.AutomationRoutineRepos)
	setI(&c.AutomationDays, d.AutomationDays)
	setI(&c.MaxCredentials, d.MaxCredentials)
	setI(&c.NewCredentialMinRepos, d.NewCredentialMinRepos)
	setI(&c.MaxCountries, d.MaxCountries)
	setI(&c.MaxNetworks, d.MaxNetworks)
	setI(&c.MaxEventIDs, d.MaxEventIDs)
	setI(&c.MaxEvidenceRepos, d.MaxEvidenceRepos)
	setI(&c.MaxWindowReads, d.MaxWindowReads)
	setI(&c.SensitiveWeight, d.SensitiveWeight)
	return c
}
