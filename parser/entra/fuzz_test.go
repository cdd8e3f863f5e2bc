package entra

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/reposentry/reposentry/parser/parsertest"

	"github.com/reposentry/reposentry"
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
		parsertest.CheckObject(t, p, reposentry.PlatformEntra, &fp, data)
	})
}
