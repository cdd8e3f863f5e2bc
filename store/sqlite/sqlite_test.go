package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reposentry/reposentry/store"
)

var (
	t0 = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	t1 = time.Date(2026, 11, 27, 6, 30, 15, 123456789, time.UTC)
)

// open opens a store in a fresh temporary directory unless path is given.
func open(t testing.TB, path string) *Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "state.db")
	}
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fill returns n bytes of value v: a generation marker that makes a torn or
// mixed save visible.
func fill(n int, v byte) []byte { return bytes.Repeat([]byte{v}, n) }

func TestRoundTrip(t *testing.T) {
	bin := make([]byte, 1<<20)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	tests := []struct {
		name   string
		states map[string][]byte
		meta   store.Meta
	}{
		{"several keys", map[string][]byte{"detect/v1": []byte("a"), "baseline/v2": []byte("bb"), "chain/v1": []byte("ccc")}, store.Meta{SavedAt: t1, EventsUntil: t0, Events: 42}},
		{"binary and empty", map[string][]byte{"bin": bin, "empty": {}, "nil": nil, "nul": {0, 0, 0}}, store.Meta{SavedAt: t1, Events: 7}},
		{"zero times", map[string][]byte{"k": []byte("v")}, store.Meta{}},
		{"odd keys", map[string][]byte{"key with spaces/ü/'\"": []byte("x"), "?#%": []byte("y")}, store.Meta{SavedAt: t1, EventsUntil: t1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, filepath.Join(t.TempDir(), "odd ?#% dir.db"))
			before := time.Now()
			if err := s.SaveAll(t.Context(), tc.states, tc.meta); err != nil {
				t.Fatalf("SaveAll: %v", err)
			}
			for key, want := range tc.states {
				got, meta, ok, err := s.Load(t.Context(), key)
				if err != nil || !ok {
					t.Fatalf("Load(%q) = ok %v, err %v", key, ok, err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("Load(%q) = %d bytes, want %d", key, len(got), len(want))
				}
				if got == nil {
					t.Errorf("Load(%q) returned nil data for a present key", key)
				}
				wantSaved := tc.meta.SavedAt
				if wantSaved.IsZero() {
					if meta.SavedAt.Before(before.Truncate(time.Nanosecond)) || meta.SavedAt.After(time.Now()) {
						t.Errorf("Load(%q) SavedAt %v, want now (the zero SavedAt default)", key, meta.SavedAt)
					}
				} else if !meta.SavedAt.Equal(wantSaved) {
					t.Errorf("Load(%q) SavedAt %v, want %v", key, meta.SavedAt, wantSaved)
				}
				if !meta.EventsUntil.Equal(tc.meta.EventsUntil) {
					t.Errorf("Load(%q) EventsUntil %v, want %v", key, meta.EventsUntil, tc.meta.EventsUntil)
				}
				if meta.Runs != 1 || meta.Events != tc.meta.Events {
					t.Errorf("Load(%q) Runs %d Events %d, want 1 and %d", key, meta.Runs, meta.Events, tc.meta.Events)
				}
			}
			if data, meta, ok, err := s.Load(t.Context(), "missing/v1"); err != nil || ok || data != nil || meta != (store.Meta{}) {
				t.Errorf("Load(missing) = %v, %+v, %v, %v; want nil, zero, false, nil", data, meta, ok, err)
			}
		})
	}
}

func TestSaveAllRejectsEmptyKey(t *testing.T) {
	s := open(t, "")
	err := s.SaveAll(t.Context(), map[string][]byte{"ok": []byte("x"), "": []byte("y")}, store.Meta{})
	if err == nil || !strings.Contains(err.Error(), s.Path()) {
		t.Fatalf("SaveAll with empty key: err %v, want an error naming %s", err, s.Path())
	}
	if _, _, ok, _ := s.Load(t.Context(), "ok"); ok {
		t.Error("SaveAll with an empty key wrote the other keys")
	}
}

