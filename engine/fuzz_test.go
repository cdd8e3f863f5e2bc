package engine

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
)

// FuzzEngineOrder checks the engine's promises on arbitrary event times and
// arrival delays: every distinct event is processed exactly once, Advance
// never goes back, and when no event is late the detectors see the same
// calls as for the events sorted by time.
func FuzzEngineOrder(f *testing.F) {
	f.Add([]byte{0, 1, 2, 10, 0, 3, 5, 200, 7})
	f.Add([]byte{255, 255, 255, 0, 0, 0, 128, 128, 128, 1, 2, 3})
	f.Add([]byte{3, 9, 1, 3, 9, 1, 3, 9, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		const lateness = 10 * time.Minute
		type arrival struct {
			at time.Time
			ev reposentry.Event
		}
		var arr []arrival
		at := t0
		ids := map[string]bool{}
		for i := 0; i+2 < len(data); i += 3 {
			at = at.Add(time.Duration(data[i]) * 7 * time.Second) // ties when 0
			id := strconv.Itoa(int(data[i+2]) % 64)
			if ids[id] {
				continue // ids stay unique: a repeat would be dropped as a duplicate
			}
			ids[id] = true
			delay := time.Duration(data[i+1]) * 5 * time.Second // up to 21m: some late
			arr = append(arr, arrival{at.Add(delay), mkEvent(reposentry.PlatformGitHub, id, at)})
		}
		sorted := make([]reposentry.Event, len(arr))
		for i, a := range arr {
			sorted[i] = a.ev
		}
		slices.SortStableFunc(arr, func(a, b arrival) int { return a.at.Compare(b.at) })
		arrived := make([]reposentry.Event, len(arr))
		for i, a := range arr {
			arrived[i] = a.ev
		}
		cfg := Config{Lateness: lateness}
		got := run(cfg, arrived)
		if got.stats.Processed != int64(len(sorted)) {
			t.Fatalf("processed %d events, want %d", got.stats.Processed, len(sorted))
		}
		seen := map[string]bool{}
		for _, s := range got.signals {
			if seen[s] {
				t.Fatalf("event %s processed twice", s)
			}
			seen[s] = true
		}
		if !slices.IsSortedFunc(got.rec.advances, time.Time.Compare) {
			t.Fatal("Advance went back")
		}
		if got.stats.Late == 0 {
			want := run(cfg, sorted)
			if !slices.Equal(got.rec.log, want.rec.log) {
				t.Fatal("no event was late, yet the detectors saw other calls than for sorted input")
			}
		}
	})
}

// FuzzDedup checks the dedup table against a plain map with the same
// rules: an id is a repeat while the bucket it was last remembered in is
// among the live ones, and the live count is exact.
func FuzzDedup(f *testing.F) {
	f.Add([]byte{1, 2, 3, 1, 2, 3, 200, 9, 9, 0, 0, 5})
	f.Add([]byte{0, 0, 0, 0, 255, 1, 255, 2, 7, 7, 7, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		const width = 100 // ns: half a window of 200
		var d dedup
		d.init(2 * width)
		model := map[uint64]int64{}
		newest := int64(minTime)
		now := int64(0)
		fresh := uint64(1000)
		for i := 0; i+1 < len(data); i += 2 {
			now += int64(data[i] % 16)            // event time mostly moves on
			at := now - int64(data[i]>>4)*width/2 // some arrive older than the ring
			// Mostly one of a few ids, so there are repeats (h may be 0);
			// sometimes a burst of new ids, so the table grows, rebuilds
			// and shrinks.
			hs := []uint64{uint64(data[i+1]%64) << (data[i] & 1)}
			if data[i+1] >= 192 {
				hs = hs[:0]
				for range int(data[i+1]-191) * 16 {
					fresh++
					hs = append(hs, fresh*0x9E3779B97F4A7C15)
				}
			}
			newest = max(newest, at)
			oldest := floorDiv(newest, width) - dedupBuckets + 1
			for _, h := range hs {
				got := d.seen(h, at, newest)
				key := max(h, 1)
				b, ok := model[key]
				want := ok && b >= oldest
				if !want {
					model[key] = max(floorDiv(at, width), oldest)
				}
				if got != want {
					t.Fatalf("step %d: seen(%d, t=%d, newest=%d) = %v, want %v", i/2, h, at, newest, got, want)
				}
			}
			live := 0
			for k, b := range model {
				if b >= oldest {
					live++
				} else {
					delete(model, k) // dead for good: buckets only move on
				}
			}
			if d.len() != live {
				t.Fatalf("step %d: len() = %d, want %d live ids", i/2, d.len(), live)
			}
			if 2*d.used > len(d.tab) {
				t.Fatalf("step %d: table %d/%d full, beyond half", i/2, d.used, len(d.tab))
			}
		}
	})
}
