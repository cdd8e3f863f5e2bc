package entra

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

// base is a minimal valid Graph sign-in; tests add or override members.
const base = `"id":"5b0a6c1e-2f44-4d9b-9a61-7e3c0d5f1a20","createdDateTime":"2026-01-01T09:10:41Z","userPrincipalName":"Jane.Doe@ACME.example"`

// diag wraps Graph members as the properties of a diagnostic record with the
// given top-level members.
func diag(top, props string) string {
	if top != "" {
		top += ","
	}
	return `{` + top + `"operationName":"Sign-in activity","properties":{` + props + `}}`
}

func parse(t *testing.T, obj string) (reposentry.Event, error) {
	t.Helper()
	return parsertest.ParseObject(t, New(), obj)
}

func mustParse(t *testing.T, obj string) reposentry.Event {
	t.Helper()
	return parsertest.MustParseObject(t, New(), obj)
}

func TestTimeVariants(t *testing.T) {
	want := time.Date(2026, 1, 1, 9, 10, 41, 123456700, time.UTC)
	tests := []struct {
		name, obj string
	}{
		{"graph seven digits", `{"userPrincipalName":"a","createdDateTime":"2026-01-01T09:10:41.1234567Z"}`},
		{"graph offset", `{"userPrincipalName":"a","createdDateTime":"2026-01-01T10:10:41.1234567+01:00"}`},
		{"pascal created", `{"UserPrincipalName":"a","CreatedDateTime":"2026-01-01T09:10:41.1234567Z"}`},
		{"time generated", `{"UserPrincipalName":"a","TimeGenerated":"2026-01-01T09:10:41.1234567Z"}`},
		{"created wins over ingestion", `{"UserPrincipalName":"a","TimeGenerated":"2026-01-01T09:15:00Z","CreatedDateTime":"2026-01-01T09:10:41.1234567Z"}`},
		{"bad created falls back", `{"UserPrincipalName":"a","CreatedDateTime":"soon","TimeGenerated":"2026-01-01T09:10:41.1234567Z"}`},
		{"record time", diag(`"time":"2026-01-01T09:10:41.1234567Z"`, `"userPrincipalName":"a"`)},
		{"properties time wins", diag(`"time":"2026-01-01T09:11:00Z"`, `"createdDateTime":"2026-01-01T09:10:41.1234567Z"`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := mustParse(t, tc.obj)
			if !ev.Time.Equal(want) || ev.Time.Location() != time.UTC {
				t.Errorf("time = %v, want %v in UTC", ev.Time, want)
			}
			var fp fastjson.Parser
			v, _ := fp.Parse(tc.obj)
			if got, ok := New().TimeOf(v); !ok || !got.Equal(want) {
				t.Errorf("TimeOf = %v, %v; want %v", got, ok, want)
			}
		})
	}
}

