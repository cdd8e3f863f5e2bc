// Package sqlite is the embedded store.StateStore: one SQLite file (pure Go,
// modernc.org/sqlite) in WAL mode with synchronous=FULL, written by a single
// connection. Each SaveAll is one transaction, so a crash mid-save leaves the
// previous run's state intact.
//
// Schema (version 1, recorded in PRAGMA user_version, file marked with
// PRAGMA application_id):
//
//	state(key TEXT PRIMARY KEY, data BLOB NOT NULL, saved_at INTEGER, events_until INTEGER)
//	runs(id INTEGER PRIMARY KEY, started_at INTEGER, finished_at INTEGER, events INTEGER, events_until INTEGER)
//
// Times are Unix nanoseconds in UTC; a zero time.Time is stored as NULL.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"github.com/reposentry/reposentry/store"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

const (
	// schemaVersion is PRAGMA user_version of the files this package writes;
	// a newer one was written by a newer reposentry and is refused rather
	// than misread.
	schemaVersion = 1
	// applicationID ("RSST") marks the file as a reposentry state store, so
	// that pointing --state at some other SQLite database is refused.
	applicationID = 0x52535354
	// busyTimeout is how long a statement waits for another handle's lock
	// (another reposentry process on the same file) before failing.
	busyTimeout = 10 * time.Second
)

const schema = `
CREATE TABLE state (
	key          TEXT PRIMARY KEY,
	data         BLOB NOT NULL,
	saved_at     INTEGER,
	events_until INTEGER
);
CREATE TABLE runs (
	id           INTEGER PRIMARY KEY,
	started_at   INTEGER,
	finished_at  INTEGER,
	events       INTEGER NOT NULL DEFAULT 0,
	events_until INTEGER
);`

// Store is a store.StateStore in one SQLite file. It is safe for concurrent
// use; several Stores (or processes) may open the same file, writers then
// wait up to the busy timeout for each other.
type Store struct {
	db      *sql.DB
	path    string
	started time.Time

	mu    sync.Mutex // serialises SaveAll so runID is set once
	runID int64      // row of this Store's run in runs, 0 before the first save
}

var _ store.StateStore = (*Store)(nil)

// Open opens the state store at path, creating the file and its schema if
// missing. A file that is not SQLite, not a reposentry store, or has a newer
// schema version is refused with an error naming it.
func Open(path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: %s: open: %w", path, err)
	}
	// A file: URI so that '?' or '#' in the path cannot be taken for
	// parameters. _txlock=immediate takes the write lock at BEGIN, so two
	// writers wait on the busy timeout instead of failing with SQLITE_BUSY
	// when upgrading a read transaction. WAL mode is not a DSN pragma: it
	// persists in the file, so it is set only once the file is known to be
	// ours, never on a foreign database.
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()

	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: %s: open: %w", path, err)
	}
	// One connection: the store is a single-writer embedded file, and the
	// connection-level pragmas above then apply to everything.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path, started: time.Now()}
	if err := s.initSchema(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	// WAL lets Load on other handles proceed while one saves.
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		db.Close()
		return nil, s.errf("open: set WAL mode", err)
	}
	if mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("store/sqlite: %s: open: journal mode is %q, want wal (unsupported file system?)", path, mode)
	}
	return s, nil
}

// initSchema creates the schema in a new file and checks an existing one.
func (s *Store) initSchema(ctx context.Context) error {
	// The write lock is taken at BEGIN (immediate), so two processes
	// creating the same new file do not both create the tables.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.errf("open", err)
	}
	defer tx.Rollback()

	var version, appID, tables int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return s.errf("open: read schema version", err)
	}
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return s.errf("open: read application id", err)
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return s.errf("open: read schema", err)
	}
	switch {
	case appID != applicationID && (appID != 0 || tables > 0):
		return fmt.Errorf("store/sqlite: %s: open: not a reposentry state store (application_id %#x, %d schema objects)", s.path, appID, tables)
	case version > schemaVersion:
		return fmt.Errorf("store/sqlite: %s: open: schema version %d is newer than the supported %d (written by a newer reposentry?)", s.path, version, schemaVersion)
	case version == schemaVersion:
		return nil
	case version != 0:
		return fmt.Errorf("store/sqlite: %s: open: unknown schema version %d, expected %d", s.path, version, schemaVersion)
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return s.errf("open: create schema", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", applicationID, schemaVersion)); err != nil {
		return s.errf("open: set schema version", err)
	}
	if err := tx.Commit(); err != nil {
		return s.errf("open: commit schema", err)
	}
	return nil
}

