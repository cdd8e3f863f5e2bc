package github

import (
	"testing"
	"unsafe"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/parser"
	"github.com/valyala/fastjson"
)

func unsafeData(s string) *byte { return unsafe.StringData(s) }

func FuzzGitHub(f *testing.F) {
	for _, s := range []string{
		`{"@timestamp":1767225600123,"_document_id":"Zq3kLr8TmQ2wXy7pVb1cDe","action":"git.clone","actor":"jdoe","actor_id":5812345,"actor_ip":"198.51.100.23","actor_location":{"country_code":"NL"},"org":"acme","repo":"acme/x","repository_public":false,"transport_protocol":1,"programmatic_access_type":"Fine-grained personal access token","token_id":77,"hashed_token":"h="}`,
		`{"@timestamp":"1624445969188.000000","action":"repo.update","org":["acme"],"public_repo":"false","transport_protocol":"2","actor_location":{"country_name":"Netherlands"},"data":{"team":"t"}}`,
		`{"created_at":"2021-06-23T12:59:29.188+02:00","action":"team.add_member","actor_id":"7","actor_is_bot":"true","visibility":"internal"}`,
		`{"_document_id":"x","action":"git.clone","actor":"deploy_key","programmatic_access_type":"Public Key (User/Deploy)"}`,
		`{"created_at":1e300,"action":"a"}`,
		`{"created_at":"9999999999999999999999999","action":"a","actor_ip":"fe80::1%eth0"}`,
	} {
		f.Add([]byte(s))
	}
	p := New()
	var fp fastjson.Parser
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := fp.ParseBytes(data)
		if err != nil {
			return
		}
		sniffed := p.Sniff(v)
		_, _ = p.TimeOf(v)
		var ev reposentry.Event
		err = p.Parse(v, data, &ev)
		if err != nil {
			if r, ok := err.(*parser.Rejection); !ok || r.Reason == "" || r.Err == nil {
				t.Fatalf("Parse error %v is not a complete rejection", err)
			}
			return
		}
		if ev.Time.IsZero() || ev.Action == "" || ev.ID.IsZero() || ev.Platform != reposentry.PlatformGitHub {
			t.Fatalf("accepted incomplete event %+v (sniffed %v)", ev, sniffed)
		}
		if len(ev.ID.String()) > reposentry.MaxEventIDLen {
			t.Fatalf("id too long: %q", ev.ID.String())
		}
	})
}
