package simulate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func run(t *testing.T, users, days int, seed int64) (string, Result) {
	t.Helper()
	dir := t.TempDir()
	res, err := Run(Config{Users: users, Days: days, Seed: seed, Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	return dir, res
}

// tree reads every file under dir, keyed by relative path.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestDeterminism(t *testing.T) {
	a, _ := run(t, 60, 6, 42)
	b, _ := run(t, 60, 6, 42)
	c, _ := run(t, 60, 6, 43)
	ta, tb, tc := tree(t, a), tree(t, b), tree(t, c)
	// File names hold UUIDs drawn from the seed, so the trees must match
	// name for name as well as byte for byte.
	if ka, kb := sortedKeys(ta), sortedKeys(tb); !slices.Equal(ka, kb) {
		t.Fatalf("same seed wrote different files: %d vs %d", len(ka), len(kb))
	}
	for name, data := range ta {
		if !bytes.Equal(data, tb[name]) {
			t.Errorf("same seed, %s differs", name)
		}
	}
	for _, name := range []string{"labels.jsonl", "identities.csv", "okta/2026-01-07.ndjson"} {
		if bytes.Equal(ta[name], tc[name]) {
			t.Errorf("different seeds wrote the same %s", name)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"too few users", Config{Users: 10, Days: 10, Out: t.TempDir()}, "users 10"},
		{"too few days", Config{Users: 100, Days: 2, Out: t.TempDir()}, "days 2"},
		{"no output", Config{Users: 100, Days: 10}, "no output directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Run(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

type obj = map[string]any

// field walks a dotted path through nested objects.
func field(o obj, path string) (any, bool) {
	var cur any = o
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(obj)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// schema maps a dotted field to its JSON type: "string", "number", "bool".
type schema map[string]string

func checkSchema(t *testing.T, where string, o obj, s schema) {
	t.Helper()
	for _, k := range sortedKeys(s) {
		v, ok := field(o, k)
		if !ok {
			t.Errorf("%s: missing %s", where, k)
			continue
		}
		var got string
		switch v.(type) {
		case string:
			got = "string"
		case float64:
			got = "number"
		case bool:
			got = "bool"
		default:
			got = "other"
		}
		if got != s[k] {
			t.Errorf("%s: %s is %s, want %s", where, k, got, s[k])
		}
	}
}

var (
	ghBase = schema{"@timestamp": "number", "created_at": "number", "_document_id": "string", "action": "string",
		"operation_type": "string", "actor": "string", "actor_id": "number", "actor_is_bot": "bool", "actor_ip": "string",
		"actor_location.country_code": "string", "org": "string", "org_id": "number", "business": "string", "business_id": "number"}
	ghGit = schema{"repo": "string", "repository": "string", "repository_id": "number", "repository_public": "bool",
		"transport_protocol": "number", "transport_protocol_name": "string", "user_agent": "string"}
	ghToken = schema{"programmatic_access_type": "string", "hashed_token": "string", "token_id": "number"}
	okta    = schema{"uuid": "string", "published": "string", "eventType": "string", "severity": "string",
		"actor.id": "string", "actor.alternateId": "string", "client.ipAddress": "string",
		"client.geographicalContext.country": "string", "client.geographicalContext.city": "string",
		"outcome.result": "string", "securityContext.asNumber": "number", "securityContext.asOrg": "string",
		"securityContext.isProxy": "bool", "authenticationContext.externalSessionId": "string"}
	entra = schema{"time": "string", "category": "string", "operationName": "string", "callerIpAddress": "string",
		"properties.id": "string", "properties.createdDateTime": "string", "properties.userPrincipalName": "string",
		"properties.appDisplayName": "string", "properties.ipAddress": "string",
		"properties.location.countryOrRegion": "string", "properties.status.errorCode": "number"}
)

// output is a simulated run parsed back: every event by reference.
type output struct {
	events map[string]obj // "github:<id>", "okta:<uuid>", "entra:<id>"
	times  map[string]time.Time
}

var streamPath = regexp.MustCompile(`^github/(\d{4}/\d{2}/\d{2}/\d{2})/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.json\.gz$`)

func lines(t *testing.T, name string, data []byte, each func(where string, o obj)) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var o obj
		where := name + ":" + strconv.Itoa(n)
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		each(where, o)
	}
}

func parseOutput(t *testing.T, files map[string][]byte) *output {
	t.Helper()
	out := &output{events: map[string]obj{}, times: map[string]time.Time{}}
	for _, name := range sortedKeys(files) {
		data := files[name]
		switch {
		case strings.HasPrefix(name, "github/"):
			m := streamPath.FindStringSubmatch(name)
			if m == nil {
				t.Fatalf("%s: not in the bucket layout", name)
			}
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			lines(t, name, plain, func(where string, o obj) {
				checkGitHub(t, where, o)
				ts := time.UnixMilli(int64(o["@timestamp"].(float64))).UTC()
				if ts.Format("2006/01/02/15") != m[1] {
					t.Errorf("%s: event at %s in hour folder %s", where, ts, m[1])
				}
				ref := "github:" + o["_document_id"].(string)
				if _, dup := out.events[ref]; dup {
					t.Errorf("%s: duplicate %s", where, ref)
				}
				out.events[ref], out.times[ref] = o, ts
			})
		case strings.HasPrefix(name, "okta/"):
			lines(t, name, data, func(where string, o obj) {
				checkSchema(t, where, o, okta)
				ts, err := time.Parse(time.RFC3339, o["published"].(string))
				if err != nil {
					t.Errorf("%s: published: %v", where, err)
				}
				ref := "okta:" + o["uuid"].(string)
				out.events[ref], out.times[ref] = o, ts
			})
		case strings.HasPrefix(name, "entra/"):
			var doc struct{ Records []obj }
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for i, o := range doc.Records {
				where := name + " record " + strconv.Itoa(i)
				checkSchema(t, where, o, entra)
				ts, err := time.Parse(time.RFC3339, o["time"].(string))
				if err != nil {
					t.Errorf("%s: time: %v", where, err)
				}
				ref := "entra:" + o["properties"].(obj)["id"].(string)
				out.events[ref], out.times[ref] = o, ts
			}
		}
	}
	return out
}

func checkGitHub(t *testing.T, where string, o obj) {
	t.Helper()
	checkSchema(t, where, o, ghBase)
	if o["@timestamp"] != o["created_at"] {
		t.Errorf("%s: @timestamp %v != created_at %v", where, o["@timestamp"], o["created_at"])
	}
	if id := o["_document_id"].(string); len(id) != 22 {
		t.Errorf("%s: _document_id %q is not 22 characters", where, id)
	}
	act := o["action"].(string)
	if strings.HasPrefix(act, "git.") {
		checkSchema(t, where, o, ghGit)
		if (o["transport_protocol_name"] == "http") != (o["transport_protocol"] == 1.0) {
			t.Errorf("%s: transport_protocol %v does not match %v", where, o["transport_protocol"], o["transport_protocol_name"])
		}
	}
	if act == "repo.download_zip" {
		checkSchema(t, where, o, schema{"repo": "string", "visibility": "string"})
	}
	if _, ok := o["hashed_token"]; ok {
		checkSchema(t, where, o, ghToken)
	}
	if o["actor_is_bot"] == false {
		checkSchema(t, where, o, schema{"external_identity_nameid": "string"})
	}
}

func readLabels(t *testing.T, data []byte) []label {
	t.Helper()
	var ls []label
	lines(t, "labels", data, func(where string, _ obj) {})
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var l label
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	return ls
}

// TestFormatsAndLabels parses every output file back and checks the ground
// truth against it.
func TestFormatsAndLabels(t *testing.T) {
	dir, res := run(t, 120, 15, 7)
	files := tree(t, dir)
	out := parseOutput(t, files)
	if got := int64(len(out.events)); got < res.GitHubEvents+res.OktaEvents {
		t.Errorf("parsed %d events, Run reported %d GitHub and %d Okta", got, res.GitHubEvents, res.OktaEvents)
	}
	if res.EntraEvents == 0 || res.GitHubAPI == 0 {
		t.Errorf("no Entra or API events: %+v", res)
	}
	start := DefaultStart
	end := start.AddDate(0, 0, 15)
	for _, f := range []string{"labels.jsonl", "benign.jsonl"} {
		for _, l := range readLabels(t, files[f]) {
			where := f + " " + l.Scenario
			ls, err1 := time.Parse(time.RFC3339, l.Start)
			le, err2 := time.Parse(time.RFC3339, l.End)
			if err1 != nil || err2 != nil {
				t.Fatalf("%s: bad times %q %q", where, l.Start, l.End)
			}
			if ls.Before(start) || le.After(end) || le.Before(ls) {
				t.Errorf("%s: [%s, %s] outside the run [%s, %s]", where, ls, le, start, end)
			}
			if f == "labels.jsonl" && ls.Before(start.AddDate(0, 0, 10)) {
				t.Errorf("%s: starts %s, before ten days of history", where, ls)
			}
			if len(l.EventIDs) == 0 {
				t.Errorf("%s: no event ids", where)
			}
			for _, ref := range l.EventIDs {
				o, ok := out.events[ref]
				if !ok {
					t.Errorf("%s: event %s not in the output", where, ref)
					continue
				}
				if ts := out.times[ref]; ts.Before(ls) || ts.After(le) {
					t.Errorf("%s: event %s at %s outside [%s, %s]", where, ref, ts, ls, le)
				}
				if !mentions(o, l.Entity) {
					t.Errorf("%s: event %s does not name %s", where, ref, l.Entity)
				}
			}
		}
	}
	checkAPIPages(t, files, out)
	checkSideFiles(t, files, res)
}

// mentions reports whether an event names the identity: GitHub's SAML
// NameID, or an Okta actor or target.
func mentions(o obj, id string) bool {
	if o["external_identity_nameid"] == id {
		return true
	}
	if v, _ := field(o, "actor.alternateId"); v == id {
		return true
	}
	if ts, ok := o["target"].([]any); ok {
		for _, x := range ts {
			if m, ok := x.(obj); ok && m["alternateId"] == id {
				return true
			}
		}
	}
	return false
}

func checkAPIPages(t *testing.T, files map[string][]byte, out *output) {
	t.Helper()
	var last float64 = -1
	pages := 0
	for _, name := range sortedKeys(files) {
		if !strings.HasPrefix(name, "github-api/") {
			continue
		}
		pages++
		var page []obj
		if err := json.Unmarshal(files[name], &page); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(page) == 0 || len(page) > 100 {
			t.Errorf("%s: %d events, want 1 to 100", name, len(page))
		}
		for i, o := range page {
			where := name + " [" + strconv.Itoa(i) + "]"
			checkGitHub(t, where, o)
			ts := o["@timestamp"].(float64)
			if last >= 0 && ts > last {
				t.Errorf("%s: not newest first", where)
			}
			last = ts
			if _, ok := out.events["github:"+o["_document_id"].(string)]; !ok {
				t.Errorf("%s: event not in the stream", where)
			}
		}
	}
	if pages == 0 {
		t.Error("no API pages")
	}
}

func checkSideFiles(t *testing.T, files map[string][]byte, res Result) {
	t.Helper()
	csv := strings.Split(strings.TrimSpace(string(files["identities.csv"])), "\n")
	if csv[0] != "github_login,user_principal_name" || len(csv) < res.Identities/2 {
		t.Errorf("identities.csv: header %q, %d rows", csv[0], len(csv)-1)
	}
	ldif := string(files["directory/directory.ldif"])
	for _, want := range []string{
		"dn: CN=Domain Admins,CN=Users,DC=acme,DC=example\n",
		"member: CN=IT Admins,OU=Groups,DC=acme,DC=example\n",
		"memberOf: CN=Domain Admins,CN=Users,DC=acme,DC=example\n",
		"memberOf: CN=IT Admins,OU=Groups,DC=acme,DC=example\n",
		"adminCount: 1\n", "userAccountControl: 512\n", "sAMAccountName: ", "userPrincipalName: ",
	} {
		if !strings.Contains(ldif, want) {
			t.Errorf("directory.ldif lacks %q", want)
		}
	}
	var meta Meta
	if err := json.Unmarshal(files["meta.json"], &meta); err != nil {
		t.Fatalf("meta.json: %v", err)
	}
	if meta.Identities != res.Identities || meta.Days != 15 || meta.GitHubEvents != res.GitHubEvents {
		t.Errorf("meta.json = %+v, want the run's counts %+v", meta, res)
	}
}

// TestScenarioPresence checks that every scenario and look-alike is
// planned at every supported size.
func TestScenarioPresence(t *testing.T) {
	lookalike := map[string]string{BenignNewJoiner: ScenarioLapsus, BenignReleaseStorm: ScenarioInsider,
		BenignTraveller: ScenarioAPT41, BenignSREIncident: ScenarioScatteredSp, BenignAdminWork: ScenarioDomainAdmin,
		BenignCIUsualRunners: ScenarioStolenCI, BenignTokenOnTrip: ScenarioTokenTheft}
	tests := []struct {
		users, days, instances int
	}{
		{40, 4, 1}, {90, 7, 1}, {250, 14, 1}, {1500, 4, 2},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.users)+"x"+strconv.Itoa(tc.days), func(t *testing.T) {
			dir, res := run(t, tc.users, tc.days, 3)
			if res.Identities != tc.users {
				t.Errorf("identities = %d, want %d", res.Identities, tc.users)
			}
			count := map[string]int{}
			for _, f := range []string{"labels.jsonl", "benign.jsonl"} {
				data, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range readLabels(t, data) {
					count[l.Scenario]++
					if want, ok := lookalike[l.Scenario]; ok && l.LookalikeOf != want {
						t.Errorf("%s: lookalike_of %q, want %q", l.Scenario, l.LookalikeOf, want)
					}
					if l.Entity == "" {
						t.Errorf("%s: no entity", l.Scenario)
					}
				}
			}
			for _, name := range append(slices.Clone(Scenarios), sortedKeys(lookalike)...) {
				if count[name] != tc.instances {
					t.Errorf("%s: %d instances, want %d", name, count[name], tc.instances)
				}
			}
		})
	}
}
