package github

import (
	"testing"

	"github.com/reposentry/reposentry/parser/parsertest"

	"github.com/reposentry/reposentry"
	"github.com/valyala/fastjson"
)

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
		parsertest.CheckObject(t, p, reposentry.PlatformGitHub, &fp, data)
	})
}
