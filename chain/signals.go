package chain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
)

// Everything in this file runs only when a signal is raised, so it may
// allocate and format freely.

func utc(t int64) time.Time { return time.Unix(0, t).UTC() }

func (s *step) ref() string { return s.plat.String() + ":" + s.id.String() }

func entity(a *ident) reposentry.Entity {
	return reposentry.Entity{Type: "identity", ID: a.key, Accounts: []string{}}
}

// kindList names the kinds in a bit set.
func kindList(k uint8) []string {
	var out []string
	for i, n := range kindNames {
		if k&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// chainEntry is one step of a chain in Evidence["chain"].
type chainEntry struct {
	Time     time.Time `json:"time"`
	Platform string    `json:"platform"`
	Action   string    `json:"action"`
	Detail   string    `json:"detail,omitempty"`
	Risk     []string  `json:"risk,omitempty"`
	EventID  string    `json:"event_id"`
}

func entry(s *step) chainEntry {
	return chainEntry{Time: utc(s.t), Platform: s.plat.String(), Action: s.action, Detail: s.detail, Risk: kindList(s.kinds), EventID: s.ref()}
}

func hours(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.Round(time.Minute).String()
}

func (c *core) riskySignal(a *ident, ev *reposentry.Event, t int64, kinds uint8, detail string) reposentry.Signal {
	s := mkstep(ev, t, kinds, detail)
	names := kindList(kinds)
	return reposentry.Signal{
		Rule: RuleRiskyChain, Title: "Risky sign-in step", Severity: reposentry.SeverityLow, Risk: 20,
		Techniques: []string{reposentry.TechniqueValidAccounts}, Tactics: []string{reposentry.TacticInitialAccess},
		Time: utc(t), FirstSeen: utc(a.pend.start),
		Observed: fmt.Sprintf("%s on %s (%s)", ev.Action, ev.Platform, strings.Join(names, ", ")),
		Baseline: fmt.Sprintf("a chain signal follows if the identity collects repositories within %s", hours(c.cfg.CollectionWindow)),
		Explanation: fmt.Sprintf("%s had a risky identity-provider step (%s). Alone this is context; watch for repository reads, archive downloads or new credentials by the same identity.",
			a.key, strings.Join(names, ", ")),
		Entity: entity(a), EventIDs: []string{s.ref()},
		Evidence: map[string]any{"risk": names, "chain": []chainEntry{entry(&s)}},
	}
}

func (c *core) chainSignal(a *ident, ev *reposentry.Event, sev reposentry.Severity) reposentry.Signal {
	p := a.pend
	steps := make([]chainEntry, 0, p.nr+p.nc)
	for i := range p.risky[:p.nr] {
		steps = append(steps, entry(&p.risky[i]))
	}
	for i := range p.coll[:p.nc] {
		steps = append(steps, entry(&p.coll[i]))
	}
	slices.SortStableFunc(steps, func(x, y chainEntry) int { return x.Time.Compare(y.Time) })
	ids := make([]string, len(steps))
	for i := range steps {
		ids[i] = steps[i].EventID
	}
	var what []string
	if p.nrepo > 0 {
		what = append(what, fmt.Sprintf("%d distinct unfamiliar repositories read (%d non-public or unknown)", p.nrepo, p.nonPublic))
	}
	if p.archive {
		what = append(what, "archive download")
	}
	if p.cred {
		what = append(what, "new credential")
	}
	kinds := kindList(p.kinds)
	risk := 80
	if sev == reposentry.SeverityCritical {
		risk = 95
	}
	after := time.Duration(ev.Time.UnixNano() - p.start).Round(time.Second)
	return reposentry.Signal{
		Rule: RuleRiskyChain, Title: "Risky sign-in followed by repository collection", Severity: sev, Risk: risk,
		Techniques: []string{reposentry.TechniqueValidAccounts, reposentry.TechniqueCloudAccounts, reposentry.TechniqueCodeRepositories},
		Tactics:    []string{reposentry.TacticInitialAccess, reposentry.TacticCollection},
		Time:       ev.Time.UTC(), FirstSeen: utc(p.start),
		Observed: fmt.Sprintf("%s, then %s within %s", strings.Join(kinds, " + "), strings.Join(what, ", "), after),
		Baseline: fmt.Sprintf("high at %d unfamiliar repositories, an archive download or a new credential within %s of a risky step; critical at %d non-public or two kinds of risk",
			c.cfg.MinRepos, hours(c.cfg.CollectionWindow), c.cfg.BulkRepos),
		Explanation: fmt.Sprintf("%s signed in with risk (%s) and within %s started collecting code (%s): the account-takeover-then-clone pattern. Confirm the sign-in with the person out of band; if it was not theirs, end their sessions, revoke new tokens and keys, and review what was read.",
			a.key, strings.Join(kinds, ", "), after, strings.Join(what, ", ")),
		Entity: entity(a), EventIDs: ids,
		Evidence: map[string]any{
			"chain": steps, "risk": kinds, "distinct_repositories": p.nrepo, "non_public": p.nonPublic,
			"archive_download": p.archive, "credential_created": p.cred, "collection_events": p.total,
			"window": hours(c.cfg.CollectionWindow),
		},
	}
}

func (c *core) travelSignal(a *ident, ev *reposentry.Event, t int64, cc uint16, km, h float64) reposentry.Signal {
	from := &a.at.s
	to := mkstep(ev, t, 0, ev.Geo.Country)
	speed := km / h
	return reposentry.Signal{
		Rule: RuleImpossibleTravel, Title: "Impossible travel", Severity: reposentry.SeverityMedium, Risk: 50,
		Techniques: []string{reposentry.TechniqueValidAccounts}, Tactics: []string{reposentry.TacticInitialAccess},
		Time: utc(t), FirstSeen: utc(from.t),
		Observed: fmt.Sprintf("%s then %s %s apart: at least %.0f km in %s (%.0f km/h)", ccString(a.at.cc), ccString(cc),
			hours(time.Duration(t-from.t)), km, hours(time.Duration(t-from.t)), speed),
		Baseline: fmt.Sprintf("no one travels faster than %.0f km/h; shared egress networks are not places", c.cfg.MaxSpeedKmh),
		Explanation: fmt.Sprintf("%s was active from %s and %s too soon after to have travelled: one of the two is likely someone else using the account. Check both addresses and sessions.",
			a.key, ccString(a.at.cc), ccString(cc)),
		Entity: entity(a), EventIDs: []string{from.ref(), to.ref()},
		Evidence: map[string]any{"chain": []chainEntry{entry(from), entry(&to)}, "distance_km": int(km), "speed_kmh": int(speed)},
	}
}

func (c *core) burstSignal(a *ident, ev *reposentry.Event, t int64, ccs []uint16, nets int) reposentry.Signal {
	countries := make([]string, len(ccs))
	for i, cc := range ccs {
		countries[i] = ccString(cc)
	}
	s := mkstep(ev, t, 0, ev.Geo.Country)
	return reposentry.Signal{
		Rule: RuleSigninBurst, Title: "Sign-ins from many places", Severity: reposentry.SeverityMedium, Risk: 50,
		Techniques: []string{reposentry.TechniqueValidAccounts}, Tactics: []string{reposentry.TacticInitialAccess},
		Time: utc(t), FirstSeen: utc(t - int64(c.cfg.BurstWindow)),
		Observed: fmt.Sprintf("sign-ins from %d countries (%s) and %d networks within %s", len(ccs), strings.Join(countries, ", "), nets, hours(c.cfg.BurstWindow)),
		Baseline: fmt.Sprintf("signals at %d countries or %d networks that are not shared egress", c.cfg.BurstCountries, c.cfg.BurstNetworks),
		Explanation: fmt.Sprintf("%s signed in from more places in %s than one person can be: the account or its session is likely used by others (proxies, a botnet). Review the sessions.",
			a.key, hours(c.cfg.BurstWindow)),
		Entity: entity(a), EventIDs: []string{s.ref()},
		Evidence: map[string]any{"countries": countries, "networks": nets},
	}
}

// privilegedSignal is low on its own: directory admins who administer the
// code platform sign in to it every day, and alerting on each session would
// bury the one that matters. It is context that raises whatever the same
// incident holds (a read of code is privileged_read, high). A session that
// is itself risky (an unfamiliar place or device, a proxy, the provider's
// own risk verdict) is high.
func (c *core) privilegedSignal(a *ident, ev *reposentry.Event, app string, risky bool) reposentry.Signal {
	s := mkstep(ev, ev.Time.UnixNano(), 0, app)
	sev, risk := reposentry.SeverityLow, 30
	if risky {
		sev, risk = reposentry.SeverityHigh, 70
	}
	return reposentry.Signal{
		Rule: RulePrivilegedSession, Title: "Privileged identity signed in to a code platform", Severity: sev, Risk: risk,
		Techniques: []string{reposentry.TechniqueValidAccounts, reposentry.TechniqueCodeRepositories},
		Tactics:    []string{reposentry.TacticInitialAccess, reposentry.TacticCollection},
		Time:       ev.Time.UTC(), FirstSeen: ev.Time.UTC(),
		Observed:    fmt.Sprintf("directory-privileged %s opened a session to %s via %s", a.key, app, ev.Platform),
		Baseline:    "privileged directory accounts are for administration; code work belongs to a separate, unprivileged account",
		Explanation: fmt.Sprintf("%s, privileged in the directory, signed in to %s. If that account is taken over, its reach extends to the code; confirm the need and use a separate account.", a.key, app),
		Entity:      entity(a), EventIDs: []string{s.ref()},
		Evidence: map[string]any{"chain": []chainEntry{entry(&s)}, "application": app},
	}
}
