package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// recorder is a fake detector that logs every call it gets and emits one
// signal per event, so tests can compare what detectors saw.
type recorder struct {
	log      []string
	times    []time.Time // of processed events
	advances []time.Time
	raws     map[string]string // id -> raw seen
}

func (r *recorder) Name() string { return "test.recorder" }

func (r *recorder) Process(ev *reposentry.Event, emit func(reposentry.Signal)) {
	r.log = append(r.log, "process "+ev.Ref()+" "+ev.Time.Format(time.RFC3339Nano))
	r.times = append(r.times, ev.Time)
	if r.raws == nil {
		r.raws = map[string]string{}
	}
	r.raws[ev.ID.String()] = string(ev.Raw)
	emit(reposentry.Signal{Rule: r.Name(), Time: ev.Time, EventIDs: []string{ev.Ref()}})
}

func (r *recorder) Advance(now time.Time, emit func(reposentry.Signal)) {
	r.log = append(r.log, "advance "+now.Format(time.RFC3339Nano))
	r.advances = append(r.advances, now)
}

func mkEvent(p reposentry.Platform, id string, at time.Time) reposentry.Event {
	ev := reposentry.Event{Time: at, Platform: p, Raw: []byte(`{"_document_id":"` + id + `"}`)}
	ev.ID.Set([]byte(id))
	return ev
}

// genEvents returns n events with unique ids, sorted by time, a few seconds
// apart with some sharing a timestamp.
func genEvents(rng *rand.Rand, n int) []reposentry.Event {
	evs := make([]reposentry.Event, n)
	at := t0
	for i := range evs {
		if rng.IntN(4) != 0 { // a quarter share the previous timestamp
			at = at.Add(time.Duration(rng.IntN(20_000)) * time.Millisecond)
		}
		evs[i] = mkEvent(reposentry.PlatformGitHub, "doc"+strconv.Itoa(i), at)
	}
	return evs
}

// delayed returns the events in the order they arrive when each is delivered
// between 0 and maxDelay after its event time.
func delayed(rng *rand.Rand, evs []reposentry.Event, maxDelay time.Duration) []reposentry.Event {
	type arrival struct {
		at time.Time
		ev reposentry.Event
	}
	arr := make([]arrival, len(evs))
	for i, ev := range evs {
		arr[i] = arrival{ev.Time.Add(time.Duration(rng.Int64N(int64(maxDelay)))), ev}
	}
	slices.SortStableFunc(arr, func(a, b arrival) int { return a.at.Compare(b.at) })
	out := make([]reposentry.Event, len(arr))
	for i, a := range arr {
		out[i] = a.ev
	}
	return out
}

// pagesNewestFirst returns the events as an API would page them: newest
// first overall, pageSize per page, the pages read oldest page first (as a
// poller catching up does), so each page is in reverse order.
func pagesNewestFirst(evs []reposentry.Event, pageSize int) []reposentry.Event {
	var out []reposentry.Event
	for start := 0; start < len(evs); start += pageSize {
		page := slices.Clone(evs[start:min(start+pageSize, len(evs))])
		slices.Reverse(page)
		out = append(out, page...)
	}
	return out
}

type runResult struct {
	rec     *recorder
	signals []string
	stats   Stats
}

func run(cfg Config, evs []reposentry.Event) runResult {
	rec := &recorder{}
	var signals []string
	e := New(cfg, []Detector{rec}, func(s reposentry.Signal) {
		signals = append(signals, s.EventIDs[0]+"@"+s.Time.Format(time.RFC3339Nano))
	})
	for i := range evs {
		ev := evs[i]
		ev.Raw = slices.Clone(ev.Raw)
		e.Push(&ev)
		clear(ev.Raw) // the engine must have copied what it keeps
	}
	e.Flush()
	return runResult{rec, signals, e.Stats()}
}

func TestOrderIndependentWithinLateness(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sorted := genEvents(rng, 3000)
	const lateness = 15 * time.Minute
	cases := []struct {
		name string
		evs  []reposentry.Event
	}{
		{"sorted", sorted},
		{"delayed up to lateness", delayed(rng, sorted, lateness)},
		{"delayed up to a minute", delayed(rng, sorted, time.Minute)},
		{"newest-first pages", pagesNewestFirst(sorted, 50)},
		{"reversed ties", reverseTies(sorted)},
	}
	want := run(Config{Lateness: lateness}, sorted)
	if len(want.rec.times) != len(sorted) {
		t.Fatalf("sorted input: processed %d events, want %d", len(want.rec.times), len(sorted))
	}
	if !slices.IsSortedFunc(want.rec.times, time.Time.Compare) {
		t.Fatal("sorted input: detectors saw events out of time order")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := run(Config{Lateness: lateness}, tc.evs)
			if got.stats.Late != 0 {
				t.Errorf("Late = %d, want 0 for arrivals within lateness", got.stats.Late)
			}
			if !slices.Equal(got.rec.log, want.rec.log) {
				t.Errorf("detector calls differ from sorted input's (%d vs %d calls); first difference at %d",
					len(got.rec.log), len(want.rec.log), firstDiff(got.rec.log, want.rec.log))
			}
			if !slices.Equal(got.signals, want.signals) {
				t.Errorf("signals differ from sorted input's")
			}
		})
	}
}

