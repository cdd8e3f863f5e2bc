package baseline

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
)

// Everything in this file runs only when a signal is raised, so it may
// allocate and format freely.

var (
	techCollection = []string{reposentry.TechniqueCodeRepositories}
	tactCollection = []string{reposentry.TacticCollection}
	riskBySeverity = map[reposentry.Severity]int{reposentry.SeverityLow: 25, reposentry.SeverityMedium: 50, reposentry.SeverityHigh: 70}
)

func (a *ident) entity() reposentry.Entity {
	e := reposentry.Entity{Type: "identity", ID: a.key, Accounts: []string{}}
	if a.login != "" {
		e.Accounts = append(e.Accounts, a.plat.String()+":"+a.login)
	}
	return e
}

// picked is the evidence gathered from the identity's recent new reads.
type picked struct {
	ids, repos []string
	first      time.Time
}

// pick gathers the recent new reads keep accepts, oldest first, plus ev.
func (a *ident) pick(ev *reposentry.Event, keep func(r *recentRead) bool) picked {
	var p picked
	for i := range a.recent {
		r := &a.recent[i]
		if !keep(r) {
			continue
		}
		if p.first.IsZero() {
			p.first = time.Unix(0, r.t).UTC()
		}
		p.ids = append(p.ids, r.ref())
		if !containsString(p.repos, r.repo) {
			p.repos = append(p.repos, r.repo)
		}
	}
	if ref := ev.Ref(); !containsString(p.ids, ref) {
		p.ids = append(p.ids, ref)
	}
	// Late events (within the engine's lateness) may precede what was kept.
	if p.first.IsZero() || ev.Time.Before(p.first) {
		p.first = ev.Time.UTC()
	}
	return p
}

