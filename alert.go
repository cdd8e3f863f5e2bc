package reposentry

import (
	"encoding/json"
	"fmt"
	"time"
)

// Severity of a signal or alert.
type Severity uint8

// Severities, in increasing order.
const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "info"
}

// ParseSeverity reads a severity name as written by String.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if n == name {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of info, low, medium, high, critical)", name)
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Entity is who an alert is about.
type Entity struct {
	Type     string   `json:"type"` // "identity" or "credential"
	ID       string   `json:"id"`
	Accounts []string `json:"accounts"` // "<platform>:<login>" joined to the identity
}

// Signal is one detection's finding about one entity: a piece of evidence
// that the risk stage accumulates into alerts.
type Signal struct {
	Rule       string    `json:"rule"`
	Title      string    `json:"title"`
	Severity   Severity  `json:"severity"`
	Risk       int       `json:"risk"` // 0-100, this signal's contribution
	Techniques []string  `json:"techniques,omitempty"`
	Tactics    []string  `json:"tactics,omitempty"`
	Time       time.Time `json:"time"`
	// Observed and Baseline say what was seen against what is normal, in
	// words a person reads ("31 distinct private repositories in 10m").
	Observed string `json:"observed"`
	Baseline string `json:"baseline,omitempty"`
	// Explanation is one or two sentences an analyst can act on.
	Explanation string `json:"explanation"`
	Entity      Entity `json:"entity"`
	// Credential is the credential the entity used, "<kind>:<key>"
	// ("pat_classic:<hashed_token>"); the engine fills it from the event
	// being processed when the detector leaves it empty, so that risk
	// accumulates per credential as well as per identity.
	Credential string         `json:"credential,omitempty"`
	FirstSeen  time.Time      `json:"first_seen"`
	EventIDs   []string       `json:"event_ids,omitempty"`
	Evidence   map[string]any `json:"evidence,omitempty"`
}

// Alert is what reaches an analyst: one per entity per incident, updated as
// evidence grows. Its JSON form is the contract in architecture.md.
type Alert struct {
	ID          string         `json:"id"`
	Rule        string         `json:"rule"`
	Title       string         `json:"title"`
	Severity    Severity       `json:"severity"`
	Risk        int            `json:"risk"`
	Techniques  []string       `json:"techniques"`
	Tactics     []string       `json:"tactics"`
	Entity      Entity         `json:"entity"`
	FirstSeen   time.Time      `json:"first_seen"`
	LastSeen    time.Time      `json:"last_seen"`
	EventIDs    []string       `json:"event_ids"`
	Explanation string         `json:"explanation"`
	Signals     []Signal       `json:"signals"`
	Evidence    map[string]any `json:"evidence"`
}

// MarshalJSON writes times in RFC 3339 UTC and never null slices, so
// consumers can rely on the contract's shape.
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert
	p := plain(a)
	p.FirstSeen = p.FirstSeen.UTC()
	p.LastSeen = p.LastSeen.UTC()
	if p.Techniques == nil {
		p.Techniques = []string{}
	}
	if p.Tactics == nil {
		p.Tactics = []string{}
	}
	if p.EventIDs == nil {
		p.EventIDs = []string{}
	}
	if p.Signals == nil {
		p.Signals = []Signal{}
	}
	if p.Evidence == nil {
		p.Evidence = map[string]any{}
	}
	if p.Entity.Accounts == nil {
		p.Entity.Accounts = []string{}
	}
	return json.Marshal(p)
}

// ATT&CK identifiers used across the rule pack.
const (
	TechniqueCodeRepositories  = "T1213.003" // Data from Information Repositories: Code Repositories
	TechniqueValidAccounts     = "T1078"     // Valid Accounts
	TechniqueCloudAccounts     = "T1078.004" // Valid Accounts: Cloud Accounts
	TechniqueAccountManip      = "T1098"     // Account Manipulation
	TechniqueAdditionalCreds   = "T1098.001" // Account Manipulation: Additional Cloud Credentials
	TechniqueExfilWebService   = "T1567"     // Exfiltration Over Web Service
	TechniqueExfilCodeRepo     = "T1567.001" // Exfiltration to Code Repository
	TechniqueTransferToCloud   = "T1537"     // Transfer Data to Cloud Account
	TechniqueImpairDefenses    = "T1562"     // Impair Defenses
	TechniqueMFARequestBombing = "T1621"     // Multi-Factor Authentication Request Generation
	TacticCollection           = "TA0009"
	TacticExfiltration         = "TA0010"
	TacticPersistence          = "TA0003"
	TacticInitialAccess        = "TA0001"
	TacticCredentialAccess     = "TA0006"
	TacticDefenseEvasion       = "TA0005"
)