// reverseTies keeps time order but reverses each run of equal timestamps.
func reverseTies(evs []reposentry.Event) []reposentry.Event {
	out := slices.Clone(evs)
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && out[j].Time.Equal(out[i].Time) {
			j++
		}
		slices.Reverse(out[i:j])
		i = j
	}
	return out
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestRawCopied(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	evs := genEvents(rng, 500)
	// Small chunks so records span many chunks, plus one record larger
	// than a chunk.
	evs[100].Raw = []byte(`{"_document_id":"doc100","pad":"` + string(make([]byte, 300)) + `"}`)
	res := run(Config{ChunkSize: 256}, delayed(rng, evs, 5*time.Minute))
	for _, ev := range evs {
		id := ev.ID.String()
		want := `{"_document_id":"` + id + `"}`
		if id == "doc100" {
			want = string(evs[100].Raw)
		}
		if got := res.rec.raws[id]; got != want {
			t.Fatalf("event %s: detector saw raw %q, want %q", id, got, want)
		}
	}
	if res.stats.ArenaBytes > int64(minSpare+1)*256 {
		t.Errorf("after Flush the arena holds %d bytes, want at most %d (spares and current chunk)",
			res.stats.ArenaBytes, (minSpare+1)*256)
	}
}

func TestDuplicates(t *testing.T) {
	gh, gl := reposentry.PlatformGitHub, reposentry.PlatformGitLab
	noID := func(at time.Time) reposentry.Event {
		return reposentry.Event{Time: at, Platform: gh, Raw: []byte(`{}`)}
	}
	cases := []struct {
		name      string
		evs       []reposentry.Event
		wantDups  int64
		wantCount map[string]int // ref -> times processed
	}{
		{
			name:      "repeat within window dropped once",
			evs:       []reposentry.Event{mkEvent(gh, "a", t0), mkEvent(gh, "a", t0), mkEvent(gh, "a", t0.Add(time.Hour))},
			wantDups:  2,
			wantCount: map[string]int{"github:a": 1},
		},
		{
			name:      "same id on another platform kept",
			evs:       []reposentry.Event{mkEvent(gh, "a", t0), mkEvent(gl, "a", t0)},
			wantCount: map[string]int{"github:a": 1, "gitlab:a": 1},
		},
		{
			name: "repeat after the window kept",
			evs: []reposentry.Event{mkEvent(gh, "a", t0), mkEvent(gh, "b", t0.Add(4*time.Hour)),
				mkEvent(gh, "a", t0.Add(4*time.Hour))},
			wantCount: map[string]int{"github:a": 2, "github:b": 1},
		},
		{
			name:      "events without id never deduplicated",
			evs:       []reposentry.Event{noID(t0), noID(t0)},
			wantCount: map[string]int{"github:": 2},
		},
		{
			name:      "late repeat within window dropped",
			evs:       []reposentry.Event{mkEvent(gh, "a", t0), mkEvent(gh, "b", t0.Add(time.Hour)), mkEvent(gh, "a", t0)},
			wantDups:  1,
			wantCount: map[string]int{"github:a": 1, "github:b": 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := run(Config{DedupWindow: 2 * time.Hour}, tc.evs)
			if res.stats.Duplicates != tc.wantDups {
				t.Errorf("Duplicates = %d, want %d", res.stats.Duplicates, tc.wantDups)
			}
			got := map[string]int{}
			for _, s := range res.signals {
				ref, _, _ := strings.Cut(s, "@")
				got[ref]++
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantCount) {
				t.Errorf("processed %v, want %v", got, tc.wantCount)
			}
		})
	}
}

