package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/source"
	"github.com/valyala/fastjson"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fakePlatform parses test events {"t": RFC 3339, "id", "actor", "repo"}.
type fakePlatform struct{}

const reasonMissingTime = "missing_time"

func (fakePlatform) Name() string { return "fake" }

func (fakePlatform) Sniff(v *fastjson.Value) bool { return v.Exists("id") }

func (fakePlatform) TimeOf(v *fastjson.Value) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, string(v.GetStringBytes("t")))
	return t, err == nil
}

func (p fakePlatform) Parse(v *fastjson.Value, raw []byte, ev *reposentry.Event) error {
	t, ok := p.TimeOf(v)
	if !ok {
		return parser.Reject(reasonMissingTime, errors.New("no valid t"))
	}
	ev.Time = t
	ev.Platform = reposentry.PlatformGitHub
	ev.ID.Set(v.GetStringBytes("id"))
	ev.Actor.Login = string(v.GetStringBytes("actor"))
	ev.Repo = string(v.GetStringBytes("repo"))
	ev.Category = reposentry.CategoryClone
	return nil
}

func newFakeParser() *parser.Parser { return parser.New(intern.New(0), fakePlatform{}) }

// burst is a fake detector that signals when an actor reads threshold
// repositories within window. It depends on the order it sees events in,
// so it shows any difference in ordering. It also logs every call.
type burst struct {
	window    time.Duration
	threshold int
	recent    map[string][]string // actor -> refs@time in the window
	log       []string            // every Process and Advance, in order
	advances  []time.Time
	raws      int // events whose Raw held their own id
}

func newBurst() *burst {
	return &burst{window: time.Minute, threshold: 8, recent: map[string][]string{}}
}

func (b *burst) Name() string { return "test.burst" }

func (b *burst) Process(ev *reposentry.Event, emit func(reposentry.Signal)) {
	b.log = append(b.log, "process "+ev.Ref())
	if bytes.Contains(ev.Raw, ev.ID.Bytes()) {
		b.raws++
	}
	actor := ev.ActorKey()
	var kept []string
	for _, r := range b.recent[actor] {
		at, _ := time.Parse(time.RFC3339Nano, r[strings.LastIndexByte(r, '@')+1:])
		if ev.Time.Sub(at) < b.window {
			kept = append(kept, r)
		}
	}
	kept = append(kept, ev.Ref()+"@"+ev.Time.Format(time.RFC3339Nano))
	if len(kept) >= b.threshold {
		ids := make([]string, len(kept))
		for i, r := range kept {
			ids[i] = r[:strings.LastIndexByte(r, '@')]
		}
		emit(reposentry.Signal{Rule: b.Name(), Time: ev.Time, Entity: reposentry.Entity{Type: "identity", ID: actor},
			Observed: strconv.Itoa(len(kept)) + " reads in " + b.window.String(), EventIDs: ids})
		kept = nil
	}
	b.recent[actor] = kept
}

func (b *burst) Advance(now time.Time, _ func(reposentry.Signal)) {
	b.log = append(b.log, "advance "+now.Format(time.RFC3339))
	b.advances = append(b.advances, now)
}

type testEvent struct {
	at    time.Time
	id    string
	actor string
	repo  string
}

func (e testEvent) json() string {
	return fmt.Sprintf(`{"t":%q,"id":%q,"actor":%q,"repo":%q}`, e.at.Format(time.RFC3339Nano), e.id, e.actor, e.repo)
}

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// genEvents makes hours of sorted events by a few actors, some sharing a
// timestamp, with bursts of reads that trip the burst detector.
func genEvents(hours int) []testEvent {
	rng := rand.New(rand.NewPCG(11, 12))
	actors := []string{"alice", "bob", "carol", "dave", "mallory"}
	var evs []testEvent
	at := t0
	end := t0.Add(time.Duration(hours) * time.Hour)
	for i := 0; at.Before(end); i++ {
		if rng.IntN(5) != 0 {
			at = at.Add(time.Duration(rng.IntN(15_000)) * time.Millisecond)
		}
		actor := actors[rng.IntN(len(actors))]
		if rng.IntN(200) == 0 { // a burst: many reads within seconds
			for range 12 {
				evs = append(evs, testEvent{at, "doc" + strconv.Itoa(i), "mallory", "acme/r" + strconv.Itoa(rng.IntN(50))})
				i++
				at = at.Add(time.Duration(rng.IntN(2000)) * time.Millisecond)
			}
		}
		evs = append(evs, testEvent{at, "doc" + strconv.Itoa(i), actor, "acme/r" + strconv.Itoa(rng.IntN(50))})
	}
	return evs[:len(evs)-1] // the last may lie past end
}

