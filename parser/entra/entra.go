// Package entra parses Microsoft Entra ID sign-in logs, and the directory
// audits that record MFA, role and application credential changes, in the
// shapes they are delivered in: Microsoft Graph signIn and directoryAudit
// objects, Azure Monitor diagnostic records ({"records":[{"time",…,
// "category":"SignInLogs","properties":{signIn}}]}, unwrapped by
// parser.Parser) and Log Analytics exports of the SigninLogs,
// AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs and
// AuditLogs tables (PascalCase columns, dynamic columns as objects or JSON
// strings). Graph pages ({"value":[…],"@odata.nextLink":…}) are recognised
// and handed out by Unwrap. Field reference: docs/log-formats.md §4.2.
package entra

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/reposentry/reposentry/parser/jsonval"
	"strconv"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/valyala/fastjson"
)

// Rejection reasons of this platform, the same keys as the other platforms'.
const (
	ReasonMissingTime = "missing_time"
	ReasonInvalidTime = "invalid_time"
)

var (
	errMissingTime = parser.Reject(ReasonMissingTime, errors.New("entra sign-in has no createdDateTime, TimeGenerated or time"))
	errInvalidTime = parser.Reject(ReasonInvalidTime, errors.New("entra sign-in time is not an ISO 8601 time or an epoch number"))
	errNotObject   = parser.Reject(parser.ReasonUnknownFormat, errors.New("entra sign-in is not a JSON object"))
)

// Actions: "signin" qualified by the sign-in log the event came from.
const (
	ActionSignIn                 = "signin"
	ActionSignInInteractive      = "signin.interactive"
	ActionSignInNonInteractive   = "signin.noninteractive"
	ActionSignInServicePrincipal = "signin.serviceprincipal"
	ActionSignInManagedIdentity  = "signin.managedidentity"
)

// fields holds the members the parser reads, under either spelling (Graph
// camelCase or Log Analytics PascalCase). A diagnostic record's own members
// are visited first and its properties' second, so the Graph values win.
type fields struct {
	id, created, timeGenerated, recordTime                    *fastjson.Value
	upn, userID, spName, spID, appName, resourceName          *fastjson.Value
	ip, callerIP, asn, location, country, status, resultType  *fastjson.Value
	userAgent, category, tableType, eventTypes, isInteractive *fastjson.Value
	properties                                                *fastjson.Value

	// Session facts (session.go).
	sessionID, correlationID, authRequirement, authDetails *fastjson.Value
	riskDuring, riskAggregated, riskEvents, riskEventsV1   *fastjson.Value

	// Directory audits (audit.go).
	activity, activityTime, operation, result, initiatedBy, targets *fastjson.Value
}

// Platform parses Entra ID sign-ins. It keeps scratch state between calls
// and is not safe for concurrent use: give each parser.Parser its own.
type Platform struct {
	tab   *intern.Table
	f     fields
	visit func(key []byte, v *fastjson.Value)
	sub   fastjson.Parser // dynamic columns exported as JSON strings
	buf   []byte          // lower-cased identity hints and content hashed into derived ids
}

// New returns an Entra platform. parser.New hands it the parser's intern
// table; used alone it interns into a table of its own.
func New() *Platform {
	p := &Platform{tab: intern.New(0)}
	p.visit = p.visitField
	return p
}

// UseTable implements parser.TableUser.
func (p *Platform) UseTable(tab *intern.Table) {
	if tab != nil {
		p.tab = tab
	}
}

// Name implements parser.Platform.
func (p *Platform) Name() string { return "entra" }

// Sniff accepts a sign-in object (a user principal name and a creation or
// ingestion time), a Log Analytics row of a sign-in table (TimeGenerated and
// Type *SignInLogs), a diagnostic record of a sign-in category, the same
// three shapes of directory audits (see isAudit), and a Graph page of
// either. GitHub events carry none of these members.
func (p *Platform) Sniff(v *fastjson.Value) bool {
	if v.Type() != fastjson.TypeObject {
		return false
	}
	o, _ := v.Object()
	return isSignIn(o) || isAudit(o) || isPage(o)
}

