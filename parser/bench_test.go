package parser_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reposentry/reposentry/parser/parsertest"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/source"
)

// benchRecords returns realistic streaming records (~750 bytes each): Git
// reads by many actors over many repositories, mixed with web events.
func benchRecords() []source.Record {
	const n = 512
	recs := make([]source.Record, 0, n)
	for i := range n {
		actor := fmt.Sprintf("dev-%03d", i%97)
		repo := fmt.Sprintf("acme/service-%03d", i%211)
		var line string
		if i%4 == 3 {
			line = fmt.Sprintf(`{"@timestamp":%d,"_document_id":"Pp0aXc4Ld9sQe2Vt6R%04d","action":"repo.download_zip","actor":%q,"actor_id":%d,`+
				`"actor_ip":"198.51.%d.%d","actor_location":{"country_code":"NL"},"business":"acme-corp","business_id":4411,"org":"acme","org_id":9123456,`+
				`"repo":%q,"repo_id":%d,"visibility":"private","operation_type":"access","public_repo":false,`+
				`"request_id":"C2D4:3A1B:8F0E21:93A4C7:6650F1A2","request_access_security_header":null,`+
				`"user_agent":"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0","created_at":%d,`+
				`"external_identity_nameid":"%s@acme.example","external_identity_username":"%s@acme.example"}`,
				1767225600000+i*1000, i, actor, 5800000+i%97, i%200, i%250, repo, 70000000+i%211, 1767225600000+i*1000, actor, actor)
		} else {
			line = fmt.Sprintf(`{"@timestamp":%d,"_document_id":"Zq3kLr8TmQ2wXy7pVb%04d","action":"git.clone","actor":%q,"actor_id":%d,`+
				`"actor_ip":"198.51.%d.%d","actor_location":{"country_code":"NL"},"business":"acme-corp","business_id":4411,"org":"acme","org_id":9123456,`+
				`"repo":%q,"repository":%q,"repository_public":false,"repository_id":%d,"transport_protocol":1,"transport_protocol_name":"http",`+
				`"user_agent":"git/2.44.0","programmatic_access_type":"Fine-grained personal access token","token_id":%d,`+
				`"hashed_token":"kq1m0Yc4v3Jd1n8T0p2r+Qm7cV9wZs6yXh5bLa%04d=","operation_type":"access","user":"","user_id":0,`+
				`"external_identity_nameid":"%s@acme.example","created_at":%d}`,
				1767225600000+i*1000, i, actor, 5800000+i%97, i%200, i%250, repo, repo, 70000000+i%211, 77120000+i%97, i%97, actor, 1767225600000+i*1000)
		}
		recs = append(recs, source.Record{Data: []byte(line), Origin: reposentry.Origin{Source: "bench", Line: int64(i + 1)}})
	}
	return recs
}

func BenchmarkParseGitHubNDJSON(b *testing.B) {
	parsertest.BenchParse(b, newParser(), benchRecords())
}

func BenchmarkTimes(b *testing.B) {
	p := newParser()
	recs := benchRecords()
	var n int
	fn := func(time.Time) { n++ }
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.Times(recs[i%len(recs)], fn)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if n != b.N {
		b.Fatalf("Times yielded %d times for %d records", n, b.N)
	}
}

func FuzzParse(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.*json"))
	for _, in := range inputs {
		if data, err := os.ReadFile(in); err == nil {
			f.Add(data, false)
		}
	}
	f.Add([]byte(clone), true)
	f.Add([]byte(`{"event":"{\"@timestamp\":\"2026-01-01T00:00:00+01:00\",\"action\":\"git.fetch\",\"_document_id\":\"x\"}"}`), false)
	f.Add([]byte(`{"records":[{"_document_id":"a","action":"repo.update","created_at":1.5e12,"org":[1,"x"],"actor_location":"NL"}]}`), false)
	p := newParser()
	f.Fuzz(func(t *testing.T, data []byte, streamed bool) {
		rec := source.Record{Data: data, Origin: reposentry.Origin{Source: "fuzz", Line: 1}}
		if streamed {
			rec.Format = reposentry.FormatJSONArray
		}
		evs := p.Parse(rec, nil, func(r parser.Rejection) {
			if r.Reason == "" || r.Err == nil {
				t.Fatalf("rejection without reason or error: %+v", r)
			}
		})
		for i := range evs {
			ev := &evs[i]
			if ev.Time.IsZero() || ev.Action == "" || ev.ID.IsZero() || ev.Platform != reposentry.PlatformGitHub {
				t.Fatalf("incomplete event %+v", ev)
			}
			if len(ev.Raw) == 0 {
				t.Fatalf("event without raw")
			}
		}
		p.Times(rec, func(time.Time) {})
	})
}
