// Package jsonval reads the values of audit-log JSON the way platforms and
// their re-emitters really write them (times as epoch numbers of any unit or
// ISO 8601 strings, numbers as strings, addresses with ports stripped) from
// fastjson values, without allocating. The platform parsers share it.
package jsonval

import (
	"bytes"
	"math"
	"net/netip"
	"time"
	"unsafe"

	"github.com/valyala/fastjson"
)

// Plausible event times. Anything outside comes from a unit mix-up or a
// placeholder (0, -1) and would misplace the event in every window.
var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// TimeState is the outcome of reading a time field.
type TimeState uint8

const (
	TimeMissing TimeState = iota // absent, null or empty
	TimeInvalid                  // present but not a usable time
	TimeOK
)

// Time reads an ISO 8601 / RFC 3339 string (any number of fraction
// digits, "T" or space, zone optional), or, from re-emitters, Epoch
// seconds, milliseconds, microseconds or nanoseconds as a number or a
// numeric string, told apart by magnitude.
func Time(v *fastjson.Value) (time.Time, TimeState) {
	if v == nil {
		return time.Time{}, TimeMissing
	}
	var t time.Time
	var ok bool
	switch v.Type() {
	case fastjson.TypeNull:
		return time.Time{}, TimeMissing
	case fastjson.TypeNumber:
		f, err := v.Float64()
		if err != nil {
			return time.Time{}, TimeInvalid
		}
		t, ok = Epoch(f)
	case fastjson.TypeString:
		b := Trim(Str(v))
		if len(b) == 0 {
			return time.Time{}, TimeMissing
		}
		if f, isNum := Decimal(b); isNum {
			t, ok = Epoch(f)
		} else {
			t, ok = RFC3339(b)
		}
	default:
		return time.Time{}, TimeInvalid
	}
	if !ok || t.Before(minTime) || !t.Before(maxTime) {
		return time.Time{}, TimeInvalid
	}
	return t, TimeOK
}

// Epoch converts an Epoch number to a UTC time, choosing the unit by
// magnitude: below 1e11 seconds, below 1e14 milliseconds, below 1e17
// microseconds, else nanoseconds.
func Epoch(f float64) (time.Time, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
		return time.Time{}, false
	}
	var ms float64
	switch {
	case f < 1e11:
		ms = f * 1e3
	case f < 1e14:
		ms = f
	case f < 1e17:
		ms = f / 1e3
	default:
		ms = f / 1e6
	}
	if ms > 1e15 { // beyond maxTime anyway; keeps the int64 conversion safe
		return time.Time{}, false
	}
	whole := math.Floor(ms)
	return time.UnixMilli(int64(whole)).Add(time.Duration(math.Round((ms - whole) * 1e6))).UTC(), true
}

// Decimal parses an unsigned decimal number with an optional fraction
// without allocating.
func Decimal(b []byte) (float64, bool) {
	var whole, frac float64
	scale := 1.0
	digits, dot := 0, false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
			if dot {
				scale /= 10
				frac += float64(c-'0') * scale
			} else {
				whole = whole*10 + float64(c-'0')
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	return whole + frac, digits > 0
}

// RFC3339 parses "YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM|±HHMM|±HH]";
// a space may replace the T and a missing zone means UTC. Entra writes seven
// fraction digits, which time.Parse would also accept but not without
// allocating on error paths.
func RFC3339(b []byte) (time.Time, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't' && b[10] != ' ') ||
		b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 ||
		hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	rest := b[19:]
	nsec := 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		scale := 100000000
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 1 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case rest[0] == '+' || rest[0] == '-':
		z := rest[1:]
		var hh, mm int
		ok := false
		switch {
		case len(z) == 5 && z[2] == ':':
			h, okh := digits(z[0:2])
			m, okm := digits(z[3:5])
			hh, mm, ok = h, m, okh && okm
		case len(z) == 4:
			h, okh := digits(z[0:2])
			m, okm := digits(z[2:4])
			hh, mm, ok = h, m, okh && okm
		case len(z) == 2:
			hh, ok = digits(z)
		}
		if !ok || hh > 23 || mm > 59 {
			return time.Time{}, false
		}
		offset = hh*3600 + mm*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

func digits(s []byte) (int, bool) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

// IP parses an address without allocating. Zoned IPv6 addresses are
// refused: they never come from the internet, and netip would keep the zone
// string, which here aliases a reused buffer.
func IP(b []byte) netip.Addr {
	b = Trim(b)
	if len(b) == 0 || len(b) > 64 || bytes.IndexByte(b, '%') >= 0 {
		return netip.Addr{}
	}
	// Without a zone, ParseAddr keeps nothing of its input.
	a, err := netip.ParseAddr(unsafe.String(unsafe.SliceData(b), len(b)))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// Uint reads a non-negative integer given as a number or a numeric
// string (forwarders stringify numbers); ok is false for anything else.
func Uint(v *fastjson.Value) (uint64, bool) {
	if v == nil {
		return 0, false
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		f, err := v.Float64()
		if err != nil || f < 0 || f >= 1<<53 || f != math.Trunc(f) {
			return 0, false
		}
		return uint64(f), true
	case fastjson.TypeString:
		b := Trim(Str(v))
		if len(b) == 0 || len(b) > 15 {
			return 0, false
		}
		n, ok := digits(b)
		return uint64(n), ok
	}
	return 0, false
}

// Str returns a string value's bytes, or nil for anything else.
func Str(v *fastjson.Value) []byte {
	if v == nil || v.Type() != fastjson.TypeString {
		return nil
	}
	b, _ := v.StringBytes()
	return b
}

// Member returns o[key] when v is an object, else nil.
func Member(v *fastjson.Value, key string) *fastjson.Value {
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil
	}
	o, _ := v.Object()
	return o.Get(key)
}

// Lower appends b Lower-cased (ASCII) to dst; identity join keys are
// compared case-insensitively and e-mail addresses are ASCII in practice.
func Lower(dst, b []byte) []byte {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		d := s[i]
		if d >= 'A' && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

func Trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
