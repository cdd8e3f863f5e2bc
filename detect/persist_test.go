package detect

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
	"github.com/reposentry/reposentry/engine/enginetest"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/entra"
	"github.com/reposentry/reposentry/parser/github"
	"github.com/reposentry/reposentry/parser/okta"
	"github.com/reposentry/reposentry/simulate"
	"github.com/reposentry/reposentry/simulate/simtest"
)

// Every detector of New is an engine.Stateful.
var _ engine.Stateful = (*detector)(nil)

// feed drives dets over evs[from:to] like the engine (see run), reporting
// each signal with the index of the event that raised it. The minute clock
// starts afresh, as a restarted process's would.
func feed(dets []engine.Detector, evs []reposentry.Event, from, to int, out func(int, reposentry.Signal)) {
	enginetest.Feed(dets, evs[from:to], time.Time{}, func(i int, s reposentry.Signal) { out(from+i, s) })
}

// signalsFrom runs dets over evs[from:] and returns the JSON of each signal,
// prefixed by the index of its event.
func signalsFrom(t testing.TB, dets []engine.Detector, evs []reposentry.Event, from int) []string {
	var out []string
	feed(dets, evs, from, len(evs), func(i int, s reposentry.Signal) {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("marshal signal: %v", err)
		}
		out = append(out, fmt.Sprintf("%d %s", i, b))
	})
	return out
}

// after keeps the signals raised by events at index k or later.
func after(sigs []string, k int) []string {
	var out []string
	for _, s := range sigs {
		var i int
		if _, err := fmt.Sscan(s, &i); err == nil && i >= k {
			out = append(out, s)
		}
	}
	return out
}

var (
	simOnce sync.Once
	simEvs  []reposentry.Event
	simMids []time.Time // the middle of every labelled attack and look-alike
)

// simStream is the simulator's GitHub, Okta and Entra logs for 200 users
// over 14 days, parsed by the real parsers; generated once per test binary.
func simStream(t testing.TB) []reposentry.Event {
	simOnce.Do(func() {
		dir := t.TempDir()
		if _, err := simulate.Run(simulate.Config{Users: 200, Days: 14, Seed: 1, Out: dir}); err != nil {
			t.Fatalf("simulate: %v", err)
		}
		p := parser.New(intern.New(0), github.New(), okta.New(), entra.New())
		simEvs = simtest.Events(t, p, filepath.Join(dir, "okta"), filepath.Join(dir, "entra"), filepath.Join(dir, "github"))
		for _, f := range []string{"labels.jsonl", "benign.jsonl"} {
			for _, l := range simtest.Labels(t, filepath.Join(dir, f)) {
				simMids = append(simMids, l.Start.Add(l.End.Sub(l.Start)/2))
			}
		}
	})
	if len(simEvs) == 0 {
		t.Fatal("the simulator produced no events")
	}
	return simEvs
}

// edgeConfig marks automation by name and one privileged identity.
func edgeConfig() Config {
	cfg := withBots("svc-*")
	cfg.Privileged = []string{"root@example.com"}
	return cfg
}

