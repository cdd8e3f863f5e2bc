package directory

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Fetcher reads a snapshot; *Client is one.
type Fetcher interface {
	Fetch(ctx context.Context) (*Snapshot, error)
}

// CacheConfig tunes a Cache.
type CacheConfig struct {
	// Interval is the time between refreshes; 0 means one hour.
	Interval time.Duration
	// Retries is how many times a failed refresh is retried before waiting
	// for the next interval; 0 means 3, negative means none.
	Retries int
	// MinBackoff is the wait before the first retry, doubled for each next
	// one up to MaxBackoff; 0 means 1s and 1m.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives refresh failures; nil means slog.Default().
	Logger *slog.Logger
}

// Cache keeps the last good snapshot of a directory and refreshes it
// periodically. When the directory cannot be read it keeps serving the last
// good snapshot and reports how stale it is. It is safe for concurrent use.
type Cache struct {
	f   Fetcher
	cfg CacheConfig
	cur atomic.Pointer[Snapshot]

	mu          sync.Mutex
	lastSuccess time.Time
	lastErr     error

	// sleep waits d or until ctx ends; replaced in tests.
	sleep func(ctx context.Context, d time.Duration) error
}

// NewCache returns a cache over f serving initial (which may be nil, e.g. a
// snapshot file to use until the first fetch succeeds).
func NewCache(f Fetcher, cfg CacheConfig, initial *Snapshot) *Cache {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Cache{f: f, cfg: cfg, sleep: sleepCtx}
	if initial != nil {
		c.cur.Store(initial)
	}
	return c
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Snapshot returns the last good snapshot, nil before any.
func (c *Cache) Snapshot() *Snapshot { return c.cur.Load() }

// LastSuccess is when a fetch last succeeded (zero if never).
func (c *Cache) LastSuccess() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastSuccess
}

// LastError is the error of the last refresh, nil if it succeeded.
func (c *Cache) LastError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// Refresh fetches once, retrying with exponential backoff. On failure the
// previous snapshot stays in place and the last attempt's error is returned
// (and kept for LastError).
func (c *Cache) Refresh(ctx context.Context) error {
	backoff := c.cfg.MinBackoff
	var err error
	attempts := 0
	for attempt := 0; ; attempt++ {
		attempts++
		var s *Snapshot
		s, err = c.f.Fetch(ctx)
		if err == nil {
			c.cur.Store(s)
			c.mu.Lock()
			c.lastSuccess, c.lastErr = time.Now(), nil
			c.mu.Unlock()
			return nil
		}
		if attempt >= c.cfg.Retries || ctx.Err() != nil {
			break
		}
		c.cfg.Logger.Warn("directory refresh failed; retrying", "attempt", attempt+1, "retry_in", backoff, "err", err)
		if c.sleep(ctx, backoff) != nil {
			break
		}
		backoff = min(2*backoff, c.cfg.MaxBackoff)
	}
	if attempts > 1 {
		err = fmt.Errorf("%w (after %d attempts)", err, attempts)
	}
	c.mu.Lock()
	c.lastErr = err
	stale := c.lastSuccess
	c.mu.Unlock()
	c.cfg.Logger.Error("directory refresh failed; serving the last good snapshot", "last_success", stale, "err", err)
	return err
}

// Run refreshes now and then every Interval until ctx ends; it returns
// ctx's error. Failures are logged and kept for LastError, never fatal.
func (c *Cache) Run(ctx context.Context) error {
	for {
		_ = c.Refresh(ctx) // failures are in LastError and the log
		if err := c.sleep(ctx, c.cfg.Interval); err != nil {
			return err
		}
	}
}

// FileFetcher reads a snapshot file (LDIF or JSON, see Load) on every
// Fetch, so a Cache over it picks up an export that is replaced in place.
type FileFetcher struct {
	Path   string
	Policy Policy
}

// Fetch loads the file.
func (f FileFetcher) Fetch(ctx context.Context) (*Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return Load(f.Path, f.Policy)
}