// TestSaveAllAtomic makes a save fail inside its transaction, with a
// trigger added for the test, and checks the previous run's state survives
// untouched and that the store still works afterwards.
func TestSaveAllAtomic(t *testing.T) {
	tests := []struct {
		name    string
		trigger string
	}{
		{"state row fails", `CREATE TRIGGER fail BEFORE INSERT ON state WHEN NEW.key = 'bad' BEGIN SELECT RAISE(ABORT, 'injected'); END`},
		{"state update fails", `CREATE TRIGGER fail BEFORE UPDATE ON state WHEN NEW.key = 'c' BEGIN SELECT RAISE(ABORT, 'injected'); END`},
		{"run row fails", `CREATE TRIGGER fail BEFORE INSERT ON runs BEGIN SELECT RAISE(ABORT, 'injected'); END`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			prev := map[string][]byte{"a": fill(1000, 1), "b": fill(2000, 1), "c": fill(3000, 1)}
			first := open(t, path)
			if err := first.SaveAll(t.Context(), prev, store.Meta{SavedAt: t0, EventsUntil: t0, Events: 10}); err != nil {
				t.Fatalf("first SaveAll: %v", err)
			}
			first.Close()

			s := open(t, path)
			if _, err := s.db.Exec(tc.trigger); err != nil {
				t.Fatalf("create trigger: %v", err)
			}
			next := map[string][]byte{"a": fill(1000, 2), "b": fill(2000, 2), "bad": fill(10, 2), "c": fill(3000, 2)}
			err := s.SaveAll(t.Context(), next, store.Meta{SavedAt: t1, EventsUntil: t1, Events: 20})
			if err == nil || !strings.Contains(err.Error(), "injected") || !strings.Contains(err.Error(), path) {
				t.Fatalf("SaveAll err = %v, want the injected failure naming %s", err, path)
			}
			for key, want := range prev {
				got, meta, ok, err := s.Load(t.Context(), key)
				if err != nil || !ok || !bytes.Equal(got, want) {
					t.Errorf("after failed save, Load(%q) = %d bytes ok %v err %v; want the previous %d bytes", key, len(got), ok, err, len(want))
				}
				if !meta.EventsUntil.Equal(t0) || meta.Runs != 1 || meta.Events != 10 {
					t.Errorf("after failed save, Load(%q) meta %+v, want the previous run's", key, meta)
				}
			}
			if _, _, ok, _ := s.Load(t.Context(), "bad"); ok {
				t.Error("after failed save, the new key exists")
			}

			// The failed first save of this Store must not count as its run.
			if _, err := s.db.Exec(`DROP TRIGGER fail`); err != nil {
				t.Fatalf("drop trigger: %v", err)
			}
			if err := s.SaveAll(t.Context(), next, store.Meta{SavedAt: t1, EventsUntil: t1, Events: 20}); err != nil {
				t.Fatalf("SaveAll after dropping the trigger: %v", err)
			}
			got, meta, ok, err := s.Load(t.Context(), "c")
			if err != nil || !ok || !bytes.Equal(got, next["c"]) || meta.Runs != 2 || meta.Events != 30 {
				t.Errorf("retried save: Load(c) = %d bytes, meta %+v, ok %v, err %v; want new data, 2 runs, 30 events", len(got), meta, ok, err)
			}
		})
	}
}

func TestClosedStoreFailsCleanly(t *testing.T) {
	s := open(t, "")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.SaveAll(t.Context(), map[string][]byte{"k": []byte("v")}, store.Meta{}); err == nil || !strings.Contains(err.Error(), s.Path()) {
		t.Errorf("SaveAll after Close: err %v, want an error naming %s", err, s.Path())
	}
	if _, _, _, err := s.Load(t.Context(), "k"); err == nil || !strings.Contains(err.Error(), s.Path()) {
		t.Errorf("Load after Close: err %v, want an error naming %s", err, s.Path())
	}
}

