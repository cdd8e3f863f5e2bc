package keys

import (
	"net/netip"
	"testing"
)

func TestString(t *testing.T) {
	// FNV-1a test vectors: the empty string is the offset basis.
	for _, tc := range []struct {
		s    string
		want uint64
	}{{"", 0xcbf29ce484222325}, {"a", 0xaf63dc4c8601ec8c}, {"foobar", 0x85944171f73967e8}} {
		if got := String(tc.s); got != tc.want {
			t.Errorf("String(%q) = %#x, want %#x", tc.s, got, tc.want)
		}
	}
}

func TestNet(t *testing.T) {
	for _, tc := range []struct{ ip, want string }{
		{"203.0.113.9", "203.0.113.0/24"},
		{"::ffff:203.0.113.9", "203.0.113.0/24"},
		{"2001:db8:1234:5678::1", "2001:db8:1234::/48"},
		{"127.0.0.1", ""},
		{"::", ""},
	} {
		if got := NetString(Net(netip.MustParseAddr(tc.ip))); got != tc.want {
			t.Errorf("NetString(Net(%s)) = %q, want %q", tc.ip, got, tc.want)
		}
	}
	if Net(netip.Addr{}) != 0 || NetString(0) != "" || NetString(7<<56) != "" {
		t.Error("no address must give key 0 and no prefix")
	}
	if Net(netip.MustParseAddr("203.0.113.9")) != Net(netip.MustParseAddr("203.0.113.200")) {
		t.Error("two addresses of one /24 have different keys")
	}
}
