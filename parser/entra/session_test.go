package entra

import (
	"testing"

	"github.com/reposentry/reposentry"
)

// TestSession checks each source of Event.Session in Graph and Log
// Analytics spellings: session or correlation id, application, factor from
// authenticationDetails or authenticationRequirement, the higher of the two
// risk levels, the anonymizer detection and the failure reason.
func TestSession(t *testing.T) {
	tests := []struct {
		name, members string
		want          reposentry.Session
	}{
		{"nothing", `"status":{"errorCode":0}`, reposentry.Session{}},
		{"correlation id", `"correlationId":"c1"`, reposentry.Session{ID: "c1"}},
		{"session id wins", `"correlationId":"c1","sessionId":"s1"`, reposentry.Session{ID: "s1"}},
		{"application", `"appDisplayName":"GitHub Enterprise Cloud"`, reposentry.Session{App: "GitHub Enterprise Cloud"}},
		{"push after password", `"authenticationDetails":[{"authenticationMethod":"Password"},{"authenticationMethod":"Mobile app notification"}]`,
			reposentry.Session{Factor: "push"}},
		{"password only", `"authenticationDetails":[{"authenticationMethod":"Password"},{"authenticationMethod":"Previously satisfied"}]`,
			reposentry.Session{Factor: "password"}},
		{"details as text", `"AuthenticationDetails":"[{\"authenticationMethod\":\"Text message\"}]"`, reposentry.Session{Factor: "sms"}},
		{"unknown method", `"authenticationDetails":[{"authenticationMethod":"Carrier pigeon"}]`, reposentry.Session{Factor: "other"}},
		{"requirement only", `"authenticationRequirement":"multiFactorAuthentication"`, reposentry.Session{Factor: "mfa"}},
		{"risk during", `"riskLevelDuringSignIn":"Medium"`, reposentry.Session{Risk: "medium"}},
		{"aggregated higher", `"riskLevelDuringSignIn":"low","riskLevelAggregated":"high"`, reposentry.Session{Risk: "high"}},
		{"hidden risk", `"riskLevelDuringSignIn":"hidden"`, reposentry.Session{}},
		{"anonymizer v2", `"riskEventTypes_v2":["unfamiliarFeatures","anonymizedIPAddress"]`, reposentry.Session{Proxy: true}},
		{"anonymizer as text", `"RiskEventTypes_V2":"[\"anonymizedIPAddress\"]"`, reposentry.Session{Proxy: true}},
		{"other detection", `"riskEventTypes_v2":["unfamiliarFeatures"]`, reposentry.Session{}},
		{"failure reason", `"status":{"errorCode":50126,"failureReason":"Invalid username or password."}`,
			reposentry.Session{Reason: "Invalid username or password."}},
		{"failure code", `"status":{"errorCode":50074}`, reposentry.Session{Reason: "50074"}},
		{"success keeps no reason", `"status":{"errorCode":0,"failureReason":"Other."}`, reposentry.Session{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := mustParse(t, `{`+base+`,`+tc.members+`}`)
			if ev.Session != tc.want {
				t.Errorf("Session = %+v, want %+v", ev.Session, tc.want)
			}
		})
	}
}
