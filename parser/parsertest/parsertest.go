// Package parsertest holds what the platform parsers' tests share: a stable
// JSON rendering of parsed events and rejections, and golden-file tests over
// a folder of inputs, read the way the pipeline reads them.
package parsertest

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/source"
	"github.com/valyala/fastjson"
)

// Event is the stable JSON form of a reposentry.Event in golden files.
type Event struct {
	Time         string          `json:"time"`
	ID           string          `json:"id"`
	Platform     string          `json:"platform"`
	Format       string          `json:"format"`
	Action       string          `json:"action"`
	Category     string          `json:"category"`
	Outcome      string          `json:"outcome"`
	Actor        string          `json:"actor,omitempty"`
	ActorID      string          `json:"actor_id,omitempty"`
	ActorType    string          `json:"actor_type"`
	IdentityHint string          `json:"identity_hint,omitempty"`
	CredKind     string          `json:"credential_kind"`
	CredID       string          `json:"credential_id,omitempty"`
	CredHash     string          `json:"credential_hash,omitempty"`
	CredScopes   string          `json:"credential_scopes,omitempty"`
	SourceIP     string          `json:"source_ip,omitempty"`
	Country      string          `json:"country,omitempty"`
	City         string          `json:"city,omitempty"`
	ASN          uint32          `json:"asn,omitempty"`
	ASOrg        string          `json:"as_org,omitempty"`
	UserAgent    string          `json:"user_agent,omitempty"`
	Org          string          `json:"org,omitempty"`
	Enterprise   string          `json:"enterprise,omitempty"`
	Repo         string          `json:"repo,omitempty"`
	Visibility   string          `json:"visibility,omitempty"`
	Protocol     string          `json:"protocol,omitempty"`
	TargetUser   string          `json:"target_user,omitempty"`
	Detail       string          `json:"detail,omitempty"`
	Session      *Session        `json:"session,omitempty"`
	Origin       string          `json:"origin"`
	Raw          json.RawMessage `json:"raw"`
}

