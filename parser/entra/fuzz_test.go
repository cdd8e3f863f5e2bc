package entra

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/parser"
	"github.com/valyala/fastjson"
)

func FuzzEntra(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.*json"))
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			f.Add(line)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`{"userPrincipalName":"a","createdDateTime":1e300,"status":{"errorCode":-1}}`,
		`{"UserPrincipalName":"a","TimeGenerated":"2026-01-01T00:00:00.99999999999+23:59","IPAddress":"fe80::1%eth0","AutonomousSystemNumber":"99999999999999999"}`,
		`{"UserPrincipalName":"a","TimeGenerated":"2026-01-01T00:00:00Z","LocationDetails":"{\"countryOrRegion\":[1]}","Status":"{\"errorCode\":\"x\"}"}`,
		`{"operationName":"Sign-in activity","time":"2026-01-01T00:00:00Z","properties":{"properties":{"id":"x"},"signInEventTypes":[null,1]}}`,
		`{"@odata.context":"signIns","value":[1,"x",{}]}`,
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
		tm, timeOK := p.TimeOf(v)
		var ev reposentry.Event
		err = p.Parse(v, data, &ev)
		if err != nil {
			if r, ok := err.(*parser.Rejection); !ok || r.Reason == "" || r.Err == nil {
				t.Fatalf("Parse error %v is not a complete rejection", err)
			}
			return
		}
		if ev.Time.IsZero() || ev.Action == "" || ev.ID.IsZero() || ev.Platform != reposentry.PlatformEntra {
			t.Fatalf("accepted incomplete event %+v (sniffed %v)", ev, sniffed)
		}
		if !timeOK || !tm.Equal(ev.Time) {
			t.Fatalf("TimeOf = %v, %v; Parse gave %v", tm, timeOK, ev.Time)
		}
		if len(ev.ID.String()) > reposentry.MaxEventIDLen {
			t.Fatalf("id too long: %q", ev.ID.String())
		}
		if ev.SourceIP.IsValid() && ev.SourceIP.Zone() != "" {
			t.Fatalf("zoned address %v kept", ev.SourceIP)
		}
	})
}
