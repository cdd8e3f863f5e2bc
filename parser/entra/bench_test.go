package entra_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/reposentry/reposentry/parser/parsertest"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/source"
)

// benchRecords returns realistic records (~1.3–2 KB each), one per record:
// sign-ins as diagnostic records (as Event Hubs consumers write them), Graph
// objects and Log Analytics rows with dynamic columns as JSON text, and
// AuditLogs rows for security info registrations.
func benchRecords() []source.Record {
	const n = 512
	recs := make([]source.Record, 0, n)
	for i := range n {
		upn := fmt.Sprintf("user%03d@acme.example", i%97)
		ts := time.UnixMilli(1767225600000 + int64(i)*1000).UTC()
		ip := fmt.Sprintf("198.51.%d.%d", i%200, i%250)
		code := 0
		if i%7 == 0 {
			code = 50126
		}
		var line string
		switch i % 4 {
		case 0:
			line = fmt.Sprintf(`{"time":"%s","resourceId":"/tenants/4e7c1d2a-5b6f-4a8e-9c0d-1e2f3a4b5c6d/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":"SignInLogs","tenantId":"4e7c1d2a-5b6f-4a8e-9c0d-1e2f3a4b5c6d","resultType":"%d","resultSignature":"None","durationMs":0,"callerIpAddress":"%s","correlationId":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2%04d","identity":"User %d","Level":4,"location":"NL",`+
				`"properties":{"id":"5b0a6c1e-2f44-4d9b-9a61-7e3c0d5f%04d","createdDateTime":"%s","userDisplayName":"User %d","userPrincipalName":%q,"userId":"7d3c2b1a-0000-4a4a-8b8b-1122334%05d","appId":"11112222-3333-4444-5555-666677778888","appDisplayName":"GitHub Enterprise Cloud - Organization","ipAddress":"%s","autonomousSystemNumber":64500,"clientAppUsed":"Browser","isInteractive":true,"userAgent":"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",`+
				`"location":{"city":"Amsterdam","state":"Noord-Holland","countryOrRegion":"NL","geoCoordinates":{"latitude":52.3700,"longitude":4.8900}},"deviceDetail":{"deviceId":"","displayName":"","operatingSystem":"Linux","browser":"Firefox 125.0","isCompliant":false,"isManaged":false,"trustType":""},"status":{"errorCode":%d,"failureReason":"Other.","additionalDetails":null},"conditionalAccessStatus":"success","authenticationRequirement":"multiFactorAuthentication",`+
				`"appliedConditionalAccessPolicies":[{"id":"aaaa0000-bbbb-1111-cccc-222233334444","displayName":"Require MFA for SaaS","result":"success","enforcedGrantControls":["Mfa"]}],"riskLevelDuringSignIn":"none","riskState":"none","resourceDisplayName":"GitHub Enterprise Cloud - Organization","userType":"Member","tokenIssuerType":"AzureAD"}}`,
				ts.Format("2006-01-02T15:04:05.0000000Z"), code, ip, i, i%97, i, ts.Format(time.RFC3339), i%97, upn, i%97, ip, code)
		case 1:
			line = fmt.Sprintf(`{"id":"5b0a6c1e-2f44-4d9b-9a61-7e3c0d5f%04d","createdDateTime":"%s","userDisplayName":"User %d","userPrincipalName":%q,"userId":"7d3c2b1a-0000-4a4a-8b8b-1122334%05d","appId":"11112222-3333-4444-5555-666677778888","appDisplayName":"GitHub Enterprise Cloud - Organization","ipAddress":"%s","autonomousSystemNumber":64500,"clientAppUsed":"Browser","isInteractive":false,"userAgent":"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",`+
				`"location":{"city":"Amsterdam","state":"Noord-Holland","countryOrRegion":"NL","geoCoordinates":{"latitude":52.37,"longitude":4.89}},"deviceDetail":{"deviceId":"","operatingSystem":"Linux","browser":"Firefox 125.0","isCompliant":false,"isManaged":false},"status":{"errorCode":%d,"failureReason":"Other.","additionalDetails":null},"conditionalAccessStatus":"success","authenticationRequirement":"multiFactorAuthentication","riskLevelDuringSignIn":"none","riskState":"none","correlationId":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2%04d"}`,
				i, ts.Format(time.RFC3339), i%97, upn, i%97, ip, code, i)
		case 2:
			line = fmt.Sprintf(`{"TenantId":"4e7c1d2a-5b6f-4a8e-9c0d-1e2f3a4b5c6d","SourceSystem":"Azure AD","TimeGenerated":"%s","OperationName":"Sign-in activity","Category":"NonInteractiveUserSignInLogs","ResultType":"%d","Id":"5b0a6c1e-2f44-4d9b-9a61-7e3c0d5f%04d","UserPrincipalName":%q,"UserId":"7d3c2b1a-0000-4a4a-8b8b-1122334%05d","AppDisplayName":"Microsoft Office","IPAddress":"%s","AutonomousSystemNumber":"64500","Location":"NL",`+
				`"LocationDetails":"{\"city\":\"Amsterdam\",\"state\":\"Noord-Holland\",\"countryOrRegion\":\"NL\",\"geoCoordinates\":{\"latitude\":52.37,\"longitude\":4.89}}","Status":"{\"errorCode\":%d,\"failureReason\":\"Other.\"}","DeviceDetail":"{\"operatingSystem\":\"Windows10\",\"browser\":\"Edge 120\"}","UserAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/120.0","RiskLevelDuringSignIn":"none","IsInteractive":"False","Type":"AADNonInteractiveUserSignInLogs"}`,
				ts.Format("2006-01-02T15:04:05.000Z"), code, i, upn, i%97, ip, code)
		default:
			line = fmt.Sprintf(`{"TenantId":"4e7c1d2a-5b6f-4a8e-9c0d-1e2f3a4b5c6d","SourceSystem":"Azure AD","TimeGenerated":"%s","ResourceId":"/tenants/4e7c1d2a-5b6f-4a8e-9c0d-1e2f3a4b5c6d/providers/Microsoft.aadiam","OperationName":"User registered security info","OperationVersion":"1.0","Category":"UserManagement","ResultSignature":"None","DurationMs":0,"CorrelationId":"1a2b3c4d-0000-4a4a-8b8b-11223344%04d","Result":"success","ResultReason":"User registered Authenticator App with Notification and Code",`+
				`"ActivityDisplayName":"User registered security info","ActivityDateTime":"%s","LoggedByService":"Authentication Methods","OperationType":"Add","Id":"Mfa_1a2b3c4d-0000-4a4a-8b8b-11223344%04d_AAAA_1111",`+
				`"InitiatedBy":"{\"user\":{\"id\":\"7d3c2b1a-0000-4a4a-8b8b-1122334%05d\",\"displayName\":null,\"userPrincipalName\":\"%s\",\"ipAddress\":\"%s\",\"userType\":null}}",`+
				`"TargetResources":"[{\"id\":\"7d3c2b1a-0000-4a4a-8b8b-1122334%05d\",\"displayName\":null,\"type\":\"User\",\"userPrincipalName\":\"%s\",\"modifiedProperties\":[]}]",`+
				`"AdditionalDetails":[{"key":"Method","value":"Authenticator App"}],"Type":"AuditLogs"}`,
				ts.Format("2006-01-02T15:04:05.000Z"), i, ts.Format("2006-01-02T15:04:05.0000000Z"), i, i%97, upn, ip, i%97, upn)
		}
		recs = append(recs, source.Record{Data: []byte(line), Origin: reposentry.Origin{Source: "bench", Line: int64(i + 1)}})
	}
	return recs
}

