package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/config"
	"github.com/reposentry/reposentry/directory"
	"github.com/reposentry/reposentry/enrich"
	"github.com/reposentry/reposentry/geo"
	"github.com/reposentry/reposentry/identity"
	"github.com/reposentry/reposentry/repotag"
)

// enrichment is the enrichment stage built from a configuration: bot and
// privileged-account marking, identity resolution (mapping, SAML hints,
// directory; privilege and disabled accounts), repository sensitivity tags
// and GeoIP.
type enrichment struct {
	static   *enrich.Static
	resolver *identity.Resolver
	geoDB    *geo.DB
	enrich   func(*reposentry.Event)
	// notes say what was loaded, for the closing summary.
	notes []string
}

// newEnrichment loads the directory, the mapping file and the GeoIP
// databases the configuration names. A directory that cannot be read is an
// error unless directory.optional is set, in which case the run goes on
// without it and says so in the summary.
func newEnrichment(ctx context.Context, cfg config.Config) (*enrichment, error) {
	e := &enrichment{static: enrich.NewStatic(cfg.Static())}

	mapping := identity.NewMapping()
	if cfg.IdentityMap != "" {
		m, err := identity.LoadMapping(cfg.IdentityMap)
		if err != nil {
			return nil, err
		}
		mapping = m
		e.notes = append(e.notes, "identity mapping: "+cfg.IdentityMap)
	}
	for _, ident := range cfg.Identities {
		for _, a := range ident.Accounts {
			if err := mapping.Add(a, ident.ID); err != nil {
				return nil, fmt.Errorf("config identities: %w", err)
			}
		}
	}

	snap, dirNote, err := loadDirectory(ctx, cfg.Directory)
	if dirNote != "" {
		e.notes = append(e.notes, dirNote)
	}
	switch {
	case err != nil && !cfg.Directory.Optional:
		return nil, err
	case err != nil:
		e.notes = append(e.notes, fmt.Sprintf("directory not used (directory.optional): %v", err))
	case snap != nil:
		n := 0
		for _, u := range snap.Users {
			if ok, _ := snap.Privileged(u); ok {
				n++
			}
		}
		age := "unknown"
		if !snap.Fetched.IsZero() {
			age = time.Since(snap.Fetched).Round(time.Minute).String() + " ago"
		}
		e.notes = append(e.notes, fmt.Sprintf("directory %s: %d users, %d privileged (nested membership: %s), read %s",
			snap.Source, len(snap.Users), n, snap.Expansion, age))
	}
	e.resolver = identity.New(identity.Config{
		Mapping:    mapping,
		Directory:  func() *directory.Snapshot { return snap },
		Privileged: cfg.Privileged.Identities,
	})

	tagger, err := repotag.New(cfg.Repositories, 0)
	if err != nil {
		return nil, err
	}

	var geoEnrich func(*reposentry.Event)
	if len(cfg.GeoIP.Databases) > 0 {
		db, err := geo.Open(cfg.GeoIP)
		if err != nil {
			return nil, err
		}
		e.geoDB = db
		geoEnrich = db.NewCache(0).Enrich
		e.notes = append(e.notes, fmt.Sprintf("GeoIP: %d databases", len(cfg.GeoIP.Databases)))
	}
	// Order matters: accounts first (bots, privileged logins), then the
	// person behind them (which only raises privilege), then the
	// repository's tags and the address.
	e.enrich = enrich.Chain(e.static.Enrich, e.resolver.Enrich, tagger.Enrich, geoEnrich)
	return e, nil
}

// loadDirectory reads the configured directory: nil, nil when none is
// configured. A live directory is read with retries and backoff; when it
// cannot be read, the snapshot file (the last good copy) serves instead and
// the note says how stale it is. A successful read refreshes a JSON snapshot
// file, so the next run has a recent last good copy.
func loadDirectory(ctx context.Context, d config.DirectoryConfig) (*directory.Snapshot, string, error) {
	var last *directory.Snapshot
	var lastErr error
	if d.Snapshot != "" {
		last, lastErr = directory.Load(d.Snapshot, d.Policy())
	}
	if d.LDAP.URL == "" {
		return last, "", lastErr
	}
	lc := d.LDAP
	if len(lc.PrivilegedGroups) == 0 {
		lc.PrivilegedGroups = d.PrivilegedGroups
	}
	lc.AdminCountPrivileged = lc.AdminCountPrivileged || d.AdminCountPrivileged
	c, err := directory.NewClient(lc)
	if err != nil {
		return nil, "", err
	}
	cache := directory.NewCache(c, directory.CacheConfig{}, nil)
	if err := cache.Refresh(ctx); err != nil {
		if last == nil {
			return nil, "", err
		}
		return last, fmt.Sprintf("directory %s could not be read (%v): using the last good snapshot %s, read %s ago",
			d.LDAP.URL, err, d.Snapshot, time.Since(last.Fetched).Round(time.Minute)), nil
	}
	snap := cache.Snapshot()
	if strings.HasSuffix(d.Snapshot, ".json") {
		if err := writeSnapshot(d.Snapshot, snap); err != nil {
			return snap, fmt.Sprintf("directory snapshot %s not refreshed: %v", d.Snapshot, err), nil
		}
	}
	return snap, "", nil
}

// writeSnapshot replaces path with snap atomically (write, then rename), so
// a crash never leaves half a last good copy.
func writeSnapshot(path string, snap *directory.Snapshot) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := snap.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// accounts lists the accounts joined to an identity, for alert entities.
func (e *enrichment) accounts(id string) []string { return e.resolver.Info(id).Accounts }

// close releases the GeoIP databases.
func (e *enrichment) close() {
	if e.geoDB != nil {
		e.geoDB.Close()
	}
}
