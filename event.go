// Package reposentry holds the domain types shared by every stage of the
// pipeline: the normalized Event that parsers produce, the Signal that
// detections emit and the Alert that reaches analysts.
//
// Data flows source → parser → enrich → engine (detect) → alert → sink; each
// stage lives in its own package and talks to the others only through these
// types.
package reposentry

import (
	"net/netip"
	"time"
)

// Origin says where a record came from, so errors and alerts can point back
// to it: a file and line, an HTTP request, an API page.
type Origin struct {
	// Source names the input: a file path, "-" for stdin, or a request id.
	Source string
	// Line is the 1-based line on which the record starts (0 if unknown).
	Line int64
	// Index is the 0-based position of the event inside a record that wraps
	// several (a JSON array page, an Azure "records" wrapper); 0 otherwise.
	Index int
}

// Platform is the system an event was logged by.
type Platform uint8

// Platforms reposentry knows. The string forms are used in event ids
// ("github:<_document_id>") and must stay stable.
const (
	PlatformUnknown Platform = iota
	PlatformGitHub
	PlatformGitLab
	PlatformBitbucket
	PlatformAzureDevOps
	PlatformGitea
	PlatformGit
	PlatformOkta
	PlatformEntra
)

var platformNames = [...]string{"unknown", "github", "gitlab", "bitbucket", "azuredevops", "gitea", "git", "okta", "entra"}

func (p Platform) String() string {
	if int(p) < len(platformNames) {
		return platformNames[p]
	}
	return "unknown"
}

// Format is the delivery shape a record arrived in.
type Format uint8

// Delivery shapes, detected per record.
const (
	FormatUnknown      Format = iota
	FormatNDJSON              // one event object per line (streaming, export)
	FormatJSONArray           // a JSON array page (REST API)
	FormatSplunkHEC           // {"event": {...}} envelope
	FormatAzureRecords        // {"records": [...]} wrapper (Event Hubs, Blob)
)

var formatNames = [...]string{"unknown", "ndjson", "json_array", "splunk_hec", "azure_records"}

func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "unknown"
}

// Category is the normalized kind of an action. Detections key on categories
// so that one rule covers every platform.
type Category uint8

// Action categories (architecture.md).
const (
	CategoryOther Category = iota
	CategoryClone
	CategoryFetch
	CategoryPush
	CategoryArchiveDownload
	CategoryBrowse
	CategorySearch
	CategoryLogin
	CategoryMFAChange
	CategoryCredentialCreate
	CategoryCredentialUse
	CategoryPermissionChange
	CategoryVisibilityChange
	CategoryMembershipChange
	CategorySettingsChange
)

var categoryNames = [...]string{"other", "clone", "fetch", "push", "archive_download", "browse", "search",
	"login", "mfa_change", "credential_create", "credential_use", "permission_change", "visibility_change",
	"membership_change", "settings_change"}

func (c Category) String() string {
	if int(c) < len(categoryNames) {
		return categoryNames[c]
	}
	return "other"
}

// IsRead reports whether the category moves repository content to the actor:
// the reads that T1213.003 collection is made of.
func (c Category) IsRead() bool {
	return c == CategoryClone || c == CategoryFetch || c == CategoryArchiveDownload
}

// Outcome of the logged action.
type Outcome uint8

// Outcomes; most audit events only log successes.
const (
	OutcomeUnknown Outcome = iota
	OutcomeSuccess
	OutcomeFailure
)

