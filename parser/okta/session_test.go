package okta

import (
	"testing"

	"github.com/reposentry/reposentry"
)

// TestSession checks each source of Event.Session: the session id, the
// application, the factor from the event type, debugData, the credential
// type or the reason, Okta's risk text, ThreatInsight, the proxy flag and
// the outcome reason.
func TestSession(t *testing.T) {
	const u = `"eventType":"user.authentication.auth_via_mfa","actor":{"type":"User","alternateId":"a@x"}`
	tests := []struct {
		name, members string
		want          reposentry.Session
	}{
		{"nothing", `"outcome":{"result":"SUCCESS"}`, reposentry.Session{}},
		{"session id", `"authenticationContext":{"externalSessionId":"102abc","credentialType":null}`, reposentry.Session{ID: "102abc"}},
		{"application", `"target":[{"type":"User","alternateId":"b@x"},{"type":"AppInstance","displayName":"GitHub EMU"}]`, reposentry.Session{App: "GitHub EMU"}},
		{"push from reason", `"outcome":{"result":"FAILURE","reason":"User rejected Okta push verify"}`,
			reposentry.Session{Factor: "push", Reason: "User rejected Okta push verify"}},
		{"factor in debugData", `"debugContext":{"debugData":{"factor":"SMS_FACTOR"}}`, reposentry.Session{Factor: "sms"}},
		{"factor type over credential type", `"debugContext":{"debugData":{"factorType":"FIDO_WEBAUTHN"}},"authenticationContext":{"credentialType":"PASSWORD"}`,
			reposentry.Session{Factor: "webauthn"}},
		{"credential type", `"authenticationContext":{"credentialType":"PASSWORD"}`, reposentry.Session{Factor: "password"}},
		{"unknown factor", `"debugContext":{"debugData":{"factor":"CUSTOM_THING"}}`, reposentry.Session{}},
		{"risk text", `"debugContext":{"debugData":{"risk":"{level=MEDIUM, reasons=New Device}"}}`, reposentry.Session{Risk: "medium"}},
		{"risk plain", `"debugContext":{"debugData":{"risk":"low"}}`, reposentry.Session{Risk: "low"}},
		{"threat suspected", `"debugContext":{"debugData":{"threatSuspected":"true"}}`, reposentry.Session{Risk: "high"}},
		{"risk wins over threat", `"debugContext":{"debugData":{"risk":"{level=LOW}","threatSuspected":"true"}}`, reposentry.Session{Risk: "low"}},
		{"proxy bool", `"securityContext":{"isProxy":true}`, reposentry.Session{Proxy: true}},
		{"proxy text", `"securityContext":{"isProxy":"TRUE"}`, reposentry.Session{Proxy: true}},
		{"not proxy", `"securityContext":{"isProxy":null}`, reposentry.Session{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := mustParse(t, `{`+base+`,`+u+`,`+tc.members+`}`)
			if ev.Session != tc.want {
				t.Errorf("Session = %+v, want %+v", ev.Session, tc.want)
			}
		})
	}
	push := mustParse(t, `{`+base+`,"eventType":"system.push.send_factor_verify_push","debugContext":{"debugData":{"factor":"SMS"}}}`)
	if push.Session.Factor != "push" {
		t.Errorf("push event factor = %q, want push", push.Session.Factor)
	}
}
