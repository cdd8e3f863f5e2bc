// Package github parses GitHub audit log events: the organization and
// enterprise audit log (REST API pages, streaming, JSON export) and the user
// security log. Field reference: docs/log-formats.md §1.2.
package github

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"github.com/reposentry/reposentry/parser/jsonval"
	"strconv"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/valyala/fastjson"
)

// Rejection reasons of this platform.
const (
	ReasonMissingTime   = "missing_time"
	ReasonInvalidTime   = "invalid_time"
	ReasonMissingAction = "missing_action"
)

var (
	errMissingTime   = parser.Reject(ReasonMissingTime, errors.New("event has no @timestamp or created_at"))
	errInvalidTime   = parser.Reject(ReasonInvalidTime, errors.New("@timestamp/created_at is not epoch milliseconds or RFC 3339"))
	errMissingAction = parser.Reject(ReasonMissingAction, errors.New("event has no action string"))
	errNotObject     = parser.Reject(parser.ReasonUnknownFormat, errors.New("value is not a JSON object"))
)

// fields holds the members of the object being parsed that the parser reads;
// one pass over the object fills it.
type fields struct {
	timestamp, createdAt, docID, action                                 *fastjson.Value
	actor, actorID, actorIsBot, actorIP, actorLocation, userAgent       *fastjson.Value
	user, org, business, repo, repository                               *fastjson.Value
	repositoryPublic, publicRepo, visibility                            *fastjson.Value
	transportProtocol, transportProtocolName                            *fastjson.Value
	hashedToken, tokenID, tokenScopes, accessType                       *fastjson.Value
	integration, oauthApp, oauthAppName, nameID, extUsername, data      *fastjson.Value
	team, title, fingerprint, permission, tokenName, name, deployKeyFPR *fastjson.Value
}

// Platform parses GitHub audit events. It keeps scratch state between calls
// and is not safe for concurrent use: give each parser.Parser its own.
type Platform struct {
	tab     *intern.Table
	f       fields
	visit   func(key []byte, v *fastjson.Value)
	num     []byte // number text scratch
	idBuf   []byte // content hashed into derived ids
	learned map[string]actionInfo
}

