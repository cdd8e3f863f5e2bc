package sigma_test

import (
	"fmt"
	"io/fs"
	"testing"
	"testing/fstest"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/github"
	"github.com/reposentry/reposentry/rules"
	"github.com/reposentry/reposentry/sigma"
	"github.com/reposentry/reposentry/source"
)

// benchRecords are realistic GitHub streaming records: Git reads by many
// actors over many repositories, archive downloads and some web events.
func benchRecords() []source.Record {
	const n = 1024
	recs := make([]source.Record, 0, n)
	for i := range n {
		actor := fmt.Sprintf("dev-%03d", i%97)
		repo := fmt.Sprintf("acme/service-%03d", i%211)
		ts := 1767225600000 + i*1000
		var line string
		switch {
		case i%16 == 15:
			line = fmt.Sprintf(`{"@timestamp":%d,"_document_id":"Wb0aXc4Ld9sQe2Vt6R%04d","action":"org.update_member","actor":"owner-acme","actor_id":11,`+
				`"actor_location":{"country_code":"NL"},"business":"acme-corp","org":"acme","user":%q,"permission":"admin","operation_type":"modify",`+
				`"user_agent":"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0","created_at":%d}`, ts, i, actor, ts)
		case i%4 == 3:
			line = fmt.Sprintf(`{"@timestamp":%d,"_document_id":"Pp0aXc4Ld9sQe2Vt6R%04d","action":"repo.download_zip","actor":%q,"actor_id":%d,`+
				`"actor_ip":"198.51.%d.%d","actor_location":{"country_code":"NL"},"business":"acme-corp","business_id":4411,"org":"acme","org_id":9123456,`+
				`"repo":%q,"repo_id":%d,"visibility":"private","operation_type":"access","public_repo":false,`+
				`"request_id":"C2D4:3A1B:8F0E21:93A4C7:6650F1A2","user_agent":"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",`+
				`"created_at":%d,"external_identity_nameid":"%s@acme.example"}`,
				ts, i, actor, 5800000+i%97, i%200, i%250, repo, 70000000+i%211, ts, actor)
		default:
			line = fmt.Sprintf(`{"@timestamp":%d,"_document_id":"Zq3kLr8TmQ2wXy7pVb%04d","action":"git.clone","actor":%q,"actor_id":%d,`+
				`"actor_ip":"198.51.%d.%d","actor_location":{"country_code":"NL"},"business":"acme-corp","business_id":4411,"org":"acme","org_id":9123456,`+
				`"repo":%q,"repository":%q,"repository_public":false,"repository_id":%d,"transport_protocol":1,"transport_protocol_name":"http",`+
				`"user_agent":"git/2.44.0","programmatic_access_type":"Fine-grained personal access token","token_id":%d,`+
				`"hashed_token":"kq1m0Yc4v3Jd1n8T0p2r+Qm7cV9wZs6yXh5bLa%04d=","operation_type":"access",`+
				`"external_identity_nameid":"%s@acme.example","created_at":%d}`,
				ts, i, actor, 5800000+i%97, i%200, i%250, repo, repo, 70000000+i%211, 77120000+i%97, i%97, actor, ts)
		}
		recs = append(recs, source.Record{Data: []byte(line), Origin: reposentry.Origin{Source: "bench", Line: int64(i + 1)}})
	}
	return recs
}

