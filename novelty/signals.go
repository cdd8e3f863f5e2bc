package novelty

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/internal/keys"
)

// Everything in this file runs only when a signal is raised, so it may
// allocate and format freely.

var (
	techCredential = []string{reposentry.TechniqueValidAccounts, reposentry.TechniqueCodeRepositories}
	tactCredential = []string{reposentry.TacticInitialAccess, reposentry.TacticCollection}
	techCollection = []string{reposentry.TechniqueCodeRepositories}
	tactCollection = []string{reposentry.TacticCollection}
)

// keyPrefix is how much of a credential's key evidence shows: enough to
// search the audit log with, no more.
const keyPrefix = 12

func shortKey(k string) string {
	if len(k) > keyPrefix {
		return k[:keyPrefix]
	}
	return k
}

func (a *ident) entity(key string) reposentry.Entity {
	e := reposentry.Entity{Type: "identity", ID: key, Accounts: []string{}}
	if a.login != "" {
		e.Accounts = append(e.Accounts, a.plat.String()+":"+a.login)
	}
	return e
}

// where renders an event's origin: "AS64500 (Example Net) in VN from 203.0.113.0/24".
func where(country string, asn uint32, asOrg string, net uint64) string {
	var b strings.Builder
	if asn != 0 {
		fmt.Fprintf(&b, "AS%d", asn)
		if asOrg != "" {
			fmt.Fprintf(&b, " (%s)", asOrg)
		}
	}
	if country != "" {
		if b.Len() > 0 {
			b.WriteString(" in ")
		}
		b.WriteString(country)
	}
	if n := keys.NetString(net); n != "" {
		if b.Len() > 0 {
			b.WriteString(" from ")
		}
		b.WriteString(n)
	}
	if b.Len() == 0 {
		return "an unknown place"
	}
	return b.String()
}

// known lists an entity's remembered values of kind other than skip.
func (vs values) known(kind uint8, skip uint64) []string {
	var out []string
	for _, v := range vs {
		if v.kind != kind || v.h == skip {
			continue
		}
		switch kind {
		case attrCountry:
			if s := unpackString(v.h); s != "" {
				out = append(out, s)
			} else {
				out = append(out, "(a long country name)")
			}
		case attrASN:
			out = append(out, fmt.Sprintf("AS%d", v.h))
		case attrPrefix:
			out = append(out, keys.NetString(v.h))
		case attrClient:
			out = append(out, families[v.h%uint64(len(families))])
		}
	}
	slices.Sort(out) // the slice's order depends on evictions, not on meaning
	return out
}

func listOr(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, ", ")
}

func credEvidence(ev *reposentry.Event) map[string]any {
	return map[string]any{"kind": ev.Credential.Kind.String(), "key_prefix": shortKey(ev.Credential.Key())}
}

// originFacts is what made a credential_new_origin signal.
type originFacts struct {
	sev          reposentry.Severity
	risk         int
	auto         bool
	country, asn bool   // the country, the ASN is novel for the credential
	newNet       bool   // the /24 or /48 was first seen at this very event
	idCountry    bool   // the country is novel for the identity too
	spread       int    // repositories never read by the credential, read from the new country
	since        uint16 // day the novel value was first seen
}

func spreadText(f originFacts) string {
	if f.spread == 0 {
		return ""
	}
	return fmt.Sprintf(", and read %s it never read from there", plural(f.spread, "repository", "repositories"))
}

// plural renders n with the singular or plural noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// usedFrom renders where a credential was used: its countries and, where
// the events carried them, its autonomous systems.
func usedFrom(countries, asns []string) string {
	s := "countries " + listOr(countries, "none")
	if len(asns) > 0 {
		s += " and networks " + strings.Join(asns, ", ")
	}
	return s
}