// TestRuns reopens the store once per run and checks that each run adds
// one row, while checkpoints within a run (a daemon saving periodically)
// update it.
func TestRuns(t *testing.T) {
	tests := []struct {
		name        string
		runs        int
		savesPerRun int
	}{
		{"one run", 1, 1},
		{"three runs", 3, 1},
		{"runs with checkpoints", 3, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			var total int64
			for run := 1; run <= tc.runs; run++ {
				s, err := Open(path)
				if err != nil {
					t.Fatalf("run %d: Open: %v", run, err)
				}
				if s.Path() != path {
					t.Errorf("Path() = %q, want %q", s.Path(), path)
				}
				if run > 1 {
					// Reopening keeps the previous run's state.
					got, _, ok, err := s.Load(t.Context(), "k")
					if want := fmt.Appendf(nil, "run %d save %d", run-1, tc.savesPerRun); err != nil || !ok || !bytes.Equal(got, want) {
						t.Fatalf("run %d: Load after reopen = %q, ok %v, err %v; want %q", run, got, ok, err, want)
					}
				}
				var events int64
				for save := 1; save <= tc.savesPerRun; save++ {
					events += 100
					until := t0.Add(time.Duration(run*100+save) * time.Minute)
					if err := s.SaveAll(t.Context(), map[string][]byte{"k": fmt.Appendf(nil, "run %d save %d", run, save)}, store.Meta{EventsUntil: until, Events: events}); err != nil {
						t.Fatalf("run %d save %d: %v", run, save, err)
					}
					_, meta, _, err := s.Load(t.Context(), "k")
					if err != nil || meta.Runs != run || meta.Events != total+events || !meta.EventsUntil.Equal(until) {
						t.Fatalf("run %d save %d: meta %+v, err %v; want Runs %d, Events %d, EventsUntil %v", run, save, meta, err, run, total+events, until)
					}
				}
				total += events
				if err := s.Close(); err != nil {
					t.Fatalf("run %d: Close: %v", run, err)
				}
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	garbage := make([]byte, 8192)
	for i := range garbage {
		garbage[i] = byte(i*31 + 7)
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string)
		wantErr string
	}{
		{"garbage file", func(t *testing.T, path string) { writeFile(t, path, garbage) }, "not a database"},
		{"text file", func(t *testing.T, path string) {
			writeFile(t, path, []byte(strings.Repeat("detect/v1 not sqlite\n", 200)))
		}, "not a database"},
		{"sqlite header then garbage", func(t *testing.T, path string) {
			writeFile(t, path, append([]byte("SQLite format 3\x00"), garbage...))
		}, "open"},
		{"newer schema", func(t *testing.T, path string) {
			s := open(t, path)
			if _, err := s.db.Exec(`PRAGMA user_version = 2`); err != nil {
				t.Fatal(err)
			}
			s.Close()
		}, "schema version 2 is newer than the supported 1"},
		{"other application's database", func(t *testing.T, path string) {
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`CREATE TABLE users (id INTEGER PRIMARY KEY)`); err != nil {
				t.Fatal(err)
			}
		}, "not a reposentry state store"},
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}, "open"},
		{"missing parent directory", func(t *testing.T, path string) {}, "open"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			if tc.name == "missing parent directory" {
				path = filepath.Join(t.TempDir(), "no", "such", "state.db")
			}
			tc.setup(t, path)
			before, _ := os.ReadFile(path)
			s, err := Open(path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded, want an error", path)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Open err = %q, want it to name %s and contain %q", err, path, tc.wantErr)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Errorf("refused Open modified %s", path)
			}
		})
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentHandles has one handle save generation after generation
// while others load (and another saves) through their own handles: each
// load sees one whole generation, never a mix, and nothing fails.
func TestConcurrentHandles(t *testing.T) {
	tests := []struct {
		name    string
		readers int
		writers int
	}{
		{"one writer one reader", 1, 1},
		{"two writers two readers", 2, 2},
	}
	const gens, size = 15, 256 << 10
	keys := []string{"a", "b", "c"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			seed := open(t, path)
			if err := seed.SaveAll(t.Context(), gen(keys, size, 0), store.Meta{EventsUntil: t0}); err != nil {
				t.Fatal(err)
			}
			var (
				wg   sync.WaitGroup
				done = make(chan struct{})
				mu   sync.Mutex
				errs []error
			)
			fail := func(err error) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			var writers sync.WaitGroup
			for w := range tc.writers {
				s := open(t, path)
				writers.Go(func() {
					for g := 1; g <= gens; g++ {
						if err := s.SaveAll(t.Context(), gen(keys, size, byte(g)), store.Meta{EventsUntil: t0.Add(time.Duration(g) * time.Hour), Events: 1}); err != nil {
							fail(fmt.Errorf("writer %d gen %d: %w", w, g, err))
							return
						}
					}
				})
			}
			for r := range tc.readers {
				s := open(t, path)
				wg.Go(func() {
					for {
						for _, key := range keys {
							data, meta, ok, err := s.Load(t.Context(), key)
							if err != nil || !ok {
								fail(fmt.Errorf("reader %d Load(%q): ok %v err %w", r, key, ok, err))
								return
							}
							g := data[0]
							if !bytes.Equal(data, fill(size, g)) || !meta.EventsUntil.Equal(t0.Add(time.Duration(g)*time.Hour)) {
								fail(fmt.Errorf("reader %d Load(%q): torn state: data starts with generation %d, EventsUntil %v", r, key, g, meta.EventsUntil))
								return
							}
						}
						select {
						case <-done:
							return
						default:
						}
					}
				})
			}
			writers.Wait()
			close(done)
			wg.Wait()
			for _, err := range errs {
				t.Error(err)
			}
			_, meta, _, err := seed.Load(t.Context(), "a")
			if err != nil || meta.Runs != 1+tc.writers {
				t.Errorf("after concurrent saves: Runs %d err %v, want %d", meta.Runs, err, 1+tc.writers)
			}
		})
	}
}

func gen(keys []string, size int, g byte) map[string][]byte {
	m := make(map[string][]byte, len(keys))
	for _, k := range keys {
		m[k] = fill(size, g)
	}
	return m
}

