// Package keys holds the compact keys detections keep instead of strings:
// 64-bit FNV-1a hashes of names and one-word keys of /24 and /48 networks.
// Detections save them in their state, so they must never change.
package keys

import "net/netip"

// String is the 64-bit FNV-1a hash of s, computed inline so that the hot
// path neither allocates nor converts.
func String(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Net packs an address's /24 (IPv4) or /48 (IPv6) into one comparable word
// whose top byte is the family (1 or 2); 0 means no usable network.
func Net(ip netip.Addr) uint64 {
	if !ip.IsValid() || ip.IsLoopback() || ip.IsUnspecified() {
		return 0
	}
	ip = ip.Unmap()
	if ip.Is4() {
		b := ip.As4()
		return 1<<56 | uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])
	}
	b := ip.As16()
	return 2<<56 | uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(b[4])<<8 | uint64(b[5])
}

// NetString renders a key made by Net as its prefix ("203.0.113.0/24");
// empty for 0 or a value Net does not make.
func NetString(k uint64) string {
	switch k >> 56 {
	case 1:
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(k >> 16), byte(k >> 8), byte(k)}), 24).String()
	case 2:
		var b [16]byte
		for i := range 6 {
			b[i] = byte(k >> (8 * (5 - i)))
		}
		return netip.PrefixFrom(netip.AddrFrom16(b), 48).String()
	}
	return ""
}