// edgeStream exercises every kind of learnt state: automation by name and by
// behaviour, an owner learnt from the audit log, disabled and deactivated
// identities (one deactivated before it was first seen), a credential watch,
// routine repositories, first-seen countries and networks, a privileged
// identity and an exfiltration path after a bulk read.
func edgeStream() []reposentry.Event {
	clone, push := reposentry.CategoryClone, reposentry.CategoryPush
	h := time.Hour
	idp := func(d time.Duration, act, user string) reposentry.Event {
		e := mk(d, "helpdesk", reposentry.CategoryOther, "", action(act), target(user))
		e.Platform = reposentry.PlatformOkta
		return e
	}
	app := cred(reposentry.CredentialApp, "inst-1")
	evs := join(
		warm("alice"), warm("bob"), warm("carol"), warm("dora"), warm("frank"), warm("gina"), warm("jane"), warm("root"),
		mk(0, "svc-build", clone, "acme/builder", app),
		// Dora mass-clones on two days of her learning period: automation.
		spree(day+9*h, "dora", clone, "d1", 16, 20*time.Second),
		spree(2*day+9*h, "dora", clone, "d2", 16, 20*time.Second),
		// Carol's routine: twenty repositories, read again on day 10.
		spree(day+10*h, "carol", clone, "lib", 20, 30*time.Second),
		mk(day+11*h, "jane", reposentry.CategoryPermissionChange, "", action("org.update_member"), target("bob"), detail("admin")),
		idp(3*day, "user.lifecycle.deactivate", "eve@example.com"),
		mk(4*day, "eve", clone, "acme/eve-notes"),
		spree(5*day, "svc-build", clone, "svc", 40, 5*time.Second, app),
		spree(9*day+8*h, "dora", clone, "d9", 20, 20*time.Second),
		spree(10*day+9*h, "carol", clone, "lib", 20, 30*time.Second),
		mk(10*day+9*h, "frank", push, "acme/tools", disabled()),
		mk(10*day+10*h, "bob", reposentry.CategoryCredentialCreate, "", cred(reposentry.CredentialPATClassic, "tok-new")),
		spree(10*day+10*h+2*time.Minute, "bob", clone, "new", 7, 4*time.Minute, cred(reposentry.CredentialPATClassic, "tok-new")),
		spree(10*day+11*h, "dora", clone, "dx", 6, time.Minute, from("203.0.113.9", "BR")),
		mk(10*day+12*h, "alice", clone, "acme/a", from("203.0.113.99", "NL")),
		mk(10*day+12*h+time.Minute, "alice", clone, "acme/b", from("192.0.2.1", "DE"), tags(reposentry.TagSecrets)),
		mk(10*day+12*h+2*time.Minute, "alice", clone, "acme/c", from("192.0.2.1", "DE")),
		spree(10*day+13*h, "jane", clone, "own", 16, 10*time.Second),
		mk(10*day+14*h, "root", clone, "acme/vault", privileged()),
		spree(10*day+15*h, "gina", clone, "g", 16, 5*time.Second),
		mk(10*day+17*h, "gina", reposentry.CategoryVisibilityChange, "acme/g-001", detail("public")),
		idp(12*day, "user.lifecycle.deactivate", "alice@example.com"),
		mk(13*day, "alice", clone, "acme/a"),
		mk(13*day+time.Minute, "eve", clone, "acme/eve-notes"),
		mk(13*day+time.Hour, "frank", clone, "acme/tools", disabled()),
	)
	slices.SortStableFunc(evs, func(a, b reposentry.Event) int { return a.Time.Compare(b.Time) })
	for i := range evs {
		evs[i].ID.Set(fmt.Appendf(nil, "edge%05d", i))
	}
	return evs
}