// crashChildEnv makes the test binary a child that saves generation after
// generation until it is killed (see TestCrashMidSave).
const crashChildEnv = "REPOSENTRY_STORE_CRASH_CHILD"

// TestCrashMidSave kills a process saving in a loop at several points and
// checks the file then holds one whole generation: never a mix of two, never
// a corrupt file.
func TestCrashMidSave(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	keys := []string{"a", "b", "c"}
	for _, delay := range []time.Duration{0, 7 * time.Millisecond, 30 * time.Millisecond, 90 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidSave$")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The child writes a line once its first save committed.
			buf := make([]byte, 64)
			if _, err := out.Read(buf); err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child did not start saving: %v", err)
			}
			startT := time.Now()
			time.Sleep(delay)
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()

			s := open(t, path)
			var first byte
			for i, key := range keys {
				data, meta, ok, err := s.Load(t.Context(), key)
				if err != nil || !ok {
					t.Fatalf("Load(%q) after crash: ok %v err %v", key, ok, err)
				}
				g := data[0]
				if i == 0 {
					first = g
					t.Logf("after kill at %v: generation %d", time.Since(startT), g)
				}
				if g != first || !bytes.Equal(data, fill(len(keys[i])*crashSize, g)) || meta.Events != int64(g) {
					t.Errorf("Load(%q) after crash: generation %d (%d bytes, Events %d), want whole generation %d", key, g, len(data), meta.Events, first)
				}
			}
		})
	}
}

const crashSize = 1 << 20

func crashChild(path string) {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		g := byte(i%250 + 1) // generation 0 would be indistinguishable from zeroed pages
		states := map[string][]byte{}
		for _, k := range []string{"a", "b", "c"} {
			states[k] = fill(len(k)*crashSize, g)
		}
		// Events is cumulative for the run, so Load's total equals g.
		if err := s.SaveAll(context.Background(), states, store.Meta{Events: int64(g)}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if i == 0 {
			os.Stdout.WriteString("saved " + strconv.Itoa(int(g)) + "\n")
		}
	}
}

// BenchmarkSaveAll saves three states totalling 15 MB, the size of a large
// deployment's detector state, as one transaction with synchronous=FULL.
func BenchmarkSaveAll(b *testing.B) {
	s := open(b, "")
	states := map[string][]byte{}
	for i, k := range []string{"detect/v1", "baseline/v1", "chain/v1"} {
		data := make([]byte, 5<<20)
		for j := range data {
			data[j] = byte(j*13 + i)
		}
		states[k] = data
	}
	b.SetBytes(15 << 20)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.SaveAll(b.Context(), states, store.Meta{EventsUntil: t1, Events: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/save")
}

// FuzzOpen writes arbitrary bytes (seeded with a real store file) to the
// store's path: Open must refuse them with an error naming the file or give
// a store whose Load and SaveAll work or fail cleanly, never panic.
func FuzzOpen(f *testing.F) {
	path := filepath.Join(f.TempDir(), "seed.db")
	s, err := Open(path)
	if err != nil {
		f.Fatal(err)
	}
	if err := s.SaveAll(context.Background(), map[string][]byte{"detect/v1": fill(5000, 3), "chain/v1": []byte("x")}, store.Meta{SavedAt: t1, EventsUntil: t0, Events: 9}); err != nil {
		f.Fatal(err)
	}
	s.Close() // checkpoints the WAL into the file
	valid, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte{})
	f.Add([]byte("SQLite format 3\x00"))
	f.Add(valid[:len(valid)/2])
	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(t.TempDir(), "state.db")
		writeFile(t, path, content)
		s, err := Open(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("Open error does not name the file: %v", err)
			}
			return
		}
		defer s.Close()
		if _, _, _, err := s.Load(t.Context(), "detect/v1"); err != nil && !strings.Contains(err.Error(), path) {
			t.Fatalf("Load error does not name the file: %v", err)
		}
		if err := s.SaveAll(t.Context(), map[string][]byte{"detect/v1": []byte("new")}, store.Meta{}); err != nil && !strings.Contains(err.Error(), path) {
			t.Fatalf("SaveAll error does not name the file: %v", err)
		}
	})
}

// BenchmarkLoad loads one 5 MB state, the read side of BenchmarkSaveAll.
func BenchmarkLoad(b *testing.B) {
	s := open(b, "")
	data := make([]byte, 5<<20)
	for j := range data {
		data[j] = byte(j * 13)
	}
	if err := s.SaveAll(b.Context(), map[string][]byte{"detect/v1": data}, store.Meta{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok, err := s.Load(b.Context(), "detect/v1"); err != nil || !ok {
			b.Fatalf("Load: ok %v err %v", ok, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/load")
}
