package geo

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/reposentry/reposentry"
)

// writeDB builds a MaxMind DB of dbType with records per network (CIDR) in
// dir and returns its path.
func writeDB(t testing.TB, dir, dbType string, records map[string]mmdbtype.Map) string {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(n, rec); err != nil {
			t.Fatalf("insert %s: %v", cidr, err)
		}
	}
	path := filepath.Join(dir, dbType+".mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return path
}

func city(country, name string) mmdbtype.Map {
	m := mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(country)}}
	if name != "" {
		m["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(name), "de": mmdbtype.String(name + "-de")}}
	}
	return m
}

func asn(n uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n), "autonomous_system_organization": mmdbtype.String(org)}
}

// testDBs writes a City and an ASN database covering documentation ranges.
func testDBs(t testing.TB) (cityPath, countryPath, asnPath string) {
	dir := t.TempDir()
	cityPath = writeDB(t, dir, "GeoLite2-City", map[string]mmdbtype.Map{
		"81.2.69.0/24":    city("GB", "London"),
		"2001:db8::/32":   city("DE", "Berlin"),
		"198.51.100.0/24": {"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("JP")}},
		"192.0.2.0/24":    city("NL", "Amsterdam"),
	})
	countryPath = writeDB(t, dir, "GeoIP2-Country", map[string]mmdbtype.Map{"81.2.69.0/24": city("GB", "")})
	asnPath = writeDB(t, dir, "GeoLite2-ASN", map[string]mmdbtype.Map{
		"81.2.69.0/24":    asn(20712, "Andrews & Arnold Ltd"),
		"198.51.100.0/24": asn(16509, "AMAZON-02"),
		"192.0.2.0/24":    asn(9009, "M247 Europe SRL"),
		"2001:db8::/32":   asn(3320, "Deutsche Telekom AG"),
	})
	return
}

func TestLookup(t *testing.T) {
	cityPath, _, asnPath := testDBs(t)
	db, err := Open(Config{
		Databases:        []string{asnPath, cityPath}, // order does not matter
		Hosting:          List{ASNs: DefaultHostingASNs},
		VPN:              List{ASNs: []uint32{9009}},
		Tor:              List{Prefixes: []string{"192.0.2.77", "::ffff:192.0.2.78/128"}},
		ResidentialProxy: List{Prefixes: []string{"81.2.69.128/25"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct {
		addr string
		want Info
	}{
		{"81.2.69.142", Info{Geo: reposentry.Geo{Country: "GB", City: "London", ASN: 20712, ASOrg: "Andrews & Arnold Ltd"}, Class: ClassResidentialProxy}},
		{"81.2.69.1", Info{Geo: reposentry.Geo{Country: "GB", City: "London", ASN: 20712, ASOrg: "Andrews & Arnold Ltd"}}},
		{"::ffff:81.2.69.1", Info{Geo: reposentry.Geo{Country: "GB", City: "London", ASN: 20712, ASOrg: "Andrews & Arnold Ltd"}}},
		{"198.51.100.7", Info{Geo: reposentry.Geo{Country: "JP", ASN: 16509, ASOrg: "AMAZON-02"}, Class: ClassHosting}},
		// M247 is in both the hosting defaults and the VPN list: VPN wins.
		{"192.0.2.10", Info{Geo: reposentry.Geo{Country: "NL", City: "Amsterdam", ASN: 9009, ASOrg: "M247 Europe SRL"}, Class: ClassVPN}},
		// A Tor exit inside that network: the prefix beats the ASN.
		{"192.0.2.77", Info{Geo: reposentry.Geo{Country: "NL", City: "Amsterdam", ASN: 9009, ASOrg: "M247 Europe SRL"}, Class: ClassTor}},
		{"192.0.2.78", Info{Geo: reposentry.Geo{Country: "NL", City: "Amsterdam", ASN: 9009, ASOrg: "M247 Europe SRL"}, Class: ClassTor}},
		{"2001:db8::1", Info{Geo: reposentry.Geo{Country: "DE", City: "Berlin", ASN: 3320, ASOrg: "Deutsche Telekom AG"}}},
		{"10.0.0.1", Info{}},
		{"", Info{}},
	}
	cache := db.NewCache(0)
	for _, tc := range tests {
		var addr netip.Addr
		if tc.addr != "" {
			addr = netip.MustParseAddr(tc.addr)
		}
		got, err := db.Lookup(addr)
		if err != nil || got != tc.want {
			t.Errorf("Lookup(%s) = %+v %v, want %+v", tc.addr, got, err, tc.want)
		}
		for range 2 { // cold, then cached
			if got := cache.Lookup(addr); got != tc.want {
				t.Errorf("Cache.Lookup(%s) = %+v, want %+v", tc.addr, got, tc.want)
			}
		}
		if c := cache.Class(addr); c != tc.want.Class {
			t.Errorf("Class(%s) = %v, want %v", tc.addr, c, tc.want.Class)
		}
	}
	if n, err := cache.Errors(); n != 0 {
		t.Errorf("%d lookup errors: %v", n, err)
	}
}

func TestCountryLayout(t *testing.T) {
	_, countryPath, _ := testDBs(t)
	db, err := Open(Config{Databases: []string{countryPath}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Lookup(netip.MustParseAddr("81.2.69.142"))
	if err != nil || got != (Info{Geo: reposentry.Geo{Country: "GB"}}) {
		t.Errorf("Lookup = %+v %v, want country GB only", got, err)
	}
}

func TestOpenErrors(t *testing.T) {
	cityPath, countryPath, asnPath := testDBs(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.mmdb")
	if err := os.WriteFile(junk, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := writeDB(t, dir, "GeoIP2-Connection-Type", map[string]mmdbtype.Map{"81.2.69.0/24": {"connection_type": mmdbtype.String("Cable/DSL")}})
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"missing file", Config{Databases: []string{filepath.Join(dir, "nope.mmdb")}}, "geo: opening " + filepath.Join(dir, "nope.mmdb")},
		{"not a database", Config{Databases: []string{junk}}, "geo: opening " + junk},
		{"unknown layout", Config{Databases: []string{other}}, `database type "GeoIP2-Connection-Type" is neither`},
		{"two location databases", Config{Databases: []string{cityPath, countryPath}}, "a second location database"},
		{"two ASN databases", Config{Databases: []string{asnPath, asnPath}}, "a second asn database"},
		{"bad prefix", Config{Tor: List{Prefixes: []string{"192.0.2.0/33"}}}, `geo: tor prefixes: "192.0.2.0/33"`},
		{"bad address", Config{VPN: List{Prefixes: []string{"vpn.example"}}}, `geo: vpn prefixes: "vpn.example" is neither a prefix nor an address`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(tc.cfg)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestEnrich(t *testing.T) {
	cityPath, _, asnPath := testDBs(t)
	db, err := Open(Config{Databases: []string{cityPath, asnPath}, VPN: List{ASNs: []uint32{20712}}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := db.NewCache(2) // tiny: exercises the reset when full
	tests := []struct {
		name string
		ev   reposentry.Event
		want reposentry.Geo
	}{
		{"fills everything", reposentry.Event{SourceIP: netip.MustParseAddr("81.2.69.142")},
			reposentry.Geo{Country: "GB", City: "London", ASN: 20712, ASOrg: "Andrews & Arnold Ltd", Class: "vpn"}},
		{"keeps the record's own location", reposentry.Event{SourceIP: netip.MustParseAddr("81.2.69.142"), Geo: reposentry.Geo{Country: "FR", City: "Paris"}},
			reposentry.Geo{Country: "FR", City: "Paris", ASN: 20712, ASOrg: "Andrews & Arnold Ltd", Class: "vpn"}},
		{"keeps the record's ASN", reposentry.Event{SourceIP: netip.MustParseAddr("2001:db8::5"), Geo: reposentry.Geo{ASN: 1, ASOrg: "logged"}},
			reposentry.Geo{Country: "DE", City: "Berlin", ASN: 1, ASOrg: "logged"}},
		{"no address", reposentry.Event{}, reposentry.Geo{}},
		{"unknown address", reposentry.Event{SourceIP: netip.MustParseAddr("10.1.2.3")}, reposentry.Geo{}},
	}
	for _, tc := range tests {
		ev := tc.ev
		c.Enrich(&ev)
		if ev.Geo != tc.want {
			t.Errorf("%s: Geo = %+v, want %+v", tc.name, ev.Geo, tc.want)
		}
	}
	if len(c.m) > 2 {
		t.Errorf("cache holds %d addresses, bound is 2", len(c.m))
	}
}

func TestCacheAllocs(t *testing.T) {
	cityPath, _, asnPath := testDBs(t)
	db, err := Open(Config{Databases: []string{cityPath, asnPath}, Hosting: List{ASNs: DefaultHostingASNs}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := db.NewCache(0)
	ev := reposentry.Event{SourceIP: netip.MustParseAddr("198.51.100.7")}
	c.Enrich(&ev)
	allocs := testing.AllocsPerRun(100, func() {
		e := reposentry.Event{SourceIP: ev.SourceIP}
		c.Enrich(&e)
	})
	if allocs != 0 {
		t.Errorf("warm Enrich allocates %.1f times, want 0", allocs)
	}
}

func BenchmarkCacheLookup(b *testing.B) {
	cityPath, _, asnPath := testDBs(b)
	db, err := Open(Config{Databases: []string{cityPath, asnPath}, Hosting: List{ASNs: DefaultHostingASNs}})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	addrs := []netip.Addr{netip.MustParseAddr("81.2.69.142"), netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("2001:db8::1")}
	c := db.NewCache(0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Lookup(addrs[i%len(addrs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

func BenchmarkDBLookup(b *testing.B) {
	cityPath, _, asnPath := testDBs(b)
	db, err := Open(Config{Databases: []string{cityPath, asnPath}})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	addr := netip.MustParseAddr("81.2.69.142")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.Lookup(addr); err != nil {
			b.Fatal(err)
		}
	}
}