func isSignIn(o *fastjson.Object) bool {
	if (o.Get("userPrincipalName") != nil || o.Get("UserPrincipalName") != nil) &&
		(o.Get("createdDateTime") != nil || o.Get("CreatedDateTime") != nil || o.Get("TimeGenerated") != nil) {
		return true
	}
	if o.Get("TimeGenerated") != nil && signInLog(jsonval.Str(o.Get("Type"))) {
		return true
	}
	if props := o.Get("properties"); props != nil && props.Type() == fastjson.TypeObject {
		return jsonval.EqualFold(jsonval.Trim(jsonval.Str(o.Get("operationName"))), "Sign-in activity") || signInLog(jsonval.Str(o.Get("category")))
	}
	return false
}

// signInLog reports whether a diagnostic category or table name is one of
// the sign-in logs: SignInLogs, NonInteractiveUserSignInLogs,
// AADServicePrincipalSignInLogs, ...
func signInLog(b []byte) bool {
	const suffix = "signinlogs"
	b = jsonval.Trim(b)
	return len(b) >= len(suffix) && jsonval.EqualFold(b[len(b)-len(suffix):], suffix)
}

// isPage reports whether o is a Graph page of sign-ins or directory audits.
func isPage(o *fastjson.Object) bool {
	vals := o.Get("value")
	if vals == nil || vals.Type() != fastjson.TypeArray {
		return false
	}
	if ctx := jsonval.Str(o.Get("@odata.context")); bytes.Contains(ctx, []byte("signIns")) || bytes.Contains(ctx, []byte("directoryAudits")) {
		return true
	}
	a, _ := vals.Array()
	if len(a) == 0 || a[0].Type() != fastjson.TypeObject {
		return false
	}
	first, _ := a[0].Object()
	return isSignIn(first) || isAudit(first)
}

// Unwrap returns the sign-ins or directory audits of a Graph page ({"value":[…],
// "@odata.nextLink":…}); ok is false for any other value. It is meant for a
// parser.Parser that unwraps platform envelopes and dispatches each value as
// an event; until the Parser does, Parse rejects a page (unknown_format)
// rather than keep only one of its events.
func (p *Platform) Unwrap(v *fastjson.Value) (events []*fastjson.Value, ok bool) {
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil, false
	}
	o, _ := v.Object()
	if !isPage(o) {
		return nil, false
	}
	a, _ := o.Get("value").Array()
	return a, true
}

// TimeOf implements parser.Timer.
func (p *Platform) TimeOf(v *fastjson.Value) (time.Time, bool) {
	if v.Type() != fastjson.TypeObject {
		return time.Time{}, false
	}
	p.collect(v)
	t, st := p.time(p.audit())
	return t, st == jsonval.TimeOK
}