// TestStateRoundTrip checks that saving after any prefix of a stream and
// loading into fresh detectors gives exactly the signals of an uninterrupted
// run for the rest of it, that the restored state saves to the same bytes,
// and that the state matters: fresh detectors without it differ somewhere.
func TestStateRoundTrip(t *testing.T) {
	edge := edgeStream()
	sim := simStream(t)
	// Cut at fixed fractions and in the middle of every labelled episode,
	// where windows and credential watches are open.
	simCuts := []int{0, len(sim) / 20, len(sim) / 7, len(sim) / 2, len(sim) - 1, len(sim)}
	for _, m := range simMids {
		simCuts = append(simCuts, slices.IndexFunc(sim, func(e reposentry.Event) bool { return !e.Time.Before(m) }))
	}
	if len(simMids) == 0 || slices.Contains(simCuts, -1) {
		t.Fatalf("labelled episodes %v fall outside the stream", simMids)
	}
	tests := []struct {
		name string
		cfg  Config
		evs  []reposentry.Event
		cuts []int
		// rules must each be raised by the stream, so that the state
		// behind each is compared.
		rules []string
	}{
		{"hand-built, every cut", edgeConfig(), edge, nil, []string{RuleBulkRead, RuleNewCredentialBulk, RuleExfilPathOpened,
			RuleFirstSeenLocation, RulePrivilegedRead, RuleDisabledAccountActive, RulePlatformAdminBulkRead}},
		{"simulated", DefaultConfig(), sim, simCuts, []string{RuleBulkRead, RuleNewCredentialBulk, RuleFirstSeenLocation}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs := slices.Clone(tc.evs)
			cuts := tc.cuts
			if cuts == nil {
				for k := range len(evs) + 1 {
					cuts = append(cuts, k)
				}
			}
			full := signalsFrom(t, New(tc.cfg), evs, 0)
			t.Logf("%d events, %d signals, %d cuts", len(evs), len(full), len(cuts))
			for _, r := range tc.rules {
				if !slices.ContainsFunc(full, func(s string) bool { return strings.Contains(s, `"rule":"`+r+`"`) }) {
					t.Errorf("the stream raised no %s signal to compare", r)
				}
			}
			if len(full) == 0 {
				t.Fatal("the stream raised no signal: the comparison would be empty")
			}
			differs := 0
			for j, k := range cuts {
				saved := New(tc.cfg)
				feed(saved, evs, 0, k, func(int, reposentry.Signal) {})
				var buf bytes.Buffer
				if err := saved[j%len(saved)].(engine.Stateful).SaveState(&buf); err != nil {
					t.Fatalf("cut %d: save: %v", k, err)
				}
				restored := New(tc.cfg)
				if err := restored[(j+3)%len(restored)].(engine.Stateful).LoadState(bytes.NewReader(buf.Bytes())); err != nil {
					t.Fatalf("cut %d: load: %v", k, err)
				}
				var again bytes.Buffer
				if err := restored[0].(engine.Stateful).SaveState(&again); err != nil {
					t.Fatalf("cut %d: save restored: %v", k, err)
				}
				if !bytes.Equal(buf.Bytes(), again.Bytes()) {
					t.Errorf("cut %d: the restored state saves to %d bytes differing from the %d loaded", k, again.Len(), buf.Len())
				}
				got, want := signalsFrom(t, restored, evs, k), after(full, k)
				if !slices.Equal(got, want) {
					t.Errorf("cut %d of %d: %d signals after restoring, %d uninterrupted; first difference:\n%s", k, len(evs), len(got), len(want), firstDiff(got, want))
				}
				if !slices.Equal(signalsFrom(t, New(tc.cfg), evs, k), want) {
					differs++
				}
			}
			if differs == 0 {
				t.Error("fresh detectors without the state gave the same signals at every cut: the test proves nothing")
			}
		})
	}
}

func firstDiff(got, want []string) string {
	for i := range max(len(got), len(want)) {
		g, w := "(none)", "(none)"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			return "got  " + g + "\nwant " + w
		}
	}
	return "(none)"
}

