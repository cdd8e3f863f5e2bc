// Package geo locates source addresses with MaxMind DB files (GeoIP2 /
// GeoLite2 City, Country and ASN, or compatible databases) and classes
// their networks — hosting, VPN, Tor, residential proxy — from configured
// lists, so detections can tell a laptop at home from a rented server.
package geo

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/reposentry/reposentry"
)

// Class is the kind of network an address belongs to.
type Class uint8

// Network classes. When several lists match, a prefix beats an ASN (it is
// more specific), and among equals the order is Tor, VPN, residential
// proxy, hosting.
const (
	ClassNone Class = iota
	ClassHosting
	ClassVPN
	ClassTor
	ClassResidentialProxy
)

var classNames = [...]string{"none", "hosting", "vpn", "tor", "residential_proxy"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "none"
}

// classOrder is the precedence among classes matched at the same
// specificity.
var classOrder = []Class{ClassTor, ClassVPN, ClassResidentialProxy, ClassHosting}

// List is one class's networks: autonomous systems and address prefixes.
type List struct {
	ASNs     []uint32 `yaml:"asns"`
	Prefixes []string `yaml:"prefixes"` // CIDR ("192.0.2.0/24") or a single address
}

// Config says which databases to open and how to class networks.
type Config struct {
	// Databases are MaxMind DB files; each one's layout (City, Country,
	// ASN) is read from its metadata, so their order does not matter.
	Databases []string `yaml:"databases"`
	// Class lists.
	Hosting          List `yaml:"hosting"`
	VPN              List `yaml:"vpn"`
	Tor              List `yaml:"tor"`
	ResidentialProxy List `yaml:"residential_proxy"`
}

// DefaultHostingASNs are large cloud and VPS providers' autonomous systems,
// a starting point for Config.Hosting: Amazon (16509, 14618), Google Cloud
// (396982), Microsoft (8075), DigitalOcean (14061), OVH (16276), Hetzner
// (24940), Linode/Akamai (63949), Vultr (20473), Oracle (31898), Contabo
// (51167), Scaleway (12876), Alibaba (45102), M247 (9009).
var DefaultHostingASNs = []uint32{16509, 14618, 396982, 8075, 14061, 16276, 24940, 63949, 20473, 31898, 51167, 12876, 45102, 9009}

// Info is what is known about an address.
type Info struct {
	Geo   reposentry.Geo
	Class Class
}

// DB holds the opened databases and class lists. Lookup is safe for
// concurrent use; wrap it in a Cache per goroutine on the hot path.
type DB struct {
	location *maxminddb.Reader // City or Country layout
	asn      *maxminddb.Reader
	byASN    map[uint32]Class
	prefixes []classPrefix // longest first
}

type classPrefix struct {
	p     netip.Prefix
	class Class
}

// Open opens cfg's databases and checks its lists. A Config with no
// databases still classes addresses by prefix.
func Open(cfg Config) (*DB, error) {
	d := &DB{byASN: map[uint32]Class{}}
	for _, path := range cfg.Databases {
		r, err := maxminddb.Open(path)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("geo: opening %s: %w", path, err)
		}
		kind := layout(r.Metadata.DatabaseType)
		var slot **maxminddb.Reader
		switch kind {
		case "location":
			slot = &d.location
		case "asn":
			slot = &d.asn
		default:
			r.Close()
			d.Close()
			return nil, fmt.Errorf("geo: %s: database type %q is neither a City, Country nor ASN database", path, r.Metadata.DatabaseType)
		}
		if *slot != nil {
			r.Close()
			d.Close()
			return nil, fmt.Errorf("geo: %s: a second %s database (type %q); give one of each", path, kind, r.Metadata.DatabaseType)
		}
		*slot = r
	}
	lists := map[Class]List{ClassHosting: cfg.Hosting, ClassVPN: cfg.VPN, ClassTor: cfg.Tor, ClassResidentialProxy: cfg.ResidentialProxy}
	// Assign in reverse precedence so the stronger class overwrites.
	for _, c := range slices.Backward(classOrder) {
		for _, asn := range lists[c].ASNs {
			d.byASN[asn] = c
		}
		for _, s := range lists[c].Prefixes {
			p, err := parsePrefix(s)
			if err != nil {
				d.Close()
				return nil, fmt.Errorf("geo: %s prefixes: %w", c, err)
			}
			d.prefixes = append(d.prefixes, classPrefix{p, c})
		}
	}
	// Longest prefix first; among equal lengths the stronger class, which
	// was appended last, goes first.
	slices.Reverse(d.prefixes)
	slices.SortStableFunc(d.prefixes, func(a, b classPrefix) int { return b.p.Bits() - a.p.Bits() })
	return d, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is neither a prefix nor an address", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q: %w", s, err)
	}
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// layout names what a database's records hold, from its metadata type
// ("GeoLite2-City", "GeoIP2-Country", "GeoLite2-ASN", "GeoIP2-ISP",
// "DBIP-City-Lite", …).
func layout(dbType string) string {
	t := strings.ToLower(dbType)
	switch {
	case strings.Contains(t, "asn") || strings.Contains(t, "isp"):
		return "asn"
	case strings.Contains(t, "city") || strings.Contains(t, "country") || strings.Contains(t, "enterprise"):
		return "location"
	}
	return ""
}