func TestRejections(t *testing.T) {
	tests := []struct {
		name, obj, reason string
	}{
		{"no time", `{"userPrincipalName":"a"}`, ReasonMissingTime},
		{"null time", `{"userPrincipalName":"a","createdDateTime":null}`, ReasonMissingTime},
		{"empty time", `{"userPrincipalName":"a","createdDateTime":""}`, ReasonMissingTime},
		{"record without time", diag(``, `"userPrincipalName":"a"`), ReasonMissingTime},
		{"garbage time", `{"userPrincipalName":"a","createdDateTime":"last tuesday"}`, ReasonInvalidTime},
		{"bad month", `{"UserPrincipalName":"a","TimeGenerated":"2026-13-01T00:00:00Z"}`, ReasonInvalidTime},
		{"invalid beats missing", `{"userPrincipalName":"a","createdDateTime":"x","TimeGenerated":null}`, ReasonInvalidTime},
		{"bool time", `{"userPrincipalName":"a","createdDateTime":true}`, ReasonInvalidTime},
		{"graph page", `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns","value":[{` + base + `}]}`, parser.ReasonUnknownFormat},
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
		name string
		obj  string
		chk  check
	}{
		{"platform", `{` + base + `}`, func(e *reposentry.Event) (any, any) { return e.Platform, reposentry.PlatformEntra }},
		{"category", `{` + base + `}`, func(e *reposentry.Event) (any, any) { return e.Category, reposentry.CategoryLogin }},
		{"graph id", `{` + base + `}`, func(e *reposentry.Event) (any, any) { return e.ID.String(), "5b0a6c1e-2f44-4d9b-9a61-7e3c0d5f1a20" }},
		{"pascal id", `{"Id":"abc","UserPrincipalName":"a","TimeGenerated":"2026-01-01T00:00:00Z"}`, func(e *reposentry.Event) (any, any) { return e.ID.String(), "abc" }},
		{"properties id", diag(`"time":"2026-01-01T00:00:00Z"`, `"id":"p-1","userPrincipalName":"a"`), func(e *reposentry.Event) (any, any) { return e.ID.String(), "p-1" }},
		{"upn", `{` + base + `}`, func(e *reposentry.Event) (any, any) { return e.Actor.Login, "Jane.Doe@ACME.example" }},
		{"identity hint", `{` + base + `}`, func(e *reposentry.Event) (any, any) { return e.IdentityHint, "jane.doe@acme.example" }},
		{"pascal upn", `{"UserPrincipalName":"Bob@A.example","TimeGenerated":"2026-01-01T00:00:00Z"}`, func(e *reposentry.Event) (any, any) { return e.IdentityHint, "bob@a.example" }},
		{"user id", `{` + base + `,"userId":"7d3c"}`, func(e *reposentry.Event) (any, any) { return e.Actor.ID, "7d3c" }},
		{"pascal user id", `{` + base + `,"UserId":"7d3c"}`, func(e *reposentry.Event) (any, any) { return e.Actor.ID, "7d3c" }},
		{"user type", `{` + base + `}`, func(e *reposentry.Event) (any, any) { return e.Actor.Type, reposentry.ActorUser }},
		{"session credential", `{` + base + `}`, func(e *reposentry.Event) (any, any) { return e.Credential.Kind, reposentry.CredentialSession }},
		{"anonymous", `{"userPrincipalName":"","createdDateTime":"2026-01-01T00:00:00Z"}`, func(e *reposentry.Event) (any, any) { return e.Actor.Type, reposentry.ActorUnknown }},
		{"service principal", `{"userPrincipalName":null,"createdDateTime":"2026-01-01T00:00:00Z","servicePrincipalName":"sync","servicePrincipalId":"99"}`, func(e *reposentry.Event) (any, any) {
			return e.Actor.Login + "/" + e.Actor.ID + "/" + e.Actor.Type.String(), "sync/99/app"
		}},
		{"service principal credential", `{"TimeGenerated":"2026-01-01T00:00:00Z","Type":"AADServicePrincipalSignInLogs","ServicePrincipalName":"sync"}`, func(e *reposentry.Event) (any, any) { return e.Credential.Kind, reposentry.CredentialApp }},
		{"graph ip", `{` + base + `,"ipAddress":"198.51.100.23"}`, func(e *reposentry.Event) (any, any) { return e.SourceIP, netip.MustParseAddr("198.51.100.23") }},
		{"pascal ip", `{` + base + `,"IPAddress":"2001:db8::1"}`, func(e *reposentry.Event) (any, any) { return e.SourceIP, netip.MustParseAddr("2001:db8::1") }},
		{"caller ip fallback", diag(`"time":"2026-01-01T00:00:00Z","callerIpAddress":"203.0.113.9"`, `"userPrincipalName":"a"`), func(e *reposentry.Event) (any, any) { return e.SourceIP, netip.MustParseAddr("203.0.113.9") }},
		{"properties ip wins", diag(`"time":"2026-01-01T00:00:00Z","callerIpAddress":"203.0.113.9"`, `"ipAddress":"198.51.100.1"`), func(e *reposentry.Event) (any, any) { return e.SourceIP, netip.MustParseAddr("198.51.100.1") }},
		{"mapped ip", `{` + base + `,"ipAddress":"::ffff:198.51.100.23"}`, func(e *reposentry.Event) (any, any) { return e.SourceIP, netip.MustParseAddr("198.51.100.23") }},
		{"garbage ip", `{` + base + `,"ipAddress":"n/a"}`, func(e *reposentry.Event) (any, any) { return e.SourceIP.IsValid(), false }},
		{"graph location", `{` + base + `,"location":{"city":"Amsterdam","countryOrRegion":"NL"}}`, func(e *reposentry.Event) (any, any) { return e.Geo.Country + "/" + e.Geo.City, "NL/Amsterdam" }},
		{"location details object", `{` + base + `,"LocationDetails":{"city":"Lagos","countryOrRegion":"NG"}}`, func(e *reposentry.Event) (any, any) { return e.Geo.Country + "/" + e.Geo.City, "NG/Lagos" }},
		{"location details text", `{` + base + `,"LocationDetails":"{\"city\":\"Lagos\",\"countryOrRegion\":\"NG\"}"}`, func(e *reposentry.Event) (any, any) { return e.Geo.Country + "/" + e.Geo.City, "NG/Lagos" }},
		{"broken location text", `{` + base + `,"LocationDetails":"{\"city\":","Location":"NG"}`, func(e *reposentry.Event) (any, any) { return e.Geo.Country + "/" + e.Geo.City, "NG/" }},
		{"country code column", `{` + base + `,"Location":"DE","LocationDetails":""}`, func(e *reposentry.Event) (any, any) { return e.Geo.Country, "DE" }},
		{"record country code", diag(`"time":"2026-01-01T00:00:00Z","location":"FR"`, `"userPrincipalName":"a"`), func(e *reposentry.Event) (any, any) { return e.Geo.Country, "FR" }},
		{"properties location wins", diag(`"time":"2026-01-01T00:00:00Z","location":"FR"`, `"location":{"countryOrRegion":"BE","city":"Gent"}`), func(e *reposentry.Event) (any, any) { return e.Geo.Country + "/" + e.Geo.City, "BE/Gent" }},
		{"asn number", `{` + base + `,"autonomousSystemNumber":64500}`, func(e *reposentry.Event) (any, any) { return e.Geo.ASN, uint32(64500) }},
		{"asn string", `{` + base + `,"AutonomousSystemNumber":"64500"}`, func(e *reposentry.Event) (any, any) { return e.Geo.ASN, uint32(64500) }},
		{"asn garbage", `{` + base + `,"autonomousSystemNumber":"AS64500"}`, func(e *reposentry.Event) (any, any) { return e.Geo.ASN, uint32(0) }},
		{"user agent", `{` + base + `,"userAgent":"curl/8.5"}`, func(e *reposentry.Event) (any, any) { return e.UserAgent, "curl/8.5" }},
		{"pascal user agent", `{` + base + `,"UserAgent":"curl/8.5"}`, func(e *reposentry.Event) (any, any) { return e.UserAgent, "curl/8.5" }},
		{"app detail", `{` + base + `,"appDisplayName":"GitHub Enterprise Cloud - Organization","resourceDisplayName":"x"}`, func(e *reposentry.Event) (any, any) { return e.Detail, "GitHub Enterprise Cloud - Organization" }},
		{"pascal app detail", `{` + base + `,"AppDisplayName":"GitHub"}`, func(e *reposentry.Event) (any, any) { return e.Detail, "GitHub" }},
		{"resource detail fallback", `{` + base + `,"appDisplayName":"","resourceDisplayName":"Azure DevOps"}`, func(e *reposentry.Event) (any, any) { return e.Detail, "Azure DevOps" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := mustParse(t, tc.obj)
			if got, want := tc.chk(&ev); got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestActionAndOutcome(t *testing.T) {
	tests := []struct {
		name    string
		obj     string
		action  string
		outcome reposentry.Outcome
	}{
		{"graph interactive", `{` + base + `,"isInteractive":true,"status":{"errorCode":0}}`, ActionSignInInteractive, reposentry.OutcomeSuccess},
		{"graph non-interactive", `{` + base + `,"isInteractive":false,"status":{"errorCode":50126}}`, ActionSignInNonInteractive, reposentry.OutcomeFailure},
		{"interactive as text", `{` + base + `,"IsInteractive":"True"}`, ActionSignInInteractive, reposentry.OutcomeUnknown},
		{"event types", `{` + base + `,"signInEventTypes":["managedIdentity"]}`, ActionSignInManagedIdentity, reposentry.OutcomeUnknown},
		{"event types first known", `{` + base + `,"signInEventTypes":["futureKind","nonInteractiveUser"]}`, ActionSignInNonInteractive, reposentry.OutcomeUnknown},
		{"event types beat isInteractive", `{` + base + `,"signInEventTypes":["interactiveUser"],"isInteractive":false}`, ActionSignInInteractive, reposentry.OutcomeUnknown},
		{"nothing known", `{` + base + `}`, ActionSignIn, reposentry.OutcomeUnknown},
		{"diag interactive", diag(`"time":"2026-01-01T00:00:00Z","category":"SignInLogs","resultType":"0"`, `"userPrincipalName":"a"`), ActionSignInInteractive, reposentry.OutcomeSuccess},
		{"diag non-interactive", diag(`"time":"2026-01-01T00:00:00Z","category":"NonInteractiveUserSignInLogs","resultType":"50140"`, `"userPrincipalName":"a"`), ActionSignInNonInteractive, reposentry.OutcomeFailure},
		{"diag service principal", diag(`"time":"2026-01-01T00:00:00Z","category":"ServicePrincipalSignInLogs"`, `"servicePrincipalName":"s"`), ActionSignInServicePrincipal, reposentry.OutcomeUnknown},
		{"diag managed identity", diag(`"time":"2026-01-01T00:00:00Z","category":"ManagedIdentitySignInLogs"`, ``), ActionSignInManagedIdentity, reposentry.OutcomeUnknown},
		{"category beats isInteractive", diag(`"time":"2026-01-01T00:00:00Z","category":"SignInLogs"`, `"isInteractive":false`), ActionSignInInteractive, reposentry.OutcomeUnknown},
		{"status beats result type", diag(`"time":"2026-01-01T00:00:00Z","resultType":"50126"`, `"status":{"errorCode":0}`), ActionSignIn, reposentry.OutcomeSuccess},
		{"table type", `{"UserPrincipalName":"a","TimeGenerated":"2026-01-01T00:00:00Z","Type":"AADNonInteractiveUserSignInLogs","ResultType":"0"}`, ActionSignInNonInteractive, reposentry.OutcomeSuccess},
		{"table type interactive", `{"UserPrincipalName":"a","TimeGenerated":"2026-01-01T00:00:00Z","Type":"SigninLogs","ResultType":"50074"}`, ActionSignInInteractive, reposentry.OutcomeFailure},
		{"table sp", `{"TimeGenerated":"2026-01-01T00:00:00Z","Type":"AADServicePrincipalSignInLogs"}`, ActionSignInServicePrincipal, reposentry.OutcomeUnknown},
		{"table mi", `{"TimeGenerated":"2026-01-01T00:00:00Z","Type":"AADManagedIdentitySignInLogs"}`, ActionSignInManagedIdentity, reposentry.OutcomeUnknown},
		{"unrelated category", `{` + base + `,"Category":"AuditLogs","isInteractive":true}`, ActionSignInInteractive, reposentry.OutcomeUnknown},
		{"status text", `{` + base + `,"Status":"{\"errorCode\":50126}"}`, ActionSignIn, reposentry.OutcomeFailure},
		{"status code text", `{` + base + `,"status":{"errorCode":"0"}}`, ActionSignIn, reposentry.OutcomeSuccess},
		{"status without code", `{` + base + `,"status":{"failureReason":"x"},"ResultType":"0"}`, ActionSignIn, reposentry.OutcomeSuccess},
		{"result word", `{` + base + `,"resultType":"Success"}`, ActionSignIn, reposentry.OutcomeSuccess},
		{"result failure word", `{` + base + `,"resultType":"Failure"}`, ActionSignIn, reposentry.OutcomeFailure},
		{"result odd", `{` + base + `,"resultType":"Interrupted"}`, ActionSignIn, reposentry.OutcomeUnknown},
	}
	p := New()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var fp fastjson.Parser
			v, err := fp.Parse(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			var ev reposentry.Event
			if err := p.Parse(v, []byte(tc.obj), &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Action != tc.action || ev.Outcome != tc.outcome {
				t.Errorf("action, outcome = %q, %v; want %q, %v", ev.Action, ev.Outcome, tc.action, tc.outcome)
			}
		})
	}
}

func TestEventIDs(t *testing.T) {
	long := strings.Repeat("x", reposentry.MaxEventIDLen+1)
	a := mustParse(t, `{"id":"`+long+`","createdDateTime":"2026-01-01T00:00:00Z","userPrincipalName":"a"}`)
	b := mustParse(t, `{"id":"`+long+`y","createdDateTime":"2026-01-01T00:00:00Z","userPrincipalName":"a"}`)
	if id := a.ID.String(); !strings.HasPrefix(id, "d-") || len(id) > reposentry.MaxEventIDLen || id == b.ID.String() {
		t.Errorf("long ids %q and %q should be distinct digests", id, b.ID.String())
	}
	// The same sign-in written in each shape gets the same derived id.
	same := []string{
		`{"createdDateTime":"2026-01-01T09:10:41Z","userPrincipalName":"j@a.example","userId":"7d","appDisplayName":"GitHub","ipAddress":"198.51.100.23","isInteractive":true,"status":{"errorCode":0},"userAgent":"ua"}`,
		`{"TimeGenerated":"2026-01-01T09:10:41.0000000Z","UserPrincipalName":"j@a.example","UserId":"7d","AppDisplayName":"GitHub","IPAddress":"198.51.100.23","Type":"SigninLogs","Status":"{\"errorCode\":0}","UserAgent":"ua"}`,
		diag(`"time":"2026-01-01T09:10:41Z","category":"SignInLogs","resultType":"0","callerIpAddress":"::ffff:198.51.100.23"`, `"userPrincipalName":"j@a.example","userId":"7d","appDisplayName":"GitHub","userAgent":"ua"`),
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
		`{"createdDateTime":"2026-01-01T09:10:42Z","userPrincipalName":"j@a.example","userId":"7d","appDisplayName":"GitHub","ipAddress":"198.51.100.23","isInteractive":true,"status":{"errorCode":0},"userAgent":"ua"}`,
		`{"createdDateTime":"2026-01-01T09:10:41Z","userPrincipalName":"j@a.example","userId":"7d","appDisplayName":"GitHub","ipAddress":"198.51.100.23","isInteractive":false,"status":{"errorCode":0},"userAgent":"ua"}`,
		`{"createdDateTime":"2026-01-01T09:10:41Z","userPrincipalName":"j@a.example","userId":"7d","appDisplayName":"GitHub","ipAddress":"198.51.100.23","isInteractive":true,"status":{"errorCode":1},"userAgent":"ua"}`,
		`{"createdDateTime":"2026-01-01T09:10:41Z","userPrincipalName":"j@a.example","userId":"7d","appDisplayName":"Office","ipAddress":"198.51.100.23","isInteractive":true,"status":{"errorCode":0},"userAgent":"ua"}`,
	}
	for i, obj := range differs {
		if id := mustParse(t, obj).ID.String(); id == first {
			t.Errorf("different sign-in %d got the same id %q", i, id)
		}
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		obj  string
		want bool
	}{
		{`{"userPrincipalName":"a","createdDateTime":"x"}`, true},
		{`{"UserPrincipalName":"a","TimeGenerated":"x"}`, true},
		{`{"UserPrincipalName":"a","CreatedDateTime":"x"}`, true},
		{`{"TimeGenerated":"x","Type":"AADServicePrincipalSignInLogs"}`, true},
		{`{"operationName":"Sign-in activity","properties":{}}`, true},
		{`{"operationName":"x","category":"NonInteractiveUserSignInLogs","properties":{}}`, true},
		{`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns","value":[]}`, true},
		{`{"value":[{"userPrincipalName":"a","createdDateTime":"x"}],"@odata.nextLink":"y"}`, true},
		{`{"count":2,"value":[{"id":1}]}`, false},
		{`{"value":[]}`, false},
		{`{"operationName":"Sign-in activity"}`, false},
		{`{"operationName":"Add member to group","category":"AuditLogs","properties":{}}`, false},
		{`{"TimeGenerated":"x","Type":"AzureActivity"}`, false},
		{`{"TimeGenerated":"x","Type":"AuditLogs"}`, true},
		{`{"activityDisplayName":"Add member to role","activityDateTime":"x"}`, true},
		{`{"category":"AuditLogs","properties":{"activityDisplayName":"x"}}`, true},
		{`{"category":"AuditLogs","properties":{"ActivityDateTime":"x"}}`, false},
		{`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits","value":[]}`, true},
		{`{"userPrincipalName":"a"}`, false},
		{`{"action":"git.clone","@timestamp":1,"_document_id":"x"}`, false},
		{`{"eventType":"user.session.start","published":"2026-01-01T00:00:00Z"}`, false},
		{`["userPrincipalName"]`, false},
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
	if p.Name() != "entra" {
		t.Errorf("Name = %q", p.Name())
	}
}

func TestUnwrap(t *testing.T) {
	tests := []struct {
		name string
		obj  string
		ok   bool
		ids  []string
	}{
		{"page", `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns","@odata.nextLink":"n","value":[{` + base + `},{"id":"b","createdDateTime":"2026-01-01T00:00:00Z","userPrincipalName":"b"}]}`, true, []string{"5b0a6c1e-2f44-4d9b-9a61-7e3c0d5f1a20", "b"}},
		{"empty page", `{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns","value":[]}`, true, nil},
		{"other page", `{"count":1,"value":[{"id":"x"}]}`, false, nil},
		{"sign-in", `{` + base + `}`, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var fp fastjson.Parser
			v, err := fp.Parse(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			p := New()
			evs, ok := p.Unwrap(v)
			if ok != tc.ok || len(evs) != len(tc.ids) {
				t.Fatalf("Unwrap = %d sign-ins, %v; want %d, %v", len(evs), ok, len(tc.ids), tc.ok)
			}
			for i, el := range evs {
				var ev reposentry.Event
				if !p.Sniff(el) {
					t.Errorf("sign-in %d not sniffed as Entra", i)
				}
				if err := p.Parse(el, nil, &ev); err != nil || ev.ID.String() != tc.ids[i] {
					t.Errorf("sign-in %d = %q, %v; want %q", i, ev.ID.String(), err, tc.ids[i])
				}
			}
		})
	}
}

func TestInternedStringsAreShared(t *testing.T) {
	p := New()
	var evs [2]reposentry.Event
	for i := range evs {
		var fp fastjson.Parser
		v, _ := fp.Parse(`{` + base + `,"appDisplayName":"GitHub","LocationDetails":"{\"countryOrRegion\":\"NL\"}"}`)
		if err := p.Parse(v, nil, &evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, pair := range [][2]string{{evs[0].Actor.Login, evs[1].Actor.Login}, {evs[0].IdentityHint, evs[1].IdentityHint},
		{evs[0].Detail, evs[1].Detail}, {evs[0].Geo.Country, evs[1].Geo.Country}} {
		if unsafe.StringData(pair[0]) != unsafe.StringData(pair[1]) {
			t.Errorf("%q is not interned", pair[0])
		}
	}
}

func TestAuditCategory(t *testing.T) {
	tests := []struct {
		activity string
		want     reposentry.Category
	}{
		{"User registered security info", reposentry.CategoryMFAChange},
		{"User deleted security info", reposentry.CategoryMFAChange},
		{"Admin registered security info", reposentry.CategoryMFAChange},
		{"User changed default security info", reposentry.CategoryMFAChange},
		{"User started security info registration", reposentry.CategoryOther},
		{"User reviewed security info", reposentry.CategoryOther},
		{"User canceled security info registration", reposentry.CategoryOther},
		{"Delete authentication method", reposentry.CategoryMFAChange},
		{"Disable Strong Authentication", reposentry.CategoryMFAChange},
		{"Update user StrongAuthenticationMethod", reposentry.CategoryMFAChange},
		{"Add service principal credentials", reposentry.CategoryCredentialCreate},
		{"Update application – Certificates and secrets management ", reposentry.CategoryCredentialCreate},
		{"Consent to application", reposentry.CategoryCredentialCreate},
		{"Add delegated permission grant", reposentry.CategoryCredentialCreate},
		{"Add member to role", reposentry.CategoryPermissionChange},
		{"Add eligible member to role", reposentry.CategoryPermissionChange},
		{"Remove member from group", reposentry.CategoryPermissionChange},
		{"Add owner to application", reposentry.CategoryPermissionChange},
		{"Add app role assignment to user", reposentry.CategoryPermissionChange},
		{"Add group", reposentry.CategoryOther},
		{"Update conditional access policy", reposentry.CategorySettingsChange},
		{"Update authorization policy", reposentry.CategorySettingsChange},
		{"Reset user password", reposentry.CategoryOther},
		{"Update user", reposentry.CategoryOther},
		{"", reposentry.CategoryOther},
	}
	for _, tc := range tests {
		if got := auditCategory(tc.activity); got != tc.want {
			t.Errorf("auditCategory(%q) = %v, want %v", tc.activity, got, tc.want)
		}
	}
}

func TestAuditFields(t *testing.T) {
	const at = `"activityDateTime":"2026-01-05T10:00:00Z"`
	type check func(ev *reposentry.Event) (got, want any)
	tests := []struct {
		name string
		obj  string
		chk  check
	}{
		{"action", `{"activityDisplayName":" Add member to role ",` + at + `}`, func(e *reposentry.Event) (any, any) { return e.Action, "Add member to role" }},
		{"operation name fallback", `{"TimeGenerated":"2026-01-05T10:00:00Z","Type":"AuditLogs","OperationName":"Add member to group"}`, func(e *reposentry.Event) (any, any) { return e.Category, reposentry.CategoryPermissionChange }},
		{"activity time", `{"activityDisplayName":"a","activityDateTime":"2026-01-05T10:00:00Z","TimeGenerated":"2026-01-05T11:00:00Z"}`, func(e *reposentry.Event) (any, any) { return e.Time.Hour(), 10 }},
		{"success", `{"activityDisplayName":"a",` + at + `,"result":"success"}`, func(e *reposentry.Event) (any, any) { return e.Outcome, reposentry.OutcomeSuccess }},
		{"failure", `{"activityDisplayName":"a",` + at + `,"Result":"Failure"}`, func(e *reposentry.Event) (any, any) { return e.Outcome, reposentry.OutcomeFailure }},
		{"timeout", `{"activityDisplayName":"a",` + at + `,"result":"timeout"}`, func(e *reposentry.Event) (any, any) { return e.Outcome, reposentry.OutcomeUnknown }},
		{"user initiator", `{"activityDisplayName":"a",` + at + `,"initiatedBy":{"user":{"id":"u1","userPrincipalName":"Ann@A.example","ipAddress":"198.51.100.4"},"app":null}}`, func(e *reposentry.Event) (any, any) {
			return e.Actor.Login + "|" + e.Actor.ID + "|" + e.IdentityHint + "|" + e.SourceIP.String() + "|" + e.Actor.Type.String(), "Ann@A.example|u1|ann@a.example|198.51.100.4|user"
		}},
		{"initiator text", `{"activityDisplayName":"a",` + at + `,"InitiatedBy":"{\"user\":{\"userPrincipalName\":\"ann@a.example\"}}"}`, func(e *reposentry.Event) (any, any) { return e.Actor.Login, "ann@a.example" }},
		{"app initiator", `{"activityDisplayName":"a",` + at + `,"initiatedBy":{"user":null,"app":{"appId":"a1","displayName":"Sync"}}}`, func(e *reposentry.Event) (any, any) {
			return e.Actor.Login + "|" + e.Actor.ID + "|" + e.Actor.Type.String(), "Sync|a1|app"
		}},
		{"app service principal id", `{"activityDisplayName":"a",` + at + `,"initiatedBy":{"app":{"appId":"a1","servicePrincipalId":"sp1"}}}`, func(e *reposentry.Event) (any, any) { return e.Actor.ID, "sp1" }},
		{"empty user falls to app", `{"activityDisplayName":"a",` + at + `,"initiatedBy":{"user":{"userPrincipalName":""},"app":{"displayName":"Sync"}}}`, func(e *reposentry.Event) (any, any) { return e.Actor.Type, reposentry.ActorApp }},
		{"no initiator", `{"activityDisplayName":"a",` + at + `,"initiatedBy":{}}`, func(e *reposentry.Event) (any, any) { return e.Actor.Type, reposentry.ActorUnknown }},
		{"caller ip", diag(`"category":"AuditLogs","callerIpAddress":"192.0.2.9"`, `"activityDisplayName":"a",`+at), func(e *reposentry.Event) (any, any) { return e.SourceIP, netip.MustParseAddr("192.0.2.9") }},
		{"target user", `{"activityDisplayName":"a",` + at + `,"targetResources":[{"type":"Group","displayName":"G"},{"type":"User","userPrincipalName":"bob@a.example"}]}`, func(e *reposentry.Event) (any, any) { return e.TargetUser + "|" + e.Detail, "bob@a.example|G" }},
		{"targets text", `{"activityDisplayName":"a",` + at + `,"TargetResources":"[{\"type\":\"User\",\"userPrincipalName\":\"bob@a.example\"}]"}`, func(e *reposentry.Event) (any, any) { return e.TargetUser, "bob@a.example" }},
		{"role from modified properties", `{"activityDisplayName":"Add member to role",` + at + `,"targetResources":[{"type":"User","modifiedProperties":[{"displayName":"Role.DisplayName","newValue":"\"Global Administrator\""}]}]}`, func(e *reposentry.Event) (any, any) { return e.Detail, "Global Administrator" }},
		{"group from modified properties", `{"activityDisplayName":"Add member to group",` + at + `,"targetResources":[{"type":"User","modifiedProperties":[{"displayName":"Group.ObjectID","newValue":"\"x\""},{"displayName":"Group.DisplayName","newValue":"GitHub Owners"}]}]}`, func(e *reposentry.Event) (any, any) { return e.Detail, "GitHub Owners" }},
		{"targets not array", `{"activityDisplayName":"a",` + at + `,"targetResources":{"type":"User"}}`, func(e *reposentry.Event) (any, any) { return e.TargetUser, "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := mustParse(t, tc.obj)
			if ev.Platform != reposentry.PlatformEntra {
				t.Fatalf("platform %v", ev.Platform)
			}
			if got, want := tc.chk(&ev); got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestAuditRejections(t *testing.T) {
	tests := []struct {
		name, obj, reason string
	}{
		{"no activity", `{"activityDisplayName":null,"activityDateTime":"2026-01-05T10:00:00Z"}`, ReasonMissingAction},
		{"no activity in record", `{"category":"AuditLogs","time":"2026-01-05T10:00:00Z","operationName":"","properties":{"activityDisplayName":""}}`, ReasonMissingAction},
		{"no time", `{"activityDisplayName":"a","activityDateTime":null}`, ReasonMissingTime},
		{"bad time", `{"activityDisplayName":"a","activityDateTime":"soon"}`, ReasonInvalidTime},
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
