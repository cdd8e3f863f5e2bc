package intern

import (
	"testing"
	"unsafe"
)

func TestSharedAndBounded(t *testing.T) {
	tab := New(3)
	a := tab.Bytes([]byte("acme/api"))
	b := tab.Bytes([]byte("acme/api"))
	if a != "acme/api" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatal("the same bytes did not give one shared string")
	}
	if tab.String("acme/web") != "acme/web" || tab.Bytes(nil) != "" || tab.String("") != "" {
		t.Fatal("String or empty values are wrong")
	}
	if tab.Len() != 2 {
		t.Fatalf("Len = %d, want 2", tab.Len())
	}
	for _, s := range []string{"x", "y", "z", "w"} {
		tab.String(s)
	}
	if tab.Len() > 3 {
		t.Fatalf("table grew to %d past its bound of 3", tab.Len())
	}
	if a != "acme/api" {
		t.Fatal("a string handed out changed when the table was cleared")
	}
	buf := []byte("reused")
	s := tab.Bytes(buf)
	buf[0] = 'X'
	if s != "reused" {
		t.Fatal("an interned string aliases the caller's buffer")
	}
	if allocs := testing.AllocsPerRun(100, func() { tab.Bytes([]byte("reused")) }); allocs != 0 {
		t.Errorf("a lookup of a known value allocates %.0f times", allocs)
	}
}
