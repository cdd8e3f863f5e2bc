package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/github"
	"github.com/reposentry/reposentry/source"
)

// countDetector is the cheapest detector, so the benchmark measures the
// pipeline rather than a rule.
type countDetector struct{ events int64 }

func (c *countDetector) Name() string                                       { return "bench.count" }
func (c *countDetector) Process(*reposentry.Event, func(reposentry.Signal)) { c.events++ }
func (c *countDetector) Advance(time.Time, func(reposentry.Signal))         {}

// writeGitHubNDJSON writes n git.clone events in GitHub's streaming shape,
// 20 a second, as one NDJSON file.
func writeGitHubNDJSON(b *testing.B, path string, n int) int64 {
	var sb strings.Builder
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := range n {
		fmt.Fprintf(&sb, `{"@timestamp":%d,"_document_id":"bench%017d","action":"git.clone",`+
			`"actor":"user%d","actor_id":%d,"actor_ip":"198.51.100.%d","actor_location":{"country_code":"NL"},`+
			`"business":"acme-corp","org":"acme","repo":"acme/repo-%d","repository":"acme/repo-%d","repository_public":false,`+
			`"transport_protocol":1,"transport_protocol_name":"http","user_agent":"git/2.44.0",`+
			`"programmatic_access_type":"Fine-grained personal access token","token_id":%d,`+
			`"hashed_token":"kq1m0Yc4v3Jd1n8T0p2r+Qm7cV9wZs6yXh5bLaR%04d=","operation_type":"access",`+
			`"external_identity_nameid":"user%d@acme.example","created_at":%d}`+"\n",
			start+int64(i)*50, i, i%500, 1000+i%500, i%250, i%2000, i%2000, 77000+i%500, i%500, i%500, start+int64(i)*50)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return int64(sb.Len())
}

// BenchmarkHuntNDJSON runs a whole hunt (pre-scan, read, parse with the
// GitHub parser, engine) over one NDJSON file of 100,000 events.
func BenchmarkHuntNDJSON(b *testing.B) {
	const n = 100_000
	path := filepath.Join(b.TempDir(), "audit.ndjson")
	size := writeGitHubNDJSON(b, path, n)
	ins := []source.Input{{Path: path, Size: size}}
	for _, presorted := range []bool{false, true} {
		b.Run(fmt.Sprintf("presorted=%v", presorted), func(b *testing.B) {
			det := &countDetector{}
			cfg := Config{
				NewParser: func() *parser.Parser { return parser.New(intern.New(0), github.New()) },
				Detectors: []engine.Detector{det},
				Presorted: presorted,
			}
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				st, err := Hunt(context.Background(), ins, cfg)
				if err != nil {
					b.Fatal(err)
				}
				if st.Events != n || st.Rejected != 0 {
					b.Fatalf("parsed %d events, rejected %d (%v); want %d, 0", st.Events, st.Rejected, st.RejectedByReason, n)
				}
			}
			b.ReportMetric(float64(det.events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