var outcomeNames = [...]string{"unknown", "success", "failure"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// ActorType says what kind of principal acted.
type ActorType uint8

// Actor types.
const (
	ActorUnknown ActorType = iota
	ActorUser
	ActorBot
	ActorApp
	ActorDeployKey
)

var actorTypeNames = [...]string{"unknown", "user", "bot", "app", "deploy_key"}

func (a ActorType) String() string {
	if int(a) < len(actorTypeNames) {
		return actorTypeNames[a]
	}
	return "unknown"
}

// CredentialKind says how the actor authenticated.
type CredentialKind uint8

// Credential kinds.
const (
	CredentialUnknown CredentialKind = iota
	CredentialSession
	CredentialPATClassic
	CredentialPATFineGrained
	CredentialOAuth
	CredentialApp
	CredentialSSHKey
	CredentialDeployKey
)

var credentialNames = [...]string{"unknown", "session", "pat_classic", "pat_fine_grained", "oauth", "app", "ssh_key", "deploy_key"}

func (k CredentialKind) String() string {
	if int(k) < len(credentialNames) {
		return credentialNames[k]
	}
	return "unknown"
}

// Visibility of a repository at the time of the event.
type Visibility uint8

// Repository visibilities.
const (
	VisibilityUnknown Visibility = iota
	VisibilityPublic
	VisibilityPrivate
	VisibilityInternal
)

var visibilityNames = [...]string{"unknown", "public", "private", "internal"}

func (v Visibility) String() string {
	if int(v) < len(visibilityNames) {
		return visibilityNames[v]
	}
	return "unknown"
}

// NonPublic reports whether the repository is private or internal, the
// repositories whose collection matters.
func (v Visibility) NonPublic() bool { return v == VisibilityPrivate || v == VisibilityInternal }

// Protocol is the transport of a Git operation.
type Protocol uint8

// Git transports.
const (
	ProtocolUnknown Protocol = iota
	ProtocolHTTP
	ProtocolSSH
)

var protocolNames = [...]string{"unknown", "http", "ssh"}

func (p Protocol) String() string {
	if int(p) < len(protocolNames) {
		return protocolNames[p]
	}
	return "unknown"
}

// Account is a principal on one platform.
type Account struct {
	Login string
	ID    string
	Type  ActorType
}

// Credential is what the actor authenticated with. ID is the most specific
// stable handle available (token id, hashed token, key fingerprint) so a
// credential can be followed from its creation to its use.
type Credential struct {
	Kind   CredentialKind
	ID     string // token_id or key id, as text
	Hash   string // hashed_token (base64 SHA-256) where the platform gives it
	Scopes string
}

// Key returns the credential's stable handle: the hash where present, else
// the id. Empty for sessions and unknown credentials.
func (c Credential) Key() string {
	if c.Hash != "" {
		return c.Hash
	}
	return c.ID
}

// Geo is where an address is.
type Geo struct {
	Country string // ISO 3166-1 alpha-2 where known, else the name the log gave
	City    string
	ASN     uint32
	ASOrg   string
	// Class is the kind of network the address belongs to, from configured
	// lists: "hosting", "vpn", "tor", "residential_proxy"; empty when none
	// or unknown.
	Class string
}

// RepoTags is a set of repository sensitivity tags.
type RepoTags uint16

// Repository sensitivity tags, set by enrichment from name patterns or lists.
const (
	TagInfrastructure RepoTags = 1 << iota // infrastructure as code, deployment
	TagSecrets                             // secrets, credentials, vault config
	TagSecurity                            // security tooling, detections
	TagSigning                             // signing keys, release signing
	TagCoreProduct                         // the product's core source
)

var repoTagNames = [...]string{"infrastructure", "secrets", "security", "signing", "core_product"}

// ParseRepoTag returns the tag with the given name.
func ParseRepoTag(name string) (RepoTags, bool) {
	for i, n := range repoTagNames {
		if n == name {
			return 1 << i, true
		}
	}
	return 0, false
}

// Names lists the tags in the set, in a fixed order.
func (t RepoTags) Names() []string {
	var out []string
	for i, n := range repoTagNames {
		if t&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Session is what an identity provider logs about a sign-in, for joining a
// session to what the same person then does in the repositories.
type Session struct {
	ID     string // Okta authenticationContext.externalSessionId, Entra sessionId or correlationId
	App    string // target application (a GitHub SSO shows here)
	Factor string // factor or authentication method used ("push", "sms", "password", "mfa")
	// Risk is the provider's own risk verdict, lower-cased ("none", "low",
	// "medium", "high"), when it gives one.
	Risk string
	// Proxy is true when the provider flags the address as a proxy or
	// anonymizer.
	Proxy bool
	// Reason is the provider's failure or outcome reason, e.g. a denied push.
	Reason string
}

// Event is one normalized audit record. Parsers fill what the source has;
// enrichers fill Identity, Privileged and Geo where the record lacks them.
//
// Events are passed by pointer through the hot path and reused: a stage that
// keeps anything beyond the call must copy what it keeps (strings produced by
// the parsers' interner are safe to keep; see the intern package).
type Event struct {
	Time     time.Time
	ID       EventID // platform-unique id (GitHub _document_id, derived when absent)
	Platform Platform
	Format   Format
	Action   string // raw action name, e.g. "git.clone"
	Category Category
	Outcome  Outcome

	Actor        Account
	IdentityHint string // SAML NameID / SCIM user name / email from the record
	Credential   Credential

	SourceIP  netip.Addr
	Geo       Geo
	UserAgent string

	Org        string
	Enterprise string
	Repo       string // "owner/name"
	Visibility Visibility
	Protocol   Protocol

	// TargetUser is the account the action was done to (user field), e.g.
	// the collaborator added or the member removed.
	TargetUser string
	// Detail carries the action's most useful extra value: the new
	// visibility, the team, the key title, the application name.
	Detail string

	// Session carries what identity providers log about a sign-in; empty
	// for code-platform events.
	Session Session

	// Enrichment.
	Identity   string // resolved person; the actor's platform login when unresolved
	Privileged bool   // identity is privileged in the directory or by configuration
	// Disabled is true when the identity's directory account is disabled
	// (or deprovisioned) while the platform account still acts.
	Disabled bool
	// RepoTags are the sensitivity tags of Repo, from configuration.
	RepoTags RepoTags
	// Department is the identity's peer group in the directory (its
	// department, else its first OU); empty without a directory.
	Department string

	// Raw is the original JSON object, so rules can reach fields the
	// normalized event does not carry. Valid only during processing.
	Raw []byte

	Origin Origin
}

// Ref returns the event's reference "<platform>:<id>" as used in alerts.
func (e *Event) Ref() string { return e.Platform.String() + ":" + e.ID.String() }

// EventID holds a platform event id inline, so that parsing and buffering an
// event allocates nothing for its id. Ids longer than MaxEventIDLen are stored
// as a digest by the parser (see EventID.Set).
type EventID struct {
	n uint8
	b [MaxEventIDLen]byte
}

// MaxEventIDLen is the longest id kept verbatim: GitHub's 22-character
// _document_id, Okta's and Entra's 36-character UUIDs and GitLab's numeric ids
// all fit.
const MaxEventIDLen = 46

// Set stores b as the id and reports whether it fit; an id that does
// not fit is left empty and the caller should store a digest instead.
func (id *EventID) Set(b []byte) bool {
	if len(b) > MaxEventIDLen {
		id.n = 0
		return false
	}
	id.n = uint8(copy(id.b[:], b))
	return true
}

// Bytes returns the id's bytes; the slice aliases id.
func (id *EventID) Bytes() []byte { return id.b[:id.n] }

// String returns the id as a string.
func (id EventID) String() string { return string(id.b[:id.n]) }

// IsZero reports whether no id is set.
func (id EventID) IsZero() bool { return id.n == 0 }

// ActorKey is the key the engine partitions state by: the resolved identity,
// which enrichment always sets, falling back to the platform login.
func (e *Event) ActorKey() string {
	if e.Identity != "" {
		return e.Identity
	}
	return e.Actor.Login
}