// New returns a GitHub platform. parser.New hands it the parser's intern
// table; used alone it interns into a table of its own.
func New() *Platform {
	p := &Platform{tab: intern.New(0), learned: make(map[string]actionInfo)}
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
func (p *Platform) Name() string { return "github" }

// Sniff accepts an object with a string "action" and one of "_document_id",
// "@timestamp" or "created_at", or any object with a "_document_id" (which
// only GitHub uses, so a broken GitHub event is reported as such rather than
// as an unknown format). Okta ("eventType") and Entra ("userPrincipalName")
// shapes are left to their parsers.
func (p *Platform) Sniff(v *fastjson.Value) bool {
	if v.Type() != fastjson.TypeObject {
		return false
	}
	o, _ := v.Object()
	if o.Get("eventType") != nil || o.Get("userPrincipalName") != nil {
		return false
	}
	if o.Get("_document_id") != nil {
		return true
	}
	a := o.Get("action")
	if a == nil || a.Type() != fastjson.TypeString {
		return false
	}
	return o.Get("@timestamp") != nil || o.Get("created_at") != nil
}

// TimeOf implements parser.Timer.
func (p *Platform) TimeOf(v *fastjson.Value) (time.Time, bool) {
	if v.Type() != fastjson.TypeObject {
		return time.Time{}, false
	}
	o, _ := v.Object()
	t, st := jsonval.Time(o.Get("@timestamp"))
	if st != jsonval.TimeOK {
		t, st = jsonval.Time(o.Get("created_at"))
	}
	return t, st == jsonval.TimeOK
}

func (p *Platform) visitField(k []byte, v *fastjson.Value) {
	f := &p.f
	switch string(k) {
	case "@timestamp":
		f.timestamp = v
	case "created_at":
		f.createdAt = v
	case "_document_id":
		f.docID = v
	case "action":
		f.action = v
	case "actor":
		f.actor = v
	case "actor_id":
		f.actorID = v
	case "actor_is_bot":
		f.actorIsBot = v
	case "actor_ip":
		f.actorIP = v
	case "actor_location":
		f.actorLocation = v
	case "user_agent":
		f.userAgent = v
	case "user":
		f.user = v
	case "org":
		f.org = v
	case "business":
		f.business = v
	case "repo":
		f.repo = v
	case "repository":
		f.repository = v
	case "repository_public":
		f.repositoryPublic = v
	case "public_repo":
		f.publicRepo = v
	case "visibility":
		f.visibility = v
	case "transport_protocol":
		f.transportProtocol = v
	case "transport_protocol_name":
		f.transportProtocolName = v
	case "hashed_token":
		f.hashedToken = v
	case "token_id":
		f.tokenID = v
	case "token_scopes":
		f.tokenScopes = v
	case "programmatic_access_type":
		f.accessType = v
	case "integration":
		f.integration = v
	case "oauth_application":
		f.oauthApp = v
	case "oauth_application_name", "application_name":
		f.oauthAppName = v
	case "external_identity_nameid":
		f.nameID = v
	case "external_identity_username":
		f.extUsername = v
	case "data":
		f.data = v
	case "team":
		f.team = v
	case "title":
		f.title = v
	case "fingerprint":
		f.fingerprint = v
	case "deploy_key_fingerprint":
		f.deployKeyFPR = v
	case "permission":
		f.permission = v
	case "user_programmatic_access_name", "token_name":
		f.tokenName = v
	case "name":
		f.name = v
	}
}

// Parse implements parser.Platform.
func (p *Platform) Parse(v *fastjson.Value, raw []byte, ev *reposentry.Event) error {
	if v.Type() != fastjson.TypeObject {
		return errNotObject
	}
	o, _ := v.Object()
	p.f = fields{}
	o.Visit(p.visit)
	f := &p.f

	action := jsonval.Str(f.action)
	if len(action) == 0 {
		return errMissingAction
	}
	t, st := jsonval.Time(f.timestamp)
	if st != jsonval.TimeOK {
		t2, st2 := jsonval.Time(f.createdAt)
		if st2 == jsonval.TimeOK {
			t, st = t2, st2
		} else if st2 == jsonval.TimeInvalid {
			st = jsonval.TimeInvalid
		}
	}
	switch st {
	case jsonval.TimeMissing:
		return errMissingTime
	case jsonval.TimeInvalid:
		return errInvalidTime
	}

	ev.Platform = reposentry.PlatformGitHub
	ev.Time = t
	ev.Action = p.tab.Bytes(action)
	info := p.lookup(ev.Action)

	ev.Actor.Login = p.tab.Bytes(jsonval.Str(f.actor))
	ev.Actor.ID = p.tab.Bytes(p.idText(f.actorID))
	ev.UserAgent = p.tab.Bytes(jsonval.Str(f.userAgent))
	ev.TargetUser = p.tab.Bytes(jsonval.Str(f.user))
	ev.Org = p.tab.Bytes(firstString(f.org))
	ev.Enterprise = p.tab.Bytes(jsonval.Str(f.business))
	repo := jsonval.Str(f.repo)
	if len(repo) == 0 {
		repo = jsonval.Str(f.repository)
	}
	ev.Repo = p.tab.Bytes(repo)
	ev.SourceIP = jsonval.IP(jsonval.Str(f.actorIP))
	p.location(ev)

	nameID := jsonval.Str(f.nameID)
	if len(nameID) == 0 {
		nameID = jsonval.Str(f.extUsername)
	}
	ev.IdentityHint = p.tab.Bytes(nameID)

	ev.Visibility = visibility(f)
	ev.Protocol = protocol(f)

	ev.Credential.Hash = p.tab.Bytes(jsonval.Str(f.hashedToken))
	ev.Credential.ID = p.tab.Bytes(p.idText(f.tokenID))
	ev.Credential.Scopes = p.tab.Bytes(jsonval.Str(f.tokenScopes))
	p.credential(ev, action)

	ev.Category = info.cat
	if info.visibilityIfSet && f.visibility != nil && ev.Visibility != reposentry.VisibilityUnknown {
		ev.Category = reposentry.CategoryVisibilityChange
	}
	ev.Outcome = reposentry.OutcomeSuccess
	if info.fail {
		ev.Outcome = reposentry.OutcomeFailure
	}
	ev.Detail = p.detail(info.detail, ev)

	p.setID(ev)
	return nil
}

// credential fills the credential kind and the actor type, which depend on
// each other: a deploy key is both.
func (p *Platform) credential(ev *reposentry.Event, action []byte) {
	f := &p.f
	login := ev.Actor.Login
	deployActor := login == "deploy_key" || login == "deploy-key"
	kind := accessKind(jsonval.Str(f.accessType))
	isGit := bytes.HasPrefix(action, []byte("git."))
	switch {
	case kind == reposentry.CredentialSSHKey && (login == "" || deployActor):
		kind = reposentry.CredentialDeployKey
	case kind != reposentry.CredentialUnknown:
	case deployActor:
		kind = reposentry.CredentialDeployKey
	case isGit && ev.Protocol == reposentry.ProtocolSSH && ev.Credential.Hash == "" && ev.Credential.ID == "":
		kind = reposentry.CredentialSSHKey
	case !isGit && f.accessType == nil && ev.Credential.Hash == "" && ev.Credential.ID == "" && login != "":
		// No programmatic access on a web event: a browser session.
		kind = reposentry.CredentialSession
	}
	ev.Credential.Kind = kind

	switch {
	case kind == reposentry.CredentialDeployKey:
		ev.Actor.Type = reposentry.ActorDeployKey
	case truthy(f.actorIsBot) || strings.HasSuffix(login, "[bot]"):
		ev.Actor.Type = reposentry.ActorBot
	case len(jsonval.Str(f.integration)) > 0 || kind == reposentry.CredentialApp:
		ev.Actor.Type = reposentry.ActorApp
	case login != "":
		ev.Actor.Type = reposentry.ActorUser
	default:
		ev.Actor.Type = reposentry.ActorUnknown
	}
}

// accessKind maps programmatic_access_type ("Personal access token (classic)",
// "Fine-grained personal access token", "OAuth access token", "GitHub App
// server-to-server token", "Public Key (User/Deploy)", ...) to a kind.
func accessKind(b []byte) reposentry.CredentialKind {
	if len(b) == 0 {
		return reposentry.CredentialUnknown
	}
	var low [96]byte
	n := copy(low[:], b)
	s := low[:n]
	for i, c := range s {
		if c >= 'A' && c <= 'Z' {
			s[i] = c + 'a' - 'A'
		}
	}
	has := func(sub string) bool { return bytes.Contains(s, []byte(sub)) }
	switch {
	case has("fine-grained") || has("fine grained"):
		return reposentry.CredentialPATFineGrained
	case has("personal access token") || has("classic"):
		return reposentry.CredentialPATClassic
	case has("github app") || has("server-to-server") || has("user-to-server") ||
		has("installation") || has("integration"):
		return reposentry.CredentialApp
	case has("oauth"):
		return reposentry.CredentialOAuth
	case has("deploy key"):
		return reposentry.CredentialDeployKey
	case has("public key") || has("ssh key") || has("ssh"):
		return reposentry.CredentialSSHKey
	}
	return reposentry.CredentialUnknown
}

func (p *Platform) location(ev *reposentry.Event) {
	loc := p.f.actorLocation
	if loc == nil {
		return
	}
	switch loc.Type() {
	case fastjson.TypeString:
		ev.Geo.Country = p.tab.Bytes(jsonval.Str(loc))
	case fastjson.TypeObject:
		o, _ := loc.Object()
		var c []byte
		for _, k := range [...]string{"country_code", "country_name", "country"} {
			if c = jsonval.Str(o.Get(k)); len(c) > 0 {
				break
			}
		}
		ev.Geo.Country = p.tab.Bytes(c)
		ev.Geo.City = p.tab.Bytes(jsonval.Str(o.Get("city")))
	}
}

// detail picks the action's most useful extra value.
func (p *Platform) detail(kind detailKind, ev *reposentry.Event) string {
	f := &p.f
	var b []byte
	switch kind {
	case detailVisibility:
		if ev.Visibility != reposentry.VisibilityUnknown && f.visibility != nil {
			return ev.Visibility.String()
		}
		b = p.dataString("visibility")
	case detailTeam:
		if b = jsonval.Str(f.team); len(b) == 0 {
			b = p.dataString("team")
		}
	case detailKey:
		b = firstNonEmpty(f.title, f.fingerprint, f.deployKeyFPR)
		if len(b) == 0 {
			b = p.dataString("title")
		}
	case detailApp:
		b = firstNonEmpty(f.integration, f.oauthAppName, f.oauthApp, f.name)
		if len(b) == 0 {
			b = p.dataString("oauth_application")
		}
	case detailToken:
		b = firstNonEmpty(f.tokenName, f.name)
	case detailPermission:
		if b = jsonval.Str(f.permission); len(b) == 0 {
			b = p.dataString("permission")
		}
	}
	return p.tab.Bytes(b)
}

// dataString reads data.<key>, where older events keep extra values.
func (p *Platform) dataString(key string) []byte {
	if p.f.data == nil || p.f.data.Type() != fastjson.TypeObject {
		return nil
	}
	o, _ := p.f.data.Object()
	return jsonval.Str(o.Get(key))
}

// setID stores _document_id, a digest of it when it is too long, or an id
// derived from the event's normalised content when it is missing, so that
// the same event re-serialised differently (numbers as strings, org as a
// list) still gets the same id.
func (p *Platform) setID(ev *reposentry.Event) {
	id := p.idText(p.f.docID)
	if len(id) > 0 {
		if !ev.ID.Set(id) {
			sum := sha256.Sum256(id)
			setHexID(&ev.ID, "d-", sum[:16])
		}
		return
	}
	b := p.idBuf[:0]
	b = strconv.AppendInt(b, ev.Time.UnixMilli(), 10)
	for _, s := range [...]string{ev.Action, ev.Actor.Login, ev.Actor.ID, ev.Repo, ev.TargetUser, ev.Org,
		ev.Enterprise, ev.Credential.ID, ev.Credential.Hash, ev.UserAgent} {
		b = append(b, 0)
		b = append(b, s...)
	}
	b = append(b, 0)
	if ev.SourceIP.IsValid() {
		b = ev.SourceIP.AppendTo(b)
	}
	b = append(b, 0, byte(ev.Protocol))
	p.idBuf = b
	sum := sha256.Sum256(b)
	setHexID(&ev.ID, "h-", sum[:16])
}

func setHexID(id *reposentry.EventID, prefix string, sum []byte) {
	var buf [2 + 2*sha256.Size]byte
	n := copy(buf[:], prefix)
	n += hex.Encode(buf[n:], sum)
	id.Set(buf[:n])
}

// idText returns the text of a numeric id given as a number or a string;
// 0 means "none" in GitHub's exports (token_id, user_id).
func (p *Platform) idText(v *fastjson.Value) []byte {
	if v == nil {
		return nil
	}
	var b []byte
	switch v.Type() {
	case fastjson.TypeString:
		b = jsonval.Trim(jsonval.Str(v))
	case fastjson.TypeNumber:
		p.num = v.MarshalTo(p.num[:0])
		b = p.num
		if !isDigits(b) {
			// 5.812345e6 and friends: normalise integral values so the
			// same id written two ways reads the same.
			fv, err := v.Float64()
			if err == nil && fv == float64(int64(fv)) && fv < 1<<53 && fv > -(1<<53) {
				p.num = strconv.AppendInt(p.num[:0], int64(fv), 10)
				b = p.num
			}
		}
	default:
		return nil
	}
	if len(b) == 1 && b[0] == '0' {
		return nil
	}
	return b
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

func firstNonEmpty(vs ...*fastjson.Value) []byte {
	for _, v := range vs {
		if b := jsonval.Str(v); len(b) > 0 {
			return b
		}
	}
	return nil
}

// firstString reads a string, or the first string of a list (some exports
// write org as ["acme"]); an empty list gives nothing.
func firstString(v *fastjson.Value) []byte {
	if v == nil {
		return nil
	}
	if v.Type() == fastjson.TypeArray {
		a, _ := v.Array()
		for _, el := range a {
			if b := jsonval.Str(el); len(b) > 0 {
				return b
			}
		}
		return nil
	}
	return jsonval.Str(v)
}

// truthy reads a lenient boolean: true, 1, "true", "1", "yes".
func truthy(v *fastjson.Value) bool {
	b, ok := boolValue(v)
	return ok && b
}

func boolValue(v *fastjson.Value) (val, ok bool) {
	if v == nil {
		return false, false
	}
	switch v.Type() {
	case fastjson.TypeTrue:
		return true, true
	case fastjson.TypeFalse:
		return false, true
	case fastjson.TypeNumber:
		f, err := v.Float64()
		return f != 0, err == nil
	case fastjson.TypeString:
		s := jsonval.Trim(jsonval.Str(v))
		switch {
		case jsonval.EqualFold(s, "true") || jsonval.EqualFold(s, "yes") || string(s) == "1":
			return true, true
		case jsonval.EqualFold(s, "false") || jsonval.EqualFold(s, "no") || string(s) == "0":
			return false, true
		}
	}
	return false, false
}

// visibility reads "visibility", else the repository_public / public_repo
// flags. A false flag says only "not public"; it is read as private, which
// like internal is NonPublic.
func visibility(f *fields) reposentry.Visibility {
	if s := jsonval.Trim(jsonval.Str(f.visibility)); len(s) > 0 {
		switch {
		case jsonval.EqualFold(s, "public"):
			return reposentry.VisibilityPublic
		case jsonval.EqualFold(s, "private"):
			return reposentry.VisibilityPrivate
		case jsonval.EqualFold(s, "internal"):
			return reposentry.VisibilityInternal
		}
	}
	for _, v := range [...]*fastjson.Value{f.repositoryPublic, f.publicRepo} {
		if pub, ok := boolValue(v); ok {
			if pub {
				return reposentry.VisibilityPublic
			}
			return reposentry.VisibilityPrivate
		}
	}
	return reposentry.VisibilityUnknown
}

// protocol reads transport_protocol_name, else transport_protocol (1 = http,
// 2 = ssh, as a number or a string, or the name itself).
func protocol(f *fields) reposentry.Protocol {
	if pr := protocolName(jsonval.Trim(jsonval.Str(f.transportProtocolName))); pr != reposentry.ProtocolUnknown {
		return pr
	}
	v := f.transportProtocol
	if v == nil {
		return reposentry.ProtocolUnknown
	}
	var b []byte
	switch v.Type() {
	case fastjson.TypeNumber:
		fv, err := v.Float64()
		if err != nil {
			return reposentry.ProtocolUnknown
		}
		switch fv {
		case 1:
			return reposentry.ProtocolHTTP
		case 2:
			return reposentry.ProtocolSSH
		}
		return reposentry.ProtocolUnknown
	case fastjson.TypeString:
		b = jsonval.Trim(jsonval.Str(v))
	}
	switch string(b) {
	case "1":
		return reposentry.ProtocolHTTP
	case "2":
		return reposentry.ProtocolSSH
	}
	return protocolName(b)
}

func protocolName(b []byte) reposentry.Protocol {
	switch {
	case jsonval.EqualFold(b, "http") || jsonval.EqualFold(b, "https"):
		return reposentry.ProtocolHTTP
	case jsonval.EqualFold(b, "ssh"):
		return reposentry.ProtocolSSH
	}
	return reposentry.ProtocolUnknown
}
