package novelty

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/reposentry/reposentry"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// story is a realistic fortnight: a person working from the office with a
// token and an SSH key, a CI bot on cloud runners, and then a token
// approved from the office but used from abroad with curl to copy another
// organisation's repositories, the bot's token turning up in a new country,
// and the person on a trip.
func story() []reposentry.Event {
	ciHist := routine(ci, ciTok, runners, 0, 14)
	for i := range ciHist {
		ciHist[i].Actor.Type = reposentry.ActorBot
		ciHist[i].SourceIP = ciHist[i].SourceIP.Next() // runners rotate addresses
	}
	bob := "bob@acme.example"
	bobKey := reposentry.Credential{Kind: reposentry.CredentialSSHKey, Hash: "SHA256:bobkeyQ2xZ9fL0pW3mN7vT1cR5yH8jK4"}
	evs := cat(routine(alice, pat, office, 0, 14), ciHist, routine(bob, bobKey, office, 0, 14),
		// Day 10: the bot's token from a new country and network.
		one(evt(ci, at(10, 3)).bot().clone("acme/svc-2").with(ciTok).from("VN", 7552, "14.160.9.9")),
		// Day 11: alice's token approved in the office, then used from a hosting network abroad with curl.
		one(office(evt(alice, at(11, 9)).created("personal_access_token.access_granted", newPAT))),
		one(evt(alice, at(11, 11)).clone("acme/payments-core").with(newPAT).from("NG", 37148, "102.89.1.7").ua("curl/8.5.0")),
		one(evt(alice, at(11, 11.1)).clone("globex/infra-secrets").with(newPAT).from("NG", 37148, "102.89.1.7").ua("curl/8.5.0")),
		// Day 12: bob travels: signs in from Portugal and fetches his usual repositories with his key.
		one(evt(bob, at(12, 8)).from("PT", 3243, "85.240.1.1").ua("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Safari/605.1.15")),
		one(evt(bob, at(12, 9)).fetch("acme/svc-1").with(bobKey).from("PT", 3243, "85.240.1.1")),
		// Day 13: alice's own token read from Brazil, new for her too, four repositories it never read.
		one(evt(alice, at(13, 2)).clone("acme/svc-1").with(pat).from("BR", 28573, "177.1.1.1")),
		one(evt(alice, at(13, 2.1)).clone("acme/ledger").with(pat).from("BR", 28573, "177.1.1.1")),
		one(evt(alice, at(13, 2.2)).clone("acme/billing").with(pat).from("BR", 28573, "177.1.1.1")),
		one(evt(alice, at(13, 2.3)).clone("acme/identity").with(pat).from("BR", 28573, "177.1.1.1")),
	)
	return evs
}

// TestGolden pins the JSON of the story's signals: rules, wording,
// numbers, evidence and event ids, one signal a line.
func TestGolden(t *testing.T) {
	seq = 0
	var got bytes.Buffer
	for _, s := range run(Config{}, story()) {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		got.Write(b)
		got.WriteByte('\n')
	}
	if got.Len() == 0 {
		t.Fatal("the story raised no signal")
	}
	path := filepath.Join("testdata", "signals.golden.jsonl")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("%s differs from the signals:\n%s", path, got.Bytes())
	}
}