func (p *Platform) visitField(k []byte, v *fastjson.Value) {
	f := &p.f
	switch string(k) {
	case "id", "Id":
		f.id = v
	case "createdDateTime", "CreatedDateTime":
		f.created = v
	case "TimeGenerated":
		f.timeGenerated = v
	case "time":
		f.recordTime = v
	case "userPrincipalName", "UserPrincipalName":
		f.upn = v
	case "userId", "UserId":
		f.userID = v
	case "servicePrincipalName", "ServicePrincipalName":
		f.spName = v
	case "servicePrincipalId", "ServicePrincipalId":
		f.spID = v
	case "appDisplayName", "AppDisplayName":
		f.appName = v
	case "resourceDisplayName", "ResourceDisplayName":
		f.resourceName = v
	case "ipAddress", "IPAddress", "IpAddress":
		f.ip = v
	case "callerIpAddress":
		f.callerIP = v
	case "autonomousSystemNumber", "AutonomousSystemNumber":
		f.asn = v
	case "location", "Location":
		// A diagnostic record's and a Log Analytics row's "location" is a
		// country code; the Graph object's is an object.
		if isObjectLike(v) {
			f.location = v
		} else if len(jsonval.Trim(jsonval.Str(v))) > 0 {
			f.country = v
		}
	case "LocationDetails":
		// An object, or JSON text in some exports.
		if isObjectLike(v) {
			f.location = v
		}
	case "status", "Status":
		f.status = v
	case "resultType", "ResultType":
		f.resultType = v
	case "userAgent", "UserAgent":
		f.userAgent = v
	case "category", "Category":
		f.category = v
	case "Type":
		f.tableType = v
	case "signInEventTypes", "SignInEventTypes":
		f.eventTypes = v
	case "isInteractive", "IsInteractive":
		f.isInteractive = v
	case "properties":
		f.properties = v
	case "sessionId", "SessionId":
		f.sessionID = v
	case "correlationId", "CorrelationId":
		f.correlationID = v
	case "authenticationRequirement", "AuthenticationRequirement":
		f.authRequirement = v
	case "authenticationDetails", "AuthenticationDetails":
		f.authDetails = v
	case "riskLevelDuringSignIn", "RiskLevelDuringSignIn":
		f.riskDuring = v
	case "riskLevelAggregated", "RiskLevelAggregated":
		f.riskAggregated = v
	case "riskEventTypes_v2", "RiskEventTypes_V2":
		f.riskEvents = v
	case "riskEventTypes", "RiskEventTypes":
		f.riskEventsV1 = v
	case "activityDisplayName", "ActivityDisplayName":
		f.activity = v
	case "operationName", "OperationName":
		f.operation = v
	case "activityDateTime", "ActivityDateTime":
		f.activityTime = v
	case "result", "Result":
		f.result = v
	case "initiatedBy", "InitiatedBy":
		f.initiatedBy = v
	case "targetResources", "TargetResources":
		f.targets = v
	}
}

// isObjectLike reports whether v is an object or JSON text holding one.
func isObjectLike(v *fastjson.Value) bool {
	switch v.Type() {
	case fastjson.TypeObject:
		return true
	case fastjson.TypeString:
		b := jsonval.Trim(jsonval.Str(v))
		return len(b) > 1 && b[0] == '{'
	}
	return false
}

// collect visits the object and, for a diagnostic record, its properties.
func (p *Platform) collect(v *fastjson.Value) {
	o, _ := v.Object()
	p.f = fields{}
	o.Visit(p.visit)
	if props := p.f.properties; props != nil && props.Type() == fastjson.TypeObject {
		po, _ := props.Object()
		po.Visit(p.visit)
	}
}

// time reads the sign-in's or audit's own time, else the ingestion time,
// else the record time: the first that is a valid time wins, and a present
// but broken one is reported only when none is usable.
func (p *Platform) time(audit bool) (time.Time, jsonval.TimeState) {
	own := p.f.created
	if audit {
		own = p.f.activityTime
	}
	st := jsonval.TimeMissing
	for _, v := range [...]*fastjson.Value{own, p.f.timeGenerated, p.f.recordTime} {
		t, s := jsonval.Time(v)
		if s == jsonval.TimeOK {
			return t, s
		}
		if s == jsonval.TimeInvalid {
			st = jsonval.TimeInvalid
		}
	}
	return time.Time{}, st
}

