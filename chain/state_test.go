package chain_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/chain"
	"github.com/reposentry/reposentry/engine"
	"github.com/reposentry/reposentry/engine/enginetest"
	"github.com/reposentry/reposentry/simulate"
)

// simStream simulates an organisation and returns its identity-provider
// and GitHub events in time order.
func simStream(tb testing.TB, users, days int) []reposentry.Event {
	tb.Helper()
	dir := tb.TempDir()
	if _, err := simulate.Run(simulate.Config{Users: users, Days: days, Seed: 1, Out: dir}); err != nil {
		tb.Fatalf("simulate %d users %d days: %v", users, days, err)
	}
	return simEvents(tb, dir)
}

// feed runs evs through the detectors as the engine would (a minute tick)
// and returns the signals as JSON by the index of the event that raised
// them, counting from from.
func feed(tb testing.TB, ds []engine.Detector, evs []reposentry.Event, from int) map[int][]string {
	return enginetest.ByEvent(tb, ds, evs, from)
}

func save(tb testing.TB, d engine.Detector) []byte { return enginetest.Save(tb, d) }

// TestStateKeyShared: the four detectors of one New share one state key.
func TestStateKeyShared(t *testing.T) {
	for _, d := range chain.New(chain.Config{}) {
		s, ok := d.(engine.Stateful)
		if !ok || s.StateKey() != chain.StateKey {
			t.Errorf("%s: Stateful %v, key %q; want %q", d.Name(), ok, s.StateKey(), chain.StateKey)
		}
	}
}

// TestStateRoundTrip cuts a simulated organisation's stream at several
// points, saves the state from one detector and loads it into another of a
// fresh set, and requires exactly the uninterrupted run's signals for every
// later event: the state keeps open risky windows whole, so no window is
// exempt. Saving again must give the same bytes.
func TestStateRoundTrip(t *testing.T) {
	evs := simStream(t, 150, 21)
	whole := feed(t, chain.New(chain.Config{}), evs, 0)
	for _, cut := range []struct {
		name       string
		frac       float64
		from, into int // which detectors save and load
	}{{"start", 0, 0, 0}, {"learning", 0.1, 1, 2}, {"a third", 0.33, 3, 0}, {"half", 0.5, 2, 3},
		{"two thirds", 0.66, 0, 1}, {"late", 0.9, 1, 1}} {
		t.Run(cut.name, func(t *testing.T) {
			k := int(cut.frac * float64(len(evs)))
			ds := chain.New(chain.Config{})
			feed(t, ds, evs[:k], 0)
			saved := save(t, ds[cut.from])
			fresh := chain.New(chain.Config{})
			if err := fresh[cut.into].(engine.Stateful).LoadState(bytes.NewReader(saved)); err != nil {
				t.Fatalf("load state: %v", err)
			}
			if again := save(t, fresh[(cut.into+1)%len(fresh)]); !bytes.Equal(again, saved) {
				t.Fatalf("restored state saves as %d bytes differing from the %d saved", len(again), len(saved))
			}
			got := feed(t, fresh, evs[k:], k)
			n := 0
			for i := k; i < len(evs); i++ {
				w, g := strings.Join(whole[i], "\n"), strings.Join(got[i], "\n")
				if w != g {
					t.Fatalf("event %d (%s %s %s): signals differ after a cut at %d\nwant %s\ngot  %s", i, evs[i].ActorKey(), evs[i].Action, evs[i].Time, k, w, g)
				}
				n += len(whole[i])
			}
			if cut.frac < 0.5 && n == 0 {
				t.Fatalf("no signal after a cut at %d: the comparison proves nothing", k)
			}
			t.Logf("cut at %d of %d events (%d bytes of state): %d later signals identical", k, len(evs), len(saved), n)
		})
	}
}

