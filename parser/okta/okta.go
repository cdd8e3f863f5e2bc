// Package okta parses Okta System Log events (LogEvent objects): System Log
// API pages (JSON arrays), NDJSON exports, Log Streaming to Amazon
// EventBridge ({"detail-type":…,"detail":{…}}) and, through Unwrap, event
// hook deliveries ({"data":{"events":[…]}}). Field reference:
// docs/log-formats.md §4.1.
package okta

import (
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
	ReasonMissingTime   = "missing_time"
	ReasonInvalidTime   = "invalid_time"
	ReasonMissingAction = "missing_action"
)

var (
	errMissingTime   = parser.Reject(ReasonMissingTime, errors.New("okta event has no published time"))
	errInvalidTime   = parser.Reject(ReasonInvalidTime, errors.New("okta published is not an ISO 8601 time or an epoch number"))
	errMissingAction = parser.Reject(ReasonMissingAction, errors.New("okta event has no eventType string"))
	errNotObject     = parser.Reject(parser.ReasonUnknownFormat, errors.New("okta event is not a JSON object"))
)

// hookEventType is the eventType of an event hook delivery's envelope.
const hookEventType = "com.okta.event_hook"

// fields holds the members of the event being parsed that the parser reads;
// one pass over the object fills it.
type fields struct {
	uuid, published, eventType, actor, client, outcome, target *fastjson.Value
	securityContext, debugContext, request                     *fastjson.Value
	authContext                                                *fastjson.Value
}

// Platform parses Okta System Log events. It keeps scratch state between
// calls and is not safe for concurrent use: give each parser.Parser its own.
type Platform struct {
	tab   *intern.Table
	f     fields
	visit func(key []byte, v *fastjson.Value)
	buf   []byte // lower-cased identity hints and content hashed into derived ids
}

// New returns an Okta platform. parser.New hands it the parser's intern
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
func (p *Platform) Name() string { return "okta" }

// Sniff accepts an object with "eventType" and "published" or "uuid", or
// with both "uuid" and "published" (a LogEvent, possibly broken, which
// is then reported as an Okta rejection), an event hook delivery (eventType
// com.okta.event_hook), or an EventBridge envelope whose
// "detail" is a LogEvent. GitHub events have none of these members.
func (p *Platform) Sniff(v *fastjson.Value) bool {
	if v.Type() != fastjson.TypeObject {
		return false
	}
	o, _ := v.Object()
	if et := o.Get("eventType"); et != nil {
		// Azure Event Grid events also have eventType and data, so a hook
		// is recognised by its own event type.
		return o.Get("published") != nil || o.Get("uuid") != nil || string(jsonval.Str(et)) == hookEventType
	}
	if o.Get("uuid") != nil && o.Get("published") != nil {
		return true
	}
	if o.Get("detail-type") != nil {
		d := o.Get("detail")
		return jsonval.Member(d, "eventType") != nil && (jsonval.Member(d, "published") != nil || jsonval.Member(d, "uuid") != nil)
	}
	return false
}

// Unwrap returns the LogEvents of an event hook delivery
// ({"eventType":"com.okta.event_hook",…,"data":{"events":[…]}}); ok is false
// for any other value. It is meant for a parser.Parser that unwraps
// platform envelopes and dispatches each value as an event; until the
// Parser does, Parse rejects a delivery (unknown_format) rather than keep
// only one of its events.
func (p *Platform) Unwrap(v *fastjson.Value) (events []*fastjson.Value, ok bool) {
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil, false
	}
	o, _ := v.Object()
	if string(jsonval.Str(o.Get("eventType"))) != hookEventType {
		return nil, false
	}
	evs := jsonval.Member(o.Get("data"), "events")
	if evs == nil || evs.Type() != fastjson.TypeArray {
		return nil, false
	}
	a, _ := evs.Array()
	return a, true
}

// event returns the LogEvent object inside v: v itself, or the "detail" of
// an EventBridge envelope.
func event(v *fastjson.Value) *fastjson.Object {
	o, _ := v.Object()
	if o.Get("detail-type") != nil {
		if d := o.Get("detail"); d != nil && d.Type() == fastjson.TypeObject {
			o, _ = d.Object()
		}
	}
	return o
}

// TimeOf implements parser.Timer.
func (p *Platform) TimeOf(v *fastjson.Value) (time.Time, bool) {
	if v.Type() != fastjson.TypeObject {
		return time.Time{}, false
	}
	t, st := jsonval.Time(event(v).Get("published"))
	return t, st == jsonval.TimeOK
}

