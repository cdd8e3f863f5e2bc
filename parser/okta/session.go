package okta

import (
	"strings"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/parser/jsonval"
	"github.com/valyala/fastjson"
)

// session fills ev.Session (targets sets the application): the session id
// that joins the steps of one sign-in, the factor, Okta's risk verdict, the
// proxy flag and the outcome reason. Every string is interned or constant,
// so a value seen before costs no allocation.
func (p *Platform) session(ev *reposentry.Event) {
	f := &p.f
	s := &ev.Session
	ac := f.authContext
	s.ID = p.tab.Bytes(jsonval.Trim(jsonval.Str(jsonval.Member(ac, "externalSessionId"))))
	reason := jsonval.Trim(jsonval.Str(jsonval.Member(f.outcome, "reason")))
	s.Reason = p.tab.Bytes(reason)
	debug := jsonval.Member(f.debugContext, "debugData")
	s.Factor = p.factor(ev.Action, debug, jsonval.Str(jsonval.Member(ac, "credentialType")), reason)
	s.Risk = riskLevel(jsonval.Str(jsonval.Member(debug, "risk")))
	if s.Risk == "" && isTrue(jsonval.Member(debug, "threatSuspected")) {
		// ThreatInsight flags addresses it has seen attacking Okta orgs.
		s.Risk = "high"
	}
	s.Proxy = isTrue(jsonval.Member(f.securityContext, "isProxy"))
}

// isTrue reads a JSON true or the text "true" (debugData values are text).
func isTrue(v *fastjson.Value) bool {
	return v != nil && (v.Type() == fastjson.TypeTrue || jsonval.EqualFold(jsonval.Trim(jsonval.Str(v)), "true"))
}

// factor names the factor of a step: from the event type for Okta Verify
// pushes, else debugData's factor fields, else the credential type, else an
// outcome reason that names a push ("User rejected Okta push verify").
func (p *Platform) factor(action string, debug *fastjson.Value, credType, reason []byte) string {
	// Event types are lower-case dotted names.
	if strings.Contains(action, "push") {
		return "push"
	}
	for _, k := range [...]string{"factor", "factorType", "factorIntent"} {
		if f := factorName(jsonval.Trim(jsonval.Str(jsonval.Member(debug, k)))); f != "" {
			return f
		}
	}
	if f := factorName(jsonval.Trim(credType)); f != "" {
		return f
	}
	if containsFold(reason, "push") {
		return "push"
	}
	return ""
}

// factorName maps Okta's factor and credential type names (OKTA_VERIFY_PUSH,
// SMS_FACTOR, FIDO_WEBAUTHN, PASSWORD, OTP, …) to the short names shared with
// Entra; a name it does not know gives "".
func factorName(b []byte) string {
	switch {
	case len(b) == 0:
		return ""
	case containsFold(b, "push"):
		return "push"
	case containsFold(b, "sms"):
		return "sms"
	case containsFold(b, "call"), containsFold(b, "voice"):
		return "voice"
	case containsFold(b, "webauthn"), containsFold(b, "fido"), containsFold(b, "u2f"):
		return "webauthn"
	case containsFold(b, "email"):
		return "email"
	case containsFold(b, "password"):
		return "password"
	case containsFold(b, "signed_nonce"), containsFold(b, "fastpass"):
		return "fastpass"
	case containsFold(b, "otp"), containsFold(b, "token"), containsFold(b, "okta_verify"), containsFold(b, "google"):
		return "otp"
	case containsFold(b, "assertion"), containsFold(b, "iwa"):
		return "federated"
	}
	return ""
}

// riskLevel reads debugData.risk, which Okta writes as text such as
// "{level=HIGH, reasons=Anomalous Device}" or plain "HIGH", as a constant
// lower-case level; "" when absent or unreadable.
func riskLevel(b []byte) string {
	if i := indexFold(b, "level="); i >= 0 {
		b = b[i+len("level="):]
	}
	switch {
	case hasPrefixFold(b, "high"):
		return "high"
	case hasPrefixFold(b, "medium"):
		return "medium"
	case hasPrefixFold(b, "low"):
		return "low"
	case hasPrefixFold(b, "none"):
		return "none"
	}
	return ""
}

func hasPrefixFold(b []byte, s string) bool {
	return len(b) >= len(s) && jsonval.EqualFold(b[:len(s)], s)
}

// indexFold is bytes.Index ignoring ASCII case, for short needles.
func indexFold(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if jsonval.EqualFold(b[i:i+len(s)], s) {
			return i
		}
	}
	return -1
}

func containsFold(b []byte, s string) bool { return indexFold(b, s) >= 0 }