func (d *detector) originSignal(a *ident, c *cred, key string, ev *reposentry.Event, f originFacts) reposentry.Signal {
	var what, kinds []string
	if f.country {
		what, kinds = append(what, "country "+ev.Geo.Country), append(kinds, "country")
	}
	if f.asn {
		what, kinds = append(what, fmt.Sprintf("network AS%d", ev.Geo.ASN)), append(kinds, "network")
	}
	newWhat := strings.Join(what, " and ")
	days := int(dayOf(ev.Time.Unix())) - int(c.first)
	countries := c.vals.known(attrCountry, packString(ev.Geo.Country))
	asns := c.vals.known(attrASN, uint64(ev.Geo.ASN))
	subject := fmt.Sprintf("%s credential %s… of %s", ev.Credential.Kind, shortKey(ev.Credential.Key()), key)
	var why string
	switch {
	case f.auto:
		why = "It is automation's credential, whose egress is stable: a new origin suggests the credential was copied and is used from elsewhere. Confirm with the owning team that the pipeline moved; else rotate the credential."
	case f.sev == reposentry.SeverityMedium:
		why = fmt.Sprintf("The country is new for the identity too, and the credential read %s from there that it never read before. Confirm with the owner that they are travelling and did this; else revoke the credential.",
			plural(f.spread, "repository", "repositories"))
	default:
		why = "A person's credential used from a new place is often travel: this is context for other signals, not an alert alone."
	}
	return reposentry.Signal{
		Rule: RuleCredentialNewOrigin, Title: "Credential read from a country or network it never used",
		Severity: f.sev, Risk: f.risk, Techniques: techCredential, Tactics: tactCredential,
		Time: ev.Time.UTC(), FirstSeen: ev.Time.UTC(),
		Observed: fmt.Sprintf("%s of %s with %s from %s; the credential first used this %s on %s%s", ev.Category, ev.Repo, subject,
			where(ev.Geo.Country, ev.Geo.ASN, ev.Geo.ASOrg, keys.Net(ev.SourceIP)), newWhat,
			time.Unix(int64(f.since)*secDay, 0).UTC().Format(time.DateOnly), spreadText(f)),
		Baseline: fmt.Sprintf("credential in use for %s, %s; used from %s within the last %d days; learning period %d days and %d events",
			plural(days, "day", "days"), plural(int(c.events), "event", "events"), usedFrom(countries, asns), d.cfg.ExpiryDays, d.cfg.LearningDays, d.cfg.MinEvents),
		Explanation: fmt.Sprintf("The %s read %s from %s, a %s the credential never used before. %s", subject, ev.Repo,
			where(ev.Geo.Country, ev.Geo.ASN, ev.Geo.ASOrg, 0), strings.Join(kinds, " and "), why),
		Entity: a.entity(key), EventIDs: []string{ev.Ref()},
		Evidence: map[string]any{
			"credential":           credEvidence(ev),
			"repository":           ev.Repo,
			"country":              ev.Geo.Country,
			"asn":                  ev.Geo.ASN,
			"as_org":               ev.Geo.ASOrg,
			"network":              keys.NetString(keys.Net(ev.SourceIP)),
			"new_country":          f.country,
			"new_asn":              f.asn,
			"new_network":          f.newNet,
			"country_new_identity": f.idCountry,
			"automation":           f.auto,
			"unread_repositories":  f.spread,
			"known_countries":      countries,
			"known_asns":           asns,
		},
	}
}

