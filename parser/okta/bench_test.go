package okta_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/reposentry/reposentry/parser/parsertest"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/source"
)

// benchRecords returns realistic System Log lines (~1.6 KB each, the full
// LogEvent the API returns): sessions, SSO into GitHub, MFA and factor
// events by many users from many addresses.
func benchRecords() []source.Record {
	const n = 512
	types := [...]string{"user.session.start", "user.authentication.sso", "user.authentication.auth_via_mfa", "user.mfa.factor.activate"}
	recs := make([]source.Record, 0, n)
	for i := range n {
		user := fmt.Sprintf("user%03d@acme.example", i%97)
		target := `[]`
		if i%4 == 1 {
			target = `[{"id":"0oa9xyz8WVU7tsr6q5p4","type":"AppInstance","alternateId":"GitHub Enterprise Cloud","displayName":"GitHub Enterprise Cloud","detailEntry":{"signOnModeType":"SAML_2_0"}}]`
		}
		line := fmt.Sprintf(`{"uuid":"6c2f0a4e-9b1d-11f0-8e2a-0f5c7d1b%04d","published":"%s","eventType":%q,"version":"0","severity":"INFO",`+
			`"displayMessage":"User single sign on to app","legacyEventType":"app.auth.sso",`+
			`"actor":{"id":"00u1abcd2EFGH3ij%04d","type":"User","alternateId":%q,"displayName":"User %d","detailEntry":null},`+
			`"client":{"ipAddress":"198.51.%d.%d","zone":"null","device":"Computer","userAgent":{"rawUserAgent":"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0","os":"Linux","browser":"FIREFOX"},`+
			`"geographicalContext":{"city":"Amsterdam","state":"North Holland","country":"Netherlands","postalCode":"1012","geolocation":{"lat":52.3700,"lon":4.8900}}},`+
			`"outcome":{"result":"SUCCESS","reason":null},"target":%s,`+
			`"transaction":{"type":"WEB","id":"Y2xvbmUtZGV0ZWN0%04d","detail":{}},`+
			`"authenticationContext":{"authenticationProvider":null,"credentialProvider":null,"credentialType":null,"issuer":null,"interface":null,"authenticationStep":0,"externalSessionId":"102aBcDeFgHiJkLmNoP%04d"},`+
			`"securityContext":{"asNumber":64500,"asOrg":"example isp","isp":"example isp","domain":"example.net","isProxy":false},`+
			`"debugContext":{"debugData":{"requestUri":"/app/github/sso/saml","factor":"OKTA_VERIFY_PUSH"}},`+
			`"request":{"ipChain":[{"ip":"198.51.%d.%d","geographicalContext":{"city":"Amsterdam","state":"North Holland","country":"Netherlands","postalCode":"1012","geolocation":{"lat":52.37,"lon":4.89}},"version":"V4","source":null}]}}`,
			i, time.UnixMilli(1767225600000+int64(i)*1000).UTC().Format("2006-01-02T15:04:05.000Z"), types[i%len(types)],
			i%97, user, i%97, i%200, i%250, target, i, i, i%200, i%250)
		recs = append(recs, source.Record{Data: []byte(line), Origin: reposentry.Origin{Source: "bench", Line: int64(i + 1)}})
	}
	return recs
}

func BenchmarkOkta(b *testing.B) {
	parsertest.BenchParse(b, newParser(), benchRecords())
}

func TestParseZeroAllocWhenWarm(t *testing.T) {
	p := newParser()
	recs := benchRecords()
	dst := make([]reposentry.Event, 0, 4)
	for _, r := range recs { // warm the intern table and buffers
		dst = p.Parse(r, dst[:0], nil)
		if len(dst) != 1 {
			t.Fatalf("record %d gave %d events", r.Origin.Line, len(dst))
		}
	}
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		dst = p.Parse(recs[i%len(recs)], dst[:0], nil)
		i++
	})
	if allocs != 0 {
		t.Errorf("Parse allocates %.1f times per record once warm, want 0", allocs)
	}
}