func BenchmarkEntra(b *testing.B) {
	parsertest.BenchParse(b, newParser(), benchRecords())
}

func TestParseZeroAllocWhenWarm(t *testing.T) {
	p := newParser()
	recs := benchRecords()
	dst := make([]reposentry.Event, 0, 4)
	for _, r := range recs { // warm the intern table and buffers
		dst = p.Parse(r, dst[:0], nil)
		if len(dst) != 1 || dst[0].IdentityHint == "" || !dst[0].SourceIP.IsValid() {
			t.Fatalf("record %d gave %+v", r.Origin.Line, dst)
		}
	}
	i := 0
	allocs := testing.AllocsPerRun(300, func() {
		dst = p.Parse(recs[i%len(recs)], dst[:0], nil)
		i++
	})
	if allocs != 0 {
		t.Errorf("Parse allocates %.1f times per record once warm, want 0", allocs)
	}
	wrapped := source.Record{Data: []byte(`{"records":[` + string(recs[0].Data) + `,` + string(recs[4].Data) + `]}`)}
	dst = p.Parse(wrapped, dst[:0], nil)
	if len(dst) != 2 {
		t.Fatalf("records wrapper gave %d events", len(dst))
	}
	allocs = testing.AllocsPerRun(100, func() { dst = p.Parse(wrapped, dst[:0], nil) })
	if allocs != 0 {
		t.Errorf("Parse of a records wrapper allocates %.1f times once warm, want 0", allocs)
	}
}
