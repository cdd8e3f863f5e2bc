package source

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader drains arbitrary bytes through OpenReader, whole and in short
// reads, with the default and with a tiny record limit. It must not panic or
// loop, must yield only non-empty records, and the size of the reads must not
// change any result.
func FuzzReader(f *testing.F) {
	seeds := []string{
		"{\"a\":1}\r\n\r\n{\"b\":2}", apiPage, "[1,2]\n[3]", "{\n\"records\":[{}]\n}\n{\"x\":\"}\"}",
		"[\n{\"a\":\"x\ny\"}]", "[1,,2]", "{\"a\":", "\x00", "\xef\xbb\xbf[]", "[\"\\\"]\"]", "plain text\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), false, uint8(0))
		f.Add(gz(s), true, uint8(2))
		f.Add(gz(s[:len(s)/2], s[len(s)/2:]), false, uint8(7))
		z := gz(s, s)
		f.Add(z[:len(z)*3/4], false, uint8(3)) // truncated
		z[len(z)/2] ^= 0x55                    // corrupt first or second member
		f.Add(z, false, uint8(5))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.*"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, false, uint8(1))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, small bool, chunk uint8) {
		opt := Options{}
		if small {
			opt.MaxRecordBytes = 16
		}
		whole := fuzzDrain(t, OpenReader("f", bytes.NewReader(data), opt), data)
		short := fuzzDrain(t, OpenReader("f", &chunked{b: data, n: int(chunk) + 1}, opt), data)
		if len(whole) != len(short) {
			t.Fatalf("%d results read whole, %d in reads of %d bytes", len(whole), len(short), int(chunk)+1)
		}
		for i := range whole {
			if whole[i] != short[i] {
				t.Fatalf("result %d: %v read whole, %v in short reads", i, whole[i], short[i])
			}
		}
	})
}

func fuzzDrain(t *testing.T, r Reader, in []byte) []item {
	compressed := bytes.HasPrefix(in, gzipMagic)
	lines := int64(bytes.Count(in, []byte{'\n'})) + 1
	// gzip expands at most ~1032:1 and every result uses up at least one byte.
	limit := 2*1032*len(in) + 10
	var out []item
	for n := 0; ; n++ {
		if n > limit {
			t.Fatalf("more than %d results from %d bytes", limit, len(in))
		}
		rc, err := r.Next()
		if err == io.EOF {
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("Next after io.EOF = %v", err)
			}
			return out
		}
		var e *Error
		if errors.As(err, &e) {
			if e.Origin.Line < 1 || (!compressed && e.Origin.Line > lines) {
				t.Fatalf("error %v: line outside 1..%d", e, lines)
			}
			out = append(out, bad(e.Origin.Line, e.Origin.Index, e.Reason))
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if len(rc.Data) == 0 {
			t.Fatalf("empty record at %+v", rc.Origin)
		}
		if !compressed && !bytes.Contains(in, rc.Data) {
			t.Fatalf("record %q is not part of the input", rc.Data)
		}
		if rc.Origin.Line < 1 || (!compressed && rc.Origin.Line > lines) {
			t.Fatalf("record at line %d outside 1..%d", rc.Origin.Line, lines)
		}
		out = append(out, item{Data: string(rc.Data), Line: rc.Origin.Line, Index: rc.Origin.Index, Array: rc.Format != 0})
	}
}

// chunked returns at most n bytes per Read, like a pipe.
type chunked struct {
	b []byte
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	return k, nil
}
