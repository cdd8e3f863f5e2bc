package source

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

const benchEvent = `{"@timestamp":1764230400000,"_document_id":"Dd0iS2ZDYlh3jLm0Nmmm3A","action":"git.clone",` +
	`"actor":"alice","actor_id":1001,"actor_ip":"203.0.113.7","actor_location":{"country_code":"US"},` +
	`"business":"acme-corp","created_at":1764230400000,"hashed_token":"M7bNw9p8S0Q+zF3gK1e2yA==",` +
	`"operation_type":"access","org":"acme","programmatic_access_type":"Fine-grained personal access token",` +
	`"repo":"acme/payments","repository":"acme/payments","repository_public":false,` +
	`"transport_protocol":1,"transport_protocol_name":"http","user_agent":"git/2.43.0"}`

// BenchmarkNDJSON measures the hot path: one op is one NDJSON line read
// from an endless stream.
func BenchmarkNDJSON(b *testing.B) {
	line := []byte(benchEvent + "\n")
	benchRecords(b, &cycle{b: line}, len(line))
}

// BenchmarkArray measures a streamed API page: one op is one pretty-printed
// element of an endless top-level array.
func BenchmarkArray(b *testing.B) {
	elem := []byte("  " + benchEvent + ",\n")
	benchRecords(b, &cycle{prefix: []byte("[\n"), b: elem}, len(elem))
}

func benchRecords(b *testing.B, src *cycle, size int) {
	r := OpenReader("bench", src, Options{})
	if _, err := r.Next(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rc, err := r.Next()
		if err != nil || len(rc.Data) == 0 {
			b.Fatalf("Next: %v", err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkNDJSONGzip measures a streamed .json.gz object: one op is one
// pass over 10,000 gzipped lines, so allocations are per file, not per record.
func BenchmarkNDJSONGzip(b *testing.B) {
	const lines = 10000
	data := gz(strings.Repeat(benchEvent+"\n", lines))
	b.SetBytes(int64(lines * (len(benchEvent) + 1)))
	b.ReportAllocs()
	for range b.N {
		r := OpenReader("bench", bytes.NewReader(data), Options{})
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != lines {
			b.Fatalf("%d records, want %d", n, lines)
		}
	}
	b.ReportMetric(float64(b.N*lines)/b.Elapsed().Seconds(), "records/s")
}