// TestStateContents checks that what the edge stream teaches survives a
// round trip: classification, owners, deactivations, credentials, routine
// repositories and places.
func TestStateContents(t *testing.T) {
	evs := edgeStream()
	// Up to day 12 noon: after the deactivation of alice, before her next read.
	k := slices.IndexFunc(evs, func(e reposentry.Event) bool { return e.Time.After(t0.Add(12*day + time.Hour)) })
	saved := New(edgeConfig())
	feed(saved, evs[:k], 0, k, func(int, reposentry.Signal) {})
	// A credential watch still open at the cut.
	mid := New(edgeConfig())
	kc := slices.IndexFunc(evs, func(e reposentry.Event) bool { return e.Time.After(t0.Add(10*day + 10*time.Hour + 5*time.Minute)) })
	feed(mid, evs, 0, kc, func(int, reposentry.Signal) {})

	restore := func(dets []engine.Detector) *core {
		var buf bytes.Buffer
		if err := dets[2].(engine.Stateful).SaveState(&buf); err != nil {
			t.Fatalf("save: %v", err)
		}
		out := New(edgeConfig())
		if err := out[6].(engine.Stateful).LoadState(&buf); err != nil {
			t.Fatalf("load: %v", err)
		}
		return out[0].(*detector).c
	}
	c, cm := restore(saved), restore(mid)
	actor := func(c *core, login string) *actor {
		a := c.actors[login+"@example.com"]
		if a == nil {
			t.Fatalf("%s not restored", login)
		}
		return a
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"dora classified automation by behaviour", actor(c, "dora").auto && !actor(c, "dora").bot},
		{"svc-build automation by name", actor(c, "svc-build").bot},
		{"jane learnt owner", actor(c, "jane").owner() && actor(c, "jane").rare.owner == "org.update_member"},
		{"root privileged", actor(c, "root").privileged},
		{"alice deactivated", actor(c, "alice").rare != nil && actor(c, "alice").rare.deprovAt == t0.Add(12*day).UnixNano()},
		{"eve deactivated before first seen", actor(c, "eve").rare != nil && actor(c, "eve").rare.deprovBy == "okta user.lifecycle.deactivate"},
		{"frank's disabled incident", actor(c, "frank").rare != nil && actor(c, "frank").rare.disTier == reposentry.SeverityHigh},
		{"carol's routine repositories", len(actor(c, "carol").mem) == 20},
		{"alice's countries", len(actor(c, "alice").countries) == 2 && actor(c, "alice").countries[1].country == "DE"},
		{"alice's networks", len(actor(c, "alice").networks) == 3},
		{"bob's credentials", len(actor(c, "bob").creds) == 2},
		{"gina's last bulk read", actor(c, "gina").lastBulk != 0 && actor(c, "gina").lastBulkCount == 15},
		{"data start", c.started && c.dataStart == t0.UnixNano()},
		{"event-time clock", c.lastAdvance == t0.Add(12*day).UnixNano()},
		{"open credential watch", actor(cm, "bob").pend != nil && cm.creds[keyOf(evs, "tok-new")] != nil &&
			cm.creds[keyOf(evs, "tok-new")].pend == actor(cm, "bob").pend && len(actor(cm, "bob").pend.repos) == 1},
		{"active windows", len(cm.active) > 0 && actor(cm, "bob").win.len() == 1},
	}
	for _, tc := range tests {
		if !tc.ok {
			t.Errorf("%s: not as saved", tc.name)
		}
	}
}

func keyOf(evs []reposentry.Event, id string) string {
	for _, e := range evs {
		if e.Credential.ID == id {
			return e.Credential.Key()
		}
	}
	return ""
}

// validState is a saved state of the edge stream up to the middle of bob's
// credential watch.
func validState(tb testing.TB) []byte {
	evs := edgeStream()
	dets := New(edgeConfig())
	k := slices.IndexFunc(evs, func(e reposentry.Event) bool { return e.Time.After(t0.Add(10*day + 10*time.Hour + 5*time.Minute)) })
	feed(dets, evs, 0, k, func(int, reposentry.Signal) {})
	var buf bytes.Buffer
	if err := dets[0].(engine.Stateful).SaveState(&buf); err != nil {
		tb.Fatalf("save: %v", err)
	}
	return buf.Bytes()
}