func (d *detector) farSignal(a *ident, c *cred, key string, ev *reposentry.Event, sev reposentry.Severity, risk int) reposentry.Signal {
	m := c.made
	created := time.Unix(m.t, 0).UTC()
	gap := ev.Time.Sub(created).Round(time.Minute)
	from := where(m.country, m.asn, "", 0)
	to := where(ev.Geo.Country, ev.Geo.ASN, ev.Geo.ASOrg, 0)
	subject := fmt.Sprintf("%s credential %s… of %s", ev.Credential.Kind, shortKey(ev.Credential.Key()), key)
	what := "another country"
	if sev == reposentry.SeverityLow && m.country == ev.Geo.Country {
		what = "another network in the same country"
	}
	advice := "Confirm with the owner where they created and use it; a token created in one place and used at once from another is how a stolen session turns into lasting access."
	switch {
	case c.kind == reposentry.CredentialDeployKey:
		advice = "Deploy keys are created by a person and used by machines elsewhere by design: this is context."
	case sev == reposentry.SeverityLow && what == "another country":
		advice = "The identity also signed in from there, as a traveller who created the token before leaving does: this is context."
	}
	return reposentry.Signal{
		Rule: RuleFarFromCreation, Title: "Credential first used far from where it was created",
		Severity: sev, Risk: risk, Techniques: techCredential, Tactics: tactCredential,
		Time: ev.Time.UTC(), FirstSeen: created,
		Observed: fmt.Sprintf("created from %s at %s, used from %s %s later (%s of %s)", from, created.Format("2006-01-02 15:04 UTC"),
			to, humanGap(gap), ev.Category, ev.Repo),
		Baseline: fmt.Sprintf("reads within %d days of creation are expected from where the credential was created (%s)", d.cfg.CreationWindowDays, m.action),
		Explanation: fmt.Sprintf("The %s was created (%s) from %s and read %s from %s, %s, %s later. %s",
			subject, m.action, from, ev.Repo, to, what, humanGap(gap), advice),
		Entity: a.entity(key), EventIDs: []string{m.ref(), ev.Ref()},
		Evidence: map[string]any{
			"credential":       credEvidence(ev),
			"created_action":   m.action,
			"created_at":       created.Format(time.RFC3339),
			"created_country":  m.country,
			"created_asn":      m.asn,
			"created_network":  keys.NetString(m.net),
			"used_country":     ev.Geo.Country,
			"used_asn":         ev.Geo.ASN,
			"used_network":     keys.NetString(keys.Net(ev.SourceIP)),
			"repository":       ev.Repo,
			"minutes_after":    int(gap / time.Minute),
			"deploy_key_usage": c.kind == reposentry.CredentialDeployKey,
		},
	}
}

// humanGap renders a duration as an analyst says it: "2h", "35m", "3d".
func humanGap(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dm", int(d/time.Minute))
}

func (d *detector) clientSignal(a *ident, key string, ev *reposentry.Event, v *val) reposentry.Signal {
	fam := families[v.h%uint64(len(families))]
	knownClients := a.vals.known(attrClient, v.h)
	return reposentry.Signal{
		Rule: RuleNewClient, Title: "Repository read with a client the identity never used",
		Severity: reposentry.SeverityLow, Risk: 10, Techniques: techCredential, Tactics: tactCredential,
		Time: ev.Time.UTC(), FirstSeen: ev.Time.UTC(),
		Observed: fmt.Sprintf("%s of %s with client %s (user agent %q)", ev.Category, ev.Repo, fam, clip(ev.UserAgent, 120)),
		Baseline: fmt.Sprintf("clients used within the last %d days: %s", d.cfg.ExpiryDays, listOr(knownClients, "none")),
		Explanation: fmt.Sprintf("%s read %s with %s, a client it never used before. Alone this is context (a new tool, a new laptop); with other signals it suggests someone else's tooling.",
			key, ev.Repo, fam),
		Entity: a.entity(key), EventIDs: []string{ev.Ref()},
		Evidence: map[string]any{"client": fam, "user_agent": clip(ev.UserAgent, 256), "known_clients": knownClients, "repository": ev.Repo},
	}
}

func (d *detector) orgSignal(a *ident, key string, ev *reposentry.Event) reposentry.Signal {
	org := orgOf(ev)
	return reposentry.Signal{
		Rule: RuleNewOrganisation, Title: "Repository read in an organisation the identity never acted in",
		Severity: reposentry.SeverityLow, Risk: 15, Techniques: techCollection, Tactics: tactCollection,
		Time: ev.Time.UTC(), FirstSeen: ev.Time.UTC(),
		Observed: fmt.Sprintf("%s of %s repository %s in organisation %s", ev.Category, ev.Visibility, ev.Repo, org),
		Baseline: fmt.Sprintf("no event of the identity in %s within the last %d days (learning period %d days)", org, d.cfg.ExpiryDays, d.cfg.LearningDays),
		Explanation: fmt.Sprintf("%s copied %s, in %s where it never acted before. Alone this is context (a new project, a transfer); check it was granted for work.",
			key, ev.Repo, org),
		Entity: a.entity(key), EventIDs: []string{ev.Ref()},
		Evidence: map[string]any{"organisation": org, "repository": ev.Repo, "visibility": ev.Visibility.String()},
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