func (p *Platform) visitField(k []byte, v *fastjson.Value) {
	f := &p.f
	switch string(k) {
	case "uuid":
		f.uuid = v
	case "published":
		f.published = v
	case "eventType":
		f.eventType = v
	case "actor":
		f.actor = v
	case "client":
		f.client = v
	case "outcome":
		f.outcome = v
	case "target":
		f.target = v
	case "securityContext":
		f.securityContext = v
	case "debugContext":
		f.debugContext = v
	case "request":
		f.request = v
	case "authenticationContext":
		f.authContext = v
	}
}

// Parse implements parser.Platform.
func (p *Platform) Parse(v *fastjson.Value, raw []byte, ev *reposentry.Event) error {
	if v.Type() != fastjson.TypeObject {
		return errNotObject
	}
	o := event(v)
	if evs, ok := p.Unwrap(v); ok {
		// Parsing one of the events would silently drop the others.
		return parser.Reject(parser.ReasonUnknownFormat,
			fmt.Errorf("okta event hook delivery with %d events in data.events: envelope not unwrapped by the parser", len(evs)))
	}
	p.f = fields{}
	o.Visit(p.visit)
	f := &p.f

	action := jsonval.Trim(jsonval.Str(f.eventType))
	if len(action) == 0 {
		return errMissingAction
	}
	t, st := jsonval.Time(f.published)
	switch st {
	case jsonval.TimeMissing:
		return errMissingTime
	case jsonval.TimeInvalid:
		return errInvalidTime
	}

	ev.Platform = reposentry.PlatformOkta
	ev.Time = t
	ev.Action = p.tab.Bytes(action)
	ev.Category = category(ev.Action)
	ev.Outcome = outcome(jsonval.Str(jsonval.Member(f.outcome, "result")))

	p.actor(ev)
	p.client(ev)
	sc := f.securityContext
	if asn, ok := jsonval.Uint(jsonval.Member(sc, "asNumber")); ok && asn <= 1<<32-1 {
		ev.Geo.ASN = uint32(asn)
	}
	ev.Geo.ASOrg = p.tab.Bytes(jsonval.Trim(jsonval.Str(jsonval.Member(sc, "asOrg"))))
	p.targets(ev)
	p.session(ev)
	p.setID(ev)
	return nil
}

// actor fills the actor, the identity hint and the credential kind: a user
// acting in Okta does so in a browser or API session.
func (p *Platform) actor(ev *reposentry.Event) {
	a := p.f.actor
	login := jsonval.Trim(jsonval.Str(jsonval.Member(a, "alternateId")))
	ev.Actor.Login = p.tab.Bytes(login)
	ev.Actor.ID = p.tab.Bytes(jsonval.Trim(jsonval.Str(jsonval.Member(a, "id"))))
	ev.Actor.Type = actorType(jsonval.Str(jsonval.Member(a, "type")))
	if ev.Actor.Type == reposentry.ActorUser || ev.Actor.Type == reposentry.ActorUnknown {
		p.buf = jsonval.Lower(p.buf[:0], login)
		ev.IdentityHint = p.tab.Bytes(p.buf)
	}
	if ev.Actor.Type == reposentry.ActorUser {
		ev.Credential.Kind = reposentry.CredentialSession
	}
}

// actorType maps actor.type. SystemPrincipal is Okta itself acting (on a
// schedule, on a policy), the closest fit of which is a bot.
func actorType(b []byte) reposentry.ActorType {
	switch {
	case len(b) == 0:
		return reposentry.ActorUnknown
	case jsonval.EqualFold(b, "User"):
		return reposentry.ActorUser
	case jsonval.EqualFold(b, "SystemPrincipal"):
		return reposentry.ActorBot
	case jsonval.EqualFold(b, "PublicClientApp"), jsonval.EqualFold(b, "PublicClientApplication"), jsonval.EqualFold(b, "AppInstance"),
		jsonval.EqualFold(b, "Client"), jsonval.EqualFold(b, "ServiceApp"):
		return reposentry.ActorApp
	}
	return reposentry.ActorUnknown
}