// Session is Event.Session, left out when empty.
type Session struct {
	ID     string `json:"id,omitempty"`
	App    string `json:"app,omitempty"`
	Factor string `json:"factor,omitempty"`
	Risk   string `json:"risk,omitempty"`
	Proxy  bool   `json:"proxy,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Rejection is the stable JSON form of a parser.Rejection.
type Rejection struct {
	Origin string `json:"origin"`
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

// Result is what parsing one input gave.
type Result struct {
	Events     []Event     `json:"events"`
	Rejections []Rejection `json:"rejections"`
}

func origin(o reposentry.Origin) string {
	b, _ := json.Marshal(o)
	return string(b)
}

func omitUnknown(s string) string {
	if s == "unknown" {
		return ""
	}
	return s
}

// Render returns the stable form of ev.
func Render(ev *reposentry.Event) Event {
	r := Event{
		Time: ev.Time.UTC().Format(time.RFC3339Nano), ID: ev.ID.String(), Platform: ev.Platform.String(),
		Format: ev.Format.String(), Action: ev.Action, Category: ev.Category.String(),
		Outcome: ev.Outcome.String(), Actor: ev.Actor.Login, ActorID: ev.Actor.ID,
		ActorType: ev.Actor.Type.String(), IdentityHint: ev.IdentityHint, CredKind: ev.Credential.Kind.String(),
		CredID: ev.Credential.ID, CredHash: ev.Credential.Hash, CredScopes: ev.Credential.Scopes,
		Country: ev.Geo.Country, City: ev.Geo.City, ASN: ev.Geo.ASN, ASOrg: ev.Geo.ASOrg,
		UserAgent: ev.UserAgent, Org: ev.Org, Enterprise: ev.Enterprise, Repo: ev.Repo,
		Visibility: omitUnknown(ev.Visibility.String()), Protocol: omitUnknown(ev.Protocol.String()),
		TargetUser: ev.TargetUser, Detail: ev.Detail, Origin: origin(ev.Origin),
	}
	if ev.Session != (reposentry.Session{}) {
		s := Session(ev.Session)
		r.Session = &s
	}
	if ev.SourceIP.IsValid() {
		r.SourceIP = ev.SourceIP.String()
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, ev.Raw); err != nil {
		r.Raw = json.RawMessage(`"invalid raw: ` + err.Error() + `"`)
	} else {
		r.Raw = buf.Bytes()
	}
	return r
}

// ParseFile reads path as the pipeline does (the source splits lines,
// pages and pretty-printed values) and parses every record with p.
func ParseFile(t testing.TB, p *parser.Parser, path string) Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	rd := source.OpenReader(filepath.Base(path), f, source.Options{})
	res := Result{Events: []Event{}, Rejections: []Rejection{}}
	reject := func(r parser.Rejection) {
		res.Rejections = append(res.Rejections, Rejection{Origin: origin(r.Origin), Reason: r.Reason, Error: r.Err.Error()})
	}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return res
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		evs := p.Parse(rec, nil, reject)
		for i := range evs {
			res.Events = append(res.Events, Render(&evs[i]))
		}
	}
}

// Golden parses every input in dir (files ending in json, except the golden
// files themselves) with a fresh parser from newParser and compares the
// result with <input without extension>.golden.json beside it; with update
// it rewrites the golden files instead. It returns how many inputs it ran.
func Golden(t *testing.T, dir string, newParser func() *parser.Parser, update bool) int {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join(dir, "*.*json"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden.json") {
			continue
		}
		n++
		t.Run(filepath.Base(in), func(t *testing.T) {
			got, err := json.MarshalIndent(ParseFile(t, newParser(), in), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := strings.TrimSuffix(in, filepath.Ext(in)) + ".golden.json"
			if update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read %s (run with -update to create it): %v", path, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s; got:\n%s", in, path, got)
			}
		})
	}
	return n
}

// ParseObject parses one JSON object with pl the way the parser hands
// objects to platforms; a test input that is not JSON fails the test.
func ParseObject(t testing.TB, pl parser.Platform, obj string) (reposentry.Event, error) {
	t.Helper()
	var fp fastjson.Parser
	v, err := fp.Parse(obj)
	if err != nil {
		t.Fatalf("test input %s is not JSON: %v", obj, err)
	}
	var ev reposentry.Event
	err = pl.Parse(v, []byte(obj), &ev)
	return ev, err
}

// MustParseObject is ParseObject for inputs that must become events.
func MustParseObject(t testing.TB, pl parser.Platform, obj string) reposentry.Event {
	t.Helper()
	ev, err := ParseObject(t, pl, obj)
	if err != nil {
		t.Fatalf("Parse(%s): %v", obj, err)
	}
	return ev
}

// TimedPlatform is a platform that can also read an object's time alone,
// as the pre-scan does.
type TimedPlatform interface {
	parser.Platform
	parser.Timer
}

// CheckObject is the invariant every platform's fuzz target asserts for one
// input: data that is not JSON is skipped; otherwise Parse either rejects it
// with a complete Rejection, or yields an event of platform with a time, an
// action, an id that fits, no zoned address, and the time TimeOf reads.
func CheckObject(t *testing.T, pl TimedPlatform, platform reposentry.Platform, fp *fastjson.Parser, data []byte) {
	t.Helper()
	v, err := fp.ParseBytes(data)
	if err != nil {
		return
	}
	sniffed := pl.Sniff(v)
	tm, timeOK := pl.TimeOf(v)
	var ev reposentry.Event
	if err := pl.Parse(v, data, &ev); err != nil {
		if r, ok := err.(*parser.Rejection); !ok || r.Reason == "" || r.Err == nil {
			t.Fatalf("Parse error %v is not a complete rejection", err)
		}
		return
	}
	if ev.Time.IsZero() || ev.Action == "" || ev.ID.IsZero() || ev.Platform != platform {
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
}

// BenchParse measures p over recs, one record a loop, reporting bytes,
// allocations and events per second; a rejected record fails the benchmark,
// since benchmark data must be valid.
func BenchParse(b *testing.B, p *parser.Parser, recs []source.Record) {
	var size int
	for _, r := range recs {
		size += len(r.Data)
	}
	dst := make([]reposentry.Event, 0, 4)
	var rejected int
	reject := func(parser.Rejection) { rejected++ }
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		dst = p.Parse(recs[i%len(recs)], dst[:0], reject)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if rejected != 0 {
		b.Fatalf("%d benchmark records rejected", rejected)
	}
}
