// Package baseline learns how each identity normally reads repositories and
// signals what fixed thresholds miss (ATT&CK T1213.003): a departing insider
// reading far beyond their usual work over several days, a burst of new
// reads within an hour, low-and-slow collection, reads at hours the
// identity is never active at and a dormant account or credential waking up
// to read.
//
// It complements the detect package, which keeps windows of minutes; this
// one keeps days. Per identity it keeps a bounded set of the repositories
// read lately (8 bytes each: a 47-bit hash and the last day read), 28 days
// of new-read counts and of each day's busiest hour, an hour's sliding
// window of new reads, a decayed 168-hour week profile of one-byte
// counters, the current week's new reads for evidence and a few counters:
// about 450 bytes plus 8 a repository, some 850 bytes on a simulated
// organisation.
//
// Peer groups are a heuristic. A repository belongs to the team a
// team.add_repository event last gave it, else to its owner and the part of
// its name before the first '-' ("acme/payments-api" → "acme/payments"),
// the way many organisations name repositories after teams. An identity's
// familiar groups are those of the repositories it read on at least two
// days; its peer group (home) is the most common of them. With a directory,
// the identity's department (Event.Department) is a second peer population.
// Each population counts, at the end of each member's day, the member-days
// and those that read widely or started reading many repositories (in the
// day and over the week): breadth and volume's daily and weekly triggers
// stay silent when that is usual for either population.
package baseline

import (
	"fmt"
	"math"
	"time"
)

