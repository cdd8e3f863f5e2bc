package okta

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
const base = `"uuid":"6c2f0a4e-9b1d-11f0-8e2a-0f5c7d1b2a33","published":"2026-01-01T09:10:58.214Z"`

func parse(t *testing.T, obj string) (reposentry.Event, error) {
	t.Helper()
	return parsertest.ParseObject(t, New(), obj)
}

func mustParse(t *testing.T, obj string) reposentry.Event {
	t.Helper()
	return parsertest.MustParseObject(t, New(), obj)
}

func TestTimeVariants(t *testing.T) {
	want := time.Date(2026, 1, 1, 9, 10, 58, 214000000, time.UTC)
	tests := []struct {
		name, published string
	}{
		{"rfc3339 ms Z", `"2026-01-01T09:10:58.214Z"`},
		{"offset", `"2026-01-01T10:10:58.214+01:00"`},
		{"compact offset", `"2026-01-01T04:10:58.214-0500"`},
		{"hour offset", `"2026-01-01T11:10:58.214+02"`},
		{"seven fraction digits", `"2026-01-01T09:10:58.2140000Z"`},
		{"space no zone", `"2026-01-01 09:10:58.214"`},
		{"epoch ms number", `1767258658214`},
		{"epoch seconds number", `1767258658.214`},
		{"epoch ms string", `"1767258658214"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := `{"eventType":"user.session.start","published":` + tc.published + `}`
			ev := mustParse(t, obj)
			if !ev.Time.Equal(want) || ev.Time.Location() != time.UTC {
				t.Errorf("time = %v, want %v in UTC", ev.Time, want)
			}
			var fp fastjson.Parser
			v, _ := fp.Parse(obj)
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
		{"no published", `{"uuid":"x","eventType":"user.session.start"}`, ReasonMissingTime},
		{"null published", `{"eventType":"a","published":null}`, ReasonMissingTime},
		{"empty published", `{"eventType":"a","published":" "}`, ReasonMissingTime},
		{"garbage published", `{"eventType":"a","published":"yesterday"}`, ReasonInvalidTime},
		{"bad month", `{"eventType":"a","published":"2026-13-01T00:00:00Z"}`, ReasonInvalidTime},
		{"bad zone", `{"eventType":"a","published":"2026-01-01T00:00:00CET"}`, ReasonInvalidTime},
		{"zero epoch", `{"eventType":"a","published":0}`, ReasonInvalidTime},
		{"far future", `{"eventType":"a","published":"3026-01-01T00:00:00Z"}`, ReasonInvalidTime},
		{"object published", `{"eventType":"a","published":{}}`, ReasonInvalidTime},
		{"no eventType", `{` + base + `}`, ReasonMissingAction},
		{"empty eventType", `{` + base + `,"eventType":"  "}`, ReasonMissingAction},
		{"numeric eventType", `{` + base + `,"eventType":7}`, ReasonMissingAction},
		{"event hook", `{"eventType":"com.okta.event_hook","data":{"events":[{` + base + `,"eventType":"a"}]}}`, parser.ReasonUnknownFormat},
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
		{"platform", `"eventType":"a"`, func(e *reposentry.Event) (any, any) { return e.Platform, reposentry.PlatformOkta }},
		{"action", `"eventType":" user.session.start "`, func(e *reposentry.Event) (any, any) { return e.Action, "user.session.start" }},
		{"uuid", `"eventType":"a"`, func(e *reposentry.Event) (any, any) { return e.ID.String(), "6c2f0a4e-9b1d-11f0-8e2a-0f5c7d1b2a33" }},
		{"actor login", `"eventType":"a","actor":{"alternateId":"Jane.Doe@Acme.example","type":"User"}`, func(e *reposentry.Event) (any, any) { return e.Actor.Login, "Jane.Doe@Acme.example" }},
		{"identity hint lower-cased", `"eventType":"a","actor":{"alternateId":"Jane.Doe@Acme.example","type":"User"}`, func(e *reposentry.Event) (any, any) { return e.IdentityHint, "jane.doe@acme.example" }},
		{"identity hint untyped actor", `"eventType":"a","actor":{"alternateId":"J@A.example"}`, func(e *reposentry.Event) (any, any) { return e.IdentityHint, "j@a.example" }},
		{"no identity hint for apps", `"eventType":"a","actor":{"alternateId":"Repo Sync","type":"PublicClientApp"}`, func(e *reposentry.Event) (any, any) { return e.IdentityHint, "" }},
		{"actor id", `"eventType":"a","actor":{"id":"00u1abcd"}`, func(e *reposentry.Event) (any, any) { return e.Actor.ID, "00u1abcd" }},
		{"actor user", `"eventType":"a","actor":{"type":"User"}`, func(e *reposentry.Event) (any, any) { return e.Actor.Type, reposentry.ActorUser }},
		{"actor system", `"eventType":"a","actor":{"type":"SystemPrincipal"}`, func(e *reposentry.Event) (any, any) { return e.Actor.Type, reposentry.ActorBot }},
		{"actor app", `"eventType":"a","actor":{"type":"PublicClientApp"}`, func(e *reposentry.Event) (any, any) { return e.Actor.Type, reposentry.ActorApp }},
		{"actor odd type", `"eventType":"a","actor":{"type":"Gremlin"}`, func(e *reposentry.Event) (any, any) { return e.Actor.Type, reposentry.ActorUnknown }},
		{"session credential", `"eventType":"a","actor":{"type":"User"}`, func(e *reposentry.Event) (any, any) { return e.Credential.Kind, reposentry.CredentialSession }},
		{"no session for apps", `"eventType":"a","actor":{"type":"PublicClientApp"}`, func(e *reposentry.Event) (any, any) { return e.Credential.Kind, reposentry.CredentialUnknown }},
		{"client ip", `"eventType":"a","client":{"ipAddress":"198.51.100.23"}`, func(e *reposentry.Event) (any, any) { return e.SourceIP, netip.MustParseAddr("198.51.100.23") }},
		{"client ip v6", `"eventType":"a","client":{"ipAddress":"2001:db8::1"}`, func(e *reposentry.Event) (any, any) { return e.SourceIP, netip.MustParseAddr("2001:db8::1") }},
		{"client ip mapped", `"eventType":"a","client":{"ipAddress":"::ffff:198.51.100.23"}`, func(e *reposentry.Event) (any, any) { return e.SourceIP, netip.MustParseAddr("198.51.100.23") }},
		{"client ip zoned", `"eventType":"a","client":{"ipAddress":"fe80::1%eth0"}`, func(e *reposentry.Event) (any, any) { return e.SourceIP.IsValid(), false }},
		{"ip chain fallback", `"eventType":"a","client":{"ipAddress":null},"request":{"ipChain":[{"ip":"203.0.113.9"},{"ip":"192.0.2.1"}]}`, func(e *reposentry.Event) (any, any) { return e.SourceIP, netip.MustParseAddr("203.0.113.9") }},
		{"ip chain geo fallback", `"eventType":"a","client":{"ipAddress":"203.0.113.9"},"request":{"ipChain":[{"ip":"203.0.113.9","geographicalContext":{"country":"France","city":"Lyon"}}]}`, func(e *reposentry.Event) (any, any) { return e.Geo.Country + "/" + e.Geo.City, "FR/Lyon" }},
		{"client geo wins", `"eventType":"a","client":{"ipAddress":"203.0.113.9","geographicalContext":{"country":"Spain"}},"request":{"ipChain":[{"geographicalContext":{"country":"France"}}]}`, func(e *reposentry.Event) (any, any) { return e.Geo.Country, "ES" }},
		{"country city", `"eventType":"a","client":{"geographicalContext":{"country":"Netherlands","city":"Amsterdam"}}`, func(e *reposentry.Event) (any, any) { return e.Geo.Country + "/" + e.Geo.City, "NL/Amsterdam" }},
		{"asn number", `"eventType":"a","securityContext":{"asNumber":64500,"asOrg":"example isp"}`, func(e *reposentry.Event) (any, any) { return e.Geo.ASN, uint32(64500) }},
		{"asn string", `"eventType":"a","securityContext":{"asNumber":"64500"}`, func(e *reposentry.Event) (any, any) { return e.Geo.ASN, uint32(64500) }},
		{"asn too big", `"eventType":"a","securityContext":{"asNumber":99999999999}`, func(e *reposentry.Event) (any, any) { return e.Geo.ASN, uint32(0) }},
		{"asn negative", `"eventType":"a","securityContext":{"asNumber":-1}`, func(e *reposentry.Event) (any, any) { return e.Geo.ASN, uint32(0) }},
		{"as org", `"eventType":"a","securityContext":{"asOrg":"example isp"}`, func(e *reposentry.Event) (any, any) { return e.Geo.ASOrg, "example isp" }},
		{"user agent", `"eventType":"a","client":{"userAgent":{"rawUserAgent":"curl/8.5"}}`, func(e *reposentry.Event) (any, any) { return e.UserAgent, "curl/8.5" }},
		{"user agent not object", `"eventType":"a","client":{"userAgent":"curl/8.5"}`, func(e *reposentry.Event) (any, any) { return e.UserAgent, "" }},
		{"target user", `"eventType":"a","target":[{"type":"User","alternateId":"bob@acme.example"},{"type":"User","alternateId":"eve@acme.example"}]`, func(e *reposentry.Event) (any, any) { return e.TargetUser, "bob@acme.example" }},
		{"target user display name", `"eventType":"a","target":[{"type":"User","displayName":"Bob"}]`, func(e *reposentry.Event) (any, any) { return e.TargetUser, "Bob" }},
		{"app detail", `"eventType":"user.authentication.sso","target":[{"type":"AppInstance","displayName":"GitHub Enterprise Cloud","alternateId":"gh"}]`, func(e *reposentry.Event) (any, any) { return e.Detail, "GitHub Enterprise Cloud" }},
		{"app detail alternate id", `"eventType":"user.authentication.sso","target":[{"type":"AppInstance","alternateId":"gh"}]`, func(e *reposentry.Event) (any, any) { return e.Detail, "gh" }},
		{"group detail", `"eventType":"group.user_membership.add","target":[{"type":"UserGroup","displayName":"Admins"}]`, func(e *reposentry.Event) (any, any) { return e.Detail, "Admins" }},
		{"group ignored off permission events", `"eventType":"user.session.start","target":[{"type":"UserGroup","displayName":"Admins"}]`, func(e *reposentry.Event) (any, any) { return e.Detail, "" }},
		{"privilege detail", `"eventType":"user.account.privilege.grant","debugContext":{"debugData":{"privilegeGranted":"Super administrator"}}`, func(e *reposentry.Event) (any, any) { return e.Detail, "Super administrator" }},
		{"factor detail", `"eventType":"user.mfa.factor.deactivate","debugContext":{"debugData":{"factor":"OKTA_VERIFY_PUSH"}}`, func(e *reposentry.Event) (any, any) { return e.Detail, "OKTA_VERIFY_PUSH" }},
		{"target not array", `"eventType":"a","target":{"type":"User","alternateId":"bob"}`, func(e *reposentry.Event) (any, any) { return e.TargetUser, "" }},
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

func TestCountryCodes(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Netherlands", "NL"},
		{"united states", "US"},
		{"United Kingdom", "GB"},
		{"Britain (UK)", "GB"},
		{"South Korea", "KR"},
		{"Czechia", "CZ"},
		{"Czech Republic", "CZ"},
		{"Bosnia and Herzegovina", "BA"},
		{"Bosnia & Herzegovina", "BA"},
		{"Côte d'Ivoire", "CI"},
		{"Cote d'Ivoire", "CI"},
		{"Türkiye", "TR"},
		{"Saint Lucia", "LC"},
		{"DR Congo", "CD"},
		{"nl", "NL"},
		{"ZZ", "ZZ"},
		{"Atlantis", "Atlantis"},
		{" Spain ", "ES"},
		{"", ""},
	}
	for _, tc := range tests {
		ev := mustParse(t, `{`+base+`,"eventType":"a","client":{"geographicalContext":{"country":"`+tc.name+`"}}}`)
		if ev.Geo.Country != tc.want {
			t.Errorf("country %q = %q, want %q", tc.name, ev.Geo.Country, tc.want)
		}
	}
}

func TestEventBridgeEnvelope(t *testing.T) {
	obj := `{"version":"0","id":"0c1d","detail-type":"SystemLog","source":"aws.partner/okta.com/acme","time":"2026-01-02T08:05:00Z",` +
		`"detail":{` + base + `,"eventType":"user.session.start","actor":{"type":"User","alternateId":"bob@acme.example"}}}`
	ev := mustParse(t, obj)
	if ev.Action != "user.session.start" || ev.Actor.Login != "bob@acme.example" || ev.ID.String() != "6c2f0a4e-9b1d-11f0-8e2a-0f5c7d1b2a33" {
		t.Errorf("envelope parsed as %q by %q id %q", ev.Action, ev.Actor.Login, ev.ID.String())
	}
	var fp fastjson.Parser
	v, _ := fp.Parse(obj)
	if got, ok := New().TimeOf(v); !ok || got.UnixMilli() != 1767258658214 {
		t.Errorf("TimeOf = %v, %v", got, ok)
	}
}

func TestCategoryAndOutcome(t *testing.T) {
	tests := []struct {
		action, result string
		cat            reposentry.Category
		outcome        reposentry.Outcome
	}{
		{"user.session.start", "SUCCESS", reposentry.CategoryLogin, reposentry.OutcomeSuccess},
		{"user.session.start", "FAILURE", reposentry.CategoryLogin, reposentry.OutcomeFailure},
		{"user.authentication.sso", "ALLOW", reposentry.CategoryLogin, reposentry.OutcomeSuccess},
		{"user.authentication.auth_via_mfa", "success", reposentry.CategoryLogin, reposentry.OutcomeSuccess},
		{"user.authentication.verify", "CHALLENGE", reposentry.CategoryLogin, reposentry.OutcomeUnknown},
		{"user.session.access_admin_app", "SUCCESS", reposentry.CategoryLogin, reposentry.OutcomeSuccess},
		{"user.mfa.okta_verify.deny_push", "DENY", reposentry.CategoryLogin, reposentry.OutcomeFailure},
		{"system.push.send_factor_verify_push", "SUCCESS", reposentry.CategoryOther, reposentry.OutcomeSuccess},
		{"user.mfa.factor.reset_all", "SUCCESS", reposentry.CategoryMFAChange, reposentry.OutcomeSuccess},
		{"user.mfa.factor.deactivate", "SUCCESS", reposentry.CategoryMFAChange, reposentry.OutcomeSuccess},
		{"user.mfa.factor.activate", "SUCCESS", reposentry.CategoryMFAChange, reposentry.OutcomeSuccess},
		{"user.account.reset_password", "SUCCESS", reposentry.CategoryOther, reposentry.OutcomeSuccess},
		{"app.oauth2.as.token.grant", "SUCCESS", reposentry.CategoryCredentialCreate, reposentry.OutcomeSuccess},
		{"app.oauth2.as.token.grant.refresh_token", "SUCCESS", reposentry.CategoryCredentialCreate, reposentry.OutcomeSuccess},
		{"app.oauth2.token.grant", "FAILURE", reposentry.CategoryCredentialCreate, reposentry.OutcomeFailure},
		{"app.oauth2.as.authorize.code", "SUCCESS", reposentry.CategoryOther, reposentry.OutcomeSuccess},
		{"system.api_token.create", "SUCCESS", reposentry.CategoryCredentialCreate, reposentry.OutcomeSuccess},
		{"user.account.privilege.grant", "SUCCESS", reposentry.CategoryPermissionChange, reposentry.OutcomeSuccess},
		{"group.user_membership.add", "SUCCESS", reposentry.CategoryPermissionChange, reposentry.OutcomeSuccess},
		{"application.user_membership.add", "SUCCESS", reposentry.CategoryPermissionChange, reposentry.OutcomeSuccess},
		{"policy.rule.deactivate", "SUCCESS", reposentry.CategorySettingsChange, reposentry.OutcomeSuccess},
		{"zone.update", "SUCCESS", reposentry.CategorySettingsChange, reposentry.OutcomeSuccess},
		{"policy.evaluate_sign_on", "SKIPPED", reposentry.CategoryOther, reposentry.OutcomeUnknown},
		{"user.session.end", "", reposentry.CategoryOther, reposentry.OutcomeUnknown},
		{"brand.new.event_type", "UNKNOWN", reposentry.CategoryOther, reposentry.OutcomeUnknown},
	}
	p := New()
	for _, tc := range tests {
		t.Run(tc.action+"/"+tc.result, func(t *testing.T) {
			obj := `{` + base + `,"eventType":"` + tc.action + `","outcome":{"result":"` + tc.result + `"}}`
			var fp fastjson.Parser
			v, _ := fp.Parse(obj)
			var ev reposentry.Event
			if err := p.Parse(v, []byte(obj), &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Category != tc.cat || ev.Outcome != tc.outcome {
				t.Errorf("category, outcome = %v, %v; want %v, %v", ev.Category, ev.Outcome, tc.cat, tc.outcome)
			}
		})
	}
}

func TestEventIDs(t *testing.T) {
	long := strings.Repeat("x", reposentry.MaxEventIDLen+1)
	a := mustParse(t, `{"uuid":"`+long+`","published":"2026-01-01T00:00:00Z","eventType":"a"}`)
	b := mustParse(t, `{"uuid":"`+long+`y","published":"2026-01-01T00:00:00Z","eventType":"a"}`)
	if id := a.ID.String(); !strings.HasPrefix(id, "d-") || len(id) > reposentry.MaxEventIDLen || id == b.ID.String() {
		t.Errorf("long ids %q and %q should be distinct digests", id, b.ID.String())
	}
	// The same event written differently gets the same derived id.
	same := []string{
		`{"published":"2026-01-01T09:10:58.214Z","eventType":"user.session.start","actor":{"id":"00u1","alternateId":"j@a.example","type":"User"},"client":{"ipAddress":"198.51.100.23","userAgent":{"rawUserAgent":"curl"}},"outcome":{"result":"SUCCESS"}}`,
		`{"outcome":{"result":"SUCCESS"},"client":{"userAgent":{"rawUserAgent":"curl"},"ipAddress":"::ffff:198.51.100.23"},"actor":{"type":"User","alternateId":"j@a.example","id":"00u1"},"eventType":"user.session.start","published":"2026-01-01T10:10:58.214+01:00","uuid":""}`,
		`{"published":1767258658214,"eventType":"user.session.start","actor":{"id":"00u1","alternateId":"j@a.example","type":"User"},"request":{"ipChain":[{"ip":"198.51.100.23"}]},"client":{"userAgent":{"rawUserAgent":"curl"}},"outcome":{"result":"SUCCESS"}}`,
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
		`{"published":"2026-01-01T09:10:58.215Z","eventType":"user.session.start","actor":{"id":"00u1","alternateId":"j@a.example","type":"User"},"client":{"ipAddress":"198.51.100.23","userAgent":{"rawUserAgent":"curl"}},"outcome":{"result":"SUCCESS"}}`,
		`{"published":"2026-01-01T09:10:58.214Z","eventType":"user.session.start","actor":{"id":"00u1","alternateId":"j@a.example","type":"User"},"client":{"ipAddress":"198.51.100.24","userAgent":{"rawUserAgent":"curl"}},"outcome":{"result":"SUCCESS"}}`,
		`{"published":"2026-01-01T09:10:58.214Z","eventType":"user.session.start","actor":{"id":"00u1","alternateId":"j@a.example","type":"User"},"client":{"ipAddress":"198.51.100.23","userAgent":{"rawUserAgent":"curl"}},"outcome":{"result":"FAILURE"}}`,
		`{"published":"2026-01-01T09:10:58.214Z","eventType":"user.session.end","actor":{"id":"00u1","alternateId":"j@a.example","type":"User"},"client":{"ipAddress":"198.51.100.23","userAgent":{"rawUserAgent":"curl"}},"outcome":{"result":"SUCCESS"}}`,
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
		{`{"eventType":"user.session.start","published":"2026-01-01T00:00:00Z"}`, true},
		{`{"eventType":"user.session.start","uuid":"x"}`, true},
		{`{"uuid":"x","published":"2026-01-01T00:00:00Z"}`, true},
		{`{"eventType":"com.okta.event_hook","data":{"events":[]}}`, true},
		{`{"detail-type":"SystemLog","detail":{"eventType":"a","published":"2026-01-01T00:00:00Z"}}`, true},
		{`{"detail-type":"EC2 Instance State-change Notification","detail":{"state":"running"}}`, false},
		{`{"eventType":"a"}`, false},
		{`{"id":"1","topic":"t","subject":"s","eventType":"Microsoft.Storage.BlobCreated","eventTime":"2026-01-01T00:00:00Z","data":{}}`, false},
		{`{"uuid":"x"}`, false},
		{`{"action":"git.clone","@timestamp":1,"_document_id":"x"}`, false},
		{`{"userPrincipalName":"a@b","createdDateTime":"2026-01-01T00:00:00Z"}`, false},
		{`["eventType"]`, false},
		{`"eventType"`, false},
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
	if p.Name() != "okta" {
		t.Errorf("Name = %q", p.Name())
	}
}

func TestUnwrap(t *testing.T) {
	tests := []struct {
		name  string
		obj   string
		ok    bool
		kinds []string // eventType of each unwrapped event, once parsed
	}{
		{"hook with two events", `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","data":{"events":[{` + base + `,"eventType":"user.mfa.factor.deactivate"},{` + base + `,"eventType":"user.session.start"}]}}`, true, []string{"user.mfa.factor.deactivate", "user.session.start"}},
		{"hook with no events", `{"eventType":"com.okta.event_hook","data":{"events":[]}}`, true, nil},
		{"hook without events", `{"eventType":"com.okta.event_hook","data":{}}`, false, nil},
		{"plain event", `{` + base + `,"eventType":"user.session.start"}`, false, nil},
		{"array", `[{"eventType":"com.okta.event_hook"}]`, false, nil},
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
			if ok != tc.ok || len(evs) != len(tc.kinds) {
				t.Fatalf("Unwrap = %d events, %v; want %d, %v", len(evs), ok, len(tc.kinds), tc.ok)
			}
			for i, el := range evs {
				var ev reposentry.Event
				if !p.Sniff(el) {
					t.Errorf("event %d not sniffed as Okta", i)
				}
				if err := p.Parse(el, nil, &ev); err != nil || ev.Action != tc.kinds[i] {
					t.Errorf("event %d = %q, %v; want %q", i, ev.Action, err, tc.kinds[i])
				}
			}
		})
	}
}

func TestInternedStringsAreShared(t *testing.T) {
	p := New()
	var evs [2]reposentry.Event
	for i := range evs {
		// Separate parsers: the source buffers differ, the strings must not.
		var fp fastjson.Parser
		v, _ := fp.Parse(`{` + base + `,"eventType":"user.session.start","actor":{"alternateId":"J@A.example","type":"User"},"client":{"geographicalContext":{"country":"Netherlands"}}}`)
		if err := p.Parse(v, nil, &evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, pair := range [][2]string{{evs[0].Actor.Login, evs[1].Actor.Login}, {evs[0].IdentityHint, evs[1].IdentityHint},
		{evs[0].Action, evs[1].Action}, {evs[0].Geo.Country, evs[1].Geo.Country}} {
		if unsafe.StringData(pair[0]) != unsafe.StringData(pair[1]) {
			t.Errorf("%q is not interned", pair[0])
		}
	}
}