// Path returns the path the store was opened with.
func (s *Store) Path() string { return s.path }

// Load returns the state saved under key. meta.SavedAt and
// meta.EventsUntil are those of the save that wrote key; meta.Runs and
// meta.Events count all recorded runs.
func (s *Store) Load(ctx context.Context, key string) ([]byte, store.Meta, bool, error) {
	// One statement, so the state and the run counts come from one snapshot
	// even while another handle saves.
	var (
		data                []byte
		savedAt, eventsTill sql.NullInt64
		meta                store.Meta
	)
	err := s.db.QueryRowContext(ctx, `
		SELECT data, saved_at, events_until,
		       (SELECT count(*) FROM runs),
		       (SELECT coalesce(sum(events), 0) FROM runs)
		FROM state WHERE key = ?`, key).Scan(&data, &savedAt, &eventsTill, &meta.Runs, &meta.Events)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.Meta{}, false, nil
	}
	if err != nil {
		return nil, store.Meta{}, false, s.errf(fmt.Sprintf("load %q", key), err)
	}
	meta.SavedAt = fromNull(savedAt)
	meta.EventsUntil = fromNull(eventsTill)
	if data == nil {
		data = []byte{}
	}
	return data, meta, true, nil
}

// SaveAll writes states in one transaction, replacing the keys it names and
// keeping the others. The first SaveAll of a Store appends a row to runs;
// later ones (a daemon's checkpoints) update that row, so meta.Events is the
// events this run has processed so far and Runs counts runs, not saves.
func (s *Store) SaveAll(ctx context.Context, states map[string][]byte, meta store.Meta) error {
	if meta.SavedAt.IsZero() {
		meta.SavedAt = time.Now()
	}
	for key := range states {
		if key == "" {
			return fmt.Errorf("store/sqlite: %s: save: empty state key", s.path)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.errf("save: begin", err)
	}
	defer tx.Rollback()

	stmt, err := tx.PrepareContext(ctx, `
		INSERT INTO state (key, data, saved_at, events_until) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET
			data = excluded.data, saved_at = excluded.saved_at, events_until = excluded.events_until`)
	if err != nil {
		return s.errf("save: prepare", err)
	}
	defer stmt.Close()
	savedAt, eventsUntil := toNull(meta.SavedAt), toNull(meta.EventsUntil)
	for key, data := range states {
		if data == nil {
			data = []byte{} // a nil blob binds as NULL
		}
		if _, err := stmt.ExecContext(ctx, key, data, savedAt, eventsUntil); err != nil {
			return s.errf(fmt.Sprintf("save %q (%d bytes)", key, len(data)), err)
		}
	}

	runID := s.runID
	if runID == 0 {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO runs (started_at, finished_at, events, events_until) VALUES (?, ?, ?, ?)`,
			toNull(s.started), savedAt, meta.Events, eventsUntil)
		if err != nil {
			return s.errf("save: record run", err)
		}
		if runID, err = res.LastInsertId(); err != nil {
			return s.errf("save: record run", err)
		}
	} else if _, err := tx.ExecContext(ctx,
		`UPDATE runs SET finished_at = ?, events = ?, events_until = ? WHERE id = ?`,
		savedAt, meta.Events, eventsUntil, runID); err != nil {
		return s.errf("save: update run", err)
	}

	if err := tx.Commit(); err != nil {
		return s.errf("save: commit", err)
	}
	s.runID = runID // only once committed, so a failed first save inserts again
	return nil
}

// Close closes the database; further calls fail.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return s.errf("close", err)
	}
	return nil
}

// errf names the file and the failed operation.
func (s *Store) errf(op string, err error) error {
	return fmt.Errorf("store/sqlite: %s: %s: %w", s.path, op, err)
}

func toNull(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func fromNull(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}