func writeNDJSON(t testing.TB, path string, evs []testEvent) source.Input {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.json())
		b.WriteByte('\n')
	}
	return writeFile(t, path, b.String())
}

func writeArray(t testing.TB, path string, evs []testEvent) source.Input {
	var b strings.Builder
	b.WriteString("[\n")
	for i, e := range evs {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("  " + e.json())
	}
	b.WriteString("\n]\n")
	return writeFile(t, path, b.String())
}

func writeFile(t testing.TB, path, content string) source.Input {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return source.Input{Path: path, Size: int64(len(content))}
}

// shape builds one way of delivering the events.
type shape struct {
	name      string
	build     func(t *testing.T, dir string, evs []testEvent) []source.Input
	stdin     func(evs []testEvent) []testEvent // events to send on stdin, in arrival order
	presorted bool
	check     func(t *testing.T, st Stats)
}

func byHour(evs []testEvent) [][]testEvent {
	var out [][]testEvent
	for _, e := range evs {
		h := int(e.at.Sub(t0) / time.Hour)
		for len(out) <= h {
			out = append(out, nil)
		}
		out[h] = append(out[h], e)
	}
	return out
}

func hourlyFiles(t *testing.T, dir string, evs []testEvent) []source.Input {
	var ins []source.Input
	for h, part := range byHour(evs) {
		ins = append(ins, writeNDJSON(t, filepath.Join(dir, fmt.Sprintf("h%02d.ndjson", h)), part))
	}
	return ins
}

