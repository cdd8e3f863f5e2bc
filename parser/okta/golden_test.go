package okta_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/github"
	"github.com/reposentry/reposentry/parser/okta"
	"github.com/reposentry/reposentry/source"
)

var update = flag.Bool("update", false, "rewrite golden files")

// newParser puts GitHub first, as the pipeline does, so every test also
// shows that GitHub's Sniff leaves Okta events alone.
func newParser() *parser.Parser {
	return parser.New(intern.New(0), github.New(), okta.New())
}

// renderedEvent is the stable JSON form of an Event used by golden files.
type renderedEvent struct {
	Time         string           `json:"time"`
	ID           string           `json:"id"`
	Platform     string           `json:"platform"`
	Format       string           `json:"format"`
	Action       string           `json:"action"`
	Category     string           `json:"category"`
	Outcome      string           `json:"outcome"`
	Actor        string           `json:"actor,omitempty"`
	ActorID      string           `json:"actor_id,omitempty"`
	ActorType    string           `json:"actor_type"`
	IdentityHint string           `json:"identity_hint,omitempty"`
	CredKind     string           `json:"credential_kind"`
	SourceIP     string           `json:"source_ip,omitempty"`
	Country      string           `json:"country,omitempty"`
	City         string           `json:"city,omitempty"`
	ASN          uint32           `json:"asn,omitempty"`
	ASOrg        string           `json:"as_org,omitempty"`
	UserAgent    string           `json:"user_agent,omitempty"`
	TargetUser   string           `json:"target_user,omitempty"`
	Detail       string           `json:"detail,omitempty"`
	Session      *renderedSession `json:"session,omitempty"`
	Origin       string           `json:"origin"`
	Raw          json.RawMessage  `json:"raw"`
}

// renderedSession is Event.Session, left out when empty.
type renderedSession struct {
	ID     string `json:"id,omitempty"`
	App    string `json:"app,omitempty"`
	Factor string `json:"factor,omitempty"`
	Risk   string `json:"risk,omitempty"`
	Proxy  bool   `json:"proxy,omitempty"`
	Reason string `json:"reason,omitempty"`
}

type renderedRejection struct {
	Origin string `json:"origin"`
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

type golden struct {
	Events     []renderedEvent     `json:"events"`
	Rejections []renderedRejection `json:"rejections"`
}

func originString(o reposentry.Origin) string {
	b, _ := json.Marshal(o)
	return string(b)
}

func render(ev *reposentry.Event) renderedEvent {
	r := renderedEvent{
		Time: ev.Time.UTC().Format(time.RFC3339Nano), ID: ev.ID.String(), Platform: ev.Platform.String(),
		Format: ev.Format.String(), Action: ev.Action, Category: ev.Category.String(),
		Outcome: ev.Outcome.String(), Actor: ev.Actor.Login, ActorID: ev.Actor.ID,
		ActorType: ev.Actor.Type.String(), IdentityHint: ev.IdentityHint, CredKind: ev.Credential.Kind.String(),
		Country: ev.Geo.Country, City: ev.Geo.City, ASN: ev.Geo.ASN, ASOrg: ev.Geo.ASOrg,
		UserAgent: ev.UserAgent, TargetUser: ev.TargetUser, Detail: ev.Detail, Origin: originString(ev.Origin),
	}
	if ev.Session != (reposentry.Session{}) {
		s := renderedSession(ev.Session)
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

// parseFile reads path as the pipeline does (source splits lines, pages and
// pretty-printed values) and parses every record.
func parseFile(t *testing.T, p *parser.Parser, path string) golden {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	rd := source.OpenReader(filepath.Base(path), f, source.Options{})
	g := golden{Events: []renderedEvent{}, Rejections: []renderedRejection{}}
	reject := func(r parser.Rejection) {
		g.Rejections = append(g.Rejections, renderedRejection{Origin: originString(r.Origin), Reason: r.Reason, Error: r.Err.Error()})
	}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		evs := p.Parse(rec, nil, reject)
		for i := range evs {
			g.Events = append(g.Events, render(&evs[i]))
		}
	}
	return g
}

// TestGolden parses every testdata input and compares the events and
// rejections with testdata/<input>.golden.json (-update rewrites them).
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.*json"))
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
			got, err := json.MarshalIndent(parseFile(t, newParser(), in), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := strings.TrimSuffix(in, filepath.Ext(in)) + ".golden.json"
			if *update {
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
	if n < 3 {
		t.Fatalf("found %d golden inputs, want the API page, NDJSON export and event hook", n)
	}
}
