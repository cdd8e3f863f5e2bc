package github

import (
	"math"
	"time"

	"github.com/valyala/fastjson"
)

// Plausible event times. Anything outside comes from a unit mix-up or a
// placeholder (0, -1) and would misplace the event in every window.
var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// timeState is the outcome of reading a time field.
type timeState uint8

const (
	timeMissing timeState = iota // absent or null
	timeInvalid                  // present but not a usable time
	timeOK
)

// parseTime reads a GitHub time: epoch milliseconds as a JSON number or a
// numeric string ("1624445969188.000000"), or an RFC 3339 string. Numbers
// are scaled by magnitude, so epoch seconds, microseconds and nanoseconds
// from re-emitters are read correctly too.
func parseTime(v *fastjson.Value) (time.Time, timeState) {
	if v == nil {
		return time.Time{}, timeMissing
	}
	var t time.Time
	var ok bool
	switch v.Type() {
	case fastjson.TypeNull:
		return time.Time{}, timeMissing
	case fastjson.TypeNumber:
		f, err := v.Float64()
		if err != nil {
			return time.Time{}, timeInvalid
		}
		t, ok = epoch(f)
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		b = trim(b)
		if len(b) == 0 {
			return time.Time{}, timeMissing
		}
		if f, isNum := parseDecimal(b); isNum {
			t, ok = epoch(f)
		} else {
			t, ok = parseRFC3339(b)
		}
	default:
		return time.Time{}, timeInvalid
	}
	if !ok || t.Before(minTime) || !t.Before(maxTime) {
		return time.Time{}, timeInvalid
	}
	return t, timeOK
}

// epoch converts an epoch number to a UTC time, choosing the unit by
// magnitude: below 1e11 seconds, below 1e14 milliseconds (GitHub's unit),
// below 1e17 microseconds, else nanoseconds.
func epoch(f float64) (time.Time, bool) {
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
	frac := ms - whole
	return time.UnixMilli(int64(whole)).Add(time.Duration(math.Round(frac * 1e6))).UTC(), true
}

// parseDecimal parses an unsigned decimal number with an optional fraction
// ("1624445969188", "1624445969188.000000") without allocating.
func parseDecimal(b []byte) (float64, bool) {
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

// parseRFC3339 parses "YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM|±HHMM]"; a
// space may replace the T and a missing zone means UTC.
func parseRFC3339(b []byte) (time.Time, bool) {
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, len(s) > 0
	}
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't' && b[10] != ' ') ||
		b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
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
		var ok bool
		switch len(z) {
		case 5:
			if z[2] != ':' {
				return time.Time{}, false
			}
			hh, ok = num(z[0:2])
			if m, ok2 := num(z[3:5]); ok && ok2 {
				mm = m
			} else {
				ok = false
			}
		case 4:
			hh, ok = num(z[0:2])
			if m, ok2 := num(z[2:4]); ok && ok2 {
				mm = m
			} else {
				ok = false
			}
		case 2:
			hh, ok = num(z)
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

func trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
