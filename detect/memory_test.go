package detect

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
)

// TestStateSizes guards the sizes the per-identity memory budget rests on:
// one actor per identity in a 256-byte size class, and places, routine
// repositories and idle windows no larger than they were made.
func TestStateSizes(t *testing.T) {
	tests := []struct {
		name      string
		size, max uintptr
	}{
		{"actor", unsafe.Sizeof(actor{}), 256},
		{"idle window", unsafe.Sizeof(window{}), 64},
		{"network", unsafe.Sizeof(network{}), 32},
		{"country or credential", unsafe.Sizeof(namedPlace{}), 40},
		{"routine repository", unsafe.Sizeof(memEntry{}), 16},
	}
	for _, tc := range tests {
		if tc.size > tc.max {
			t.Errorf("%s takes %d bytes, more than %d", tc.name, tc.size, tc.max)
		}
	}
}

// TestGrowWaste checks that per-identity lists grow in small steps, never
// far past their length (append's doubling leaves up to half unused), and
// stop at their bound.
func TestGrowWaste(t *testing.T) {
	tests := []struct{ n, limit, step int }{
		{1, 16, 1}, {5, 16, 1}, {16, 16, 1}, {20, 256, 4}, {256, 256, 4}, {257, 257, 4}, {3000, 16384, 4}, {6000, 16384, 4},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d of %d by %d", tc.n, tc.limit, tc.step), func(t *testing.T) {
			var s []memEntry
			for i := range tc.n {
				s = grow(s, tc.limit, tc.step)
				s = append(s, memEntry{h: uint64(i)})
				// An eighth or a step, rounded up to the allocator's
				// size class (at most about a fifth more).
				if slack := len(s)/3 + tc.step + 1; cap(s) > len(s)+slack {
					t.Fatalf("%d entries in a capacity of %d, more than %d spare", len(s), cap(s), slack)
				}
			}
			if tc.n == tc.limit && cap(s) > tc.limit+tc.limit/5 {
				t.Errorf("a list bounded at %d grew to a capacity of %d", tc.limit, cap(s))
			}
		})
	}
}

// TestAdvanceReleasesEvent checks that the detectors keep no reference to
// a processed event once event time moves on: it would keep the caller's
// whole event buffer alive with it.
func TestAdvanceReleasesEvent(t *testing.T) {
	tests := []struct {
		name string
		ev   reposentry.Event
	}{
		{"clone", reposentry.Event{Category: reposentry.CategoryClone, Repo: "acme/api", Visibility: reposentry.VisibilityPrivate}},
		{"credential creation", reposentry.Event{Category: reposentry.CategoryCredentialCreate, Action: "personal_access_token.create"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dets := New(DefaultConfig())
			ev := new(reposentry.Event)
			*ev = tc.ev
			ev.Time, ev.Platform, ev.Outcome = t0, reposentry.PlatformGitHub, reposentry.OutcomeSuccess
			ev.Actor = reposentry.Account{Login: "alice", Type: reposentry.ActorUser}
			ev.SourceIP, ev.Geo.Country = netip.MustParseAddr("198.51.100.7"), "NL"
			ev.Credential = reposentry.Credential{Kind: reposentry.CredentialPATClassic, ID: "tok"}
			ev.ID.Set([]byte("e1"))
			for _, d := range dets {
				d.Process(ev, func(reposentry.Signal) {})
			}
			wp := weak.Make(ev)
			ev = nil
			for _, d := range dets {
				d.Advance(t0.Add(time.Minute), func(reposentry.Signal) {})
			}
			runtime.GC()
			if wp.Value() != nil {
				t.Error("the event is still reachable after Advance")
			}
			runtime.KeepAlive(dets)
		})
	}
}

// TestLoadStateFitsLists checks that restored per-identity lists take no
// more room than their length needs, whatever capacity they were saved from.
func TestLoadStateFitsLists(t *testing.T) {
	tests := []struct{ mem, nets int }{{1, 1}, {17, 3}, {200, 40}}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d repositories, %d networks", tc.mem, tc.nets), func(t *testing.T) {
			c := newCore(DefaultConfig())
			a := &actor{key: "x", mem: make([]memEntry, 0, 2*tc.mem), networks: make([]network, 0, 2*tc.nets)}
			for i := range tc.mem {
				a.mem = append(a.mem, memEntry{h: uint64(i + 1)})
			}
			for i := range tc.nets {
				a.networks = append(a.networks, network{key: uint64(i + 1)})
			}
			c.actors["x"] = a
			var buf bytes.Buffer
			if err := c.save(&buf); err != nil {
				t.Fatal(err)
			}
			r := newCore(DefaultConfig())
			if err := r.load(&buf); err != nil {
				t.Fatal(err)
			}
			b := r.actors["x"]
			if len(b.mem) != tc.mem || cap(b.mem) > tc.mem+tc.mem/8+1 {
				t.Errorf("routine memory restored with length %d, capacity %d; want %d and little spare", len(b.mem), cap(b.mem), tc.mem)
			}
			if len(b.networks) != tc.nets || cap(b.networks) > tc.nets+tc.nets/8+1 {
				t.Errorf("networks restored with length %d, capacity %d; want %d and little spare", len(b.networks), cap(b.networks), tc.nets)
			}
		})
	}
}

// TestLoadStateMixedPlaces checks that a network with a name, or a country
// or credential with a network key, is refused: no writer makes them.
func TestLoadStateMixedPlaces(t *testing.T) {
	uv := func(parts ...uint64) []byte {
		var b []byte
		for _, p := range parts {
			b = binary.AppendUvarint(b, p)
		}
		return b
	}
	// One identity "x" with no flags, clocks, accounts or memory, then its
	// place lists.
	head := append(uv(2, 0, 0, 0, 0, 0, 1), 1, 'x', 0)
	head = append(head, 0, 0, 0, 1, 0, 0, 0, 0, 0) // first, last, autoDays, autoDay -1, hours, lastBulk, lastBulkCount, accounts, mem
	tests := []struct {
		name   string
		places []byte
		want   string
	}{
		{"country with a network key", append(uv(1, 2), 'N', 'L', 7, 0, 0, 0, 0, 0), `place "NL" has network key 0x7`},
		{"named network", append(uv(0, 1, 1), 'x', 7, 0, 0, 0, 0, 0), `network 0x7 named "x"`},
		{"credential with a network key", append(uv(0, 0, 1, 3), 't', 'o', 'k', 9, 0, 0, 0, 0, 0), `place "tok" has network key 0x9`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := append(append([]byte(nil), head...), tc.places...)
			err := New(DefaultConfig())[0].(engine.Stateful).LoadState(bytes.NewReader(withSum(body)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadState = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
