package simulate

import (
	"strconv"
	"time"
)

// GitHub actions the simulator emits.
type ghAction uint8

const (
	aClone ghAction = iota
	aFetch
	aPush
	aDownloadZip
	aPRCreate
	aPRMerge
	aSSOResponse
	aPATRequest
	aPATGranted
	aPublicKeyCreate
	aAPISearch
	aOrgAddMember
	aOrgInviteMember
	aOrgUpdateMember
	aTeamAddMember
	aTeamRemoveMember
	aTeamAddRepo
	aRepoAddMember
	aRepoCreate
)

var ghActions = [...]struct{ name, op string }{
	{"git.clone", "access"}, {"git.fetch", "access"}, {"git.push", "modify"},
	{"repo.download_zip", "access"}, {"pull_request.create", "create"}, {"pull_request.merge", "modify"},
	{"org.sso_response", "authentication"},
	{"personal_access_token.request_created", "create"}, {"personal_access_token.access_granted", "create"},
	{"public_key.create", "create"}, {"api.request", "access"},
	{"org.add_member", "create"}, {"org.invite_member", "create"}, {"org.update_member", "modify"},
	{"team.add_member", "modify"}, {"team.remove_member", "remove"}, {"team.add_repository", "modify"},
	{"repo.add_member", "modify"}, {"repo.create", "create"},
}

func (a ghAction) git() bool { return a <= aPush }

// ghEv is one GitHub audit event before encoding.
type ghEv struct {
	ms     int64
	seq    uint64
	act    ghAction
	who    *person
	repo   int32 // -1 for none
	ip     string
	place  int
	ua     string
	tok    *token
	user   string // target account
	detail string // team, key title, search query
	id     [22]byte
}

// oktaType is an Okta System Log event type the simulator emits.
type oktaType uint8

const (
	oSessionStart oktaType = iota
	oSSO
	oMFA
	oPushSend
	oDenyPush
	oFactorResetAll
	oFactorActivate
	oResetPassword
	oDeactivate
)

var oktaTypes = [...]struct{ name, msg, legacy string }{
	{"user.session.start", "User login to Okta", "core.user_auth.login_success"},
	{"user.authentication.sso", "User single sign on to app", "app.auth.sso"},
	{"user.authentication.auth_via_mfa", "Authentication of user via MFA", "core.user.factor.attempt_success"},
	{"system.push.send_factor_verify_push", "A push was sent to a user for verification", ""},
	{"user.mfa.okta_verify.deny_push", "User rejected Okta push verify", ""},
	{"user.mfa.factor.reset_all", "Reset all factors for user", "core.user.factor.reset_all"},
	{"user.mfa.factor.activate", "User set up factor", "core.user.factor.activate"},
	{"user.account.reset_password", "Fired when the user's password is reset", "core.user.config.password_reset"},
	{"user.lifecycle.deactivate", "Deactivate Okta user", "core.user.config.user_deactivated"},
}

// oktaEv is one Okta System Log event (or, for the acquisition's users, one
// Entra ID sign-in) before encoding.
type oktaEv struct {
	ms      int64
	seq     uint64
	typ     oktaType
	who     *person // the user the event is about
	by      *person // the acting admin for help-desk actions; nil when the user acted
	ip      string
	net     int
	result  string
	reason  string
	session string
	ua      int
	uuid    [36]byte
}

const msLayout = "2006-01-02T15:04:05.000Z"

func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func appendKV(b []byte, k, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, k...)
	b = append(b, '"', ':')
	return appendStr(b, v)
}

