package okta

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/reposentry/reposentry/parser/parsertest"

	"github.com/reposentry/reposentry"
	"github.com/valyala/fastjson"
)

func FuzzOkta(f *testing.F) {
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
		`{"uuid":"x","published":1e300,"eventType":"a"}`,
		`{"published":"2026-01-01T00:00:00.9999999999999+23:59","eventType":"a","client":{"ipAddress":"fe80::1%eth0"},"securityContext":{"asNumber":"99999999999999999"}}`,
		`{"detail-type":"x","detail":{"published":"2026-01-01T00:00:00Z","eventType":"a","target":[null,{"type":"User"}]}}`,
		`{"eventType":"com.okta.event_hook","data":{"events":[1,"x",{}]}}`,
	} {
		f.Add([]byte(s))
	}
	p := New()
	var fp fastjson.Parser
	f.Fuzz(func(t *testing.T, data []byte) {
		parsertest.CheckObject(t, p, reposentry.PlatformOkta, &fp, data)
	})
}
