package baseline

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
	"github.com/reposentry/reposentry/engine/enginetest"
)

var _ engine.Stateful = (*detector)(nil)

// feed runs evs through d as the engine would, advancing every minute of
// event time from tick, and returns the signals as JSON, one per event
// index that raised them.
func feed(tb testing.TB, d engine.Detector, evs []reposentry.Event, from int) map[int][]string {
	return enginetest.ByEvent(tb, []engine.Detector{d}, evs, from)
}

func roundTrip(tb testing.TB, d engine.Detector, cfg Config) (engine.Detector, []byte) {
	tb.Helper()
	var buf bytes.Buffer
	if err := d.(engine.Stateful).SaveState(&buf); err != nil {
		tb.Fatalf("save state: %v", err)
	}
	saved := bytes.Clone(buf.Bytes())
	n := New(cfg)
	if err := n.(engine.Stateful).LoadState(&buf); err != nil {
		tb.Fatalf("load state: %v", err)
	}
	return n, saved
}

// TestStateRoundTrip cuts a simulated organisation's stream at several
// points, saves and restores the state there, and requires exactly the
// signals of an uninterrupted run for every later event: nothing pending is
// dropped, so no window is exempt. Saving the restored state again must give
// the same bytes. Events carry the simulated directory's departments, so
// the departments' peer statistics are part of the state.
func TestStateRoundTrip(t *testing.T) {
	evs, dir := simOrg(t, 120, 40)
	evs = withDepartments(t, evs, dir)
	cfg := Config{}
	whole := feed(t, New(cfg), evs, 0)
	total := 0
	for _, s := range whole {
		total += len(s)
	}
	if total == 0 {
		t.Fatal("the uninterrupted run raised no signal: the comparison would prove nothing")
	}
	for _, cut := range []struct {
		name string
		frac float64
	}{{"first event", 0}, {"learning", 0.1}, {"a third", 0.33}, {"half", 0.5}, {"late", 0.8}, {"last event", 1}} {
		t.Run(cut.name, func(t *testing.T) {
			k := min(int(cut.frac*float64(len(evs))), len(evs)-1)
			d := New(cfg)
			feed(t, d, evs[:k], 0)
			r, saved := roundTrip(t, d, cfg)
			var again bytes.Buffer
			if err := r.(engine.Stateful).SaveState(&again); err != nil {
				t.Fatalf("save restored state: %v", err)
			}
			if !bytes.Equal(saved, again.Bytes()) {
				t.Fatalf("restored state saves as %d bytes differing from the %d saved", again.Len(), len(saved))
			}
			got := feed(t, r, evs[k:], k)
			n := 0
			for i := k; i < len(evs); i++ {
				w, g := strings.Join(whole[i], "\n"), strings.Join(got[i], "\n")
				if w != g {
					t.Fatalf("event %d (%s %s): signals differ after a cut at %d\nwant %s\ngot  %s", i, evs[i].ActorKey(), evs[i].Time, k, w, g)
				}
				n += len(whole[i])
			}
			t.Logf("cut at %d of %d events (%d bytes of state): %d later signals identical", k, len(evs), len(saved), n)
		})
	}
}

// TestLoadStateRefuses feeds damaged states and a busy detector: each must
// be an error naming the problem, never a panic nor a half-loaded detector.
func TestLoadStateRefuses(t *testing.T) {
	evs, _ := simOrg(t, 40, 10)
	d := New(Config{})
	feed(t, d, evs, 0)
	var buf bytes.Buffer
	if err := d.(engine.Stateful).SaveState(&buf); err != nil {
		t.Fatalf("save: %v", err)
	}
	good := buf.Bytes()
	wrongVersion := append([]byte(stateMagic), stateVersion+1)
	hugeCount := append(append([]byte(stateMagic), stateVersion, 0), 0x80, 0x80, 0x40)
	overLimit := append(append([]byte(stateMagic), stateVersion, 0), 0xff, 0xff, 0xff, 0xff, 0x0f)
	// peerState is the state of a detector holding one peer group's or
	// department's counts, which need not be consistent.
	peerState := func(ps peerStat, dept bool) []byte {
		n := New(Config{}).(*detector)
		if dept {
			n.depts["Platform"] = &ps
		} else {
			n.peers[7] = &ps
		}
		var b bytes.Buffer
		if err := n.SaveState(&b); err != nil {
			t.Fatalf("save: %v", err)
		}
		return b.Bytes()
	}
	for _, c := range []struct {
		name, want string
		data       []byte
		busy       bool
	}{
		{"empty", "want the magic", nil, false},
		{"other file", "want the magic", []byte("SQLite format 3\x00"), false},
		{"wrong version", fmt.Sprintf("version %d, want %d", stateVersion+1, stateVersion), wrongVersion, false},
		{"truncated header", "truncated", good[:len(stateMagic)], false},
		{"truncated middle", "truncated", good[:len(good)/2], false},
		{"truncated end", "truncated", good[:len(good)-1], false},
		{"trailing bytes", "unexpected bytes", append(bytes.Clone(good), 0), false},
		{"count beyond the input", "needs more than", hugeCount, false},
		{"count beyond the limit", "exceeds the limit", overLimit, false},
		{"busy detector", "already processed", good, true},
		{"peer count above the member-days", "peer group count 30 outside 0 to its 20 member-days", peerState(peerStat{days: 20, daily: 30}, false), false},
		{"department member-days past the decay", "department member-days 5000 outside 0 to 4096", peerState(peerStat{days: 5000}, true), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := New(Config{})
			if c.busy {
				feed(t, n, evs[:10], 0)
			}
			before := len(n.(*detector).ids)
			err := n.(engine.Stateful).LoadState(bytes.NewReader(c.data))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("LoadState = %v, want an error containing %q", err, c.want)
			}
			if after := len(n.(*detector).ids); after != before {
				t.Fatalf("a refused state changed the identities from %d to %d", before, after)
			}
		})
	}
}