// since keeps the reads made on day from or later.
func (a *ident) since(from int) func(r *recentRead) bool {
	return func(r *recentRead) bool { return int(r.day) >= from }
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// repoList names the first few repositories and how many more there are.
func repoList(repos []string, total, n int) string {
	if len(repos) > n {
		repos = repos[:n]
	}
	s := strings.Join(repos, ", ")
	if total > len(repos) {
		s += fmt.Sprintf(" and %d more", total-len(repos))
	}
	return s
}

// why says what made a volume or breadth signal's severity.
func why(sev reposentry.Severity, repeat, arch int) string {
	switch sev {
	case reposentry.SeverityHigh:
		return fmt.Sprintf("on %d days of the week and with %d archive downloads, the pattern of someone collecting code before leaving", repeat, arch)
	case reposentry.SeverityMedium:
		if arch > 0 {
			return fmt.Sprintf("with %d archive downloads", arch)
		}
		return fmt.Sprintf("on %d days of the week, not a one-off", repeat)
	}
	return "on one day without archive downloads, which an incident or a one-off task also explains"
}

func (d *detector) groupLabel(g uint64) string {
	if n, ok := d.groupName[g]; ok {
		return n
	}
	return "unknown"
}

// peerText says what the peer populations do for kind k, the count a
// rule compared, and adds the figures to evid: the home group as
// peer_group, peer_rate and peer_days, the department (when compared) as
// department, department_rate and department_days.
func (d *detector) peerText(a *ident, ps peerView, k peerKind, evid map[string]any) string {
	var what string
	switch k {
	case peerDaily:
		what = fmt.Sprintf("read %d or more new repositories", d.cfg.DailyFloor)
	case peerWeekly:
		what = fmt.Sprintf("read %d or more new repositories in %d days", d.cfg.WeeklyFloor, weekDays)
	}
	one := func(name string, st *peerStat) (string, float64, float64) {
		rate, days, ok := ps.rate(st, k)
		if !ok {
			return fmt.Sprintf("peers in %s: too few member-days yet to compare", name), rate, days
		}
		return fmt.Sprintf("peers in %s: %.1f%% of %.0f member-days %s", name, 100*rate, days, what), rate, days
	}
	home := d.groupLabel(a.home)
	text, rate, days := one("group "+home, ps.home)
	evid["peer_group"], evid["peer_rate"], evid["peer_days"] = home, rate, days
	if ps.deptName != "" {
		t, rate, days := one("department "+ps.deptName, ps.dept)
		text += "; " + t
		evid["department"], evid["department_rate"], evid["department_days"] = ps.deptName, rate, days
	}
	return text
}

// volumeSignal is the daily or weekly volume signal; k says which trigger
// the peers were compared on (peerDaily or peerWeekly).
func (d *detector) volumeSignal(a *ident, ev *reposentry.Event, w week, s stats, sev reposentry.Severity, daily, weekly int, k peerKind, ps peerView) reposentry.Signal {
	p := a.pick(ev, a.since(int(a.curDay)-weekDays+1))
	trigger := "daily"
	if k == peerWeekly {
		trigger = "weekly"
	}
	evid := map[string]any{
		"trigger":           trigger,
		"new_reads_today":   int(a.todayNew()),
		"new_reads_week":    w.sum,
		"archive_downloads": w.arch,
		"repeat_days":       w.repeat,
		"daily_threshold":   daily,
		"weekly_threshold":  weekly,
		"median":            s.median,
		"mad":               s.mad,
		"history_days":      s.days,
		"repositories":      p.repos,
	}
	peer := d.peerText(a, ps, k, evid)
	return reposentry.Signal{
		Rule: RuleVolume, Title: "Reading far more new repositories than usual", Severity: sev, Risk: riskBySeverity[sev],
		Techniques: techCollection, Tactics: tactCollection,
		Time: ev.Time.UTC(), FirstSeen: p.first,
		Observed: fmt.Sprintf("%d repositories newly read today and %d in the last %d days (%d archive downloads), new meaning not read in the prior %d days",
			a.todayNew(), w.sum, weekDays, w.arch, d.cfg.NewReadDays),
		Baseline: fmt.Sprintf("median %.1f new repositories per active day (MAD %.1f) over %d active days; anomalous at %d in a day or %d in %d days unless peers do it on more than %.1f%% of their member-days; %s",
			s.median, s.mad, s.days, daily, weekly, weekDays, 100*d.cfg.PeerRateMax, peer),
		Explanation: fmt.Sprintf("%s newly read %d repositories in %d days (%s), far beyond the %.1f a day it usually starts reading, %s. Ask the owner or their manager what the work was; if it is not explained (notice given, access no longer needed), suspend the account's tokens and review what was copied.",
			a.key, w.sum, weekDays, repoList(p.repos, w.sum, 3), s.median, why(sev, w.repeat, w.arch)),
		Entity: a.entity(), EventIDs: p.ids, Evidence: evid,
	}
}

// whyHour says what made an hourly volume signal's severity.
func whyHour(arch int) string {
	if arch > 0 {
		return fmt.Sprintf("with %d archive downloads", arch)
	}
	return "without archive downloads: alone, context for the identity's risk (a new project, an incident) rather than an incident"
}

// hourlySignal is the volume signal of a burst: n new reads in the hourly
// window, against the identity's busiest hours s.
func (d *detector) hourlySignal(a *ident, ev *reposentry.Event, n int, s stats, sev reposentry.Severity, thr int) reposentry.Signal {
	from := int64(a.qtr-(quarters-1)) * quarterSec * int64(time.Second)
	p := a.pick(ev, func(r *recentRead) bool { return r.t >= from })
	arch, sens := sum4(&a.qArch), sum4(&a.qSens)
	tagged := ""
	if sens > 0 {
		tagged = fmt.Sprintf("; %d of them tagged secrets, signing or infrastructure", sens)
	}
	evid := map[string]any{
		"trigger":                "hourly",
		"window":                 "1h",
		"new_reads_hour":         n,
		"archive_downloads":      arch,
		"sensitive_repositories": sens,
		"hourly_threshold":       thr,
		"median":                 s.median,
		"mad":                    s.mad,
		"history_days":           s.days,
		"repositories":           p.repos,
	}
	return reposentry.Signal{
		Rule: RuleVolume, Title: "Reading far more new repositories in an hour than usual", Severity: sev, Risk: riskBySeverity[sev] - 5,
		Techniques: techCollection, Tactics: tactCollection,
		Time: ev.Time.UTC(), FirstSeen: p.first,
		Observed: fmt.Sprintf("%d repositories newly read in the hour to %s UTC (%d archive downloads%s), new meaning not read in the prior %d days",
			n, ev.Time.UTC().Format("15:04"), arch, tagged, d.cfg.NewReadDays),
		Baseline: fmt.Sprintf("this identity's busiest hour on its past %d active days: median %.1f new repositories (MAD %.1f); anomalous at %d within an hour",
			s.days, s.median, s.mad, thr),
		Explanation: fmt.Sprintf("%s newly read %d repositories within an hour (%s), where its busiest hour usually brings %.1f, %s. A burst like this is how a script or a stolen token clones; ask the owner what the work was and, if it is not explained, suspend the account's tokens and review what was copied.",
			a.key, n, repoList(p.repos, n, 3), s.median, whyHour(arch)),
		Entity: a.entity(), EventIDs: p.ids, Evidence: evid,
	}
}

func (d *detector) breadthSignal(a *ident, ev *reposentry.Event, w week, sev reposentry.Severity, ps peerView) reposentry.Signal {
	from := int(a.curDay) - weekDays + 1
	p := a.pick(ev, func(r *recentRead) bool { return int(r.day) >= from && r.other })
	rate, peerDays, ok := ps.home.rate(peerWide)
	peer := "too few peer days yet to compare"
	if ok {
		peer = fmt.Sprintf("its peers do this on %.1f%% of %.0f active days", 100*rate, peerDays)
	}
	home := d.groupLabel(a.home)
	evid := map[string]any{
		"peer_group":        home,
		"peer_rate":         rate,
		"peer_days":         peerDays,
		"other_reads_today": int(a.todayOther()),
		"other_reads_week":  w.other,
		"archive_downloads": w.otherArch,
		"repeat_days":       w.otherRepeat,
		"repositories":      p.repos,
	}
	// The department is the second peer population compared: say what it
	// showed, or that it could not be compared yet.
	if dept := ps.deptName; dept != "" {
		drate, ddays, dok := ps.dept.rate(peerWide)
		if dok {
			peer += fmt.Sprintf("; peers in department %s: %.1f%% of %.0f member-days read this widely", dept, 100*drate, ddays)
		} else {
			peer += fmt.Sprintf("; peers in department %s: too few member-days yet to compare", dept)
		}
		evid["department"] = dept
		evid["department_rate"] = drate
		evid["department_days"] = ddays
	}
	return reposentry.Signal{
		Rule: RuleBreadth, Title: "Reading repositories of other teams never read before", Severity: sev, Risk: riskBySeverity[sev] - 5,
		Techniques: techCollection, Tactics: tactCollection,
		Time: ev.Time.UTC(), FirstSeen: p.first,
		Observed: fmt.Sprintf("%d repositories of groups it never routinely read newly read today, %d in the last %d days (%d archive downloads)",
			a.todayOther(), w.other, weekDays, w.otherArch),
		Baseline: fmt.Sprintf("peer group %s; signals at %d such repositories in a day when peers rarely do it (at most %.1f%% of their days); %s",
			home, d.cfg.BreadthMin, 100*d.cfg.PeerRateMax, peer),
		Explanation: fmt.Sprintf("%s, whose work is in %s, read %d repositories of other teams' groups it never read before (%s) %s. Check with the owner and the repositories' teams whether this access was needed.",
			a.key, home, w.other, repoList(p.repos, w.other, 3), why(sev, w.otherRepeat, w.otherArch)),
		Entity: a.entity(), EventIDs: p.ids,
		Evidence: evid,
	}
}

var weekdayNames = [...]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

func (d *detector) offHoursSignal(a *ident, ev *reposentry.Event, prob float64) reposentry.Signal {
	how := hourOfWeek(ev.Time.Unix())
	at := fmt.Sprintf("%s %02d:00 UTC", weekdayNames[how/24], how%24)
	return reposentry.Signal{
		Rule: RuleOffHours, Title: "Repository read at an hour the identity is not active", Severity: reposentry.SeverityLow, Risk: 10,
		Techniques: []string{reposentry.TechniqueValidAccounts, reposentry.TechniqueCodeRepositories},
		Tactics:    []string{reposentry.TacticInitialAccess, reposentry.TacticCollection},
		Time:       ev.Time.UTC(), FirstSeen: ev.Time.UTC(),
		Observed: fmt.Sprintf("%s of %s at %s", ev.Category, ev.Repo, at),
		Baseline: fmt.Sprintf("%.2f%% of the identity's %d profiled events fall in that hour of the week; off hours below %.2f%%",
			100*prob, a.hoursTotal, 100*d.cfg.OffHoursProb),
		Explanation: fmt.Sprintf("%s read %s at %s, an hour it is almost never active at. Alone this is context (travel, a late fix); it raises other signals for the identity.",
			a.key, ev.Repo, at),
		Entity: a.entity(), EventIDs: []string{ev.Ref()},
		Evidence: map[string]any{"repository": ev.Repo, "hour_of_week": at, "probability": prob, "profiled_events": a.hoursTotal},
	}
}

func (d *detector) dormantSignal(a *ident, ev *reposentry.Event, w *waking, what string) reposentry.Signal {
	days := int(math.Round(float64(w.gap) / secDay))
	p := a.pick(ev, a.since(int(a.dayOf(w.at))))
	subject := "identity " + a.key
	evid := map[string]any{"dormant": what, "silent_days": days, "woke": time.Unix(w.at, 0).UTC().Format(time.RFC3339),
		"distinct_repositories": int(w.n), "repositories": p.repos}
	if k := ev.Credential.Key(); what == "credential" && k != "" {
		subject = fmt.Sprintf("%s credential of %s", ev.Credential.Kind, a.key)
		evid["credential"] = map[string]any{"kind": ev.Credential.Kind.String(), "id": k}
	}
	return reposentry.Signal{
		Rule: RuleDormant, Title: "Dormant " + what + " reactivated to read repositories", Severity: reposentry.SeverityMedium, Risk: 55,
		Techniques: []string{reposentry.TechniqueValidAccounts, reposentry.TechniqueCodeRepositories},
		Tactics:    []string{reposentry.TacticInitialAccess, reposentry.TacticCollection},
		Time:       ev.Time.UTC(), FirstSeen: time.Unix(min(w.at, ev.Time.Unix()), 0).UTC(),
		Observed: fmt.Sprintf("%d distinct repositories read within a day of the first activity after %d silent days", w.n, days),
		Baseline: fmt.Sprintf("dormant after %d days without activity; signals at %d distinct repositories read in the day after waking", d.cfg.DormantDays, d.cfg.DormantMinRepos),
		Explanation: fmt.Sprintf("The %s, silent for %d days, read %d distinct repositories within a day of waking. Confirm the owner is back and meant this; a forgotten account or token is a favourite way in.",
			subject, days, w.n),
		Entity: a.entity(), EventIDs: p.ids, Evidence: evid,
	}
}