// gzipAll replaces each input by a gzip-compressed copy.
func gzipAll(t *testing.T, ins []source.Input) []source.Input {
	out := make([]source.Input, len(ins))
	for i, in := range ins {
		data, err := os.ReadFile(in.Path)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		out[i] = writeFile(t, in.Path+".gz", b.String())
		if err := os.Remove(in.Path); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// newestFirstPages writes the events as an API returns them: page 1 holds
// the newest pageSize events, newest first.
func newestFirstPages(pageSize int) func(t *testing.T, dir string, evs []testEvent) []source.Input {
	return func(t *testing.T, dir string, evs []testEvent) []source.Input {
		rev := slices.Clone(evs)
		slices.Reverse(rev)
		var ins []source.Input
		for p := 0; p*pageSize < len(rev); p++ {
			page := rev[p*pageSize : min((p+1)*pageSize, len(rev))]
			ins = append(ins, writeArray(t, filepath.Join(dir, fmt.Sprintf("page-%04d.json", p+1)), page))
		}
		return ins
	}
}

// arrivals reorders events as a stream delivers them: each up to maxDelay
// after its time.
func arrivals(maxDelay time.Duration) func(evs []testEvent) []testEvent {
	return func(evs []testEvent) []testEvent {
		rng := rand.New(rand.NewPCG(21, 22))
		type arr struct {
			at time.Time
			e  testEvent
		}
		a := make([]arr, len(evs))
		for i, e := range evs {
			a[i] = arr{e.at.Add(time.Duration(rng.Int64N(int64(maxDelay)))), e}
		}
		slices.SortStableFunc(a, func(x, y arr) int { return x.at.Compare(y.at) })
		out := make([]testEvent, len(a))
		for i := range a {
			out[i] = a[i].e
		}
		return out
	}
}

type huntResult struct {
	stats   Stats
	signals []reposentry.Signal
	det     *burst
	rejects []string
	prog    [][2]int64
}

func runHunt(t *testing.T, ins []source.Input, stdin []testEvent, cfg Config) (huntResult, error) {
	t.Helper()
	if stdin != nil {
		var b strings.Builder
		for _, e := range stdin {
			b.WriteString(e.json() + "\n")
		}
		path := filepath.Join(t.TempDir(), "stdin.ndjson")
		writeFile(t, path, b.String())
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		old := os.Stdin
		os.Stdin = f
		t.Cleanup(func() { os.Stdin = old; f.Close() })
		ins = append(ins, source.Input{Path: "-", Size: -1})
	}
	res := huntResult{det: newBurst()}
	cfg.NewParser = newFakeParser
	cfg.Detectors = []engine.Detector{res.det}
	cfg.OnSignal = func(s reposentry.Signal) { res.signals = append(res.signals, s) }
	cfg.OnReject = func(o reposentry.Origin, reason string, err error) {
		res.rejects = append(res.rejects, fmt.Sprintf("%s:%d[%d]: %s: %v", filepath.Base(o.Source), o.Line, o.Index, reason, err))
	}
	cfg.Progress = func(done, total int64) { res.prog = append(res.prog, [2]int64{done, total}) }
	var err error
	res.stats, err = Hunt(context.Background(), ins, cfg)
	return res, err
}

func signalLines(t *testing.T, sigs []reposentry.Signal) []byte {
	var b bytes.Buffer
	for _, s := range sigs {
		line, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// TestSameSignalsWhateverTheShape hunts the same events delivered in
// different shapes and checks that the detector saw the same sequence of
// calls and emitted the same signals, as recorded in the golden file.
func TestSameSignalsWhateverTheShape(t *testing.T) {
	evs := genEvents(8)
	maxOverlap := func(t *testing.T, st Stats, want int) {
		if st.MaxOpen > want {
			t.Errorf("MaxOpen = %d, want at most %d", st.MaxOpen, want)
		}
	}
	shapes := []shape{
		{name: "one sorted file", build: func(t *testing.T, dir string, evs []testEvent) []source.Input {
			return []source.Input{writeNDJSON(t, filepath.Join(dir, "all.ndjson"), evs)}
		}},
		{name: "hourly files shuffled", build: func(t *testing.T, dir string, evs []testEvent) []source.Input {
			ins := hourlyFiles(t, dir, evs)
			rand.New(rand.NewPCG(31, 32)).Shuffle(len(ins), func(i, j int) { ins[i], ins[j] = ins[j], ins[i] })
			return ins
		}, check: func(t *testing.T, st Stats) {
			maxOverlap(t, st, 2)
			if st.SortedRuns != 0 {
				t.Errorf("SortedRuns = %d, want 0 for sorted hourly files", st.SortedRuns)
			}
		}},
		{name: "hourly gzip files shuffled", build: func(t *testing.T, dir string, evs []testEvent) []source.Input {
			ins := gzipAll(t, hourlyFiles(t, dir, evs))
			slices.Reverse(ins)
			return ins
		}, check: func(t *testing.T, st Stats) { maxOverlap(t, st, 2) }},
		{name: "hourly files presorted", presorted: true, build: hourlyFiles,
			check: func(t *testing.T, st Stats) { maxOverlap(t, st, 1) }},
		{name: "newest-first pages within lateness", build: newestFirstPages(40), check: func(t *testing.T, st Stats) {
			maxOverlap(t, st, 2)
			if st.SortedRuns != 0 {
				t.Errorf("SortedRuns = %d, want 0: pages spanning less than the lateness are streamed", st.SortedRuns)
			}
		}},
		{name: "newest-first pages beyond lateness", build: newestFirstPages(500), check: func(t *testing.T, st Stats) {
			want := 0 // pages spanning more than the lateness must be sorted
			for p := 0; p*500 < len(evs); p++ {
				page := evs[p*500 : min((p+1)*500, len(evs))]
				if page[len(page)-1].at.Sub(page[0].at) > engine.DefaultLateness {
					want++
				}
			}
			if st.SortedRuns != want || want == 0 {
				t.Errorf("SortedRuns = %d, want %d (> 0)", st.SortedRuns, want)
			}
		}},
		{name: "one newest-first array", build: func(t *testing.T, dir string, evs []testEvent) []source.Input {
			return newestFirstPages(len(evs))(t, dir, evs)
		}},
		{name: "stdin within lateness", stdin: arrivals(14 * time.Minute)},
		{name: "stdin and hourly files", stdin: func(evs []testEvent) []testEvent {
			return evs[:len(evs)/2]
		}, build: func(t *testing.T, dir string, evs []testEvent) []source.Input {
			return []source.Input{writeNDJSON(t, filepath.Join(dir, "rest.ndjson"), evs[len(evs)/2:])}
		}},
	}
	var want huntResult
	for _, sample := range []int{0, 32} {
		for i, sh := range shapes {
			if sample > 0 {
				if sh.presorted {
					continue
				}
				sh.name += " (pre-scan sample)"
				sh.check = nil // a sample sorts some files the full scan streams
			}
			huntShape(t, i+sample, sh, sample, evs, &want)
		}
	}
}

// huntShape runs one shape of TestSameSignalsWhateverTheShape; the first
// (i == 0) sets what the others must match.
func huntShape(t *testing.T, i int, sh shape, sample int, evs []testEvent, want *huntResult) {
	t.Helper()
	t.Run(sh.name, func(t *testing.T) {
		dir := t.TempDir()
		var ins []source.Input
		if sh.build != nil {
			ins = sh.build(t, dir, evs)
		}
		var stdin []testEvent
		if sh.stdin != nil {
			stdin = sh.stdin(evs)
		}
		got, err := runHunt(t, ins, stdin, Config{Presorted: sh.presorted, PrescanSample: sample})
		if err != nil {
			t.Fatalf("Hunt: %v", err)
		}
		st := got.stats
		if st.Events != int64(len(evs)) || st.Rejected != 0 || st.Late != 0 || st.Duplicates != 0 {
			t.Errorf("Events %d, Rejected %d, Late %d, Duplicates %d; want %d, 0, 0, 0",
				st.Events, st.Rejected, st.Late, st.Duplicates, len(evs))
		}
		wantFiles := len(ins)
		if stdin != nil {
			wantFiles++
		}
		if st.Files != wantFiles {
			t.Errorf("Files = %d, want %d", st.Files, wantFiles)
		}
		if got.det.raws != len(evs) {
			t.Errorf("%d of %d events reached the detector with their own Raw", got.det.raws, len(evs))
		}
		if !st.First.Equal(evs[0].at) || !st.Last.Equal(evs[len(evs)-1].at) {
			t.Errorf("First, Last = %v, %v; want %v, %v", st.First, st.Last, evs[0].at, evs[len(evs)-1].at)
		}
		if !slices.IsSortedFunc(got.det.advances, time.Time.Compare) {
			t.Error("Advance times go backwards")
		}
		if sh.check != nil {
			sh.check(t, st)
		}
		if i == 0 {
			*want = got
			checkGolden(t, "signals.golden", signalLines(t, got.signals))
			if len(got.signals) == 0 {
				t.Fatal("the burst detector emitted nothing: the test data has no bursts")
			}
			return
		}
		if d := firstDiff(got.det.log, want.det.log); d >= 0 {
			t.Errorf("detector calls differ from the sorted file's at call %d of %d", d, len(want.det.log))
		}
		if !bytes.Equal(signalLines(t, got.signals), signalLines(t, want.signals)) {
			t.Errorf("signals differ from the sorted file's")
		}
	})
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update to accept):\ngot:\n%s", path, got)
	}
}

func TestDuplicatesDroppedOnce(t *testing.T) {
	evs := genEvents(4)
	hours := byHour(evs)
	cases := []struct {
		name   string
		replay []testEvent // delivered a second time
	}{
		{name: "replay of part of an hour in its own file", replay: hours[2][10:60]},
		{name: "replay of a whole hour", replay: hours[1]},
		{name: "no replay"},
	}
	base, err := runHunt(t, hourlyFiles(t, t.TempDir(), evs), nil, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ins := hourlyFiles(t, dir, evs)
			if tc.replay != nil {
				ins = append(ins, writeNDJSON(t, filepath.Join(dir, "replay.ndjson"), tc.replay))
			}
			got, err := runHunt(t, ins, nil, Config{})
			if err != nil {
				t.Fatal(err)
			}
			if got.stats.Duplicates != int64(len(tc.replay)) {
				t.Errorf("Duplicates = %d, want %d", got.stats.Duplicates, len(tc.replay))
			}
			if got.stats.Events != int64(len(evs)+len(tc.replay)) {
				t.Errorf("Events = %d, want %d parsed", got.stats.Events, len(evs)+len(tc.replay))
			}
			if firstDiff(got.det.log, base.det.log) >= 0 {
				t.Error("detector calls differ from the hunt without replays")
			}
		})
	}
}