// TestLoadStateRefuses feeds damaged states and busy detectors: each must
// be an error naming the problem, leaving the state as it was.
func TestLoadStateRefuses(t *testing.T) {
	evs := simStream(t, 60, 7)
	ds := chain.New(chain.Config{})
	feed(t, ds, evs, 0)
	good := save(t, ds[0])
	head := append([]byte("RSCHAIN"), 1)
	for _, c := range []struct {
		name, want string
		data       []byte
		busy       bool
	}{
		{"empty", "want the magic", nil, false},
		{"baseline state", "want the magic", []byte("RSBASELINE\x01"), false},
		{"wrong version", "version 7, want 1", []byte("RSCHAIN\x07"), false},
		{"truncated header", "truncated", head, false},
		{"truncated middle", "truncated", good[:len(good)/2], false},
		{"truncated end", "truncated", good[:len(good)-1], false},
		{"trailing bytes", "unexpected bytes", append(bytes.Clone(good), 0), false},
		{"count beyond the input", "needs more than", append(append(bytes.Clone(head), make([]byte, 9)...), 0x80, 0x80, 0x40), false},
		{"count beyond the limit", "exceeds the limit", append(append(bytes.Clone(head), make([]byte, 9)...), 0xff, 0xff, 0xff, 0xff, 0x0f), false},
		{"busy detectors", "already processed", good, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := chain.New(chain.Config{})
			if c.busy {
				feed(t, n, evs[:50], 0)
			}
			before := save(t, n[1])
			err := n[2].(engine.Stateful).LoadState(bytes.NewReader(c.data))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("LoadState = %v, want an error containing %q", err, c.want)
			}
			if after := save(t, n[1]); !bytes.Equal(after, before) {
				t.Fatal("a refused state changed the detectors' state")
			}
		})
	}
}

// FuzzLoadState loads arbitrary bytes: an error, or detectors that then
// process events without panicking; never a panic. The seed state is cut
// from push fatigue followed by clones, with shared VPN egress, so denials,
// an open risky window and networks are all in it; it is cheap to build, as
// every fuzzing worker builds it.
func FuzzLoadState(f *testing.F) {
	evs := cat(cases[0].evs, vpnUsers(6, -time.Hour), cases[1].evs[len(cases[1].evs)-3:])
	slices.SortStableFunc(evs, func(x, y reposentry.Event) int { return x.Time.Compare(y.Time) })
	cut := len(evs) - 4
	ds := chain.New(chain.Config{})
	feed(f, ds, evs[:cut], 0)
	good := save(f, ds[0])
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add([]byte("RSCHAIN\x01"))
	rest := evs[cut:]
	f.Fuzz(func(t *testing.T, data []byte) {
		n := chain.New(chain.Config{})
		if err := n[0].(engine.Stateful).LoadState(bytes.NewReader(data)); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		feed(t, n, rest, 0)
		for _, d := range n {
			d.Advance(rest[len(rest)-1].Time.Add(365*24*time.Hour), func(reposentry.Signal) {})
		}
	})
}

// BenchmarkState saves and loads the state of a simulated organisation of
// 2,000 identities and 14 days.
func BenchmarkState(b *testing.B) {
	evs := simStream(b, 2000, 14)
	ds := chain.New(chain.Config{})
	feed(b, ds, evs, 0)
	saved := save(b, ds[0])
	ids := map[string]bool{}
	for i := range evs {
		ids[evs[i].ActorKey()] = true
	}
	var buf bytes.Buffer
	b.Run("save", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(saved)))
		for b.Loop() {
			buf.Reset()
			if err := ds[0].(engine.Stateful).SaveState(&buf); err != nil {
				b.Fatalf("save: %v", err)
			}
		}
		b.ReportMetric(float64(len(saved))/float64(len(ids)), "bytes/identity")
		b.ReportMetric(float64(len(ids)), "identities")
	})
	b.Run("load", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(saved)))
		for b.Loop() {
			if err := chain.New(chain.Config{})[0].(engine.Stateful).LoadState(bytes.NewReader(saved)); err != nil {
				b.Fatalf("load: %v", err)
			}
		}
		b.ReportMetric(float64(len(saved))/float64(len(ids)), "bytes/identity")
		b.ReportMetric(float64(len(ids)), "identities")
	})
}