func TestDedupDisabled(t *testing.T) {
	gh := reposentry.PlatformGitHub
	res := run(Config{DedupWindow: -1}, []reposentry.Event{mkEvent(gh, "a", t0), mkEvent(gh, "a", t0)})
	if res.stats.Duplicates != 0 || res.stats.Processed != 2 {
		t.Errorf("with dedup off: Duplicates = %d, Processed = %d; want 0 and 2", res.stats.Duplicates, res.stats.Processed)
	}
}

func TestLateEventsProcessedAtOnce(t *testing.T) {
	gh := reposentry.PlatformGitHub
	cases := []struct {
		name     string
		lateness time.Duration
		evs      []reposentry.Event
		wantLate int64
		want     []string // processed ids in order
	}{
		{
			name:     "behind watermark",
			lateness: 10 * time.Minute,
			evs: []reposentry.Event{mkEvent(gh, "a", t0), mkEvent(gh, "b", t0.Add(time.Hour)),
				mkEvent(gh, "c", t0.Add(30*time.Minute)), mkEvent(gh, "d", t0.Add(55*time.Minute))},
			wantLate: 1,
			want:     []string{"a", "c", "d", "b"},
		},
		{
			name:     "exactly at the lateness bound is in order",
			lateness: 10 * time.Minute,
			evs: []reposentry.Event{mkEvent(gh, "a", t0.Add(10*time.Minute)),
				mkEvent(gh, "b", t0)},
			want: []string{"b", "a"},
		},
		{
			name:     "no lateness: every step back is late",
			lateness: -1,
			evs: []reposentry.Event{mkEvent(gh, "a", t0), mkEvent(gh, "b", t0.Add(time.Second)),
				mkEvent(gh, "c", t0)},
			wantLate: 1,
			want:     []string{"a", "c", "b"}, // b waits for a newer event: ties may still come
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := run(Config{Lateness: tc.lateness}, tc.evs)
			if res.stats.Late != tc.wantLate {
				t.Errorf("Late = %d, want %d", res.stats.Late, tc.wantLate)
			}
			var got []string
			for _, s := range res.signals {
				ref, _, _ := strings.Cut(s, "@")
				got = append(got, ref[len("github:"):])
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("processed %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAdvance(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	evs := genEvents(rng, 2000)
	cfg := Config{Tick: time.Minute, FlushMargin: 48 * time.Hour}
	// A late event in the middle must not move Advance backwards.
	late := mkEvent(reposentry.PlatformGitHub, "late", evs[0].Time)
	arrivals := slices.Insert(delayed(rng, evs, 5*time.Minute), 1500, late)
	res := run(cfg, arrivals)
	adv := res.rec.advances
	if res.stats.Late != 1 {
		t.Fatalf("Late = %d, want 1", res.stats.Late)
	}
	if !slices.IsSortedFunc(adv, time.Time.Compare) || len(slices.CompactFunc(slices.Clone(adv), time.Time.Equal)) != len(adv) {
		t.Fatal("Advance times are not strictly increasing")
	}
	for _, a := range adv[:len(adv)-1] {
		if a.Truncate(time.Minute) != a {
			t.Fatalf("Advance(%v) is not on a tick boundary", a)
		}
	}
	// Every minute that holds an event is advanced to exactly once.
	minutes := map[time.Time]bool{}
	for _, ev := range evs {
		minutes[ev.Time.Truncate(time.Minute)] = true
	}
	if got := len(adv) - 1; got != len(minutes) {
		t.Errorf("%d tick Advances, want %d (one per minute holding events)", got, len(minutes))
	}
	last := evs[len(evs)-1].Time
	if got, want := adv[len(adv)-1], last.Add(cfg.FlushMargin); !got.Equal(want) {
		t.Errorf("Flush advanced to %v, want last event time + margin = %v", got, want)
	}
	// Advance to a boundary comes before the events of that minute.
	var prev time.Time
	for _, line := range res.rec.log {
		kind, rest, _ := strings.Cut(line, " ")
		if kind == "advance" {
			prev, _ = time.Parse(time.RFC3339Nano, rest)
			continue
		}
		_, ts, _ := strings.Cut(rest, " ")
		at, _ := time.Parse(time.RFC3339Nano, ts)
		if at.Before(prev) && !at.Equal(late.Time) {
			t.Fatalf("event at %v processed after Advance(%v)", at, prev)
		}
	}
}

func TestMemoryBounded(t *testing.T) {
	const lateness = 15 * time.Minute
	const rate = time.Second // one event per second
	cfg := Config{Lateness: lateness, DedupWindow: time.Hour, ChunkSize: 4096}
	rng := rand.New(rand.NewPCG(7, 8))
	cases := []struct {
		name   string
		events int
	}{
		{"6h of events", 6 * 3600},
		{"24h of events", 24 * 3600},
	}
	var perRun []Stats
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := New(cfg, []Detector{&recorder{}}, nil)
			for i := range tc.events {
				jitter := time.Duration(rng.Int64N(int64(lateness)))
				ev := mkEvent(reposentry.PlatformGitHub, "doc"+strconv.Itoa(i), t0.Add(time.Duration(i)*rate-jitter))
				e.Push(&ev)
			}
			st := e.Stats()
			// The buffer holds at most the events within lateness of the
			// newest, plus those that arrived early within their jitter.
			if maxEvents := int(2 * lateness / rate); st.MaxBuffered > maxEvents {
				t.Errorf("MaxBuffered = %d, want at most %d (twice the lateness window)", st.MaxBuffered, maxEvents)
			}
			if maxIDs := int(3 * time.Hour / 2 / rate); st.DedupIDs > maxIDs+int(lateness/rate) {
				t.Errorf("DedupIDs = %d, want at most %d (1.5 dedup windows)", st.DedupIDs, maxIDs)
			}
			if slots := len(e.dedup.tab); slots > 8*int(3*time.Hour/2/rate) {
				t.Errorf("dedup table has %d slots, want at most 8 per id of 1.5 windows", slots)
			}
			perRun = append(perRun, st)
		})
	}
	if len(perRun) == 2 {
		a, b := perRun[0], perRun[1]
		if b.MaxBuffered > a.MaxBuffered*11/10 || b.MaxArenaBytes > a.MaxArenaBytes*11/10+int64(cfg.ChunkSize) {
			t.Errorf("memory grew with input length: 4x events gave MaxBuffered %d→%d, MaxArenaBytes %d→%d",
				a.MaxBuffered, b.MaxBuffered, a.MaxArenaBytes, b.MaxArenaBytes)
		}
	}
}

func TestStats(t *testing.T) {
	gh := reposentry.PlatformGitHub
	evs := []reposentry.Event{mkEvent(gh, "b", t0.Add(time.Minute)), mkEvent(gh, "a", t0), mkEvent(gh, "a", t0),
		mkEvent(gh, "c", t0.Add(2*time.Minute))}
	res := run(Config{}, evs)
	st := res.stats
	if st.Pushed != 4 || st.Duplicates != 1 || st.Processed != 3 || st.Signals != 3 || st.Buffered != 0 {
		t.Errorf("Stats = %+v; want Pushed 4, Duplicates 1, Processed 3, Signals 3, Buffered 0", st)
	}
	if !st.First.Equal(t0) || !st.Last.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("First, Last = %v, %v; want %v, %v", st.First, st.Last, t0, t0.Add(2*time.Minute))
	}
}

