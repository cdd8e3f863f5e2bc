// Package sigma is reposentry's Sigma rules engine: it loads Sigma v2 rules,
// correlation rules and meta filters from YAML, compiles each into a matcher
// tree, and runs them over normalized events as one engine.Detector.
//
// # Loading
//
// LoadFS and LoadDir read every .yml/.yaml file; one bad rule never stops
// the others and each problem is an *Error naming the file, line and what
// is wrong. Validate and WriteList print what `reposentry rules validate`
// and `reposentry rules list` show.
//
// # Field mapping
//
// Sigma field names in the table below read the normalized event, so that a
// rule works on every platform reposentry parses. Any other name is looked
// up in the raw JSON record by dotted path ("data.team", also tried as one
// key first, e.g. "@timestamp"); the record is parsed at most once per event
// and only when a rule routed to the event needs a raw field.
//
//	Sigma field                              Event field
//	action                                   Action
//	category                                 Category ("clone", "credential_create", ...)
//	outcome                                  Outcome
//	platform                                 Platform ("github", "okta", ...)
//	actor                                    Actor.Login
//	actor_id                                 Actor.ID
//	actor_type                               Actor.Type ("user", "bot", ...)
//	actor_key                                ActorKey(): Identity, else Actor.Login
//	identity                                 Identity
//	identity_hint                            IdentityHint
//	privileged                               Privileged (true/false)
//	disabled                                 Disabled (true/false): the directory account is disabled
//	department                               Department: directory department, else first OU
//	credential_kind, programmatic_access_type  Credential.Kind ("pat_classic", "pat_fine_grained", "oauth", ...)
//	hashed_token                             Credential.Hash
//	token_id                                 Credential.ID
//	token_scopes                             Credential.Scopes
//	actor_ip, source_ip                      SourceIP
//	country, actor_location.country_code     Geo.Country
//	city, asn, as_org                        Geo.City, Geo.ASN, Geo.ASOrg
//	user_agent                               UserAgent
//	org                                      Org
//	business, enterprise                     Enterprise
//	repo, repository                         Repo
//	visibility                               Visibility ("public", "private", "internal")
//	protocol                                 Protocol ("http", "ssh")
//	user                                     TargetUser
//	detail                                   Detail
//
// A normalized field with no value (empty string, unknown enum, invalid
// address) counts as absent: it matches null and the empty string but not exists: true.
//
// # Matching semantics
//
// Values are case-insensitive unless cased (or an encoding modifier, base64
// and base64offset, whose output is case-sensitive by nature) applies.
// Wildcards are * and ?; \* \? and \\ escape them, other backslashes are
// literal. A plain number compares numerically with numeric fields and
// numeric strings, else as text; a quoted number is text. null matches a
// missing or JSON null field; the empty string matches only an empty string. A JSON array
// field matches when one of its elements does (all: each value must match
// some element). Keywords (value lists, and the '|all' key) are searched in
// the raw record text.
//
// Modifiers: contains, startswith, endswith, all, cased, exists, neq, re
// (with i, m, s), cidr, base64, base64offset, utf16, utf16le, utf16be, wide,
// windash, gt, gte, lt, lte, fieldref, expand (placeholders from
// Options.Placeholders; a rule using an undefined placeholder is rejected).
// Conditions: and, or, not, parentheses, "1 of x*", "all of x*", "N of x*",
// "any of", "1 of them", "all of them" (them skips identifiers starting with
// _), and condition lists (ORed).
//
// # Speed
//
// Rules are routed by logsource product to a platform and, through a
// prefilter on the literal action values a rule requires, to the actions it
// can match; the action test the route guarantees is removed from the
// compiled condition. Rules left with one field test share one read of the
// field, and those testing exact values, prefixes or suffixes are found
// through per-field indexes instead of being tried one by one. Values
// derived per event (address text, folded text) are computed once per
// event. The no-match path allocates nothing.
//
// Not supported: time modifiers (minute, hour, ...), the deprecated
// timeframe, and chained correlations (a correlation referring to another
// correlation). A rule without level has severity medium.
//
// # Correlations and filters
//
// event_count, value_count, temporal and temporal_ordered correlations work
// in event time over the referenced detection rules (by id or name), with
// group-by, aliases and timespan. Conditions without an upper bound (gt,
// gte) fire as soon as they hold over the sliding timespan; each group then
// stays quiet for one timespan, so a burst gives one signal. Conditions with
// an upper bound (lt, lte, eq) are judged when the window that opened with
// the group's first event closes. Rules referenced by a correlation do not
// signal on their own unless a referencing correlation says generate: true.
// Chained correlations are not supported.
//
// A meta filter (filter: rules, selection, condition) suppresses matches of
// the named rules when its condition holds on the event and the event comes
// from its logsource.
package sigma