// fuzzStream is a small history with every part of the state in use:
// routine work, a burst of new reads with archives, a dormant identity
// waking and credentials. It is cheap, since every fuzzing worker builds it.
func fuzzStream() []reposentry.Event {
	var g gen
	g.routine("a@x", "alpha", 0, 12)
	g.routine("b@x", "beta", 0, 12)
	g.clones("a@x", 11, 24, 4, "")
	g.routine("c@x", "gamma", 0, 3)
	g.routine("c@x", "gamma", 40, 1)
	g.clones("c@x", 40, 6, 0, "")
	g.add("b@x", at(12, 3), reposentry.CategoryClone, "acme/beta-night")
	slices.SortStableFunc(g.evs, func(x, y reposentry.Event) int { return x.Time.Compare(y.Time) })
	return g.evs
}

// FuzzLoadState loads arbitrary bytes: an error or a detector that then
// processes events without panicking, never a panic.
func FuzzLoadState(f *testing.F) {
	evs := fuzzStream()
	cut := len(evs) * 3 / 4
	d := New(Config{})
	feed(f, d, evs[:cut], 0)
	var buf bytes.Buffer
	if err := d.(engine.Stateful).SaveState(&buf); err != nil {
		f.Fatalf("save: %v", err)
	}
	good := buf.Bytes()
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add(append([]byte(stateMagic), stateVersion))
	rest := evs[cut:]
	f.Fuzz(func(t *testing.T, data []byte) {
		n := New(Config{})
		if err := n.(engine.Stateful).LoadState(bytes.NewReader(data)); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		for i := range rest {
			n.Process(&rest[i], func(reposentry.Signal) {})
		}
		n.Advance(rest[len(rest)-1].Time.Add(365*24*time.Hour), func(reposentry.Signal) {})
	})
}

// BenchmarkState saves and loads the state of a simulated organisation of
// 2,000 identities and 30 days.
func BenchmarkState(b *testing.B) {
	evs, _ := simOrg(b, 2000, 30)
	d := New(Config{})
	feed(b, d, evs, 0)
	ids := len(d.(*detector).ids)
	var buf bytes.Buffer
	if err := d.(engine.Stateful).SaveState(&buf); err != nil {
		b.Fatalf("save: %v", err)
	}
	saved := bytes.Clone(buf.Bytes())
	b.Run("save", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(saved)))
		for b.Loop() {
			buf.Reset()
			if err := d.(engine.Stateful).SaveState(&buf); err != nil {
				b.Fatalf("save: %v", err)
			}
		}
		b.ReportMetric(float64(len(saved))/float64(ids), "bytes/identity")
		b.ReportMetric(float64(ids), "identities")
	})
	b.Run("load", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(saved)))
		for b.Loop() {
			if err := New(Config{}).(engine.Stateful).LoadState(bytes.NewReader(saved)); err != nil {
				b.Fatalf("load: %v", err)
			}
		}
		b.ReportMetric(float64(len(saved))/float64(ids), "bytes/identity")
		b.ReportMetric(float64(ids), "identities")
	})
}

// TestLoadStateLowerBound loads a state into a detector configured to
// remember fewer repositories per identity: the bound holds at once, the
// routine repositories are kept first and the list stays searchable.
func TestLoadStateLowerBound(t *testing.T) {
	evs, _ := simOrg(t, 40, 10)
	d := New(Config{})
	feed(t, d, evs, 0)
	var buf bytes.Buffer
	if err := d.(engine.Stateful).SaveState(&buf); err != nil {
		t.Fatalf("save: %v", err)
	}
	for _, bound := range []int{1, 4, 16} {
		n := New(Config{MaxKnownRepos: bound})
		if err := n.(engine.Stateful).LoadState(bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatalf("load with max_known_repos %d: %v", bound, err)
		}
		trimmed := 0
		for k, a := range n.(*detector).ids {
			orig := d.(*detector).ids[k].known
			if len(a.known) > bound {
				t.Fatalf("max_known_repos %d: %s keeps %d", bound, k, len(a.known))
			}
			if !slices.IsSortedFunc(a.known, func(x, y known) int { return cmp.Compare(x.hash(), y.hash()) }) {
				t.Fatalf("max_known_repos %d: %s's repositories are not sorted", bound, k)
			}
			routine := 0
			for _, r := range orig {
				routine += b2i(r.routine())
			}
			kept := 0
			for _, r := range a.known {
				kept += b2i(r.routine())
			}
			if want := min(routine, bound); kept != want {
				t.Fatalf("max_known_repos %d: %s keeps %d routine repositories of %d, want %d", bound, k, kept, routine, want)
			}
			if len(orig) > bound {
				trimmed++
			}
		}
		if trimmed == 0 {
			t.Fatalf("max_known_repos %d trimmed no identity: the test proves nothing", bound)
		}
	}
}