// withSum frames body (version onwards) as a state with a valid checksum,
// so that tests reach the decoder's checks behind the checksum.
func withSum(body []byte) []byte {
	out := append([]byte(stateMagic), body...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
}

func TestLoadStateErrors(t *testing.T) {
	good := validState(t)
	flipped := slices.Clone(good)
	flipped[len(good)/2] ^= 0x40
	uv := func(parts ...uint64) []byte {
		var b []byte
		for _, p := range parts {
			b = binary.AppendUvarint(b, p)
		}
		return b
	}
	tests := []struct {
		name, state, want string
	}{
		{"empty", "", "want a state starting"},
		{"other file", "{\"actors\": []}\n...........................", "want a state starting"},
		{"wrong version", string(withSum(uv(1))), "version 1, want 2 (detect/v2)"},
		{"absurd deactivation count", string(withSum(append(uv(2, 0, 0, 0, 0), uv(1<<40)...))), "more than the"},
		{"absurd identity count", string(withSum(uv(2, 0, 0, 0, 0, 0, 1<<40))), "identities: 1099511627776 is more than"},
		{"absurd string", string(withSum(uv(2, 0, 0, 0, 0, 0, 1, 1<<30))), "identity: 1073741824 is more than"},
		{"truncated body", string(good[:len(good)/2]), "truncated"},
		{"truncated checksum", string(good[:len(good)-2]), "truncated before its checksum"},
		{"flipped bit", string(flipped), "corrupt"},
		{"trailing data", string(good) + "x", "data after the checksum"},
		{"unsorted memory", string(withSum(unsortedMem(t))), "not sorted"},
		{"bad severity", string(withSum(append(uv(2, 0, 0, 0, 0, 0, 1), badSeverityActor()...))), "severity 9 is unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dets := New(edgeConfig())
			err := dets[1].(engine.Stateful).LoadState(strings.NewReader(tc.state))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadState = %v, want an error containing %q", err, tc.want)
			}
			if c := dets[0].(*detector).c; len(c.actors) != 0 || c.started {
				t.Errorf("a failed load left %d identities behind", len(c.actors))
			}
		})
	}
	for n := range len(good) {
		if err := New(edgeConfig())[0].(engine.Stateful).LoadState(bytes.NewReader(good[:n])); err == nil {
			t.Fatalf("a state truncated to %d of %d bytes loaded", n, len(good))
		}
	}
}

// unsortedMem is a state body whose one identity remembers two
// repositories out of hash order.
func unsortedMem(t *testing.T) []byte {
	c := newCore(DefaultConfig())
	a := &actor{key: "x", mem: []memEntry{{h: 9}, {h: 3}}}
	c.actors["x"] = a
	var buf bytes.Buffer
	if err := c.save(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()[len(stateMagic) : buf.Len()-4]
}

// badSeverityActor is one identity with a place whose severity is unknown.
func badSeverityActor() []byte {
	b := []byte{1, 'x', 0}                   // key, flags
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, 0) // first, last, autoDays, autoDay, hours, lastBulk, lastBulkCount, accounts, mem
	return append(b, 1, 0, 0, 0, 0, 9, 0)    // one country: name, key, first, last, severity 9
}

func TestLoadStateIntoUsedDetectors(t *testing.T) {
	good := validState(t)
	evs := edgeStream()
	tests := []struct {
		name string
		prep func([]engine.Detector)
	}{
		{"after an event", func(d []engine.Detector) { feed(d, evs, 0, 1, func(int, reposentry.Signal) {}) }},
		{"after an Advance", func(d []engine.Detector) { d[3].Advance(t0, func(reposentry.Signal) {}) }},
		{"after a load", func(d []engine.Detector) {
			if err := d[2].(engine.Stateful).LoadState(bytes.NewReader(good)); err != nil {
				t.Fatalf("first load: %v", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dets := New(edgeConfig())
			tc.prep(dets)
			if err := dets[0].(engine.Stateful).LoadState(bytes.NewReader(good)); err == nil || !strings.Contains(err.Error(), "already seen") {
				t.Fatalf("LoadState = %v, want an already-seen error", err)
			}
		})
	}
}

func TestStateKeyShared(t *testing.T) {
	for _, d := range New(DefaultConfig()) {
		if k := d.(engine.Stateful).StateKey(); k != "detect/v2" {
			t.Errorf("%s: StateKey %q, want %q", d.Name(), k, StateKey)
		}
	}
}

// FuzzLoadState loads arbitrary bytes, both as they are and framed with a
// valid magic and checksum so the decoder's own checks are reached: never a
// panic, and a state that loads saves and loads again and drives detectors.
func FuzzLoadState(f *testing.F) {
	good := validState(f)
	f.Add(good)
	f.Add(good[len(stateMagic) : len(good)-4])
	f.Add(good[:len(good)/3])
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0})
	evs := edgeStream()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, state := range [][]byte{data, withSum(data)} {
			dets := New(edgeConfig())
			if err := dets[0].(engine.Stateful).LoadState(bytes.NewReader(state)); err != nil {
				continue
			}
			var buf bytes.Buffer
			if err := dets[1].(engine.Stateful).SaveState(&buf); err != nil {
				t.Fatalf("save after load: %v", err)
			}
			again := New(edgeConfig())
			if err := again[2].(engine.Stateful).LoadState(&buf); err != nil {
				t.Fatalf("reload: %v", err)
			}
			feed(again, evs, len(evs)-20, len(evs), func(int, reposentry.Signal) {})
			again[0].Advance(t0.Add(400*day), func(reposentry.Signal) {})
		}
	})
}

