package baseline

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// maxStateBytes bounds what LoadState reads, so a wrong file (a disk image,
// a log) is refused before it is held in memory.
const maxStateBytes = 1 << 30

// encoder appends the explicit binary encoding of the state to buf.
type encoder struct{ buf []byte }

func (e *encoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) varint(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }
func (e *encoder) u64(v uint64)     { e.buf = binary.LittleEndian.AppendUint64(e.buf, v) }
func (e *encoder) byte1(v uint8)    { e.buf = append(e.buf, v) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.buf = append(e.buf, s...) }
func (e *encoder) f64(v float64)    { e.u64(math.Float64bits(v)) }

func (e *encoder) bool1(v bool) {
	if v {
		e.byte1(1)
	} else {
		e.byte1(0)
	}
}

// errTruncated reports input that ended inside a value.
var errTruncated = errors.New("truncated")

// decoder reads what encoder wrote from a byte slice. The first error
// sticks: later reads return zero values, and err reports it with the
// offset, so decoding code checks once per record.
type decoder struct {
	b    []byte
	off  int
	err  error
	strs map[string]string // one copy of each repeated string (repositories, groups)
}

func (d *decoder) fail(what string, err error) {
	if d.err == nil {
		d.err = fmt.Errorf("%s at byte %d: %w", what, d.off, err)
	}
}

func (d *decoder) failf(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("at byte %d: "+format, append([]any{d.off}, args...)...)
	}
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail(what, errTruncated)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail(what, errTruncated)
		return 0
	}
	d.off += n
	return v
}

// bounded reads a count or value and refuses one above max.
func (d *decoder) bounded(what string, max uint64) uint64 {
	v := d.uvarint(what)
	if v > max {
		d.failf("%s %d exceeds the limit %d", what, v, max)
		return 0
	}
	return v
}

// count reads a number of records of at least minSize bytes each, refusing
// more than the input could hold (so no allocation exceeds the input) or
// than max.
func (d *decoder) count(what string, minSize int, max uint64) int {
	n := d.bounded(what, max)
	if d.err == nil && n > uint64((len(d.b)-d.off)/minSize) {
		d.failf("%s %d needs more than the %d bytes left", what, n, len(d.b)-d.off)
		return 0
	}
	return int(n)
}

func (d *decoder) u64(what string) uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 8 {
		d.fail(what, errTruncated)
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}

func (d *decoder) byte1(what string) uint8 {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail(what, errTruncated)
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *decoder) bool1(what string) bool {
	switch v := d.byte1(what); v {
	case 0:
		return false
	case 1:
		return true
	default:
		d.failf("%s: %d is not a boolean", what, v)
		return false
	}
}

func (d *decoder) f64(what string) float64 {
	v := math.Float64frombits(d.u64(what))
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		d.failf("%s: %v is not a count", what, v)
		return 0
	}
	return v
}

// raw reads a length-prefixed byte string of at most max bytes; the slice
// aliases the input.
func (d *decoder) raw(what string, max int) []byte {
	n := d.bounded(what+" length", uint64(max))
	if d.err != nil {
		return nil
	}
	if uint64(len(d.b)-d.off) < n {
		d.fail(what, errTruncated)
		return nil
	}
	b := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return b
}

// str reads a string, sharing one copy of repeated values.
func (d *decoder) str(what string, max int) string {
	b := d.raw(what, max)
	if len(b) == 0 {
		return ""
	}
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	d.strs[s] = s
	return s
}

// header writes the magic and version that start the stream.
func (e *encoder) header(magic string, version uint64) {
	e.buf = append(e.buf, magic...)
	e.uvarint(version)
}

// readState reads the whole stream, bounded, and checks its magic and
// version.
func readState(r io.Reader, magic string, version uint64) (*decoder, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxStateBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	if len(b) > maxStateBytes {
		return nil, fmt.Errorf("state is larger than the %d bytes allowed", maxStateBytes)
	}
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		n := min(len(b), len(magic))
		return nil, fmt.Errorf("state starts with %q, want the magic %q", b[:n], magic)
	}
	d := &decoder{b: b, off: len(magic), strs: make(map[string]string, 256)}
	v := d.uvarint("version")
	if d.err != nil {
		return nil, d.err
	}
	if v != version {
		return nil, fmt.Errorf("state version %d, want %d (saved by another release: start afresh)", v, version)
	}
	return d, nil
}

// end reports the first decoding error, or trailing bytes.
func (d *decoder) end() error {
	if d.err != nil {
		return d.err
	}
	if d.off != len(d.b) {
		return fmt.Errorf("%d unexpected bytes after the state at byte %d", len(d.b)-d.off, d.off)
	}
	return nil
}