// Parse implements parser.Platform.
func (p *Platform) Parse(v *fastjson.Value, raw []byte, ev *reposentry.Event) error {
	if v.Type() != fastjson.TypeObject {
		return errNotObject
	}
	if evs, ok := p.Unwrap(v); ok {
		// Parsing one of the entries would silently drop the others.
		return parser.Reject(parser.ReasonUnknownFormat,
			fmt.Errorf("graph page with %d entries in value: envelope not unwrapped by the parser", len(evs)))
	}
	p.collect(v)
	f := &p.f
	audit := p.audit()
	t, st := p.time(audit)
	if audit {
		return p.parseAudit(t, st, ev)
	}
	switch st {
	case jsonval.TimeMissing:
		return errMissingTime
	case jsonval.TimeInvalid:
		return errInvalidTime
	}

	ev.Platform = reposentry.PlatformEntra
	ev.Time = t
	ev.Action = p.action()
	ev.Category = reposentry.CategoryLogin
	p.actor(ev)

	ip := jsonval.IP(jsonval.Str(f.ip))
	if !ip.IsValid() {
		ip = jsonval.IP(jsonval.Str(f.callerIP))
	}
	ev.SourceIP = ip
	if asn, ok := jsonval.Uint(f.asn); ok && asn <= 1<<32-1 {
		ev.Geo.ASN = uint32(asn)
	}
	p.location(ev)
	ev.Outcome = p.outcome()
	ev.UserAgent = p.tab.Bytes(jsonval.Trim(jsonval.Str(f.userAgent)))
	detail := jsonval.Trim(jsonval.Str(f.appName))
	if len(detail) == 0 {
		detail = jsonval.Trim(jsonval.Str(f.resourceName))
	}
	ev.Detail = p.tab.Bytes(detail)
	ev.Session.App = ev.Detail
	p.session(ev)
	p.setID(ev)
	return nil
}

// action names the sign-in log: from the diagnostic category or Log
// Analytics table, else Graph's signInEventTypes, else isInteractive.
func (p *Platform) action() string {
	f := &p.f
	for _, v := range [...]*fastjson.Value{f.category, f.tableType} {
		b := jsonval.Trim(jsonval.Str(v))
		switch {
		case jsonval.EqualFold(b, "SignInLogs") || jsonval.EqualFold(b, "SigninLogs"):
			return ActionSignInInteractive
		case !signInLog(b):
		case bytes.Contains(b, []byte("NonInteractive")):
			return ActionSignInNonInteractive
		case bytes.Contains(b, []byte("ServicePrincipal")):
			return ActionSignInServicePrincipal
		case bytes.Contains(b, []byte("ManagedIdentity")):
			return ActionSignInManagedIdentity
		}
	}
	if types := f.eventTypes; types != nil && types.Type() == fastjson.TypeArray {
		a, _ := types.Array()
		for _, t := range a {
			b := jsonval.Trim(jsonval.Str(t))
			switch {
			case jsonval.EqualFold(b, "interactiveUser"):
				return ActionSignInInteractive
			case jsonval.EqualFold(b, "nonInteractiveUser"):
				return ActionSignInNonInteractive
			case jsonval.EqualFold(b, "servicePrincipal"):
				return ActionSignInServicePrincipal
			case jsonval.EqualFold(b, "managedIdentity"):
				return ActionSignInManagedIdentity
			}
		}
	}
	if b, ok := boolValue(f.isInteractive); ok {
		if b {
			return ActionSignInInteractive
		}
		return ActionSignInNonInteractive
	}
	return ActionSignIn
}

// actor fills the user, or for service principal and managed identity
// sign-ins (which have no user) the application.
func (p *Platform) actor(ev *reposentry.Event) {
	f := &p.f
	upn := jsonval.Trim(jsonval.Str(f.upn))
	app := ev.Action == ActionSignInServicePrincipal || ev.Action == ActionSignInManagedIdentity
	if len(upn) == 0 && !app && len(jsonval.Trim(jsonval.Str(f.spName))) > 0 {
		app = true
	}
	if app && len(upn) == 0 {
		ev.Actor.Login = p.tab.Bytes(jsonval.Trim(jsonval.Str(f.spName)))
		ev.Actor.ID = p.tab.Bytes(jsonval.Trim(jsonval.Str(f.spID)))
		ev.Actor.Type = reposentry.ActorApp
		ev.Credential.Kind = reposentry.CredentialApp
		return
	}
	ev.Actor.Login = p.tab.Bytes(upn)
	ev.Actor.ID = p.tab.Bytes(jsonval.Trim(jsonval.Str(f.userID)))
	if len(upn) > 0 || len(ev.Actor.ID) > 0 {
		ev.Actor.Type = reposentry.ActorUser
		ev.Credential.Kind = reposentry.CredentialSession
	}
	p.buf = jsonval.Lower(p.buf[:0], upn)
	ev.IdentityHint = p.tab.Bytes(p.buf)
}

