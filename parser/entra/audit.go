package entra

import (
	"errors"
	"github.com/reposentry/reposentry/parser/jsonval"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/parser"
	"github.com/valyala/fastjson"
)

// Directory audits (Graph directoryAudit, the AuditLogs diagnostic category
// and Log Analytics table) carry what sign-ins cannot: security info
// (MFA method) registrations and deletions, role and group grants, and
// application credentials and consents — the steps between a stolen session
// and a new token.

// ReasonMissingAction rejects a directory audit without an activity name.
const ReasonMissingAction = "missing_action"

var (
	errAuditMissingTime = parser.Reject(ReasonMissingTime, errors.New("entra directory audit has no activityDateTime, TimeGenerated or time"))
	errAuditInvalidTime = parser.Reject(ReasonInvalidTime, errors.New("entra directory audit time is not an ISO 8601 time or an epoch number"))
	errMissingAction    = parser.Reject(ReasonMissingAction, errors.New("entra directory audit has no activityDisplayName or operationName"))
)

// isAudit reports whether o is a directory audit: a Graph directoryAudit, a
// Log Analytics AuditLogs row, or an Entra AuditLogs diagnostic record (whose
// properties are a directoryAudit; other services also use the category
// name, which is why the properties are checked).
func isAudit(o *fastjson.Object) bool {
	if o.Get("activityDisplayName") != nil && o.Get("activityDateTime") != nil {
		return true
	}
	if o.Get("TimeGenerated") != nil && jsonval.EqualFold(jsonval.Trim(jsonval.Str(o.Get("Type"))), "AuditLogs") {
		return true
	}
	props := o.Get("properties")
	if props == nil || props.Type() != fastjson.TypeObject || !jsonval.EqualFold(jsonval.Trim(jsonval.Str(o.Get("category"))), "AuditLogs") {
		return false
	}
	po, _ := props.Object()
	return po.Get("activityDisplayName") != nil
}

// audit reports whether the collected object is a directory audit.
func (p *Platform) audit() bool {
	f := &p.f
	return f.activity != nil || f.activityTime != nil || f.initiatedBy != nil ||
		jsonval.EqualFold(jsonval.Trim(jsonval.Str(f.tableType)), "AuditLogs")
}

func (p *Platform) parseAudit(t time.Time, st jsonval.TimeState, ev *reposentry.Event) error {
	f := &p.f
	action := jsonval.Trim(jsonval.Str(f.activity))
	if len(action) == 0 {
		action = jsonval.Trim(jsonval.Str(f.operation))
	}
	if len(action) == 0 {
		return errMissingAction
	}
	switch st {
	case jsonval.TimeMissing:
		return errAuditMissingTime
	case jsonval.TimeInvalid:
		return errAuditInvalidTime
	}
	ev.Platform = reposentry.PlatformEntra
	ev.Time = t
	ev.Action = p.tab.Bytes(action)
	ev.Category = auditCategory(ev.Action)
	switch r := jsonval.Trim(jsonval.Str(f.result)); {
	case jsonval.EqualFold(r, "success"):
		ev.Outcome = reposentry.OutcomeSuccess
	case jsonval.EqualFold(r, "failure"):
		ev.Outcome = reposentry.OutcomeFailure
	}
	p.initiator(ev)
	if !ev.SourceIP.IsValid() {
		ev.SourceIP = jsonval.IP(jsonval.Str(f.callerIP))
	}
	p.location(ev)
	p.targets(ev)
	p.setID(ev)
	return nil
}

// initiator fills the actor from initiatedBy.user, else initiatedBy.app.
func (p *Platform) initiator(ev *reposentry.Event) {
	o := p.object(p.f.initiatedBy)
	if o == nil {
		return
	}
	if u := o.Get("user"); u != nil && u.Type() == fastjson.TypeObject {
		uo, _ := u.Object()
		upn := jsonval.Trim(jsonval.Str(uo.Get("userPrincipalName")))
		id := jsonval.Trim(jsonval.Str(uo.Get("id")))
		if len(upn) > 0 || len(id) > 0 {
			ev.Actor.Login = p.tab.Bytes(upn)
			ev.Actor.ID = p.tab.Bytes(id)
			ev.Actor.Type = reposentry.ActorUser
			ev.Credential.Kind = reposentry.CredentialSession
			p.buf = jsonval.Lower(p.buf[:0], upn)
			ev.IdentityHint = p.tab.Bytes(p.buf)
			ev.SourceIP = jsonval.IP(jsonval.Str(uo.Get("ipAddress")))
			return
		}
	}
	if a := o.Get("app"); a != nil && a.Type() == fastjson.TypeObject {
		ao, _ := a.Object()
		id := jsonval.Trim(jsonval.Str(ao.Get("servicePrincipalId")))
		if len(id) == 0 {
			id = jsonval.Trim(jsonval.Str(ao.Get("appId")))
		}
		ev.Actor.Login = p.tab.Bytes(jsonval.Trim(jsonval.Str(ao.Get("displayName"))))
		ev.Actor.ID = p.tab.Bytes(id)
		if len(ev.Actor.Login) > 0 || len(id) > 0 {
			ev.Actor.Type = reposentry.ActorApp
			ev.Credential.Kind = reposentry.CredentialApp
		}
	}
}

