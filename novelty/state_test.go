package novelty

import (
	"bytes"
	"strings"
	"testing"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
	"github.com/reposentry/reposentry/engine/enginetest"
)

// feed runs evs through d as the engine would, advancing every minute of
// event time, and returns the signals as JSON by the index of the event
// that raised them.
func feed(tb testing.TB, d engine.Detector, evs []reposentry.Event, from int) map[int][]string {
	return enginetest.ByEvent(tb, []engine.Detector{d}, evs, from)
}

func save(tb testing.TB, d engine.Detector) []byte { return enginetest.Save(tb, d) }

// TestStateRoundTrip cuts streams at several points, saves and restores
// the state there, and requires exactly the signals of an uninterrupted run
// for every later event: the detector keeps no pending window, so none is
// exempt. Saving the restored state again must give the same bytes.
func TestStateRoundTrip(t *testing.T) {
	sim, _ := simOrg(t, 120, 30)
	seq = 0
	for _, stream := range []struct {
		name string
		evs  []reposentry.Event
	}{{"story", story()}, {"simulated organisation", sim}} {
		evs := stream.evs
		whole := feed(t, New(Config{}), evs, 0)
		if len(whole) == 0 {
			t.Fatalf("%s: the uninterrupted run raised no signal: the comparison would prove nothing", stream.name)
		}
		for _, cut := range []struct {
			name string
			frac float64
		}{{"first event", 0}, {"learning", 0.1}, {"a third", 0.33}, {"half", 0.5}, {"late", 0.8}, {"last event", 1}} {
			t.Run(stream.name+"/"+cut.name, func(t *testing.T) {
				k := min(int(cut.frac*float64(len(evs))), len(evs)-1)
				d := New(Config{})
				feed(t, d, evs[:k], 0)
				saved := save(t, d)
				r := New(Config{})
				if err := r.(engine.Stateful).LoadState(bytes.NewReader(saved)); err != nil {
					t.Fatalf("load state: %v", err)
				}
				if again := save(t, r); !bytes.Equal(saved, again) {
					t.Fatalf("restored state saves as %d bytes differing from the %d saved", len(again), len(saved))
				}
				got := feed(t, r, evs[k:], k)
				n := 0
				for i := k; i < len(evs); i++ {
					if w, g := strings.Join(whole[i], "\n"), strings.Join(got[i], "\n"); w != g {
						t.Fatalf("event %d (%s %s): signals differ after a cut at %d\nwant %s\ngot  %s", i, evs[i].ActorKey(), evs[i].Time, k, w, g)
					}
					n += len(whole[i])
				}
				t.Logf("cut at %d of %d events (%d bytes of state): %d later signals identical", k, len(evs), len(saved), n)
			})
		}
	}
}

// TestLoadStateRefuses feeds damaged states and a busy detector: each must
// be an error naming the problem, never a panic nor a half-loaded detector.
func TestLoadStateRefuses(t *testing.T) {
	seq = 0
	d := New(Config{})
	feed(t, d, story(), 0)
	good := save(t, d)
	busy := New(Config{})
	ev := evt(alice, at(0, 1)).clone("acme/x").event()
	busy.Process(&ev, func(reposentry.Signal) {})
	for _, c := range []struct {
		name, want string
		data       []byte
		d          engine.Detector
	}{
		{"empty", "magic", nil, nil},
		{"foreign", "magic", []byte("RSBASELINE\x01"), nil},
		{"wrong version", "version 2, want 1", append([]byte(stateMagic), 2), nil},
		{"truncated", "truncated", good[:len(good)/2], nil},
		{"trailing bytes", "unexpected bytes", append(bytes.Clone(good), 0), nil},
		{"absurd count", "exceeds the limit", append([]byte(stateMagic), 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f), nil},
		{"count past the input", "bytes left", append([]byte(stateMagic), 1, 0, 0x80, 0x80, 0x40), nil},
		{"busy detector", "already processed", good, busy},
	} {
		t.Run(c.name, func(t *testing.T) {
			target := c.d
			if target == nil {
				target = New(Config{})
			}
			err := target.(engine.Stateful).LoadState(bytes.NewReader(c.data))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("LoadState = %v, want an error mentioning %q", err, c.want)
			}
			if c.d == nil {
				if n := target.(*detector); len(n.ids) != 0 || len(n.creds) != 0 {
					t.Fatal("a refused state was partly loaded")
				}
			}
		})
	}
}

// BenchmarkState saves and loads the state of 2,000 identities of a
// simulated organisation.
func BenchmarkState(b *testing.B) {
	evs, _ := simOrg(b, 2000, 14)
	d := New(Config{})
	feed(b, d, evs, 0)
	ids := len(d.(*detector).ids)
	var size int
	b.Run("save", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			size = len(save(b, d))
		}
		b.ReportMetric(float64(size)/float64(ids), "B/identity")
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
	})
	saved := save(b, d)
	b.Run("load", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := New(Config{}).(engine.Stateful).LoadState(bytes.NewReader(saved)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
	})
	b.ReportMetric(float64(ids), "identities")
}