func TestLateEventsCountedAndProcessed(t *testing.T) {
	evs := genEvents(3)
	cases := []struct {
		name     string
		lateness time.Duration
		move     int           // index of the event delivered late
		by       time.Duration // how long after its time it arrives
		wantLate int64
	}{
		{"an hour late with 15m lateness", 0, 100, time.Hour, 1},
		{"an hour late with 2h lateness", 2 * time.Hour, 100, time.Hour, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdin := slices.Clone(evs)
			late := stdin[tc.move]
			stdin = slices.Delete(stdin, tc.move, tc.move+1)
			pos, _ := slices.BinarySearchFunc(stdin, late.at.Add(tc.by), func(e testEvent, at time.Time) int { return e.at.Compare(at) })
			stdin = slices.Insert(stdin, pos, late)
			got, err := runHunt(t, nil, stdin, Config{Engine: engine.Config{Lateness: tc.lateness}})
			if err != nil {
				t.Fatal(err)
			}
			if got.stats.Late != tc.wantLate {
				t.Errorf("Late = %d, want %d", got.stats.Late, tc.wantLate)
			}
			ref := "process github:" + late.id
			if n := countOf(got.det.log, ref); n != 1 {
				t.Errorf("late event processed %d times, want 1", n)
			}
			if n := len(got.det.log) - len(got.det.advances); n != len(evs) {
				t.Errorf("%d events processed, want %d", n, len(evs))
			}
		})
	}
}

