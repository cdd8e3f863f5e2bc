// Package statecodec is the explicit binary encoding the detectors save their
// learnt state in (engine.Stateful): varints and length-prefixed strings after
// a magic and a version, read back with every length bounded so a corrupt or
// foreign file is refused, never trusted.
package statecodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// MaxStateBytes bounds what LoadState reads, so a wrong file (a disk image,
// a log) is refused before it is held in memory.
const MaxStateBytes = 1 << 30

// Encoder appends the explicit binary encoding of the state to buf.
type Encoder struct{ Buf []byte }

// Uvarint appends an unsigned varint.
func (e *Encoder) Uvarint(v uint64) { e.Buf = binary.AppendUvarint(e.Buf, v) }

// Varint appends a signed varint.
func (e *Encoder) Varint(v int64) { e.Buf = binary.AppendVarint(e.Buf, v) }

// U64 appends eight little-endian bytes.
func (e *Encoder) U64(v uint64) { e.Buf = binary.LittleEndian.AppendUint64(e.Buf, v) }

// Byte1 appends one byte.
func (e *Encoder) Byte1(v uint8) { e.Buf = append(e.Buf, v) }

// Str appends a length-prefixed string.
func (e *Encoder) Str(s string) { e.Uvarint(uint64(len(s))); e.Buf = append(e.Buf, s...) }

// F64 appends a float64 by its bits.
func (e *Encoder) F64(v float64) { e.U64(math.Float64bits(v)) }

// Bool1 appends a boolean as one byte.
func (e *Encoder) Bool1(v bool) {
	if v {
		e.Byte1(1)
	} else {
		e.Byte1(0)
	}
}

// ErrTruncated reports input that ended inside a value.
var ErrTruncated = errors.New("truncated")

// Decoder reads what Encoder wrote from a byte slice. The first error
// sticks: later reads return zero values, and err reports it with the
// offset, so decoding code checks once per record.
type Decoder struct {
	B    []byte
	Off  int
	Err  error
	Strs map[string]string // one copy of each repeated string (repositories, groups)
}

// Fail records err, reading what, as the decoder's first error.
func (d *Decoder) Fail(what string, err error) {
	if d.Err == nil {
		d.Err = fmt.Errorf("%s at byte %d: %w", what, d.Off, err)
	}
}

// Failf records a formatted first error at the current offset.
func (d *Decoder) Failf(format string, args ...any) {
	if d.Err == nil {
		d.Err = fmt.Errorf("at byte %d: "+format, append([]any{d.Off}, args...)...)
	}
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint(what string) uint64 {
	if d.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.B[d.Off:])
	if n <= 0 {
		d.Fail(what, ErrTruncated)
		return 0
	}
	d.Off += n
	return v
}

// Varint reads a signed varint.
func (d *Decoder) Varint(what string) int64 {
	if d.Err != nil {
		return 0
	}
	v, n := binary.Varint(d.B[d.Off:])
	if n <= 0 {
		d.Fail(what, ErrTruncated)
		return 0
	}
	d.Off += n
	return v
}

// Bounded reads an unsigned varint and fails when it exceeds max.
func (d *Decoder) Bounded(what string, max uint64) uint64 {
	v := d.Uvarint(what)
	if v > max {
		d.Failf("%s %d exceeds the limit %d", what, v, max)
		return 0
	}
	return v
}

// Count reads a list length, bounded by max and by the bytes left at
// minSize bytes an element, so a corrupt length cannot make the caller
// allocate much.
func (d *Decoder) Count(what string, minSize int, max uint64) int {
	n := d.Bounded(what, max)
	if d.Err == nil && n > uint64((len(d.B)-d.Off)/minSize) {
		d.Failf("%s %d needs more than the %d bytes left", what, n, len(d.B)-d.Off)
		return 0
	}
	return int(n)
}

// U64 reads eight little-endian bytes.
func (d *Decoder) U64(what string) uint64 {
	if d.Err != nil {
		return 0
	}
	if len(d.B)-d.Off < 8 {
		d.Fail(what, ErrTruncated)
		return 0
	}
	v := binary.LittleEndian.Uint64(d.B[d.Off:])
	d.Off += 8
	return v
}

// Byte1 reads one byte.
func (d *Decoder) Byte1(what string) uint8 {
	if d.Err != nil {
		return 0
	}
	if d.Off >= len(d.B) {
		d.Fail(what, ErrTruncated)
		return 0
	}
	v := d.B[d.Off]
	d.Off++
	return v
}

// Bool1 reads a boolean, failing on anything but 0 or 1.
func (d *Decoder) Bool1(what string) bool {
	switch v := d.Byte1(what); v {
	case 0:
		return false
	case 1:
		return true
	default:
		d.Failf("%s: %d is not a boolean", what, v)
		return false
	}
}

// F64 reads a float64 by its bits.
func (d *Decoder) F64(what string) float64 {
	v := math.Float64frombits(d.U64(what))
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		d.Failf("%s: %v is not a count", what, v)
		return 0
	}
	return v
}

// Raw reads a length-prefixed byte string of at most max bytes; the
// slice aliases the input.
func (d *Decoder) Raw(what string, max int) []byte {
	n := d.Bounded(what+" length", uint64(max))
	if d.Err != nil {
		return nil
	}
	if uint64(len(d.B)-d.Off) < n {
		d.Fail(what, ErrTruncated)
		return nil
	}
	b := d.B[d.Off : d.Off+int(n)]
	d.Off += int(n)
	return b
}

// Str reads a length-prefixed string of at most max bytes, sharing one
// copy of repeated strings.
func (d *Decoder) Str(what string, max int) string {
	b := d.Raw(what, max)
	if len(b) == 0 {
		return ""
	}
	if s, ok := d.Strs[string(b)]; ok {
		return s
	}
	s := string(b)
	d.Strs[s] = s
	return s
}

// Header writes the magic and version that start the stream.
func (e *Encoder) Header(magic string, version uint64) {
	e.Buf = append(e.Buf, magic...)
	e.Uvarint(version)
}

// ReadState reads the whole stream, bounded, and checks its magic and
// version.
func ReadState(r io.Reader, magic string, version uint64) (*Decoder, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxStateBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	if len(b) > MaxStateBytes {
		return nil, fmt.Errorf("state is larger than the %d bytes allowed", MaxStateBytes)
	}
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		n := min(len(b), len(magic))
		return nil, fmt.Errorf("state starts with %q, want the magic %q", b[:n], magic)
	}
	d := &Decoder{B: b, Off: len(magic), Strs: make(map[string]string, 256)}
	v := d.Uvarint("version")
	if d.Err != nil {
		return nil, d.Err
	}
	if v != version {
		return nil, fmt.Errorf("state version %d, want %d (saved by another release: start afresh)", v, version)
	}
	return d, nil
}

// End reports the first decoding error, or bytes left after the state.
func (d *Decoder) End() error {
	if d.Err != nil {
		return d.Err
	}
	if d.Off != len(d.B) {
		return fmt.Errorf("%d unexpected bytes after the state at byte %d", len(d.B)-d.Off, d.Off)
	}
	return nil
}
