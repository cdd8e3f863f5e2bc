package github

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/reposentry/reposentry/parser/parsertest"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/parser"
	"github.com/valyala/fastjson"
)

// base is a minimal valid event; tests add or override members.
const base = `"@timestamp":1767225600123,"_document_id":"Zq3kLr8TmQ2wXy7pVb1cDe"`

func parse(t *testing.T, obj string) (reposentry.Event, error) {
	t.Helper()
	return parsertest.ParseObject(t, New(), obj)
}

func mustParse(t *testing.T, obj string) reposentry.Event {
	t.Helper()
	return parsertest.MustParseObject(t, New(), obj)
}

func TestTimeVariants(t *testing.T) {
	want := time.UnixMilli(1624445969188).UTC()
	tests := []struct {
		name string
		obj  string
		want time.Time
	}{
		{"int ms @timestamp", `{"action":"a","@timestamp":1624445969188}`, want},
		{"int ms created_at", `{"action":"a","created_at":1624445969188}`, want},
		{"float ms", `{"action":"a","@timestamp":1624445969188.0}`, want},
		{"exponent ms", `{"action":"a","@timestamp":1.624445969188e12}`, want},
		{"numeric string", `{"action":"a","@timestamp":"1624445969188.000000"}`, want},
		{"integer string", `{"action":"a","created_at":"1624445969188"}`, want},
		{"epoch seconds", `{"action":"a","created_at":1624445969.188}`, want},
		{"epoch microseconds", `{"action":"a","created_at":1624445969188000}`, want},
		{"epoch nanoseconds", `{"action":"a","created_at":1624445969188000000}`, want},
		{"rfc3339 Z", `{"action":"a","created_at":"2021-06-23T10:59:29.188Z"}`, want},
		{"rfc3339 offset", `{"action":"a","created_at":"2021-06-23T12:59:29.188+02:00"}`, want},
		{"rfc3339 compact offset", `{"action":"a","created_at":"2021-06-23T05:59:29.188-0500"}`, want},
		{"space separator no zone", `{"action":"a","created_at":"2021-06-23 10:59:29.188"}`, want},
		{"@timestamp wins", `{"action":"a","@timestamp":1624445969188,"created_at":1000000000000}`, want},
		{"bad @timestamp falls back", `{"action":"a","@timestamp":"soon","created_at":1624445969188}`, want},
		{"null @timestamp falls back", `{"action":"a","@timestamp":null,"created_at":1624445969188}`, want},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := mustParse(t, tc.obj)
			if !ev.Time.Equal(tc.want) || ev.Time.Location() != time.UTC {
				t.Errorf("time = %v, want %v in UTC", ev.Time, tc.want)
			}
			var fp fastjson.Parser
			v, _ := fp.Parse(tc.obj)
			if got, ok := New().TimeOf(v); !ok || !got.Equal(tc.want) {
				t.Errorf("TimeOf = %v, %v; want %v", got, ok, tc.want)
			}
		})
	}
}

func TestRejections(t *testing.T) {
	tests := []struct {
		name   string
		obj    string
		reason string
	}{
		{"no time", `{"action":"git.clone","_document_id":"x"}`, ReasonMissingTime},
		{"null time", `{"action":"git.clone","@timestamp":null}`, ReasonMissingTime},
		{"empty time", `{"action":"git.clone","created_at":""}`, ReasonMissingTime},
		{"garbage time", `{"action":"git.clone","@timestamp":"yesterday"}`, ReasonInvalidTime},
		{"negative time", `{"action":"git.clone","@timestamp":-1}`, ReasonInvalidTime},
		{"zero time", `{"action":"git.clone","@timestamp":0}`, ReasonInvalidTime},
		{"time too far", `{"action":"git.clone","@timestamp":"3021-06-23T10:59:29Z"}`, ReasonInvalidTime},
		{"bool time", `{"action":"git.clone","@timestamp":true}`, ReasonInvalidTime},
		{"bad month", `{"action":"git.clone","created_at":"2021-13-23T10:59:29Z"}`, ReasonInvalidTime},
		{"bad zone", `{"action":"git.clone","created_at":"2021-06-23T10:59:29CET"}`, ReasonInvalidTime},
		{"invalid beats missing", `{"action":"git.clone","@timestamp":"x"}`, ReasonInvalidTime},
		{"no action", `{` + base + `}`, ReasonMissingAction},
		{"empty action", `{` + base + `,"action":""}`, ReasonMissingAction},
		{"numeric action", `{` + base + `,"action":7}`, ReasonMissingAction},
		{"not an object", `[1]`, parser.ReasonUnknownFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.obj)
			var r *parser.Rejection
			if !errors.As(err, &r) || r.Reason != tc.reason || r.Err == nil {
				t.Fatalf("err = %v, want rejection %q", err, tc.reason)
			}
		})
	}
}