func countOf(log []string, s string) int {
	n := 0
	for _, l := range log {
		if l == s {
			n++
		}
	}
	return n
}

func TestRejects(t *testing.T) {
	dir := t.TempDir()
	good := testEvent{t0, "g1", "alice", "acme/a"}
	content := strings.Join([]string{
		good.json(),
		`{"id":"x1","t":"yesterday"}`,
		`{not json`,
		`{"id":"x2","t":"` + t0.Format(time.RFC3339) + `","pad":"` + strings.Repeat("x", 300) + `"}`,
		`{"other":"shape"}`,
		"",
	}, "\n")
	in := writeFile(t, filepath.Join(dir, "mixed.ndjson"), content)
	got, err := runHunt(t, []source.Input{in}, nil, Config{Source: source.Options{MaxRecordBytes: 200}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		reasonMissingTime:          1,
		parser.ReasonInvalidJSON:   1,
		source.ReasonRecordTooLong: 1,
		parser.ReasonUnknownFormat: 1,
	}
	if fmt.Sprint(got.stats.RejectedByReason) != fmt.Sprint(want) {
		t.Errorf("RejectedByReason = %v, want %v", got.stats.RejectedByReason, want)
	}
	if got.stats.Rejected != 4 || got.stats.Records != 5 || got.stats.Events != 1 {
		t.Errorf("Rejected %d, Records %d, Events %d; want 4, 5, 1", got.stats.Rejected, got.stats.Records, got.stats.Events)
	}
	// Every reject names its file and line.
	wantLines := []string{"mixed.ndjson:2[0]: " + reasonMissingTime, "mixed.ndjson:3[0]: " + parser.ReasonInvalidJSON,
		"mixed.ndjson:4[0]: " + source.ReasonRecordTooLong, "mixed.ndjson:5[0]: " + parser.ReasonUnknownFormat}
	if len(got.rejects) != len(wantLines) {
		t.Fatalf("OnReject got %q, want %d calls", got.rejects, len(wantLines))
	}
	for i, w := range wantLines {
		if !strings.HasPrefix(got.rejects[i], w+": ") {
			t.Errorf("reject %d = %q, want prefix %q", i, got.rejects[i], w)
		}
	}
}

func TestMemoryBounded(t *testing.T) {
	evs := genEvents(24)
	got, err := runHunt(t, hourlyFiles(t, t.TempDir(), evs), nil, Config{})
	if err != nil {
		t.Fatal(err)
	}
	// The engine holds no more than the events of two lateness windows.
	lateness := engine.DefaultLateness
	most := 0
	for i, j := 0, 0; i < len(evs); i++ {
		for evs[i].at.Sub(evs[j].at) > 2*lateness {
			j++
		}
		most = max(most, i-j+1)
	}
	st := got.stats
	if st.Engine.MaxBuffered > most {
		t.Errorf("engine buffered up to %d events, want at most %d (two lateness windows)", st.Engine.MaxBuffered, most)
	}
	if st.MaxOpen > 2 {
		t.Errorf("MaxOpen = %d, want at most 2 for hourly files", st.MaxOpen)
	}
	if st.Engine.Buffered != 0 {
		t.Errorf("engine still holds %d events after the hunt", st.Engine.Buffered)
	}
}

func TestProgressAndBytes(t *testing.T) {
	dir := t.TempDir()
	evs := genEvents(2)
	for _, presorted := range []bool{false, true} {
		t.Run("presorted="+strconv.FormatBool(presorted), func(t *testing.T) {
			ins := hourlyFiles(t, dir, evs)
			var size int64
			for _, in := range ins {
				size += in.Size
			}
			got, err := runHunt(t, ins, nil, Config{Presorted: presorted})
			if err != nil {
				t.Fatal(err)
			}
			if got.stats.Bytes != size {
				t.Errorf("Bytes = %d, want %d", got.stats.Bytes, size)
			}
			if len(got.prog) == 0 {
				t.Fatal("Progress never called")
			}
			last := got.prog[len(got.prog)-1]
			wantTotal := size
			if !presorted {
				wantTotal = 2 * size
			}
			if last != [2]int64{wantTotal, wantTotal} {
				t.Errorf("last Progress = %v, want done = total = %d", last, wantTotal)
			}
			if !slices.IsSortedFunc(got.prog, func(a, b [2]int64) int { return int(a[0] - b[0]) }) {
				t.Error("Progress went backwards")
			}
		})
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	ok := writeNDJSON(t, filepath.Join(dir, "ok.ndjson"), genEvents(6))
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	// cancelOnProgress returns a context canceled by the first progress
	// report, so the hunt is stopped midway.
	cancelOnProgress := func(presorted bool) (context.Context, Config) {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		return ctx, Config{NewParser: newFakeParser, Presorted: presorted, Progress: func(int64, int64) { cancel() }}
	}
	midCtx, midCfg := cancelOnProgress(false)
	midSortedCtx, midSortedCfg := cancelOnProgress(true)
	cases := []struct {
		name    string
		ctx     context.Context
		ins     []source.Input
		cfg     Config
		wantErr error  // errors.Is target, or nil
		wantMsg string // substring of the error
	}{
		{name: "canceled", ctx: canceled, ins: []source.Input{ok}, cfg: Config{NewParser: newFakeParser}, wantErr: context.Canceled},
		{name: "canceled midway", ctx: midCtx, ins: []source.Input{ok}, cfg: midCfg, wantErr: context.Canceled},
		{name: "canceled midway presorted", ctx: midSortedCtx, ins: []source.Input{ok}, cfg: midSortedCfg, wantErr: context.Canceled},
		{name: "missing file", ctx: context.Background(), ins: []source.Input{{Path: filepath.Join(dir, "nope.json"), Size: 1}},
			cfg: Config{NewParser: newFakeParser, Presorted: true}, wantErr: os.ErrNotExist, wantMsg: "nope.json"},
		{name: "no parser", ctx: context.Background(), ins: []source.Input{ok}, wantMsg: "NewParser"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Hunt(tc.ctx, tc.ins, tc.cfg)
			if err == nil {
				t.Fatal("Hunt succeeded, want an error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v is not %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tc.wantMsg)
			}
		})
	}
}

func TestNoInputs(t *testing.T) {
	got, err := runHunt(t, nil, nil, Config{})
	if err != nil {
		t.Fatalf("Hunt with no inputs: %v", err)
	}
	if st := got.stats; st.Files != 0 || st.Records != 0 || st.Events != 0 || !st.First.IsZero() || len(got.signals) != 0 {
		t.Errorf("Stats = %+v and %d signals; want nothing done", st, len(got.signals))
	}
}
