package simulate

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tokenRun is one simulated run parsed back, with what the token tests
// need to judge the scenario's events.
type tokenRun struct {
	days   int
	out    *output
	labels []label
	nets   map[string]*network // "198.18.7." -> network
	team   map[string]string   // UPN -> team slug, from the directory
}

func simulateTokens(t *testing.T, users, days int, seed int64) *tokenRun {
	t.Helper()
	dir, _ := run(t, users, days, seed)
	files := tree(t, dir)
	tr := &tokenRun{days: days, out: parseOutput(t, files), nets: map[string]*network{}, team: map[string]string{}}
	tr.labels = append(readLabels(t, files["labels.jsonl"]), readLabels(t, files["benign.jsonl"])...)
	// The networks are built without randomness: the same for every run.
	o := &org{}
	buildNetworks(o)
	for _, n := range o.nets {
		tr.nets[n.prefix] = n
	}
	teamOf := regexp.MustCompile(`memberOf: CN=gh-team-([^,]+),`)
	upnOf := regexp.MustCompile(`userPrincipalName: (\S+)`)
	for _, e := range strings.Split(string(files["directory/directory.ldif"]), "\n\n") {
		if u, tm := upnOf.FindStringSubmatch(e), teamOf.FindStringSubmatch(e); u != nil && tm != nil {
			tr.team[u[1]] = tm[1]
		}
	}
	return tr
}

func (tr *tokenRun) network(t *testing.T, ip string) *network {
	t.Helper()
	n := tr.nets[ip[:strings.LastIndexByte(ip, '.')+1]]
	if n == nil {
		t.Fatalf("address %s is in no simulated network", ip)
	}
	return n
}

// tokenUse is one label's token story: the events creating the token and
// those using it, in time order.
type tokenUse struct {
	created, used []obj
}

func (tr *tokenRun) story(t *testing.T, l label) tokenUse {
	t.Helper()
	var s tokenUse
	for _, ref := range l.EventIDs {
		o := tr.out.events[ref]
		switch act, _ := o["action"].(string); {
		case strings.HasPrefix(act, "personal_access_token."):
			s.created = append(s.created, o)
		case strings.HasPrefix(act, "git.") || act == "repo.download_zip":
			s.used = append(s.used, o)
		}
	}
	byTime := func(a, b obj) int { return int(a["@timestamp"].(float64) - b["@timestamp"].(float64)) }
	slices.SortFunc(s.created, byTime)
	slices.SortFunc(s.used, byTime)
	return s
}

func ms(o obj) time.Time { return time.UnixMilli(int64(o["@timestamp"].(float64))).UTC() }

// checkToken asserts that every creation event names the token the way
// the uses do, with the same token_id and hashed_token throughout.
func checkToken(t *testing.T, where string, s tokenUse) {
	t.Helper()
	if len(s.created) != 2 || len(s.used) == 0 {
		t.Fatalf("%s: %d creation and %d use events, want 2 and some", where, len(s.created), len(s.used))
	}
	c := s.created[0]
	for _, k := range []string{"hashed_token", "token_id", "programmatic_access_type", "user_programmatic_access_name", "token_expires_at"} {
		if c[k] == nil {
			t.Errorf("%s: creation event %s lacks %s", where, c["action"], k)
		}
	}
	if c["programmatic_access_type"] != "Fine-grained personal access token" {
		t.Errorf("%s: created a %v, want a fine-grained token", where, c["programmatic_access_type"])
	}
	for _, o := range append(s.created[1:], s.used...) {
		if o["hashed_token"] != c["hashed_token"] || o["token_id"] != c["token_id"] {
			t.Errorf("%s: %s carries token %v/%v, created %v/%v", where, o["action"], o["token_id"], o["hashed_token"],
				c["token_id"], c["hashed_token"])
		}
	}
	if ms(s.used[0]).Before(ms(s.created[0])) {
		t.Errorf("%s: token used at %s before its creation at %s", where, ms(s.used[0]), ms(s.created[0]))
	}
}

