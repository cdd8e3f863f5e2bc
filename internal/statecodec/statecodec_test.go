package statecodec

import (
	"bytes"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var e Encoder
	e.Header("RSTEST", 3)
	e.Uvarint(300)
	e.Varint(-7)
	e.U64(1 << 40)
	e.Byte1(9)
	e.Str("acme/api")
	e.F64(0.25)
	e.Bool1(true)
	d, err := ReadState(bytes.NewReader(e.Buf), "RSTEST", 3)
	if err != nil {
		t.Fatal(err)
	}
	if d.Uvarint("a") != 300 || d.Varint("b") != -7 || d.U64("c") != 1<<40 || d.Byte1("d") != 9 ||
		d.Str("e", 64) != "acme/api" || d.F64("f") != 0.25 || !d.Bool1("g") {
		t.Fatalf("values differ after a round trip: %v", d.Err)
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
}

func TestRefusals(t *testing.T) {
	var e Encoder
	e.Header("RSTEST", 1)
	e.Uvarint(1 << 40) // a list length no input can hold
	good := append([]byte(nil), e.Buf...)
	for _, tc := range []struct {
		name, magic string
		version     uint64
		data        []byte
		want        string
	}{
		{"wrong magic", "RSOTHER", 1, good, "magic"},
		{"wrong version", "RSTEST", 2, good, "version 1, want 2"},
		{"empty", "RSTEST", 1, nil, "magic"},
	} {
		if _, err := ReadState(bytes.NewReader(tc.data), tc.magic, tc.version); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	d, err := ReadState(bytes.NewReader(good), "RSTEST", 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := d.Count("identities", 8, 1<<20); n != 0 || d.End() == nil {
		t.Errorf("an absurd count was accepted: %d, %v", n, d.Err)
	}
	d, _ = ReadState(bytes.NewReader(good[:len(good)-2]), "RSTEST", 1)
	d.Uvarint("cut")
	if d.End() == nil {
		t.Error("a truncated varint was accepted")
	}
}
