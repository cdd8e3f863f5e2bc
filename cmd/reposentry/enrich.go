package main

import (
	"context"
	"fmt"

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

	snap, err := loadDirectory(ctx, cfg.Directory)
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
		e.notes = append(e.notes, fmt.Sprintf("directory %s: %d users, %d privileged (nested membership: %s)",
			snap.Source, len(snap.Users), n, snap.Expansion))
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
// configured.
func loadDirectory(ctx context.Context, d config.DirectoryConfig) (*directory.Snapshot, error) {
	switch {
	case d.Snapshot != "":
		return directory.Load(d.Snapshot, d.Policy())
	case d.LDAP.URL != "":
		lc := d.LDAP
		if len(lc.PrivilegedGroups) == 0 {
			lc.PrivilegedGroups = d.PrivilegedGroups
		}
		lc.AdminCountPrivileged = lc.AdminCountPrivileged || d.AdminCountPrivileged
		c, err := directory.NewClient(lc)
		if err != nil {
			return nil, err
		}
		return c.Fetch(ctx)
	}
	return nil, nil
}

// accounts lists the accounts joined to an identity, for alert entities.
func (e *enrichment) accounts(id string) []string { return e.resolver.Info(id).Accounts }

// close releases the GeoIP databases.
func (e *enrichment) close() {
	if e.geoDB != nil {
		e.geoDB.Close()
	}
}