// benchState is the state of 2,000 identities after a week of the mixed
// benign stream (about 100 events, 15 repositories, 2 networks each).
func benchState(b *testing.B) (*core, int) {
	const identities = 2000
	evs := mixedEvents(identities, 200_000)
	for i := range evs {
		evs[i].Time = t0.Add(time.Duration(i) * 3 * time.Second)
	}
	dets := New(DefaultConfig())
	feed(dets, evs, 0, len(evs), func(int, reposentry.Signal) {})
	c := dets[0].(*detector).c
	if len(c.actors) != identities {
		b.Fatalf("%d identities, want %d", len(c.actors), identities)
	}
	return c, identities
}

func BenchmarkSaveState(b *testing.B) {
	c, n := benchState(b)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := c.save(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportMetric(float64(buf.Len())/float64(n), "B/identity")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/save")
}

func BenchmarkLoadState(b *testing.B) {
	c, n := benchState(b)
	var buf bytes.Buffer
	if err := c.save(&buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if err := New(DefaultConfig())[0].(engine.Stateful).LoadState(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/float64(n), "B/identity")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/load")
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestSaveStateWriteError(t *testing.T) {
	dets := New(edgeConfig())
	evs := edgeStream()
	feed(dets, evs, 0, len(evs), func(int, reposentry.Signal) {})
	if err := dets[4].(engine.Stateful).SaveState(failWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("SaveState = %v, want the writer's error", err)
	}
}

// TestStateForgottenIdentity covers an identity forgotten by ActorTTL while a
// credential in use still names it: it is restored for the credential only.
func TestStateForgottenIdentity(t *testing.T) {
	dets := New(DefaultConfig())
	evs := join(mk(0, "alice", reposentry.CategoryClone, "acme/a", cred(reposentry.CredentialPATClassic, "shared")),
		mk(time.Minute, "bob", reposentry.CategoryClone, "acme/b", cred(reposentry.CredentialPATClassic, "shared")))
	feed(dets, evs, 0, len(evs), func(int, reposentry.Signal) {})
	c := dets[0].(*detector).c
	delete(c.actors, "alice@example.com")
	var buf bytes.Buffer
	if err := dets[0].(engine.Stateful).SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	out := New(DefaultConfig())
	if err := out[0].(engine.Stateful).LoadState(&buf); err != nil {
		t.Fatal(err)
	}
	r := out[0].(*detector).c
	cs := r.creds[keyOf(evs, "shared")]
	switch {
	case cs == nil || len(cs.actors) != 2:
		t.Fatalf("credential not restored with its two identities: %+v", cs)
	case r.actors["alice@example.com"] != nil:
		t.Error("the forgotten identity came back into the identity map")
	case cs.actors[0].key != "alice@example.com" || cs.actors[1] != r.actors["bob@example.com"]:
		t.Errorf("credential names %q and %q, want the forgotten alice and the restored bob", cs.actors[0].key, cs.actors[1].key)
	}
}
