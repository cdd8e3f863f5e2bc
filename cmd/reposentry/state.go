package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/reposentry/reposentry/engine"
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

// saveState writes every detector's state, and more's, in one transaction.
func saveState(ctx context.Context, st store.StateStore, ds []engine.Detector, meta store.Meta, more ...engine.Stateful) error {
	states := map[string][]byte{}
	for key, d := range stateful(ds, more...) {
		var buf bytes.Buffer
		if err := d.SaveState(&buf); err != nil {
			return fmt.Errorf("save state %s: %w", key, err)
		}
		states[key] = buf.Bytes()
	}
	return st.SaveAll(ctx, states, meta)
}