func TestConfigDefaults(t *testing.T) {
	cases := []struct {
		in, want Config
	}{
		{Config{}, Config{DefaultLateness, DefaultDedupWindow, DefaultTick, DefaultFlushMargin, DefaultChunkSize}},
		{Config{Lateness: -1, DedupWindow: -1, Tick: -1, FlushMargin: 1 << 62, ChunkSize: -5},
			Config{0, 0, DefaultTick, maxDuration, DefaultChunkSize}},
		{Config{time.Minute, time.Hour, time.Second, time.Hour, 64}, Config{time.Minute, time.Hour, time.Second, time.Hour, 64}},
	}
	for _, tc := range cases {
		if got := tc.in.WithDefaults(); got != tc.want {
			t.Errorf("%+v.WithDefaults() = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestFloorHelpers(t *testing.T) {
	cases := []struct{ a, b, div, floor int64 }{
		{7, 3, 2, 6}, {-7, 3, -3, -9}, {6, 3, 2, 6}, {-6, 3, -2, -6}, {0, 5, 0, 0},
	}
	for _, tc := range cases {
		if got := floorDiv(tc.a, tc.b); got != tc.div {
			t.Errorf("floorDiv(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.div)
		}
		if got := floorTo(tc.a, tc.b); got != tc.floor {
			t.Errorf("floorTo(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.floor)
		}
	}
}

// countDetector does the least a detector can, to measure the engine.
type countDetector struct{ n, adv int }

func (c *countDetector) Name() string                                       { return "bench.count" }
func (c *countDetector) Process(*reposentry.Event, func(reposentry.Signal)) { c.n++ }
func (c *countDetector) Advance(time.Time, func(reposentry.Signal))         { c.adv++ }

// BenchmarkEnginePush pushes events with a 600-byte raw record, 10 per
// second of event time, arriving up to 5 minutes late (newest-first pages),
// through dedup, ordering and release.
func BenchmarkEnginePush(b *testing.B) {
	raw := make([]byte, 600)
	e := New(Config{}, []Detector{&countDetector{}}, nil)
	ev := reposentry.Event{Platform: reposentry.PlatformGitHub, Action: "git.clone", Raw: raw}
	var id [24]byte
	const page = 3000 // events per page: 5 minutes at 10/s
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for i := range b.N {
		// Within each page, events come newest first.
		n := (i/page)*page + (page - 1 - i%page)
		ev.Time = t0.Add(time.Duration(n) * 100 * time.Millisecond)
		ev.ID.Set(strconv.AppendInt(id[:0], int64(n), 36))
		e.Push(&ev)
	}
	e.Flush()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if st := e.Stats(); st.Processed != int64(b.N) {
		b.Fatalf("processed %d of %d events (late %d, dups %d)", st.Processed, b.N, st.Late, st.Duplicates)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		wantKey string // "" for valid
	}{
		{"zero", Config{}, ""},
		{"defaults", DefaultConfig(), ""},
		{"lateness and dedup off", Config{Lateness: -1, DedupWindow: -1}, ""},
		{"negative tick", Config{Tick: -time.Second}, "engine.tick:"},
		{"negative margin", Config{FlushMargin: -time.Hour}, "engine.flush_margin:"},
		{"huge lateness", Config{Lateness: 1 << 62}, "engine.lateness:"},
		{"negative chunk", Config{ChunkSize: -1}, "engine.chunk_size:"},
		{"huge chunk", Config{ChunkSize: 1 << 31}, "engine.chunk_size:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.wantKey == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantKey != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantKey)):
				t.Errorf("Validate() = %v, want an error starting %q", err, tc.wantKey)
			}
		})
	}
	if d := DefaultConfig(); d.Lateness != DefaultLateness || d.ChunkSize != DefaultChunkSize {
		t.Errorf("DefaultConfig() = %+v, want the Default constants", d)
	}
}

// entityDetector emits one signal per event about the entity its table row
// names, with the credential the row presets, for TestSignalCredential.
type entityDetector struct {
	entity, cred string
}

func (d *entityDetector) Name() string { return "test.entity" }

func (d *entityDetector) Process(ev *reposentry.Event, emit func(reposentry.Signal)) {
	id := d.entity
	if id == "" {
		id = ev.ActorKey()
	}
	emit(reposentry.Signal{Rule: d.Name(), Time: ev.Time, Entity: reposentry.Entity{ID: id}, Credential: d.cred})
}

func (d *entityDetector) Advance(time.Time, func(reposentry.Signal)) {}

// TestSignalCredential: the engine names the event's credential on signals
// about the event's actor, and only then.
func TestSignalCredential(t *testing.T) {
	tests := []struct {
		name   string
		cred   reposentry.Credential
		entity string // the signal's entity; empty: the event's actor
		preset string
		want   string
	}{
		{"hashed token", reposentry.Credential{Kind: reposentry.CredentialPATClassic, ID: "42", Hash: "abc="}, "", "", "pat_classic:abc="},
		{"token id only", reposentry.Credential{Kind: reposentry.CredentialPATFineGrained, ID: "42"}, "", "", "pat_fine_grained:42"},
		{"ssh key", reposentry.Credential{Kind: reposentry.CredentialSSHKey, ID: "SHA256:k"}, "", "", "ssh_key:SHA256:k"},
		{"app tokens rotate hourly", reposentry.Credential{Kind: reposentry.CredentialApp, ID: "7"}, "", "", ""},
		{"browser session", reposentry.Credential{Kind: reposentry.CredentialSession}, "", "", ""},
		{"signal about someone else", reposentry.Credential{Kind: reposentry.CredentialPATClassic, ID: "42"}, "bob", "", ""},
		{"detector's own credential kept", reposentry.Credential{Kind: reposentry.CredentialPATClassic, ID: "42"}, "", "ssh_key:x", "ssh_key:x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []reposentry.Signal
			e := New(Config{}, []Detector{&entityDetector{entity: tc.entity, cred: tc.preset}}, func(s reposentry.Signal) { got = append(got, s) })
			ev := mkEvent(reposentry.PlatformGitHub, "d1", t0)
			ev.Actor.Login, ev.Identity, ev.Credential = "alice-gh", "alice", tc.cred
			e.Push(&ev)
			e.Flush()
			if len(got) != 1 || got[0].Credential != tc.want {
				t.Fatalf("signals %+v, want one with credential %q", got, tc.want)
			}
		})
	}
}