// targets fills TargetUser with the first User target and Detail with the
// first other target's name (the role, group or application), else the
// role or group name among the first target's modified properties, which is
// where "Add member to role" keeps it.
func (p *Platform) targets(ev *reposentry.Event) {
	arr := p.array(p.f.targets)
	var user, detail []byte
	for i, t := range arr {
		if t.Type() != fastjson.TypeObject {
			continue
		}
		o, _ := t.Object()
		if jsonval.EqualFold(jsonval.Trim(jsonval.Str(o.Get("type"))), "User") {
			if user == nil {
				user = jsonval.Trim(jsonval.Str(o.Get("userPrincipalName")))
			}
		} else if len(detail) == 0 {
			detail = jsonval.Trim(jsonval.Str(o.Get("displayName")))
		}
		if i == 0 && len(detail) == 0 {
			detail = modifiedName(o.Get("modifiedProperties"))
		}
	}
	ev.TargetUser = p.tab.Bytes(user)
	ev.Detail = p.tab.Bytes(detail)
}

// modifiedName returns the new Role.DisplayName or Group.DisplayName of a
// modifiedProperties list, without the JSON quotes Entra wraps it in.
func modifiedName(v *fastjson.Value) []byte {
	if v == nil || v.Type() != fastjson.TypeArray {
		return nil
	}
	a, _ := v.Array()
	for _, m := range a {
		if m.Type() != fastjson.TypeObject {
			continue
		}
		o, _ := m.Object()
		name := jsonval.Trim(jsonval.Str(o.Get("displayName")))
		if !jsonval.EqualFold(name, "Role.DisplayName") && !jsonval.EqualFold(name, "Group.DisplayName") {
			continue
		}
		b := jsonval.Trim(jsonval.Str(o.Get("newValue")))
		if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
			b = jsonval.Trim(b[1 : len(b)-1])
		}
		return b
	}
	return nil
}

// array returns v as an array, parsing it with the sub-parser when it is
// JSON text; a later call may invalidate the previous result.
func (p *Platform) array(v *fastjson.Value) []*fastjson.Value {
	if v == nil {
		return nil
	}
	if v.Type() == fastjson.TypeString {
		pv, err := p.sub.ParseBytes(jsonval.Trim(jsonval.Str(v)))
		if err != nil {
			return nil
		}
		v = pv
	}
	if v.Type() != fastjson.TypeArray {
		return nil
	}
	a, _ := v.Array()
	return a
}

// auditCategory maps an activity name (Microsoft Entra audit log activity
// reference) to a category by its wording, so that renamed or new
// activities of the same kind are still classified.
//
// Decisions worth knowing:
//   - Security info registrations and deletions (by the user or an admin),
//     authentication method changes and per-user MFA changes are MFA
//     changes; starting or reviewing registration is not.
//   - New application or service principal credentials and consents to
//     applications are credential creations: each lets an application obtain
//     tokens.
//   - Adding or removing role members, group members and owners are
//     permission changes; policy changes (conditional access, authorization)
//     are settings changes.
func auditCategory(a string) reposentry.Category {
	switch {
	case containsFold(a, "security info") && !containsFold(a, "started") && !containsFold(a, "reviewed") && !containsFold(a, "cancel"),
		containsFold(a, "authentication method"), containsFold(a, "strong authentication"), containsFold(a, "strongauthentication"):
		return reposentry.CategoryMFAChange
	case containsFold(a, "credentials"), containsFold(a, "certificates and secrets"), containsFold(a, "consent to application"),
		containsFold(a, "delegated permission grant"), containsFold(a, "oauth2permissiongrant"):
		return reposentry.CategoryCredentialCreate
	case (hasPrefixFold(a, "add ") || hasPrefixFold(a, "remove ")) &&
		(containsFold(a, "role") || containsFold(a, "member") || containsFold(a, "owner")):
		return reposentry.CategoryPermissionChange
	case containsFold(a, "policy"):
		return reposentry.CategorySettingsChange
	}
	return reposentry.CategoryOther
}

// containsFold reports whether s contains the lower-case ASCII sub, ignoring
// ASCII case, without allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if hasPrefixFold(s[i:], sub) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for j := 0; j < len(prefix); j++ {
		c := s[j]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[j] {
			return false
		}
	}
	return true
}
