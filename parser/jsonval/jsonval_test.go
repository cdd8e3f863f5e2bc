package jsonval

import (
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

func TestTime(t *testing.T) {
	want := time.Date(2026, 1, 1, 9, 10, 58, 214_000_000, time.UTC)
	for _, tc := range []struct {
		in    string
		state TimeState
		want  time.Time
	}{
		{`1767258658214`, TimeOK, want},                             // epoch ms, GitHub
		{`1767258658.214`, TimeOK, want},                            // epoch seconds
		{`1767258658214000`, TimeOK, want},                          // microseconds
		{`1767258658000000000`, TimeOK, want.Truncate(time.Second)}, // nanoseconds: float64 keeps whole seconds exact
		{`"1767258658214"`, TimeOK, want},                           // stringified by a forwarder
		{`"1767258658214.000000"`, TimeOK, want},                    // float string re-emitters write
		{`"2026-01-01T09:10:58.214Z"`, TimeOK, want},                // Okta
		{`"2026-01-01T09:10:58.2140000Z"`, TimeOK, want},            // Entra's seven digits
		{`"2026-01-01 09:10:58.214"`, TimeOK, want},                 // space, no zone: UTC
		{`"2026-01-01T10:10:58.214+01:00"`, TimeOK, want},           // offset
		{`"2026-01-01T10:10:58.214+0100"`, TimeOK, want},            // offset without colon
		{`null`, TimeMissing, time.Time{}},                          // absent
		{`""`, TimeMissing, time.Time{}},                            // empty
		{`0`, TimeInvalid, time.Time{}},                             // placeholder
		{`-1`, TimeInvalid, time.Time{}},                            // placeholder
		{`"yesterday"`, TimeInvalid, time.Time{}},                   // words
		{`"2026-13-01T00:00:00Z"`, TimeInvalid, time.Time{}},        // month 13
		{`true`, TimeInvalid, time.Time{}},                          // wrong type
		{`{"ms":1}`, TimeInvalid, time.Time{}},                      // wrong type
	} {
		v := fastjson.MustParse(tc.in)
		got, st := Time(v)
		if st != tc.state || !got.Equal(tc.want) {
			t.Errorf("Time(%s) = %v, %d; want %v, %d", tc.in, got, st, tc.want, tc.state)
		}
	}
	if _, st := Time(nil); st != TimeMissing {
		t.Errorf("Time(nil) state %d, want missing", st)
	}
}

func TestScalars(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    uint64
		okay bool
	}{
		{`42`, 42, true}, {`"42"`, 42, true}, {`" 7 "`, 7, true}, {`-1`, 0, false}, {`1.5`, 0, false},
		{`"x"`, 0, false}, {`"1234567890123456"`, 0, false}, {`null`, 0, false},
	} {
		n, ok := Uint(fastjson.MustParse(tc.in))
		if n != tc.n || ok != tc.okay {
			t.Errorf("Uint(%s) = %d, %v; want %d, %v", tc.in, n, ok, tc.n, tc.okay)
		}
	}
	for in, want := range map[string]string{
		"198.51.100.23": "198.51.100.23", " 2001:db8::1 ": "2001:db8::1", "::ffff:192.0.2.1": "192.0.2.1",
		"fe80::1%eth0": "invalid IP", "not-an-ip": "invalid IP", "": "invalid IP",
	} {
		if got := IP([]byte(in)).String(); got != want {
			t.Errorf("IP(%q) = %s, want %s", in, got, want)
		}
	}
	if !EqualFold([]byte("SUCCESS"), "success") || EqualFold([]byte("SUCCES"), "success") {
		t.Error("EqualFold is wrong")
	}
	if got := string(Lower(nil, []byte("Jane.Doe@ACME.example"))); got != "jane.doe@acme.example" {
		t.Errorf("Lower = %q", got)
	}
	obj := fastjson.MustParse(`{"a":{"b":"c"},"n":1}`)
	if string(Str(Member(obj.Get("a"), "b"))) != "c" || Member(obj.Get("n"), "b") != nil || Str(obj.Get("n")) != nil {
		t.Error("Member/Str are wrong")
	}
}