func TestFields(t *testing.T) {
	type check func(ev *reposentry.Event) (got, want any)
	tests := []struct {
		name  string
		extra string
		check check
	}{
		{"action", `"action":"git.clone"`, func(e *reposentry.Event) (any, any) { return e.Action, "git.clone" }},
		{"platform", `"action":"git.clone"`, func(e *reposentry.Event) (any, any) { return e.Platform, reposentry.PlatformGitHub }},
		{"document id", `"action":"git.clone"`, func(e *reposentry.Event) (any, any) { return e.ID.String(), "Zq3kLr8TmQ2wXy7pVb1cDe" }},
		{"actor", `"action":"a","actor":"jdoe"`, func(e *reposentry.Event) (any, any) { return e.Actor.Login, "jdoe" }},
		{"actor id number", `"action":"a","actor_id":5812345`, func(e *reposentry.Event) (any, any) { return e.Actor.ID, "5812345" }},
		{"actor id string", `"action":"a","actor_id":"5812345"`, func(e *reposentry.Event) (any, any) { return e.Actor.ID, "5812345" }},
		{"actor id float", `"action":"a","actor_id":5812345.0`, func(e *reposentry.Event) (any, any) { return e.Actor.ID, "5812345" }},
		{"actor id exponent", `"action":"a","actor_id":5.812345e6`, func(e *reposentry.Event) (any, any) { return e.Actor.ID, "5812345" }},
		{"actor id zero", `"action":"a","actor_id":0`, func(e *reposentry.Event) (any, any) { return e.Actor.ID, "" }},
		{"source ip v4", `"action":"a","actor_ip":"198.51.100.23"`, func(e *reposentry.Event) (any, any) { return e.SourceIP, netip.MustParseAddr("198.51.100.23") }},
		{"source ip v6", `"action":"a","actor_ip":"2001:db8::1"`, func(e *reposentry.Event) (any, any) { return e.SourceIP, netip.MustParseAddr("2001:db8::1") }},
		{"source ip mapped", `"action":"a","actor_ip":"::ffff:198.51.100.23"`, func(e *reposentry.Event) (any, any) { return e.SourceIP, netip.MustParseAddr("198.51.100.23") }},
		{"source ip zoned", `"action":"a","actor_ip":"fe80::1%eth0"`, func(e *reposentry.Event) (any, any) { return e.SourceIP.IsValid(), false }},
		{"source ip garbage", `"action":"a","actor_ip":"not-an-ip"`, func(e *reposentry.Event) (any, any) { return e.SourceIP.IsValid(), false }},
		{"country code", `"action":"a","actor_location":{"country_code":"NL"}`, func(e *reposentry.Event) (any, any) { return e.Geo.Country, "NL" }},
		{"country name", `"action":"a","actor_location":{"country_name":"Netherlands"}`, func(e *reposentry.Event) (any, any) { return e.Geo.Country, "Netherlands" }},
		{"country", `"action":"a","actor_location":{"country":"FR","city":"Lyon"}`, func(e *reposentry.Event) (any, any) { return e.Geo.Country + "/" + e.Geo.City, "FR/Lyon" }},
		{"location string", `"action":"a","actor_location":"DE"`, func(e *reposentry.Event) (any, any) { return e.Geo.Country, "DE" }},
		{"user agent", `"action":"a","user_agent":"git/2.44.0"`, func(e *reposentry.Event) (any, any) { return e.UserAgent, "git/2.44.0" }},
		{"target user", `"action":"a","user":"newhire"`, func(e *reposentry.Event) (any, any) { return e.TargetUser, "newhire" }},
		{"org string", `"action":"a","org":"acme"`, func(e *reposentry.Event) (any, any) { return e.Org, "acme" }},
		{"org list", `"action":"a","org":["acme","other"]`, func(e *reposentry.Event) (any, any) { return e.Org, "acme" }},
		{"org empty list", `"action":"a","org":[]`, func(e *reposentry.Event) (any, any) { return e.Org, "" }},
		{"business", `"action":"a","business":"acme-corp"`, func(e *reposentry.Event) (any, any) { return e.Enterprise, "acme-corp" }},
		{"repo", `"action":"a","repo":"acme/x","repository":"acme/y"`, func(e *reposentry.Event) (any, any) { return e.Repo, "acme/x" }},
		{"repository", `"action":"a","repository":"acme/y"`, func(e *reposentry.Event) (any, any) { return e.Repo, "acme/y" }},
		{"nameid", `"action":"a","external_identity_nameid":"j@acme.example","external_identity_username":"jd"`, func(e *reposentry.Event) (any, any) { return e.IdentityHint, "j@acme.example" }},
		{"scim username", `"action":"a","external_identity_username":"jd"`, func(e *reposentry.Event) (any, any) { return e.IdentityHint, "jd" }},
		{"hashed token", `"action":"a","hashed_token":"kq1m0Y=","programmatic_access_type":"OAuth access token"`, func(e *reposentry.Event) (any, any) { return e.Credential.Hash, "kq1m0Y=" }},
		{"token id", `"action":"a","token_id":77120044`, func(e *reposentry.Event) (any, any) { return e.Credential.ID, "77120044" }},
		{"token id zero", `"action":"a","token_id":0`, func(e *reposentry.Event) (any, any) { return e.Credential.ID, "" }},
		{"token scopes", `"action":"a","token_scopes":"repo,read:org"`, func(e *reposentry.Event) (any, any) { return e.Credential.Scopes, "repo,read:org" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := mustParse(t, `{`+base+`,`+tc.extra+`}`)
			if got, want := tc.check(&ev); got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestVisibilityAndProtocol(t *testing.T) {
	tests := []struct {
		extra string
		vis   reposentry.Visibility
		proto reposentry.Protocol
	}{
		{`"visibility":"private"`, reposentry.VisibilityPrivate, reposentry.ProtocolUnknown},
		{`"visibility":"Internal"`, reposentry.VisibilityInternal, reposentry.ProtocolUnknown},
		{`"visibility":"public","public_repo":false`, reposentry.VisibilityPublic, reposentry.ProtocolUnknown},
		{`"repository_public":false`, reposentry.VisibilityPrivate, reposentry.ProtocolUnknown},
		{`"repository_public":true`, reposentry.VisibilityPublic, reposentry.ProtocolUnknown},
		{`"repository_public":"false"`, reposentry.VisibilityPrivate, reposentry.ProtocolUnknown},
		{`"repository_public":"TRUE"`, reposentry.VisibilityPublic, reposentry.ProtocolUnknown},
		{`"repository_public":0`, reposentry.VisibilityPrivate, reposentry.ProtocolUnknown},
		{`"public_repo":1`, reposentry.VisibilityPublic, reposentry.ProtocolUnknown},
		{`"public_repo":"0"`, reposentry.VisibilityPrivate, reposentry.ProtocolUnknown},
		{`"public_repo":"maybe"`, reposentry.VisibilityUnknown, reposentry.ProtocolUnknown},
		{`"transport_protocol":1`, reposentry.VisibilityUnknown, reposentry.ProtocolHTTP},
		{`"transport_protocol":2`, reposentry.VisibilityUnknown, reposentry.ProtocolSSH},
		{`"transport_protocol":"2"`, reposentry.VisibilityUnknown, reposentry.ProtocolSSH},
		{`"transport_protocol":"1"`, reposentry.VisibilityUnknown, reposentry.ProtocolHTTP},
		{`"transport_protocol":"ssh"`, reposentry.VisibilityUnknown, reposentry.ProtocolSSH},
		{`"transport_protocol":3`, reposentry.VisibilityUnknown, reposentry.ProtocolUnknown},
		{`"transport_protocol_name":"http"`, reposentry.VisibilityUnknown, reposentry.ProtocolHTTP},
		{`"transport_protocol_name":"SSH","transport_protocol":1`, reposentry.VisibilityUnknown, reposentry.ProtocolSSH},
	}
	for _, tc := range tests {
		t.Run(tc.extra, func(t *testing.T) {
			ev := mustParse(t, `{`+base+`,"action":"git.clone",`+tc.extra+`}`)
			if ev.Visibility != tc.vis || ev.Protocol != tc.proto {
				t.Errorf("visibility, protocol = %v, %v; want %v, %v", ev.Visibility, ev.Protocol, tc.vis, tc.proto)
			}
		})
	}
}

func TestCredentialAndActorType(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		kind  reposentry.CredentialKind
		actor reposentry.ActorType
	}{
		{"classic pat", `"action":"git.clone","actor":"jdoe","programmatic_access_type":"Personal access token (classic)"`, reposentry.CredentialPATClassic, reposentry.ActorUser},
		{"old pat name", `"action":"git.clone","actor":"jdoe","programmatic_access_type":"Personal access token"`, reposentry.CredentialPATClassic, reposentry.ActorUser},
		{"fine-grained pat", `"action":"git.clone","actor":"jdoe","programmatic_access_type":"Fine-grained personal access token"`, reposentry.CredentialPATFineGrained, reposentry.ActorUser},
		{"oauth", `"action":"git.clone","actor":"jdoe","programmatic_access_type":"OAuth access token"`, reposentry.CredentialOAuth, reposentry.ActorUser},
		{"app server-to-server", `"action":"git.fetch","actor":"sync-app","programmatic_access_type":"GitHub App server-to-server token"`, reposentry.CredentialApp, reposentry.ActorApp},
		{"app user-to-server", `"action":"git.fetch","actor":"jdoe","programmatic_access_type":"GitHub App user-to-server token"`, reposentry.CredentialApp, reposentry.ActorApp},
		{"bot login", `"action":"git.push","actor":"github-actions[bot]","programmatic_access_type":"GitHub App server-to-server token"`, reposentry.CredentialApp, reposentry.ActorBot},
		{"actor_is_bot", `"action":"repo.create","actor":"renovate","actor_is_bot":true`, reposentry.CredentialSession, reposentry.ActorBot},
		{"actor_is_bot string", `"action":"repo.create","actor":"renovate","actor_is_bot":"true"`, reposentry.CredentialSession, reposentry.ActorBot},
		{"integration actor", `"action":"repo.create","actor":"someone","integration":"Sync App","hashed_token":"x="`, reposentry.CredentialUnknown, reposentry.ActorApp},
		{"user public key", `"action":"git.clone","actor":"jdoe","programmatic_access_type":"Public Key (User/Deploy)"`, reposentry.CredentialSSHKey, reposentry.ActorUser},
		{"deploy key no actor", `"action":"git.clone","actor":"","programmatic_access_type":"Public Key (User/Deploy)"`, reposentry.CredentialDeployKey, reposentry.ActorDeployKey},
		{"deploy key actor", `"action":"git.clone","actor":"deploy_key","transport_protocol_name":"ssh"`, reposentry.CredentialDeployKey, reposentry.ActorDeployKey},
		{"deploy key type", `"action":"git.clone","actor":"jdoe","programmatic_access_type":"Deploy key"`, reposentry.CredentialDeployKey, reposentry.ActorDeployKey},
		{"ssh git without token", `"action":"git.clone","actor":"jdoe","transport_protocol":2`, reposentry.CredentialSSHKey, reposentry.ActorUser},
		{"http git without token", `"action":"git.clone","actor":"jdoe","transport_protocol":1`, reposentry.CredentialUnknown, reposentry.ActorUser},
		{"web session", `"action":"repo.download_zip","actor":"jdoe"`, reposentry.CredentialSession, reposentry.ActorUser},
		{"web with token", `"action":"repo.download_zip","actor":"jdoe","hashed_token":"x="`, reposentry.CredentialUnknown, reposentry.ActorUser},
		{"anonymous", `"action":"git.clone"`, reposentry.CredentialUnknown, reposentry.ActorUnknown},
		{"odd type", `"action":"git.clone","actor":"jdoe","programmatic_access_type":"Carrier pigeon"`, reposentry.CredentialUnknown, reposentry.ActorUser},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := mustParse(t, `{`+base+`,`+tc.extra+`}`)
			if ev.Credential.Kind != tc.kind || ev.Actor.Type != tc.actor {
				t.Errorf("credential, actor = %v, %v; want %v, %v", ev.Credential.Kind, ev.Actor.Type, tc.kind, tc.actor)
			}
		})
	}
}

func TestCategoryOutcomeDetail(t *testing.T) {
	tests := []struct {
		extra   string
		cat     reposentry.Category
		outcome reposentry.Outcome
		detail  string
	}{
		{`"action":"git.clone"`, reposentry.CategoryClone, reposentry.OutcomeSuccess, ""},
		{`"action":"git.fetch"`, reposentry.CategoryFetch, reposentry.OutcomeSuccess, ""},
		{`"action":"git.push"`, reposentry.CategoryPush, reposentry.OutcomeSuccess, ""},
		{`"action":"repo.download_zip"`, reposentry.CategoryArchiveDownload, reposentry.OutcomeSuccess, ""},
		{`"action":"migration.download"`, reposentry.CategoryArchiveDownload, reposentry.OutcomeSuccess, ""},
		{`"action":"repo.access","visibility":"public"`, reposentry.CategoryVisibilityChange, reposentry.OutcomeSuccess, "public"},
		{`"action":"repo.access","data":{"visibility":"public"}`, reposentry.CategoryVisibilityChange, reposentry.OutcomeSuccess, "public"},
		{`"action":"repo.update","visibility":"public"`, reposentry.CategoryVisibilityChange, reposentry.OutcomeSuccess, "public"},
		{`"action":"repo.update"`, reposentry.CategorySettingsChange, reposentry.OutcomeSuccess, ""},
		{`"action":"gist.visibility_change"`, reposentry.CategoryVisibilityChange, reposentry.OutcomeSuccess, ""},
		{`"action":"repo.future_change_visibility"`, reposentry.CategoryVisibilityChange, reposentry.OutcomeSuccess, ""},
		{`"action":"repo.transfer"`, reposentry.CategoryPermissionChange, reposentry.OutcomeSuccess, ""},
		{`"action":"repo.create","visibility":"internal"`, reposentry.CategorySettingsChange, reposentry.OutcomeSuccess, "internal"},
		{`"action":"private_repository_forking.enable"`, reposentry.CategorySettingsChange, reposentry.OutcomeSuccess, ""},
		{`"action":"personal_access_token.request_created","user_programmatic_access_name":"mirror"`, reposentry.CategoryCredentialCreate, reposentry.OutcomeSuccess, "mirror"},
		{`"action":"personal_access_token.access_granted"`, reposentry.CategoryCredentialCreate, reposentry.OutcomeSuccess, ""},
		{`"action":"personal_access_token.access_revoked"`, reposentry.CategoryPermissionChange, reposentry.OutcomeSuccess, ""},
		{`"action":"public_key.create","title":"laptop","fingerprint":"SHA256:x"`, reposentry.CategoryCredentialCreate, reposentry.OutcomeSuccess, "laptop"},
		{`"action":"public_key.delete","fingerprint":"SHA256:x"`, reposentry.CategoryPermissionChange, reposentry.OutcomeSuccess, "SHA256:x"},
		{`"action":"deploy_key.create","title":"ci"`, reposentry.CategoryCredentialCreate, reposentry.OutcomeSuccess, "ci"},
		{`"action":"oauth_authorization.create","oauth_application_name":"Sync"`, reposentry.CategoryCredentialCreate, reposentry.OutcomeSuccess, "Sync"},
		{`"action":"oauth_access.create","data":{"oauth_application":"Old"}`, reposentry.CategoryCredentialCreate, reposentry.OutcomeSuccess, "Old"},
		{`"action":"org_credential_authorization.grant"`, reposentry.CategoryCredentialCreate, reposentry.OutcomeSuccess, ""},
		{`"action":"integration_installation.create","integration":"Sync App"`, reposentry.CategoryCredentialCreate, reposentry.OutcomeSuccess, "Sync App"},
		{`"action":"integration_installation.destroy","name":"Sync App"`, reposentry.CategoryPermissionChange, reposentry.OutcomeSuccess, "Sync App"},
		{`"action":"org.add_member"`, reposentry.CategoryMembershipChange, reposentry.OutcomeSuccess, ""},
		{`"action":"org.remove_member"`, reposentry.CategoryMembershipChange, reposentry.OutcomeSuccess, ""},
		{`"action":"org.invite_member"`, reposentry.CategoryMembershipChange, reposentry.OutcomeSuccess, ""},
		{`"action":"org.add_outside_collaborator"`, reposentry.CategoryMembershipChange, reposentry.OutcomeSuccess, ""},
		{`"action":"org.update_member","permission":"admin"`, reposentry.CategoryPermissionChange, reposentry.OutcomeSuccess, "admin"},
		{`"action":"repo.add_member","data":{"permission":"write"}`, reposentry.CategoryPermissionChange, reposentry.OutcomeSuccess, "write"},
		{`"action":"team.add_member","team":"acme/core"`, reposentry.CategoryMembershipChange, reposentry.OutcomeSuccess, "acme/core"},
		{`"action":"team.add_repository","data":{"team":"acme/old"}`, reposentry.CategoryPermissionChange, reposentry.OutcomeSuccess, "acme/old"},
		{`"action":"org.disable_two_factor_requirement"`, reposentry.CategorySettingsChange, reposentry.OutcomeSuccess, ""},
		{`"action":"business.disable_two_factor_requirement"`, reposentry.CategorySettingsChange, reposentry.OutcomeSuccess, ""},
		{`"action":"org.disable_saml"`, reposentry.CategorySettingsChange, reposentry.OutcomeSuccess, ""},
		{`"action":"ip_allow_list.disable"`, reposentry.CategorySettingsChange, reposentry.OutcomeSuccess, ""},
		{`"action":"ip_allow_list_entry.create"`, reposentry.CategorySettingsChange, reposentry.OutcomeSuccess, ""},
		{`"action":"audit_log_streaming.destroy"`, reposentry.CategorySettingsChange, reposentry.OutcomeSuccess, ""},
		{`"action":"org.audit_log_export"`, reposentry.CategorySettingsChange, reposentry.OutcomeSuccess, ""},
		{`"action":"org.sso_response"`, reposentry.CategoryLogin, reposentry.OutcomeSuccess, ""},
		{`"action":"business.sso_response"`, reposentry.CategoryLogin, reposentry.OutcomeSuccess, ""},
		{`"action":"user.login"`, reposentry.CategoryLogin, reposentry.OutcomeSuccess, ""},
		{`"action":"user.failed_login"`, reposentry.CategoryLogin, reposentry.OutcomeFailure, ""},
		{`"action":"user.sign_in_from_unrecognized_device_and_location"`, reposentry.CategoryLogin, reposentry.OutcomeSuccess, ""},
		{`"action":"user.two_factor_challenge_failure"`, reposentry.CategoryLogin, reposentry.OutcomeFailure, ""},
		{`"action":"two_factor_authentication.disabled"`, reposentry.CategoryMFAChange, reposentry.OutcomeSuccess, ""},
		{`"action":"two_factor_authentication.something_new"`, reposentry.CategoryMFAChange, reposentry.OutcomeSuccess, ""},
		{`"action":"public_key.verification_failure"`, reposentry.CategoryOther, reposentry.OutcomeFailure, ""},
		{`"action":"widget.sync_failed"`, reposentry.CategoryOther, reposentry.OutcomeFailure, ""},
		{`"action":"workflows.completed_workflow_run"`, reposentry.CategoryOther, reposentry.OutcomeSuccess, ""},
	}
	p := New()
	for _, tc := range tests {
		t.Run(tc.extra, func(t *testing.T) {
			obj := `{` + base + `,` + tc.extra + `}`
			var fp fastjson.Parser
			v, _ := fp.Parse(obj)
			var ev reposentry.Event
			if err := p.Parse(v, []byte(obj), &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Category != tc.cat || ev.Outcome != tc.outcome || ev.Detail != tc.detail {
				t.Errorf("category, outcome, detail = %v, %v, %q; want %v, %v, %q", ev.Category, ev.Outcome, ev.Detail, tc.cat, tc.outcome, tc.detail)
			}
		})
	}
}

func TestEventIDs(t *testing.T) {
	long := strings.Repeat("x", reposentry.MaxEventIDLen+1)
	a := mustParse(t, `{"_document_id":"`+long+`","@timestamp":1767225600123,"action":"a"}`)
	b := mustParse(t, `{"_document_id":"`+long+`y","@timestamp":1767225600123,"action":"a"}`)
	if id := a.ID.String(); !strings.HasPrefix(id, "d-") || len(id) > reposentry.MaxEventIDLen || id == b.ID.String() {
		t.Errorf("long ids %q and %q should be distinct digests", id, b.ID.String())
	}
	if got := mustParse(t, `{"_document_id":12345,"@timestamp":1767225600123,"action":"a"}`).ID.String(); got != "12345" {
		t.Errorf("numeric document id = %q", got)
	}

	// The same event written differently gets the same derived id.
	same := []string{
		`{"@timestamp":1624445969188,"action":"git.clone","actor":"jdoe","actor_id":5812345,"org":"acme","repo":"acme/x","actor_ip":"198.51.100.23","token_id":7,"hashed_token":"h=","user_agent":"git/2","transport_protocol":2,"business":"corp","user":"u"}`,
		`{"created_at":"1624445969188.000000","action":"git.clone","actor":"jdoe","actor_id":"5812345","org":["acme"],"repository":"acme/x","actor_ip":"198.51.100.23","token_id":"7","hashed_token":"h=","user_agent":"git/2","transport_protocol_name":"ssh","business":"corp","user":"u","_document_id":""}`,
		`{ "user":"u", "business":"corp", "transport_protocol":"2", "user_agent":"git/2", "hashed_token":"h=", "token_id":7.0, "actor_ip":"::ffff:198.51.100.23", "repo":"acme/x", "org":"acme", "actor_id":5812345, "actor":"jdoe", "action":"git.clone", "created_at":"2021-06-23T10:59:29.188Z" }`,
	}
	var first string
	for i, obj := range same {
		id := mustParse(t, obj).ID.String()
		if !strings.HasPrefix(id, "h-") {
			t.Fatalf("derived id %q lacks the h- prefix", id)
		}
		if i == 0 {
			first = id
		} else if id != first {
			t.Errorf("variant %d id %q != %q", i, id, first)
		}
	}
	differs := []string{
		`{"@timestamp":1624445969189,"action":"git.clone","actor":"jdoe","actor_id":5812345,"org":"acme","repo":"acme/x","actor_ip":"198.51.100.23","token_id":7,"hashed_token":"h=","user_agent":"git/2","transport_protocol":2,"business":"corp","user":"u"}`,
		`{"@timestamp":1624445969188,"action":"git.fetch","actor":"jdoe","actor_id":5812345,"org":"acme","repo":"acme/x","actor_ip":"198.51.100.23","token_id":7,"hashed_token":"h=","user_agent":"git/2","transport_protocol":2,"business":"corp","user":"u"}`,
		`{"@timestamp":1624445969188,"action":"git.clone","actor":"jdoe","actor_id":5812345,"org":"acme","repo":"acme/y","actor_ip":"198.51.100.23","token_id":7,"hashed_token":"h=","user_agent":"git/2","transport_protocol":2,"business":"corp","user":"u"}`,
		`{"@timestamp":1624445969188,"action":"git.clone","actor":"jdoe","actor_id":5812345,"org":"acme","repo":"acme/x","actor_ip":"198.51.100.24","token_id":7,"hashed_token":"h=","user_agent":"git/2","transport_protocol":2,"business":"corp","user":"u"}`,
		`{"@timestamp":1624445969188,"action":"git.clone","actor":"jdoe","actor_id":5812345,"org":"acme","repo":"acme/x","actor_ip":"198.51.100.23","token_id":7,"hashed_token":"h=","user_agent":"git/2","transport_protocol":1,"business":"corp","user":"u"}`,
	}
	for i, obj := range differs {
		if id := mustParse(t, obj).ID.String(); id == first {
			t.Errorf("different event %d got the same id %q", i, id)
		}
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		obj  string
		want bool
	}{
		{`{"action":"git.clone","@timestamp":1}`, true},
		{`{"action":"git.clone","created_at":"2021-01-01T00:00:00Z"}`, true},
		{`{"action":"git.clone","_document_id":"x"}`, true},
		{`{"_document_id":"x"}`, true},
		{`{"action":"git.clone"}`, false},
		{`{"action":7,"@timestamp":1}`, false},
		{`{"action":"x","@timestamp":1,"eventType":"user.session.start"}`, false},
		{`{"action":"x","created_at":1,"userPrincipalName":"a@b"}`, false},
		{`["action"]`, false},
		{`"action"`, false},
	}
	p := New()
	for _, tc := range tests {
		var fp fastjson.Parser
		v, err := fp.Parse(tc.obj)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Sniff(v); got != tc.want {
			t.Errorf("Sniff(%s) = %v, want %v", tc.obj, got, tc.want)
		}
	}
	if p.Name() != "github" {
		t.Errorf("Name = %q", p.Name())
	}
}

func TestInternedStringsAreShared(t *testing.T) {
	p := New()
	var evs [2]reposentry.Event
	for i := range evs {
		// Separate parsers: the source buffers differ, the strings must not.
		var fp fastjson.Parser
		obj := `{` + base + `,"action":"git.clone","actor":"jdoe","repo":"acme/x","org":"acme"}`
		v, _ := fp.Parse(obj)
		if err := p.Parse(v, nil, &evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, pair := range [][2]string{{evs[0].Actor.Login, evs[1].Actor.Login}, {evs[0].Repo, evs[1].Repo}, {evs[0].Action, evs[1].Action}} {
		if unsafeData(pair[0]) != unsafeData(pair[1]) {
			t.Errorf("%q is not interned", pair[0])
		}
	}
}

func TestLearnedActionsAreBounded(t *testing.T) {
	p := New()
	for i := range maxLearned + 10 {
		p.lookup("x." + strings.Repeat("a", i%50) + string(rune('a'+i%26)) + strings.Repeat("b", i/26))
	}
	if len(p.learned) > maxLearned {
		t.Errorf("learned %d actions, bound is %d", len(p.learned), maxLearned)
	}
}

func unsafeData(s string) *byte { return unsafe.StringData(s) }