// sessions groups uses into working sessions: uses more than eight hours
// apart belong to different days.
func sessions(used []obj) [][]obj {
	var out [][]obj
	for i, o := range used {
		if i == 0 || ms(o).Sub(ms(used[i-1])) > 8*time.Hour {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], o)
	}
	return out
}

// maxPerHour is the most distinct repositories used in any 60 minutes.
func maxPerHour(used []obj) int {
	best := 0
	for i := range used {
		seen := map[any]bool{}
		for _, o := range used[i:] {
			if ms(o).Sub(ms(used[i])) >= time.Hour {
				break
			}
			seen[o["repo"]] = true
		}
		best = max(best, len(seen))
	}
	return best
}

// usualHours are the UTC hours, give or take one, at which the person was
// active before the label started.
func (tr *tokenRun) usualHours(upn string, before time.Time, skip map[string]bool) map[int]bool {
	hours := map[int]bool{}
	for ref, o := range tr.out.events {
		if ts := tr.out.times[ref]; !skip[ref] && o["external_identity_nameid"] == upn && ts.Before(before) {
			for _, d := range []int{-1, 0, 1} {
				hours[(ts.Hour()+d+24)%24] = true
			}
		}
	}
	return hours
}

// TestTokenScenarios checks the stolen token and its look-alike at several
// sizes: one creation, uses carrying the same token_id and hashed_token,
// where the token is used from and how much.
func TestTokenScenarios(t *testing.T) {
	tests := []struct {
		users, days int
		seed        int64
		theftDays   int // working days of abuse the run leaves room for
		tripDays    int // working days abroad the run leaves room for
	}{
		{40, 4, 1, 1, 1}, {120, 15, 7, 1, 1}, {300, 21, 1, 3, 2}, {400, 28, 9, 3, 2},
	}
	for _, tc := range tests {
		name := strconv.Itoa(tc.users) + "x" + strconv.Itoa(tc.days) + "/" + strconv.FormatInt(tc.seed, 10)
		t.Run(name, func(t *testing.T) {
			tr := simulateTokens(t, tc.users, tc.days, tc.seed)
			count := map[string]int{}
			for _, l := range tr.labels {
				count[l.Scenario]++
				switch l.Scenario {
				case ScenarioTokenTheft:
					checkTheft(t, tr, l, tc.theftDays)
				case BenignTokenOnTrip:
					checkTrip(t, tr, l, tc.tripDays)
				}
			}
			for _, sc := range []string{ScenarioTokenTheft, BenignTokenOnTrip} {
				if want := 1 + tc.users/1500; count[sc] != want {
					t.Errorf("%d %s labels, want %d", count[sc], sc, want)
				}
			}
		})
	}
}

