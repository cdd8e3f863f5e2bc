package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/reposentry/reposentry/engine"
	"github.com/reposentry/reposentry/source"
	"github.com/reposentry/reposentry/store"
	"github.com/reposentry/reposentry/store/sqlite"
)

// stateFile is the embedded store's file inside the --state folder.
const stateFile = "reposentry.db"

// stateful returns the saved states of the detectors and of more (the risk
// stage) keyed by StateKey, one per key (detectors sharing a state share
// the key).
func stateful(ds []engine.Detector, more ...engine.Stateful) map[string]engine.Stateful {
	out := map[string]engine.Stateful{}
	for _, s := range more {
		out[s.StateKey()] = s
	}
	for _, d := range ds {
		if s, ok := d.(engine.Stateful); ok {
			if _, seen := out[s.StateKey()]; !seen {
				out[s.StateKey()] = s
			}
		}
	}
	return out
}

// openState opens the state store in dir (created if missing) and loads
// every detector's saved state into it. It returns the store to save into
// at the end and a note for the summary: resumed from when, or a cold start.
func openState(ctx context.Context, dir string, ds []engine.Detector, more ...engine.Stateful) (store.StateStore, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("--state %s: %w", dir, err)
	}
	path := filepath.Join(dir, stateFile)
	st, err := sqlite.Open(path)
	if err != nil {
		return nil, "", err
	}
	var resumed store.Meta
	loaded := 0
	for key, d := range stateful(ds, more...) {
		data, meta, ok, err := st.Load(ctx, key)
		if err != nil {
			st.Close()
			return nil, "", err
		}
		if !ok {
			continue
		}
		if err := d.LoadState(bytes.NewReader(data)); err != nil {
			st.Close()
			return nil, "", fmt.Errorf("state %s, %s: %w (delete the file, or run without --state, to start afresh)", path, key, err)
		}
		loaded++
		resumed = meta
	}
	if loaded == 0 {
		return st, fmt.Sprintf("state %s: no saved state, a cold start; what this run learns is saved for the next", path), nil
	}
	return st, fmt.Sprintf("state %s: resumed from run %d (saved %s, events up to %s)", path, resumed.Runs,
		resumed.SavedAt.UTC().Format(time.RFC3339), resumed.EventsUntil.UTC().Format(time.RFC3339)), nil
}

// saveState writes every detector's state, more's and the extra states
// (already encoded) in one transaction.
func saveState(ctx context.Context, st store.StateStore, ds []engine.Detector, meta store.Meta, extra map[string][]byte, more ...engine.Stateful) error {
	states := maps.Clone(extra)
	if states == nil {
		states = map[string][]byte{}
	}
	for key, d := range stateful(ds, more...) {
		var buf bytes.Buffer
		if err := d.SaveState(&buf); err != nil {
			return fmt.Errorf("save state %s: %w", key, err)
		}
		states[key] = buf.Bytes()
	}
	return st.SaveAll(ctx, states, meta)
}

// huntedKey is the state key of the files a --state folder has hunted:
// hunting one of them again would count its events twice in the baselines
// and first-seen sets.
const huntedKey = "hunt/files/v1"

// fileMark identifies a hunted file cheaply: its absolute path, size and
// modification time. A file that grew or was rewritten is hunted again.
type fileMark struct {
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
}

// hunted is the set of files hunted with one state, by absolute path.
type hunted map[string]fileMark

// loadHunted reads the files already hunted with st.
func loadHunted(ctx context.Context, st store.StateStore) (hunted, error) {
	data, _, ok, err := st.Load(ctx, huntedKey)
	if err != nil || !ok {
		return hunted{}, err
	}
	h := hunted{}
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("state %s: %w (delete the state folder to start afresh)", huntedKey, err)
	}
	return h, nil
}

// split sets aside the inputs already hunted unchanged, returning those to
// hunt, the paths skipped and the marks to record once the hunt is saved.
// Standard input is always hunted and never recorded.
func (h hunted) split(inputs []source.Input) (todo []source.Input, skipped []string, marks hunted) {
	marks = hunted{}
	for _, in := range inputs {
		if in.Path == "-" {
			todo = append(todo, in)
			continue
		}
		abs, err := filepath.Abs(in.Path)
		fi, statErr := os.Stat(in.Path)
		if err != nil || statErr != nil {
			todo = append(todo, in) // the reader reports what is wrong with it
			continue
		}
		m := fileMark{Size: fi.Size(), ModTime: fi.ModTime().UTC()}
		if old, ok := h[abs]; ok && old.Size == m.Size && old.ModTime.Equal(m.ModTime) {
			skipped = append(skipped, in.Path)
			continue
		}
		todo = append(todo, in)
		marks[abs] = m
	}
	return todo, skipped, marks
}

// encode returns h with marks added, as saved.
func (h hunted) encode(marks hunted) ([]byte, error) {
	all := maps.Clone(h)
	maps.Copy(all, marks)
	return json.Marshal(all)
}