func appendKI(b []byte, k string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, k...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

func appendKB(b []byte, k string, v bool) []byte {
	b = append(b, ',', '"')
	b = append(b, k...)
	b = append(b, '"', ':')
	return strconv.AppendBool(b, v)
}

// appendGitHub encodes e as a GitHub audit-log event object.
func (s *sim) appendGitHub(b []byte, e *ghEv) []byte {
	a := ghActions[e.act]
	b = append(b, `{"@timestamp":`...)
	b = strconv.AppendInt(b, e.ms, 10)
	b = append(b, `,"_document_id":"`...)
	b = append(b, e.id[:]...)
	b = append(b, '"')
	b = appendKV(b, "action", a.name)
	b = appendKV(b, "operation_type", a.op)
	p := e.who
	b = appendKV(b, "actor", p.login)
	b = appendKI(b, "actor_id", p.actorID)
	b = appendKB(b, "actor_is_bot", p.role == roleApp)
	if e.ip != "" {
		b = appendKV(b, "actor_ip", e.ip)
	}
	b = append(b, `,"actor_location":{"country_code":`...)
	b = appendStr(b, places[e.place].cc)
	b = append(b, '}')
	b = appendKV(b, "business", business)
	b = appendKI(b, "business_id", businessID)
	b = appendKV(b, "org", orgName)
	b = appendKI(b, "org_id", orgID)
	if e.repo >= 0 {
		rp := s.o.repos[e.repo]
		b = appendKV(b, "repo", rp.full)
		b = appendKI(b, "repo_id", rp.id)
		if e.act.git() {
			b = appendKV(b, "repository", rp.full)
			b = appendKI(b, "repository_id", rp.id)
			b = appendKB(b, "repository_public", rp.vis == visPublic)
			if e.tok == nil && p.role != roleApp {
				b = append(b, `,"transport_protocol":2,"transport_protocol_name":"ssh"`...)
			} else {
				b = append(b, `,"transport_protocol":1,"transport_protocol_name":"http"`...)
			}
		} else {
			b = appendKV(b, "visibility", visNames[rp.vis])
			b = appendKB(b, "public_repo", rp.vis == visPublic)
		}
	}
	if e.ua != "" {
		b = appendKV(b, "user_agent", e.ua)
	}
	if t := e.tok; t != nil {
		b = appendKV(b, "programmatic_access_type", credTypeNames[t.kind])
		b = appendKV(b, "hashed_token", t.hash)
		b = appendKI(b, "token_id", t.id)
		if t.scopes != "" {
			b = appendKV(b, "token_scopes", t.scopes)
		}
	}
	if p.role == roleApp {
		b = appendKV(b, "integration", p.integration)
	}
	if e.user != "" {
		b = appendKV(b, "user", e.user)
	}
	switch e.act {
	case aTeamAddMember, aTeamRemoveMember, aTeamAddRepo:
		b = appendKV(b, "team", orgName+"/"+e.detail)
	case aPublicKeyCreate:
		b = appendKV(b, "title", e.detail)
	case aAPISearch:
		b = append(b, `,"request_method":"GET","url_path":"/search/code"`...)
		b = appendKV(b, "query_string", "q="+e.detail)
	case aPATRequest, aPATGranted:
		b = appendKV(b, "permissions", "contents:read,metadata:read")
		b = appendKV(b, "token_expires_at", e.detail)
		if e.tok != nil && e.tok.name != "" {
			b = appendKV(b, "user_programmatic_access_name", e.tok.name)
		}
	}
	if p.upn != "" {
		b = appendKV(b, "external_identity_nameid", p.upn)
	}
	b = append(b, `,"created_at":`...)
	b = strconv.AppendInt(b, e.ms, 10)
	return append(b, '}')
}

func (s *sim) appendGeo(b []byte, n *network) []byte {
	pl := &places[n.place]
	b = append(b, `"geographicalContext":{"city":`...)
	b = appendStr(b, pl.city)
	b = appendKV(b, "state", pl.state)
	b = appendKV(b, "country", pl.country)
	b = appendKV(b, "postalCode", pl.postal)
	b = append(b, `,"geolocation":{"lat":`...)
	b = strconv.AppendFloat(b, pl.lat, 'f', 4, 64)
	b = append(b, `,"lon":`...)
	b = strconv.AppendFloat(b, pl.lon, 'f', 4, 64)
	return append(b, `}}`...)
}

// appendOkta encodes e as an Okta System Log event.
func (s *sim) appendOkta(b []byte, e *oktaEv) []byte {
	t := oktaTypes[e.typ]
	n := s.o.nets[e.net]
	b = append(b, `{"uuid":"`...)
	b = append(b, e.uuid[:]...)
	b = append(b, `","published":"`...)
	b = time.UnixMilli(e.ms).UTC().AppendFormat(b, msLayout)
	b = append(b, '"')
	b = appendKV(b, "eventType", t.name)
	b = append(b, `,"version":"0","severity":`...)
	if e.result == "SUCCESS" || e.result == "ALLOW" {
		b = appendStr(b, "INFO")
	} else {
		b = appendStr(b, "WARN")
	}
	b = appendKV(b, "displayMessage", t.msg)
	if t.legacy != "" {
		b = appendKV(b, "legacyEventType", t.legacy)
	} else {
		b = append(b, `,"legacyEventType":null`...)
	}
	actor := e.who
	if e.by != nil {
		actor = e.by
	}
	b = append(b, `,"actor":{"id":`...)
	b = appendStr(b, actor.oktaID)
	b = append(b, `,"type":"User"`...)
	b = appendKV(b, "alternateId", actor.upn)
	b = appendKV(b, "displayName", actor.display)
	b = append(b, `,"detailEntry":null}`...)
	ua := webUAs[e.ua]
	b = append(b, `,"client":{"ipAddress":`...)
	b = appendStr(b, e.ip)
	b = append(b, `,"zone":"null","device":"Computer","userAgent":{"rawUserAgent":`...)
	b = appendStr(b, ua.raw)
	b = appendKV(b, "os", ua.os)
	b = appendKV(b, "browser", ua.browser)
	b = append(b, `},`...)
	b = s.appendGeo(b, n)
	b = append(b, `},"outcome":{"result":`...)
	b = appendStr(b, e.result)
	if e.reason != "" {
		b = appendKV(b, "reason", e.reason)
	} else {
		b = append(b, `,"reason":null`...)
	}
	b = append(b, `},"target":[`...)
	switch {
	case e.typ == oSSO:
		b = append(b, `{"id":"`+oktaAppID+`","type":"AppInstance","alternateId":"`+oktaAppName+`","displayName":"`+oktaAppName+`","detailEntry":{"signOnModeType":"SAML_2_0"}}`...)
	case e.by != nil || e.typ == oDeactivate:
		b = append(b, `{"id":`...)
		b = appendStr(b, e.who.oktaID)
		b = append(b, `,"type":"User"`...)
		b = appendKV(b, "alternateId", e.who.upn)
		b = appendKV(b, "displayName", e.who.display)
		b = append(b, `,"detailEntry":null}`...)
	}
	b = append(b, `],"transaction":{"type":"WEB","id":"`...)
	b = append(b, e.uuid[:8]...)
	b = append(b, e.uuid[9:13]...)
	b = append(b, `","detail":{}},"authenticationContext":{"authenticationProvider":null,"credentialProvider":null,"credentialType":null,"issuer":null,"interface":null,"authenticationStep":0,"externalSessionId":`...)
	b = appendStr(b, e.session)
	b = append(b, `},"securityContext":{"asNumber":`...)
	b = strconv.AppendUint(b, uint64(n.asn), 10)
	b = appendKV(b, "asOrg", n.asOrg)
	b = appendKV(b, "isp", n.asOrg)
	b = appendKV(b, "domain", n.domain)
	b = appendKB(b, "isProxy", n.proxy)
	b = append(b, `},"debugContext":{"debugData":{"requestUri":`...)
	if e.typ == oSSO {
		b = appendStr(b, "/app/github/"+oktaAppID+"/sso/saml")
	} else {
		b = appendStr(b, "/api/v1/authn")
	}
	b = append(b, `}},"request":{"ipChain":[{"ip":`...)
	b = appendStr(b, e.ip)
	b = append(b, `,`...)
	b = s.appendGeo(b, n)
	b = append(b, `,"version":"V4","source":null}]}}`...)
	return b
}

// appendEntra encodes e as an Azure diagnostic sign-in record with a
// Graph-shaped properties object.
func (s *sim) appendEntra(b []byte, e *oktaEv) []byte {
	n := s.o.nets[e.net]
	pl := &places[n.place]
	p := e.who
	ua := webUAs[e.ua]
	ts := time.UnixMilli(e.ms).UTC()
	code, reason := "0", "Other."
	if e.result != "SUCCESS" {
		code, reason = "500121", "Authentication failed during strong authentication request."
	}
	b = append(b, `{"time":"`...)
	b = ts.AppendFormat(b, "2006-01-02T15:04:05.0000000Z")
	b = append(b, `","resourceId":"/tenants/`+entraTenant+`/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":"SignInLogs","tenantId":"`+entraTenant+`","resultType":`...)
	b = appendStr(b, code)
	b = append(b, `,"resultSignature":"None","durationMs":0,"callerIpAddress":`...)
	b = appendStr(b, e.ip)
	b = append(b, `,"correlationId":"`...)
	b = append(b, e.session...)
	b = append(b, `","identity":`...)
	b = appendStr(b, p.display)
	b = append(b, `,"Level":4,"location":`...)
	b = appendStr(b, pl.cc)
	b = append(b, `,"properties":{"id":"`...)
	b = append(b, e.uuid[:]...)
	b = append(b, `","createdDateTime":"`...)
	b = ts.AppendFormat(b, "2006-01-02T15:04:05Z")
	b = append(b, '"')
	b = appendKV(b, "userDisplayName", p.display)
	b = appendKV(b, "userPrincipalName", p.upn)
	b = appendKV(b, "userId", p.entraID)
	b = appendKV(b, "appId", entraAppID)
	b = appendKV(b, "appDisplayName", "GitHub Enterprise Cloud - Organization")
	b = appendKV(b, "ipAddress", e.ip)
	b = appendKI(b, "autonomousSystemNumber", int64(n.asn))
	b = append(b, `,"clientAppUsed":"Browser","isInteractive":true,"userAgent":`...)
	b = appendStr(b, ua.raw)
	b = append(b, `,"location":{"city":`...)
	b = appendStr(b, pl.city)
	b = appendKV(b, "state", pl.state)
	b = appendKV(b, "countryOrRegion", pl.cc)
	b = append(b, `,"geoCoordinates":{"latitude":`...)
	b = strconv.AppendFloat(b, pl.lat, 'f', 4, 64)
	b = append(b, `,"longitude":`...)
	b = strconv.AppendFloat(b, pl.lon, 'f', 4, 64)
	b = append(b, `}},"deviceDetail":{"deviceId":"","displayName":"","operatingSystem":`...)
	b = appendStr(b, ua.os)
	b = appendKV(b, "browser", ua.browser)
	b = append(b, `,"isCompliant":false,"isManaged":false,"trustType":""},"status":{"errorCode":`...)
	b = append(b, code...)
	b = appendKV(b, "failureReason", reason)
	b = append(b, `,"additionalDetails":null},"conditionalAccessStatus":"success","authenticationRequirement":"multiFactorAuthentication","appliedConditionalAccessPolicies":[{"id":"aaaa0000-bbbb-1111-cccc-222233334444","displayName":"Require MFA for SaaS","result":"success","enforcedGrantControls":["Mfa"]}],"riskLevelDuringSignIn":"none","riskState":"none","correlationId":"`...)
	b = append(b, e.session...)
	b = append(b, `","resourceDisplayName":"GitHub Enterprise Cloud - Organization","resourceId":"`+entraAppID+`","userType":"Member","homeTenantId":"`+entraTenant+`","resourceTenantId":"`+entraTenant+`","tokenIssuerType":"AzureAD","crossTenantAccessType":"none"}}`...)
	return b
}
