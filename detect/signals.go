package detect

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/internal/keys"
)

// Everything in this file runs only when a signal is raised, so it may
// allocate and format freely.

var (
	techCollection = []string{reposentry.TechniqueCodeRepositories}
	tactCollection = []string{reposentry.TacticCollection}
)

func (c *core) entity(a *actor) reposentry.Entity {
	e := reposentry.Entity{Type: "identity", ID: a.key, Accounts: make([]string, 0, len(a.accounts))}
	for _, acc := range a.accounts {
		e.Accounts = append(e.Accounts, acc.plat.String()+":"+acc.login)
	}
	return e
}

func utc(t int64) time.Time { return time.Unix(0, t).UTC() }

// dur writes a duration the way people do ("10m", "1h", "24h").
func dur(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// credName describes a credential for an explanation.
func credName(kind reposentry.CredentialKind, key string) string {
	if key == "" {
		if kind == reposentry.CredentialUnknown {
			return "an unidentified credential"
		}
		return "a " + kind.String() + " credential"
	}
	if len(key) > 16 {
		key = key[:12] + "…"
	}
	return fmt.Sprintf("%s credential %s", kind, key)
}

// credEvidence describes a credential in evidence: its kind and, when it has
// one, its key.
func credEvidence(c reposentry.Credential) map[string]any {
	m := map[string]any{"kind": c.Kind.String()}
	if k := c.Key(); k != "" {
		m["id"] = k
	}
	return m
}

// where describes an address and country for an explanation.
func where(ip netip.Addr, country string) string {
	switch {
	case ip.IsValid() && country != "":
		return ip.String() + " (" + country + ")"
	case ip.IsValid():
		return ip.String()
	case country != "":
		return country
	}
	return "an unlogged address"
}

// repoList names the first few repositories and how many more there are.
func repoList(repos []string, n int) string {
	if len(repos) <= n {
		return strings.Join(repos, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(repos[:n], ", "), len(repos)-n)
}

// windowView is what a window holds, gathered for a signal.
type windowView struct {
	repos, ips, countries []string
	creds                 []map[string]any
	tags                  map[string][]string // repository → its tags, for tagged ones
	ids                   []string
	first                 int64
	kind                  reposentry.CredentialKind
	credKey               string
	ip                    netip.Addr
	country               string
}

func (c *core) view(w *window) windowView {
	var v windowView
	reads := w.reads()
	if len(reads) > 0 {
		v.first = reads[0].t
	}
	seenCred := map[string]bool{}
	for i := range reads {
		r := &reads[i]
		if len(v.ids) < c.cfg.MaxEventIDs {
			v.ids = append(v.ids, r.plat.String()+":"+r.id.String())
		}
		if len(v.repos) < c.cfg.MaxEvidenceRepos && !slices.Contains(v.repos, r.repo) {
			v.repos = append(v.repos, r.repo)
			if r.tags != 0 {
				if v.tags == nil {
					v.tags = map[string][]string{}
				}
				v.tags[r.repo] = r.tags.Names()
			}
		}
		if r.ip.IsValid() {
			if s := r.ip.String(); !slices.Contains(v.ips, s) && len(v.ips) < 32 {
				v.ips = append(v.ips, s)
			}
		}
		if r.country != "" && !slices.Contains(v.countries, r.country) {
			v.countries = append(v.countries, r.country)
		}
		ck := r.kind.String() + ":" + r.cred
		if !seenCred[ck] && len(v.creds) < 16 {
			seenCred[ck] = true
			v.creds = append(v.creds, credEvidence(reposentry.Credential{Kind: r.kind, ID: r.cred}))
		}
		// The latest read stands for how the reads were made.
		v.kind, v.credKey, v.ip, v.country = r.kind, r.cred, r.ip, r.country
	}
	return v
}

func bulkRisk(sev reposentry.Severity, over int) int {
	base := map[reposentry.Severity]int{reposentry.SeverityMedium: 50, reposentry.SeverityHigh: 75, reposentry.SeverityCritical: 90}[sev]
	return min(100, base+min(9, max(0, over)))
}

func (c *core) emitBulk(ev *reposentry.Event, f *facts, out func(reposentry.Signal)) {
	if f.bulk != reposentry.SeverityInfo {
		out(c.bulkSignal(ev, f.a, &f.a.win, f.bulk, nil))
	}
	if f.credBulk != reposentry.SeverityInfo {
		out(c.bulkSignal(ev, f.a, &f.cs.win, f.credBulk, f.cs))
	}
}

func (c *core) bulkSignal(ev *reposentry.Event, a *actor, w *window, sev reposentry.Severity, cs *credState) reposentry.Signal {
	v := c.view(w)
	mult := c.multiplier(a, cs != nil && cs.bot, ev.Time.UnixNano())
	t := c.cfg.Tiers
	threshold := map[reposentry.Severity]int{reposentry.SeverityMedium: t.Medium, reposentry.SeverityHigh: t.High, reposentry.SeverityCritical: t.Critical}[sev] * mult
	who := a.key
	var sharedBy []string
	if cs != nil {
		// The alert stays about the identity that made the read (labels and
		// triage are per identity); the credential is the subject here.
		who = credName(cs.kind, cs.key)
		for _, o := range cs.actors {
			sharedBy = append(sharedBy, o.key)
		}
	}
	archives := ""
	if w.archives > 0 {
		archives = fmt.Sprintf(", %d of them downloaded as archives", w.archives)
	}
	observed := fmt.Sprintf("%d distinct non-public repositories (%d in all) read in %s%s", w.nonPublic, w.distinct, dur(c.cfg.Window), archives)
	baseline := fmt.Sprintf("medium at %d, high at %d (or %d archives), critical at %d distinct non-public repositories per %s; repositories read before the window are routine and not counted",
		t.Medium*mult, t.High*mult, t.HighArchives*mult, t.Critical*mult, dur(c.cfg.Window))
	if mult > 1 {
		baseline += fmt.Sprintf(" (thresholds ×%d for automation or a new joiner)", mult)
	}
	weight := c.cfg.SensitiveWeight
	counted, _ := w.weighted(weight)
	sensitive := ""
	if w.sensitive > 0 && weight > 1 {
		sensitive = fmt.Sprintf("; %d of them tagged secrets, signing or infrastructure, each counted %d times", w.sensitive, weight)
		observed += sensitive
		baseline += fmt.Sprintf("; repositories tagged secrets, signing or infrastructure count %d times", weight)
	}
	novelty := c.noveltyOnly(a, cs != nil && cs.bot, ev.Time.UnixNano())
	if novelty {
		threshold = map[reposentry.Severity]int{reposentry.SeverityHigh: t.Medium, reposentry.SeverityCritical: t.High}[sev]
		baseline = fmt.Sprintf("automation: its volume is routine; only repositories read from a new country or network or with a new credential count, high at %d and critical at %d per %s",
			t.Medium, t.High, dur(c.cfg.Window))
		observed = fmt.Sprintf("%d distinct non-public repositories read from a new place or with a new credential (%d non-public in all) in %s", w.novel, w.nonPublic, dur(c.cfg.Window))
		if w.sensNovel > 0 && weight > 1 {
			observed += fmt.Sprintf("; %d of them tagged secrets, signing or infrastructure, each counted %d times", w.sensNovel, weight)
		}
		_, counted = w.weighted(weight)
	}
	via := "using " + credName(v.kind, v.credKey)
	if cs != nil {
		via = "shared by " + strings.Join(sharedBy, ", ")
	}
	expl := fmt.Sprintf("%s read %d distinct non-public repositories in %s (%s) %s from %s%s. Confirm with the owner that this was intended; if not, revoke the credential and review what the repositories contain.",
		who, w.nonPublic, dur(c.cfg.Window), repoList(v.repos, 3), via, where(v.ip, v.country), sensitive)
	ev0 := map[string]any{
		"automation":              cs != nil && cs.bot || a.automated(),
		"repositories":            v.repos,
		"distinct_repositories":   w.distinct,
		"non_public_repositories": w.nonPublic,
		"archive_downloads":       w.archives,
		"window":                  dur(c.cfg.Window),
		"credentials":             v.creds,
		"ips":                     v.ips,
		"countries":               v.countries,
	}
	if cs != nil {
		ev0["shared_by"] = sharedBy
	}
	if w.sensitive > 0 {
		ev0["sensitive_repositories"] = int(w.sensitive)
		ev0["sensitive_weight"] = weight
	}
	if v.tags != nil {
		ev0["repository_tags"] = v.tags
	}
	return reposentry.Signal{
		Rule: RuleBulkRead, Title: "Bulk read of non-public repositories", Severity: sev,
		Risk:       bulkRisk(sev, counted-threshold),
		Techniques: techCollection, Tactics: tactCollection,
		Time: ev.Time.UTC(), FirstSeen: utc(v.first),
		Observed: observed, Baseline: baseline, Explanation: expl,
		Entity: c.entity(a), EventIDs: v.ids, Evidence: ev0,
	}
}

func (c *core) emitNewCred(ev *reposentry.Event, f *facts, out func(reposentry.Signal)) {
	p := f.pend
	if f.newCred == reposentry.SeverityInfo || p == nil {
		return
	}
	ids := make([]string, 0, len(p.reads)+1)
	ids = append(ids, p.created.String())
	for i := range p.reads {
		ids = append(ids, p.reads[i].String())
	}
	after := time.Duration(ev.Time.UnixNano() - p.start)
	created := p.action
	if p.detail != "" {
		created += " (" + p.detail + ")"
	}
	risk := 80
	if f.newCred == reposentry.SeverityCritical {
		risk = 95
	}
	cred := credEvidence(reposentry.Credential{Kind: p.kind, ID: p.key})
	out(reposentry.Signal{
		Rule: RuleNewCredentialBulk, Title: "Bulk read right after a new credential", Severity: f.newCred, Risk: risk,
		Techniques: []string{reposentry.TechniqueCodeRepositories, reposentry.TechniqueAdditionalCreds, reposentry.TechniqueValidAccounts},
		Tactics:    []string{reposentry.TacticCollection, reposentry.TacticPersistence, reposentry.TacticInitialAccess},
		Time:       ev.Time.UTC(), FirstSeen: utc(p.start),
		Observed: fmt.Sprintf("%d distinct non-public repositories read within %s of %s", len(p.repos), dur(after.Round(time.Second)), p.action),
		Baseline: fmt.Sprintf("signals at %d distinct non-public repositories within %s of a credential creation; critical at %d",
			c.cfg.NewCredentialMinRepos, dur(c.cfg.CredentialWindow), c.cfg.Tiers.High),
		Explanation: fmt.Sprintf("%s created or was granted a credential (%s, %s) from %s at %s and within %s read %d distinct non-public repositories (%s), the pattern of an account takeover followed by mass cloning. Verify the credential with the owner and revoke it if it was not theirs.",
			p.actor.key, created, credName(p.kind, p.key), where(p.ip, p.country), utc(p.start).Format(time.RFC3339), dur(after.Round(time.Second)), len(p.repos), repoList(p.repos, 3)),
		Entity: c.entity(p.actor), EventIDs: ids,
		Evidence: map[string]any{
			"credential_action":       p.action,
			"credential":              cred,
			"credential_created":      utc(p.start).Format(time.RFC3339),
			"repositories":            p.repos,
			"non_public_repositories": len(p.repos),
			"reads_after_creation":    len(p.reads),
		},
	})
}

func (c *core) emitExfil(ev *reposentry.Event, f *facts, out func(reposentry.Signal)) {
	if f.exfil == "" {
		return
	}
	a := f.a
	sev, risk := reposentry.SeverityMedium, 55
	target := ev.Repo
	if target == "" {
		target = ev.Org
	}
	if ev.TargetUser != "" {
		target += " (user " + ev.TargetUser + ")"
	}
	expl := fmt.Sprintf("%s %s: %s via %s from %s.", a.key, f.exfil, target, ev.Action, where(ev.SourceIP, ev.Geo.Country))
	evid := map[string]any{"action": ev.Action, "repository": ev.Repo, "org": ev.Org}
	if ev.TargetUser != "" {
		evid["target_user"] = ev.TargetUser
	}
	if ev.Detail != "" {
		evid["detail"] = ev.Detail
	}
	baseline := "opening a path out of the organisation is rare and should be approved"
	if f.exfilHigh {
		sev, risk = reposentry.SeverityHigh, 85
		expl += fmt.Sprintf(" The same identity bulk-read %d non-public repositories at %s, so code may be leaving through this path.",
			a.lastBulkCount, utc(a.lastBulk).Format(time.RFC3339))
		evid["last_bulk_read"] = utc(a.lastBulk).Format(time.RFC3339)
		evid["last_bulk_read_repositories"] = int(a.lastBulkCount)
		baseline += fmt.Sprintf("; high after a bulk read in the prior %s", dur(c.cfg.ExfilLookback))
	}
	expl += " Check that the change was approved and revert it if not."
	out(reposentry.Signal{
		Rule: RuleExfilPathOpened, Title: "Exfiltration path opened", Severity: sev, Risk: risk,
		Techniques: []string{reposentry.TechniqueExfilCodeRepo, reposentry.TechniqueTransferToCloud},
		Tactics:    []string{reposentry.TacticExfiltration},
		Time:       ev.Time.UTC(), FirstSeen: ev.Time.UTC(),
		Observed: fmt.Sprintf("%s %s", ev.Action, target), Baseline: baseline, Explanation: expl,
		Entity: c.entity(a), EventIDs: []string{ev.Ref()}, Evidence: evid,
	})
}

func (c *core) emitLocation(ev *reposentry.Event, f *facts, out func(reposentry.Signal)) {
	if !f.locCountry && !f.locNetwork {
		return
	}
	a := f.a
	var known []string
	for _, p := range a.countries {
		if p.country != ev.Geo.Country {
			known = append(known, p.country)
		}
	}
	slices.Sort(known)
	nets, k := 0, keys.Net(ev.SourceIP)
	for _, p := range a.networks {
		if p.key != k {
			nets++
		}
	}
	days := (ev.Time.UnixNano() - a.first) / int64(24*time.Hour)
	evid := map[string]any{"repository": ev.Repo, "known_countries": known, "known_networks": nets,
		"credential": credEvidence(ev.Credential)}
	if ev.RepoTags != 0 {
		evid["repository_tags"] = ev.RepoTags.Names()
	}
	if ev.Geo.Country != "" {
		evid["country"] = ev.Geo.Country
	}
	if ev.SourceIP.IsValid() {
		evid["ip"] = ev.SourceIP.String()
		evid["network"] = netPrefix(ev.SourceIP)
	}
	s := reposentry.Signal{
		Rule:       RuleFirstSeenLocation,
		Techniques: []string{reposentry.TechniqueValidAccounts, reposentry.TechniqueCodeRepositories},
		Tactics:    []string{reposentry.TacticInitialAccess, reposentry.TacticCollection},
		Time:       ev.Time.UTC(), FirstSeen: ev.Time.UTC(),
		Entity: c.entity(a), EventIDs: []string{ev.Ref()}, Evidence: evid,
		Baseline: fmt.Sprintf("%d days of history: countries %s; %d networks", days, strings.Join(known, ", "), nets),
	}
	reasons := locReasons(f.locWhy)
	evid["reasons"] = reasons
	s.Severity = f.locSev
	s.Risk = map[reposentry.Severity]int{reposentry.SeverityLow: 20, reposentry.SeverityMedium: 50, reposentry.SeverityHigh: 75, reposentry.SeverityCritical: 90}[f.locSev]
	also := "Alone this is weak evidence (travel, a new ISP); it raises the severity of other signals for the identity."
	if len(reasons) > 0 {
		also = "It comes with " + strings.Join(reasons, ", ") + "."
	}
	if f.locCountry {
		s.Title = "Repository read from a new country"
		s.Observed = "read from " + where(ev.SourceIP, ev.Geo.Country) + ", a country never seen for this identity"
		s.Explanation = fmt.Sprintf("%s read %s from %s, a country not seen in %d days of history (known: %s) using %s. %s Confirm the owner is travelling; if not, end the sessions and revoke the credential.",
			a.key, ev.Repo, where(ev.SourceIP, ev.Geo.Country), days, strings.Join(known, ", "), credName(ev.Credential.Kind, ev.Credential.Key()), also)
	} else {
		s.Title = "Repository read from a new network"
		s.Observed = "read from network " + netPrefix(ev.SourceIP) + ", never seen for this identity"
		s.Explanation = fmt.Sprintf("%s read %s from %s in network %s, not seen in %d days of history, using %s. %s",
			a.key, ev.Repo, where(ev.SourceIP, ev.Geo.Country), netPrefix(ev.SourceIP), days, credName(ev.Credential.Kind, ev.Credential.Key()), also)
	}
	if len(reasons) > 0 {
		s.Baseline += "; corroborated by " + strings.Join(reasons, ", ")
	}
	out(s)
}

// locReasons names the why* bits for people.
func locReasons(why uint8) []string {
	var out []string
	for _, r := range []struct {
		bit  uint8
		name string
	}{{whyNewCred, "a credential never seen before"}, {whyBulk, "a bulk read"},
		{whyUnread, "several repositories never read before"}, {whyOneUnread, "a repository never read before"},
		{whyOffHours, "an hour of day the identity is never active at"},
		{whySecret, "a secrets- or signing-tagged repository never read before"}} {
		if why&r.bit != 0 {
			out = append(out, r.name)
		}
	}
	return out
}

func (c *core) emitPrivileged(ev *reposentry.Event, f *facts, out func(reposentry.Signal)) {
	if f.priv == reposentry.SeverityInfo {
		return
	}
	a := f.a
	risk := 70
	extra := ""
	if f.priv == reposentry.SeverityCritical {
		risk = 90
		switch {
		case a.win.tier >= reposentry.SeverityMedium:
			extra = fmt.Sprintf(" It is part of a bulk read of %d distinct non-public repositories.", a.win.nonPublic)
		default:
			extra = " It comes from a location never seen for this identity."
		}
	}
	why := "marked privileged by the identity enrichment (directory groups or the privileged list)"
	if a.privileged {
		why = "listed as privileged in the configuration"
	}
	out(reposentry.Signal{
		Rule: RulePrivilegedRead, Title: "Repository read by a privileged identity", Severity: f.priv, Risk: risk,
		Techniques: []string{reposentry.TechniqueCodeRepositories, reposentry.TechniqueValidAccounts},
		Tactics:    []string{reposentry.TacticCollection, reposentry.TacticInitialAccess},
		Time:       ev.Time.UTC(), FirstSeen: ev.Time.UTC(),
		Observed: fmt.Sprintf("%s of %s by a privileged identity", ev.Category, ev.Repo),
		Baseline: "privileged identities are not expected to read repository content; one signal per incident (" + dur(c.cfg.IncidentGap) + " gap)",
		Explanation: fmt.Sprintf("%s, %s, read %s (%s) using %s from %s.%s Confirm the owner did this; privileged accounts taken over are the most damaging.",
			a.key, why, ev.Repo, ev.Category, credName(ev.Credential.Kind, ev.Credential.Key()), where(ev.SourceIP, ev.Geo.Country), extra),
		Entity: c.entity(a), EventIDs: []string{ev.Ref()},
		Evidence: map[string]any{"repository": ev.Repo, "action": ev.Action, "privileged_by": why,
			"credential": credEvidence(ev.Credential)},
	})
}

func (c *core) emitAdminBulk(ev *reposentry.Event, f *facts, out func(reposentry.Signal)) {
	if f.adminBulk == reposentry.SeverityInfo {
		return
	}
	a := f.a
	s := c.bulkSignal(ev, a, &a.win, f.bulk, nil)
	why := "it " + a.rare.owner
	if a.rare.owner != ownerByConfig {
		why = fmt.Sprintf("it performed %s, an owner-only action, at %s", a.rare.owner, utc(a.rare.ownerAt).Format(time.RFC3339))
		s.Evidence["owner_since"] = utc(a.rare.ownerAt).Format(time.RFC3339)
	}
	s.Evidence["owner_by"] = why
	s.Evidence["bulk_read_severity"] = f.bulk.String()
	s.Rule, s.Title, s.Severity = RulePlatformAdminBulkRead, "Bulk read by an organization owner", f.adminBulk
	s.Risk = min(100, max(s.Risk+10, bulkRisk(f.adminBulk, 0)))
	s.Tactics = []string{reposentry.TacticCollection, reposentry.TacticInitialAccess}
	s.Techniques = []string{reposentry.TechniqueCodeRepositories, reposentry.TechniqueValidAccounts}
	s.Baseline = "one severity above bulk_read for organization and enterprise owners; bulk_read: " + s.Baseline
	s.Explanation = fmt.Sprintf("%s is an organization or enterprise owner (%s). Owners can read every repository, including those no team of theirs works on, so a taken-over owner account can collect the whole organization's code; its bulk read (%s as an ordinary bulk_read) is raised to %s. %s",
		a.key, why, f.bulk, f.adminBulk, s.Explanation)
	out(s)
}

func (c *core) emitDisabled(ev *reposentry.Event, f *facts, out func(reposentry.Signal)) {
	if f.disabled == reposentry.SeverityInfo {
		return
	}
	a := f.a
	risk := 80
	techs := []string{reposentry.TechniqueValidAccounts, reposentry.TechniqueCodeRepositories}
	tacts := []string{reposentry.TacticInitialAccess, reposentry.TacticCollection}
	if f.disabled == reposentry.SeverityCritical {
		risk = 95
	}
	if ev.Category == reposentry.CategoryCredentialCreate {
		techs = []string{reposentry.TechniqueValidAccounts, reposentry.TechniqueAdditionalCreds}
		tacts = []string{reposentry.TacticInitialAccess, reposentry.TacticPersistence}
	}
	what := ev.Action
	if ev.Repo != "" {
		what += " of " + ev.Repo
	}
	if ev.Detail != "" {
		what += " (" + ev.Detail + ")"
	}
	account := ev.Platform.String() + ":" + ev.Actor.Login
	evid := map[string]any{"action": ev.Action, "category": ev.Category.String(), "account": account,
		"credential": credEvidence(ev.Credential)}
	if ev.Repo != "" {
		evid["repository"] = ev.Repo
	}
	if ev.SourceIP.IsValid() {
		evid["ip"] = ev.SourceIP.String()
	}
	state := "is disabled in the directory"
	if f.deprovBy != "" {
		at := utc(a.rare.deprovAt).Format(time.RFC3339)
		state = "was deactivated at " + at + " (" + f.deprovBy + ")"
		evid["deactivated"], evid["deactivated_by"] = at, f.deprovBy
	}
	out(reposentry.Signal{
		Rule: RuleDisabledAccountActive, Title: "Activity by a disabled account", Severity: f.disabled, Risk: risk,
		Techniques: techs, Tactics: tacts,
		Time: ev.Time.UTC(), FirstSeen: ev.Time.UTC(),
		Observed: what + " by an identity whose account is disabled",
		Baseline: "a disabled (or deprovisioned) account should do nothing; reads and credential creations are critical, pushes high; one signal per incident (" + dur(c.cfg.IncidentGap) + " gap)",
		Explanation: fmt.Sprintf("%s %s, yet its account %s did %s from %s using %s. A platform account or token left behind when the person was disabled is open to whoever holds it (a leaver, or an attacker with the leaver's token). Suspend the platform account, revoke its tokens and keys, and review what it read.",
			a.key, state, account, what, where(ev.SourceIP, ev.Geo.Country), credName(ev.Credential.Kind, ev.Credential.Key())),
		Entity: c.entity(a), EventIDs: []string{ev.Ref()}, Evidence: evid,
	})
}