// Close releases the databases.
func (d *DB) Close() error {
	var errs []error
	for _, r := range []*maxminddb.Reader{d.location, d.asn} {
		if r != nil {
			errs = append(errs, r.Close())
		}
	}
	return errors.Join(errs...)
}

type locationRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
	City struct {
		Names struct {
			EN string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
}

type asnRecord struct {
	ASN uint32 `maxminddb:"autonomous_system_number"`
	Org string `maxminddb:"autonomous_system_organization"`
}

// Lookup locates addr and classes its network. Addresses not in a
// database give zero fields, not an error; errors mean a corrupt database.
func (d *DB) Lookup(addr netip.Addr) (Info, error) {
	var info Info
	if !addr.IsValid() {
		return info, nil
	}
	addr = addr.Unmap()
	if d.location != nil {
		var rec locationRecord
		if err := d.location.Lookup(addr).Decode(&rec); err != nil {
			return info, fmt.Errorf("geo: location of %s: %w", addr, err)
		}
		info.Geo.Country = rec.Country.ISOCode
		if info.Geo.Country == "" {
			// Anycast and satellite networks have only the registrant's.
			info.Geo.Country = rec.RegisteredCountry.ISOCode
		}
		info.Geo.City = rec.City.Names.EN
	}
	if d.asn != nil {
		var rec asnRecord
		if err := d.asn.Lookup(addr).Decode(&rec); err != nil {
			return info, fmt.Errorf("geo: ASN of %s: %w", addr, err)
		}
		info.Geo.ASN, info.Geo.ASOrg = rec.ASN, rec.Org
	}
	info.Class = d.class(addr, info.Geo.ASN)
	return info, nil
}

func (d *DB) class(addr netip.Addr, asn uint32) Class {
	for _, p := range d.prefixes {
		if p.p.Contains(addr) {
			return p.class
		}
	}
	if asn != 0 {
		return d.byASN[asn]
	}
	return ClassNone
}

// Cache memoizes Lookup per address. It is not safe for concurrent use:
// give each pipeline goroutine its own (they may share the DB).
type Cache struct {
	db     *DB
	m      map[netip.Addr]Info
	max    int
	errors int
	last   error
}

// NewCache returns a cache over d holding at most max addresses (0 means
// 1<<16); when full it starts over, so memory stays bounded.
func (d *DB) NewCache(max int) *Cache {
	if max <= 0 {
		max = 1 << 16
	}
	return &Cache{db: d, m: make(map[netip.Addr]Info, 1024), max: max}
}

// Lookup is DB.Lookup, memoized. A failed lookup yields a zero Info, is
// counted (Errors) and is not cached, so a repaired database recovers.
// Allocation-free for addresses already seen.
func (c *Cache) Lookup(addr netip.Addr) Info {
	addr = addr.Unmap()
	if info, ok := c.m[addr]; ok {
		return info
	}
	info, err := c.db.Lookup(addr)
	if err != nil {
		c.errors++
		c.last = err
		return Info{}
	}
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[addr] = info
	return info
}

// Errors reports how many lookups failed and the last failure.
func (c *Cache) Errors() (int, error) { return c.errors, c.last }

// Enrich fills the event's Geo fields that its record left empty (Okta and
// Entra log their own geolocation, which is kept) from ev.SourceIP.
func (c *Cache) Enrich(ev *reposentry.Event) {
	if !ev.SourceIP.IsValid() {
		return
	}
	g := c.Lookup(ev.SourceIP).Geo
	if ev.Geo.Country == "" {
		ev.Geo.Country = g.Country
		if ev.Geo.City == "" {
			ev.Geo.City = g.City
		}
	}
	if ev.Geo.ASN == 0 {
		ev.Geo.ASN = g.ASN
		if ev.Geo.ASOrg == "" {
			ev.Geo.ASOrg = g.ASOrg
		}
	}
	if ev.Geo.Class == "" {
		if cl := c.Lookup(ev.SourceIP).Class; cl != ClassNone {
			ev.Geo.Class = cl.String()
		}
	}
}

// Class returns the network class of addr (ClassNone when unknown); Enrich
// records it in Event.Geo.Class.
func (c *Cache) Class(addr netip.Addr) Class {
	if !addr.IsValid() {
		return ClassNone
	}
	return c.Lookup(addr).Class
}