// client fills the address, user agent and place, falling back to the first
// hop of request.ipChain when client has none.
func (p *Platform) client(ev *reposentry.Event) {
	c := p.f.client
	ev.SourceIP = jsonval.IP(jsonval.Str(jsonval.Member(c, "ipAddress")))
	ev.UserAgent = p.tab.Bytes(jsonval.Trim(jsonval.Str(jsonval.Member(jsonval.Member(c, "userAgent"), "rawUserAgent"))))
	geo := jsonval.Member(c, "geographicalContext")
	if !ev.SourceIP.IsValid() || geo == nil || geo.Type() != fastjson.TypeObject {
		if hop := firstHop(p.f.request); hop != nil {
			if !ev.SourceIP.IsValid() {
				ev.SourceIP = jsonval.IP(jsonval.Str(jsonval.Member(hop, "ip")))
			}
			if geo == nil || geo.Type() != fastjson.TypeObject {
				geo = jsonval.Member(hop, "geographicalContext")
			}
		}
	}
	ev.Geo.Country = p.country(jsonval.Trim(jsonval.Str(jsonval.Member(geo, "country"))))
	ev.Geo.City = p.tab.Bytes(jsonval.Trim(jsonval.Str(jsonval.Member(geo, "city"))))
}

// country returns the ISO 3166-1 alpha-2 code of a country name (Okta
// writes English names, "Netherlands"), or the name as given when it is not
// known.
func (p *Platform) country(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	p.buf = jsonval.Lower(p.buf[:0], b)
	if cc, ok := countryCodes[string(p.buf)]; ok {
		return cc
	}
	if len(b) == 2 {
		p.buf = append(p.buf[:0], upperASCII(b[0]), upperASCII(b[1]))
		if isCountryCode[string(p.buf)] {
			return p.tab.Bytes(p.buf)
		}
	}
	return p.tab.Bytes(b)
}

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func firstHop(req *fastjson.Value) *fastjson.Value {
	chain := jsonval.Member(req, "ipChain")
	if chain == nil || chain.Type() != fastjson.TypeArray {
		return nil
	}
	a, _ := chain.Array()
	if len(a) == 0 {
		return nil
	}
	return a[0]
}

// targets fills TargetUser (the first User target: whose factors were
// reset, who was granted a privilege) and Detail: the application signed
// into, else the group or privilege granted, else the factor involved.
func (p *Platform) targets(ev *reposentry.Event) {
	var user, app, group []byte
	if p.f.target != nil && p.f.target.Type() == fastjson.TypeArray {
		a, _ := p.f.target.Array()
		for _, t := range a {
			typ := jsonval.Str(jsonval.Member(t, "type"))
			name := jsonval.Trim(jsonval.Str(jsonval.Member(t, "displayName")))
			switch {
			case jsonval.EqualFold(typ, "User") && user == nil:
				user = jsonval.Trim(jsonval.Str(jsonval.Member(t, "alternateId")))
				if len(user) == 0 {
					user = name
				}
			case jsonval.EqualFold(typ, "AppInstance") && app == nil:
				app = name
				if len(app) == 0 {
					app = jsonval.Trim(jsonval.Str(jsonval.Member(t, "alternateId")))
				}
			case jsonval.EqualFold(typ, "UserGroup") && group == nil:
				group = name
			}
		}
	}
	ev.TargetUser = p.tab.Bytes(user)
	ev.Session.App = p.tab.Bytes(app)
	detail := app
	debug := jsonval.Member(p.f.debugContext, "debugData")
	if len(detail) == 0 && ev.Category == reposentry.CategoryPermissionChange {
		if detail = group; len(detail) == 0 {
			detail = jsonval.Trim(jsonval.Str(jsonval.Member(debug, "privilegeGranted")))
		}
	}
	if len(detail) == 0 {
		detail = jsonval.Trim(jsonval.Str(jsonval.Member(debug, "factor")))
	}
	ev.Detail = p.tab.Bytes(detail)
}

// outcome maps outcome.result. CHALLENGE, SKIPPED and UNKNOWN say nothing
// about whether the attempt succeeded.
func outcome(b []byte) reposentry.Outcome {
	b = jsonval.Trim(b)
	switch {
	case jsonval.EqualFold(b, "SUCCESS"), jsonval.EqualFold(b, "ALLOW"):
		return reposentry.OutcomeSuccess
	case jsonval.EqualFold(b, "FAILURE"), jsonval.EqualFold(b, "DENY"):
		return reposentry.OutcomeFailure
	}
	return reposentry.OutcomeUnknown
}

// setID stores uuid, a digest of it when it is too long, or an id derived
// from the event's normalised content when it is missing, so that the same
// event re-serialised differently gets the same id.
func (p *Platform) setID(ev *reposentry.Event) {
	if id := jsonval.Trim(jsonval.Str(p.f.uuid)); len(id) > 0 {
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