// Config tunes the baselines. The config package would embed it as
// `baseline:`. Zero fields take their defaults.
type Config struct {
	// NewReadDays is how long a repository stays known after its last read:
	// a clone or archive download of a repository not read for longer is a
	// new read.
	NewReadDays int `yaml:"new_read_days"`
	// LearningDays is the count of active days an identity must have (and
	// of days since its first event) before any of its baselines is
	// trusted: a new joiner reading widely has no history yet.
	LearningDays int `yaml:"learning_days"`
	// K is how many robust standard deviations (1.4826·MAD, at least 1)
	// above the median of the identity's own days a count must reach.
	K float64 `yaml:"k"`
	// DailyFloor is the least count of new reads in one day that can be a
	// volume anomaly, whatever the history: going from 0 to 2 is not one.
	DailyFloor int `yaml:"daily_floor"`
	// WeeklyFloor is the same for the seven days ending today, which is how
	// reading spread over days (low and slow, or a week of notice) shows.
	WeeklyFloor int `yaml:"weekly_floor"`
	// HourlyFloor is the least count of new reads within an hour (a
	// sliding window of four quarter hours) that can be a volume anomaly,
	// whatever the identity's busiest hours were: a burst of clones is how
	// a stolen token or a script shows before the day's count does. At most
	// 255, the most a day's busiest hour is remembered as.
	HourlyFloor int `yaml:"hourly_floor"`
	// SpreadMin is the count of new reads that makes a day count as a
	// repeat: a volume or breadth signal over at least two such days in a
	// week, or with archive downloads, is medium; with both, high; else low.
	SpreadMin int `yaml:"spread_min"`
	// BreadthMin is the count of new reads, in one day, of repositories of
	// groups the identity never routinely read that raises breadth.
	BreadthMin int `yaml:"breadth_min"`
	// PeerRateMax is the share of its peers' member-days above which a
	// finding is normal for the group and stays silent: breadth when they
	// reach BreadthMin; volume's daily trigger when they reach DailyFloor
	// new reads in a day, its weekly trigger WeeklyFloor in seven days (a
	// release or platform team). Peers are the identity's home group and,
	// with DepartmentPeers, its directory department: either suffices.
	// Volume leaves the identity's own days of the past week out of its
	// peers' counts. Peers only silence what the identity's own history
	// raised; the hourly trigger is not compared with peers.
	PeerRateMax float64 `yaml:"peer_rate_max"`
	// OffHoursProb is the learned probability of the hour below which a read
	// raises off_hours (low, context for the risk stage only).
	OffHoursProb float64 `yaml:"off_hours_prob"`
	// OffHoursMinEvents is the count of events an hour profile needs
	// before it is trusted.
	OffHoursMinEvents int `yaml:"off_hours_min_events"`
	// DormantDays is the silence after which an identity or credential is
	// dormant.
	DormantDays int `yaml:"dormant_days"`
	// DormantMinRepos is the count of distinct repositories read within a
	// day of waking that raises dormant_reactivated (at most 8).
	DormantMinRepos int `yaml:"dormant_min_repos"`
	// AutomationReads and AutomationDays classify automation by behaviour:
	// more than AutomationReads reads a day on AutomationDays days. Bots,
	// apps, deploy keys and app or deploy-key credentials are automation
	// by type. Automation gets no volume, breadth or off-hours signals.
	AutomationReads int `yaml:"automation_reads"`
	AutomationDays  int `yaml:"automation_days"`
	// MaxKnownRepos bounds the repositories remembered per identity (least
	// recently read forgotten first).
	MaxKnownRepos int `yaml:"max_known_repos"`
	// MaxCredentials bounds the credentials followed for dormancy; past it
	// new credentials are not followed until old ones expire.
	MaxCredentials int `yaml:"max_credentials"`
	// MaxRepos bounds the repository-to-group map shared by all
	// identities; it is cleared when full.
	MaxRepos int `yaml:"max_repos"`
	// TeamEvents makes team.add_repository events assign repositories to
	// their team's group, overriding the name heuristic.
	TeamEvents *bool `yaml:"team_events"`
	// DepartmentPeers makes the identity's directory department (event
	// enrichment's Department) a second peer population for breadth and
	// volume: they stay silent when either the home group or the
	// department does as much on more than PeerRateMax of member-days.
	// Off, only the home group is compared. Without a directory it changes
	// nothing.
	DepartmentPeers *bool `yaml:"department_peers"`
	// IdentityTTL is how long an identity or credential may stay silent
	// before it is forgotten; it must exceed DormantDays.
	IdentityTTL time.Duration `yaml:"identity_ttl"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	on := true
	return Config{
		NewReadDays:       30,
		LearningDays:      7,
		K:                 6,
		DailyFloor:        8,
		WeeklyFloor:       15,
		HourlyFloor:       6,
		SpreadMin:         2,
		BreadthMin:        5,
		PeerRateMax:       0.05,
		OffHoursProb:      0.002,
		OffHoursMinEvents: 100,
		DormantDays:       30,
		DormantMinRepos:   5,
		AutomationReads:   200,
		AutomationDays:    3,
		MaxKnownRepos:     192,
		MaxCredentials:    1 << 17,
		MaxRepos:          1 << 18,
		TeamEvents:        &on,
		DepartmentPeers:   &on,
		IdentityTTL:       180 * 24 * time.Hour,
	}
}

// Validate reports the first setting that cannot work, naming its key.
func (c Config) Validate() error {
	for _, v := range []struct {
		key    string
		v, max int
	}{{"new_read_days", c.NewReadDays, historyDays * 64}, {"learning_days", c.LearningDays, historyDays},
		{"daily_floor", c.DailyFloor, 1 << 15}, {"weekly_floor", c.WeeklyFloor, 1 << 15},
		{"hourly_floor", c.HourlyFloor, math.MaxUint8}, {"spread_min", c.SpreadMin, 1 << 15},
		{"breadth_min", c.BreadthMin, 1 << 15}, {"off_hours_min_events", c.OffHoursMinEvents, 1 << 30},
		{"dormant_days", c.DormantDays, 1 << 14}, {"dormant_min_repos", c.DormantMinRepos, dormSlots},
		{"automation_reads", c.AutomationReads, 1 << 15}, {"automation_days", c.AutomationDays, historyDays},
		{"max_known_repos", c.MaxKnownRepos, 1 << 16}, {"max_credentials", c.MaxCredentials, 1 << 30},
		{"max_repos", c.MaxRepos, 1 << 30}} {
		if v.v < 0 || v.v > v.max {
			return fmt.Errorf("baseline.%s: %d is outside 0 (default) to %d", v.key, v.v, v.max)
		}
	}
	for _, v := range []struct {
		key    string
		v, max float64
	}{{"k", c.K, 1000}, {"peer_rate_max", c.PeerRateMax, 1}, {"off_hours_prob", c.OffHoursProb, 1}} {
		if !(v.v >= 0 && v.v <= v.max) { // also rejects NaN
			return fmt.Errorf("baseline.%s: %v is outside 0 (default) to %v", v.key, v.v, v.max)
		}
	}
	if c.IdentityTTL < 0 {
		return fmt.Errorf("baseline.identity_ttl: %v is negative", c.IdentityTTL)
	}
	d := c.withDefaults()
	if d.IdentityTTL <= time.Duration(d.DormantDays)*24*time.Hour {
		return fmt.Errorf("baseline.identity_ttl: %v must exceed dormant_days (%d days), or dormant identities are forgotten before they wake", d.IdentityTTL, d.DormantDays)
	}
	return nil
}

// withDefaults fills zero settings from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setI := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setF := func(v *float64, def float64) {
		if !(*v > 0) {
			*v = def
		}
	}
	setI(&c.NewReadDays, d.NewReadDays)
	setI(&c.LearningDays, d.LearningDays)
	setF(&c.K, d.K)
	setI(&c.DailyFloor, d.DailyFloor)
	setI(&c.WeeklyFloor, d.WeeklyFloor)
	setI(&c.HourlyFloor, d.HourlyFloor)
	setI(&c.SpreadMin, d.SpreadMin)
	setI(&c.BreadthMin, d.BreadthMin)
	setF(&c.PeerRateMax, d.PeerRateMax)
	setF(&c.OffHoursProb, d.OffHoursProb)
	setI(&c.OffHoursMinEvents, d.OffHoursMinEvents)
	setI(&c.DormantDays, d.DormantDays)
	setI(&c.DormantMinRepos, d.DormantMinRepos)
	setI(&c.AutomationReads, d.AutomationReads)
	setI(&c.AutomationDays, d.AutomationDays)
	setI(&c.MaxKnownRepos, d.MaxKnownRepos)
	setI(&c.MaxCredentials, d.MaxCredentials)
	setI(&c.MaxRepos, d.MaxRepos)
	if c.TeamEvents == nil {
		c.TeamEvents = d.TeamEvents
	}
	if c.DepartmentPeers == nil {
		c.DepartmentPeers = d.DepartmentPeers
	}
	if c.IdentityTTL <= 0 {
		c.IdentityTTL = d.IdentityTTL
	}
	return c
}