// object returns v as an object, parsing it with the sub-parser when it is
// JSON text; a later call may invalidate the previous result.
func (p *Platform) object(v *fastjson.Value) *fastjson.Object {
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
	if v.Type() != fastjson.TypeObject {
		return nil
	}
	o, _ := v.Object()
	return o
}

// location fills country and city from location/LocationDetails, falling
// back to the record's country code.
func (p *Platform) location(ev *reposentry.Event) {
	var country, city []byte
	if o := p.object(p.f.location); o != nil {
		country = jsonval.Trim(jsonval.Str(o.Get("countryOrRegion")))
		city = jsonval.Trim(jsonval.Str(o.Get("city")))
	}
	if len(country) == 0 {
		country = jsonval.Trim(jsonval.Str(p.f.country))
	}
	ev.Geo.Country = p.tab.Bytes(country)
	ev.Geo.City = p.tab.Bytes(city)
}

// outcome reads status.errorCode (0 is success, anything else a failure),
// else resultType, the same code as text.
func (p *Platform) outcome() reposentry.Outcome {
	if o := p.object(p.f.status); o != nil {
		if code := o.Get("errorCode"); code != nil {
			if out := codeOutcome(code); out != reposentry.OutcomeUnknown {
				return out
			}
		}
	}
	return codeOutcome(p.f.resultType)
}

func codeOutcome(v *fastjson.Value) reposentry.Outcome {
	if n, ok := jsonval.Uint(v); ok {
		if n == 0 {
			return reposentry.OutcomeSuccess
		}
		return reposentry.OutcomeFailure
	}
	b := jsonval.Trim(jsonval.Str(v))
	switch {
	case jsonval.EqualFold(b, "success"):
		return reposentry.OutcomeSuccess
	case jsonval.EqualFold(b, "failure") || jsonval.EqualFold(b, "failed"):
		return reposentry.OutcomeFailure
	}
	return reposentry.OutcomeUnknown
}

// boolValue reads a lenient boolean: true, 1, "true", "True", "1".
func boolValue(v *fastjson.Value) (val, ok bool) {
	if v == nil {
		return false, false
	}
	switch v.Type() {
	case fastjson.TypeTrue:
		return true, true
	case fastjson.TypeFalse:
		return false, true
	case fastjson.TypeNumber, fastjson.TypeString:
		if n, isNum := jsonval.Uint(v); isNum {
			return n != 0, true
		}
		b := jsonval.Trim(jsonval.Str(v))
		switch {
		case jsonval.EqualFold(b, "true"):
			return true, true
		case jsonval.EqualFold(b, "false"):
			return false, true
		}
	}
	return false, false
}

// setID stores the sign-in id, a digest of it when it is too long, or an id
// derived from the normalised content when it is missing.
func (p *Platform) setID(ev *reposentry.Event) {
	if id := jsonval.Trim(jsonval.Str(p.f.id)); len(id) > 0 {
		if !ev.ID.Set(id) {
			sum := sha256.Sum256(id)
			setHexID(&ev.ID, "d-", sum[:16])
		}
		return
	}
	b := strconv.AppendInt(p.buf[:0], ev.Time.UnixNano(), 10)
	for _, s := range [...]string{ev.Action, ev.Actor.ID, ev.Actor.Login, ev.TargetUser, ev.Detail, ev.UserAgent, ev.Outcome.String()} {
		b = append(b, 0)
		b = append(b, s...)
	}
	b = append(b, 0)
	if ev.SourceIP.IsValid() {
		b = ev.SourceIP.AppendTo(b)
	}
	p.buf = b
	sum := sha256.Sum256(b)
	setHexID(&ev.ID, "h-", sum[:16])
}

func setHexID(id *reposentry.EventID, prefix string, sum []byte) {
	var buf [2 + 2*sha256.Size]byte
	n := copy(buf[:], prefix)
	n += hex.Encode(buf[n:], sum)
	id.Set(buf[:n])
}
