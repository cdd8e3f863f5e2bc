package entra

import (
	"strconv"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/parser/jsonval"
	"github.com/valyala/fastjson"
)

// session fills ev.Session (Parse sets the application): the session id,
// else the correlation id that groups a sign-in's requests; the method of
// the strongest authentication step; Entra's risk level; the proxy flag
// from the anonymizedIPAddress risk detection; and the failure reason.
// Strings are interned or constant, so a value seen before costs no
// allocation.
func (p *Platform) session(ev *reposentry.Event) {
	f := &p.f
	s := &ev.Session
	id := jsonval.Trim(jsonval.Str(f.sessionID))
	if len(id) == 0 {
		id = jsonval.Trim(jsonval.Str(f.correlationID))
	}
	s.ID = p.tab.Bytes(id)
	s.Factor = p.factor()
	s.Risk = maxRisk(riskLevel(jsonval.Str(f.riskDuring)), riskLevel(jsonval.Str(f.riskAggregated)))
	s.Proxy = p.anonymized(f.riskEvents) || p.anonymized(f.riskEventsV1)
	if ev.Outcome == reposentry.OutcomeFailure {
		s.Reason = p.reason()
	}
}

// factor returns the method of the last authentication step that is not
// the password (the MFA step, succeeded or not), else "password", else what
// authenticationRequirement says.
func (p *Platform) factor() string {
	best := ""
	for _, d := range p.array(p.f.authDetails) {
		m := methodName(jsonval.Trim(jsonval.Str(jsonval.Member(d, "authenticationMethod"))))
		if m != "" && (m != "password" || best == "") {
			best = m
		}
	}
	if best != "" {
		return best
	}
	b := jsonval.Trim(jsonval.Str(p.f.authRequirement))
	switch {
	case jsonval.EqualFold(b, "multiFactorAuthentication"):
		return "mfa"
	case jsonval.EqualFold(b, "singleFactorAuthentication"):
		return "single_factor"
	}
	return ""
}

// methodName maps an authenticationMethod ("Mobile app notification",
// "Text message", "FIDO2 security key", …) to the short names shared with
// Okta; "" for steps that name no factor ("Previously satisfied").
func methodName(b []byte) string {
	switch {
	case len(b) == 0, bytesContainsFold(b, "previously satisfied"):
		return ""
	case bytesContainsFold(b, "notification"):
		return "push"
	case bytesContainsFold(b, "text message"), bytesContainsFold(b, "sms"):
		return "sms"
	case bytesContainsFold(b, "phone call"), bytesContainsFold(b, "voice"):
		return "voice"
	case bytesContainsFold(b, "fido"), bytesContainsFold(b, "passkey"):
		return "webauthn"
	case bytesContainsFold(b, "email"):
		return "email"
	case bytesContainsFold(b, "verification code"), bytesContainsFold(b, "oath"), bytesContainsFold(b, "otp"):
		return "otp"
	case bytesContainsFold(b, "password"):
		return "password"
	case bytesContainsFold(b, "windows hello"):
		return "windows_hello"
	case bytesContainsFold(b, "certificate"):
		return "certificate"
	case bytesContainsFold(b, "temporary access pass"):
		return "temporary_access_pass"
	}
	return "other"
}

// anonymized reports whether a risk event type list (an array, or text in
// Log Analytics) holds anonymizedIPAddress: a Tor or anonymizing VPN exit.
func (p *Platform) anonymized(v *fastjson.Value) bool {
	if v == nil {
		return false
	}
	if v.Type() == fastjson.TypeString {
		return bytesContainsFold(jsonval.Str(v), "anonymizedIPAddress")
	}
	a, _ := v.Array()
	for _, e := range a {
		if jsonval.EqualFold(jsonval.Trim(jsonval.Str(e)), "anonymizedIPAddress") {
			return true
		}
	}
	return false
}

// reason returns status.failureReason, else the error code as text, else
// the record's resultType.
func (p *Platform) reason() string {
	if o := p.object(p.f.status); o != nil {
		if r := jsonval.Trim(jsonval.Str(o.Get("failureReason"))); len(r) > 0 {
			return p.tab.Bytes(r)
		}
		if n, ok := jsonval.Uint(o.Get("errorCode")); ok {
			p.buf = strconv.AppendUint(p.buf[:0], n, 10)
			return p.tab.Bytes(p.buf)
		}
	}
	return p.tab.Bytes(jsonval.Trim(jsonval.Str(p.f.resultType)))
}

// risks orders Entra's risk levels; "hidden" and "unknownFutureValue" say
// nothing and read as "".
var risks = [...]string{"", "none", "low", "medium", "high"}

func riskLevel(b []byte) string {
	for _, r := range risks[1:] {
		if jsonval.EqualFold(jsonval.Trim(b), r) {
			return r
		}
	}
	return ""
}

func maxRisk(a, b string) string {
	rank := func(s string) int {
		for i, r := range risks {
			if r == s {
				return i
			}
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// bytesContainsFold is containsFold for a value's bytes.
func bytesContainsFold(b []byte, sub string) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if jsonval.EqualFold(b[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