// checkTheft: the token is created at the office, then used one to three
// days later from a hosting network abroad, in the victim's hours, on
// non-public repositories mostly of the victim's team, four to seven a day
// and at most eight an hour, while the victim works as usual.
func checkTheft(t *testing.T, tr *tokenRun, l label, minDays int) {
	t.Helper()
	where := l.Scenario + " " + l.Entity
	s := tr.story(t, l)
	checkToken(t, where, s)
	created := s.created[0]
	home := created["actor_location"].(obj)["country_code"]
	if cn := tr.network(t, created["actor_ip"].(string)); cn.kind != netOffice {
		t.Errorf("%s: token created from a %d network, want the office", where, cn.kind)
	}
	if gap := ms(s.used[0]).Sub(ms(created)); gap < 12*time.Hour || gap > 84*time.Hour {
		t.Errorf("%s: first use %s after creation, want one to three days", where, gap)
	}
	inLabel := map[string]bool{}
	for _, ref := range l.EventIDs {
		inLabel[ref] = true
	}
	hours := tr.usualHours(l.Entity, ms(created), inLabel)
	repos := map[any]bool{}
	own := 0
	attackIPs := map[any]bool{}
	for _, o := range s.used {
		ip := o["actor_ip"].(string)
		attackIPs[ip] = true
		nw := tr.network(t, ip)
		cc := o["actor_location"].(obj)["country_code"]
		if nw.kind != netVPS || cc == home || cc != places[nw.place].cc {
			t.Errorf("%s: used from %s (%v, network kind %d), want a hosting network outside %v", where, ip, cc, nw.kind, home)
		}
		if o["repository_public"] == true || o["visibility"] == "public" {
			t.Errorf("%s: read public %v", where, o["repo"])
		}
		if repos[o["repo"]] {
			t.Errorf("%s: read %v twice", where, o["repo"])
		}
		repos[o["repo"]] = true
		if strings.HasPrefix(o["repo"].(string), orgName+"/"+tr.team[l.Entity]+"-") {
			own++
		}
		if h := ms(o).Hour(); !hours[h] {
			t.Errorf("%s: use at %s, an hour the victim never worked", where, ms(o))
		}
	}
	if own*2 <= len(s.used) || own == len(s.used) {
		t.Errorf("%s: %d of %d repositories in team %s, want most but not all", where, own, len(s.used), tr.team[l.Entity])
	}
	days := sessions(s.used)
	if len(days) < minDays || len(days) > 4 {
		t.Errorf("%s: used on %d days, want %d to 4", where, len(days), minDays)
	}
	for _, d := range days {
		if len(d) < 4 || len(d) > 7 {
			t.Errorf("%s: %d repositories on %s, want 4 to 7", where, len(d), ms(d[0]).Format(time.DateOnly))
		}
	}
	if m := maxPerHour(s.used); m > 8 {
		t.Errorf("%s: %d repositories within an hour, want at most 8", where, m)
	}
	// The victim goes on working from their own places meanwhile.
	var own2 int
	for ref, o := range tr.out.events {
		ts := tr.out.times[ref]
		if !inLabel[ref] && o["external_identity_nameid"] == l.Entity && !attackIPs[o["actor_ip"]] &&
			!ts.Before(ms(s.used[0]).Add(-12*time.Hour)) && !ts.After(ms(s.used[len(s.used)-1])) {
			own2++
		}
	}
	if own2 == 0 {
		t.Errorf("%s: the victim did no work of their own while the token was abused", where)
	}
}

// checkTrip: the token is created and first used at home, then used abroad
// from a hotel network for two or three days, at most eight repositories an
// hour.
func checkTrip(t *testing.T, tr *tokenRun, l label, minDays int) {
	t.Helper()
	where := l.Scenario + " " + l.Entity
	if l.LookalikeOf != ScenarioTokenTheft {
		t.Errorf("%s: lookalike_of %q, want %q", where, l.LookalikeOf, ScenarioTokenTheft)
	}
	s := tr.story(t, l)
	if len(s.created) == 0 {
		t.Fatalf("%s: no token created", where)
	}
	created := s.created[0]
	home := created["actor_location"].(obj)["country_code"]
	if cn := tr.network(t, created["actor_ip"].(string)); cn.kind != netISP || places[cn.place].cc != home {
		t.Errorf("%s: token created from network kind %d in %v, want a home ISP", where, cn.kind, home)
	}
	// The day at home is worked with the usual credential, then
	// the new token is tried at home; abroad only the token is used.
	var trip, withToken []obj
	atHome := 0
	for _, o := range s.used {
		nw := tr.network(t, o["actor_ip"].(string))
		switch {
		case nw.kind == netHotel:
			if cc := o["actor_location"].(obj)["country_code"]; cc == home {
				t.Errorf("%s: trip in the home country %v", where, cc)
			}
			trip = append(trip, o)
			withToken = append(withToken, o)
		case nw.kind == netISP && places[nw.place].cc == home:
			if o["hashed_token"] == created["hashed_token"] {
				atHome++
				withToken = append(withToken, o)
			}
		default:
			t.Errorf("%s: %s from network kind %d, want home or a hotel", where, o["action"], nw.kind)
		}
	}
	if atHome == 0 {
		t.Errorf("%s: the token was never used at home", where)
	}
	checkToken(t, where, tokenUse{created: s.created, used: withToken})
	days := sessions(trip)
	if len(days) < minDays || len(days) > 3 {
		t.Errorf("%s: %d days abroad with the token, want %d to 3", where, len(days), minDays)
	}
	if m := maxPerHour(trip); m > 8 {
		t.Errorf("%s: %d repositories within an hour, want at most 8", where, m)
	}
}
