package parser_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/parser"
)

var update = flag.Bool("update", false, "rewrite golden files")

// renderedEvent is the stable JSON form of an Event used by golden files.
type renderedEvent struct {
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
	UserAgent    string          `json:"user_agent,omitempty"`
	Org          string          `json:"org,omitempty"`
	Enterprise   string          `json:"enterprise,omitempty"`
	Repo         string          `json:"repo,omitempty"`
	Visibility   string          `json:"visibility"`
	Protocol     string          `json:"protocol"`
	TargetUser   string          `json:"target_user,omitempty"`
	Detail       string          `json:"detail,omitempty"`
	Origin       string          `json:"origin"`
	Raw          json.RawMessage `json:"raw"`
}

type renderedRejection struct {
	Origin string `json:"origin"`
	Reason string `json:"reason"`
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
		ActorType: ev.Actor.Type.String(), IdentityHint: ev.IdentityHint,
		CredKind: ev.Credential.Kind.String(), CredID: ev.Credential.ID, CredHash: ev.Credential.Hash,
		CredScopes: ev.Credential.Scopes, Country: ev.Geo.Country, City: ev.Geo.City,
		UserAgent: ev.UserAgent, Org: ev.Org, Enterprise: ev.Enterprise, Repo: ev.Repo,
		Visibility: ev.Visibility.String(), Protocol: ev.Protocol.String(), TargetUser: ev.TargetUser,
		Detail: ev.Detail, Origin: originString(ev.Origin),
	}
	if ev.SourceIP.IsValid() {
		r.SourceIP = ev.SourceIP.String()
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, ev.Raw); err != nil {
		r.Raw = json.RawMessage(`"` + "invalid raw: " + err.Error() + `"`)
	} else {
		r.Raw = buf.Bytes()
	}
	return r
}

// checkGolden compares got, rendered as indented JSON, with testdata/golden/name.
func checkGolden(t *testing.T, name string, got golden) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatalf("marshal %s: %v", name, err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatalf("write %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run with -update to create it): %v", path, err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from golden file; got:\n%s", name, b)
	}
}

func rejectionsInto(dst *[]renderedRejection) func(parser.Rejection) {
	return func(r parser.Rejection) {
		*dst = append(*dst, renderedRejection{Origin: originString(r.Origin), Reason: r.Reason})
	}
}