// benchRuleSet returns the built-in pack plus generated variants of its
// rules, n rules in all: most keyed on action literals that the traffic does
// not carry, some on the read actions with extra conditions, some on other
// fields (normalized and raw) so that every event meets real work.
func benchRuleSet(b *testing.B, n int, raw bool) *sigma.RuleSet {
	if n == 0 {
		rs, _ := sigma.NewRuleSet(nil)
		return rs
	}
	var docs []string
	files, _ := fs.Glob(rules.FS, "*.yml")
	for _, f := range files {
		data, _ := fs.ReadFile(rules.FS, f)
		docs = append(docs, string(data))
	}
	// Variants of the pack's rules: each keyed on action literals, as every
	// GitHub audit rule is, with the pack's field conditions varied.
	variants := []string{
		"detection:\n  sel:\n    action:\n      - org.variant_%[1]d\n      - business.variant_%[1]d\n  condition: sel\n",
		"detection:\n  sel:\n    action: repo.variant_%[1]d\n    visibility: public\n  condition: sel\n",
		"detection:\n  sel_a:\n    action: team.variant_%[1]d\n  sel_b:\n    action: hook.variant_%[1]d\n    org|startswith: acme\n  condition: 1 of sel_*\n",
		"detection:\n  sel:\n    action: personal_access_token.variant_%[1]d\n  filter:\n    user|endswith: '[bot]'\n  condition: sel and not filter\n",
		"detection:\n  sel:\n    action: ip_allow_list.variant_%[1]d\n    data.entry|cidr: 203.0.%[1]d.0/24\n  condition: sel\n",
		"detection:\n  sel:\n    action: org.update_member\n    user: admin-%[1]d\n  condition: sel\n",
		"detection:\n  sel:\n    action: org.variant_%[1]d\n    actor|re: '^svc-[0-9]+$'\n  condition: sel\n",
		"detection:\n  sel:\n    action: audit_log_streaming.variant_%[1]d\n  condition: sel\n",
		// the read actions that the traffic carries, with conditions that
		// do not hold (one of them on a raw field)
		"detection:\n  sel:\n    action: [git.clone, git.fetch]\n    repo|startswith: evil-%[1]d/\n  condition: sel\n",
		"detection:\n  sel:\n    action: repo.download_zip\n    country: K%[1]d\n  condition: sel\n",
	}
	// A few rules have no action literal and are tried on every event.
	unkeyed := []string{
		"detection:\n  sel:\n    actor_ip|cidr: 203.0.%[1]d.0/24\n  condition: sel\n",
		"detection:\n  sel:\n    category: clone\n    user_agent|contains: curl/%[1]d\n  condition: sel\n",
	}
	for i := 0; len(docs) < n; i++ {
		tpl := variants[i%len(variants)]
		if i%50 == 49 {
			tpl = unkeyed[(i/50)%len(unkeyed)]
		}
		docs = append(docs, fmt.Sprintf("title: variant %d\nid: variant-%d\nlevel: medium\nlogsource:\n  product: github\n", i, i)+fmt.Sprintf(tpl, i))
	}
	// One read rule looks at a raw field, so clones pay one more JSON parse.
	if raw {
		docs[len(docs)-1] = "title: raw\nid: raw-1\nlogsource:\n  product: github\ndetection:\n  sel:\n    action: git.clone\n    external_identity_nameid|endswith: '@evil.example'\n  condition: sel\n"
	}
	rs, errs := sigma.LoadFS(mapFS(docs), ".")
	if len(errs) > 0 {
		b.Fatalf("bench rules: %v", errs)
	}
	if got := len(rs.Rules()); got != n {
		b.Fatalf("bench rule set has %d rules, want %d", got, n)
	}
	return rs
}

func mapFS(docs []string) fs.FS {
	m := fstest.MapFS{}
	for i, d := range docs {
		m[fmt.Sprintf("r%03d.yml", i)] = &fstest.MapFile{Data: []byte(d)}
	}
	return m
}

func BenchmarkSigma200Rules(b *testing.B) {
	for _, bc := range []struct {
		name string
		n    int
		raw  bool
	}{{"rules=0", 0, false}, {"rules=200", 200, false}, {"rules=200+raw", 200, true}} {
		b.Run(bc.name, func(b *testing.B) {
			rs := benchRuleSet(b, bc.n, bc.raw)
			d := sigma.NewDetector(rs)
			p := parser.New(intern.New(0), github.New())
			recs := benchRecords()
			var size int
			for _, r := range recs {
				size += len(r.Data)
			}
			dst := make([]reposentry.Event, 0, 4)
			var signals int
			emit := func(reposentry.Signal) { signals++ }
			var tick time.Time
			b.SetBytes(int64(size / len(recs)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				dst = p.Parse(recs[i%len(recs)], dst[:0], nil)
				for j := range dst {
					ev := &dst[j]
					// Replays continue the timeline where the records end.
					ev.Time = ev.Time.Add(time.Duration(i/len(recs)*len(recs)) * time.Second)
					if m := ev.Time.Truncate(time.Minute); m.After(tick) {
						d.Advance(m, emit)
						tick = m
					}
					d.Process(ev, emit)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(signals)/float64(b.N), "signals/event")
		})
	}
}

// BenchmarkSigmaProcess measures the detector alone on parsed events.
func BenchmarkSigmaProcess(b *testing.B) {
	p := parser.New(intern.New(0), github.New())
	var events []reposentry.Event
	for _, r := range benchRecords() {
		n := len(events)
		events = p.Parse(r, events, nil)
		for j := n; j < len(events); j++ {
			events[j].Raw = append([]byte(nil), events[j].Raw...) // outlive the parser's buffers
		}
	}
	span := events[len(events)-1].Time.Sub(events[0].Time) + time.Second
	for _, bc := range []struct {
		name string
		n    int
		raw  bool
	}{{"rules=200", 200, false}, {"rules=200+raw", 200, true}} {
		b.Run(bc.name, func(b *testing.B) {
			d := sigma.NewDetector(benchRuleSet(b, bc.n, bc.raw))
			emit := func(reposentry.Signal) {}
			var tick time.Time
			ev := new(reposentry.Event)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				*ev = events[i%len(events)]
				ev.Time = ev.Time.Add(time.Duration(i/len(events)) * span)
				if m := ev.Time.Truncate(time.Minute); m.After(tick) {
					d.Advance(m, emit)
					tick = m
				}
				d.Process(ev, emit)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
