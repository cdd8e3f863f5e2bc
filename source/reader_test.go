package source

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reposentry/reposentry"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// item is one result of Next: a record, or an *Error when Reason is set.
type item struct {
	Data   string
	Line   int64
	Index  int
	Array  bool
	Reason string
}

func (it item) String() string {
	if it.Reason != "" {
		return fmt.Sprintf("! %d:%d %s", it.Line, it.Index, it.Reason)
	}
	f := "-"
	if it.Array {
		f = "array"
	}
	return fmt.Sprintf("%d:%d %s %q", it.Line, it.Index, f, it.Data)
}

func rec(line int64, data string) item { return item{Data: data, Line: line} }

func elem(line int64, index int, data string) item {
	return item{Data: data, Line: line, Index: index, Array: true}
}

func bad(line int64, index int, reason string) item {
	return item{Line: line, Index: index, Reason: reason}
}

// drain reads r to io.EOF. Any error that is not an *Error fails the test,
// and so does a reader that does not end.
func drain(t testing.TB, r Reader, name string) []item {
	t.Helper()
	var out []item
	for n := 0; ; n++ {
		if n > 1_000_000 {
			t.Fatalf("reader did not reach io.EOF")
		}
		rc, err := r.Next()
		if err == io.EOF {
			return out
		}
		var e *Error
		if errors.As(err, &e) {
			if e.Origin.Source != name {
				t.Errorf("error source = %q, want %q", e.Origin.Source, name)
			}
			out = append(out, bad(e.Origin.Line, e.Origin.Index, e.Reason))
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if rc.Origin.Source != name {
			t.Errorf("record source = %q, want %q", rc.Origin.Source, name)
		}
		out = append(out, item{Data: string(rc.Data), Line: rc.Origin.Line, Index: rc.Origin.Index,
			Array: rc.Format == reposentry.FormatJSONArray})
	}
}

func gz(parts ...string) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		w := gzip.NewWriter(&b)
		_, _ = w.Write([]byte(p))
		_ = w.Close()
	}
	return b.Bytes()
}

func compare(t *testing.T, got, want []item) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d results, want %d", len(got), len(want))
	}
	for i := range max(len(got), len(want)) {
		var g, w item
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("result %d:\n got  %v\n want %v", i, g, w)
		}
	}
}

const apiPage = `[
  {
    "action": "git.clone",
    "msg": "a ] b } c \" d \\n e [ {",
    "nested": {"list": [1, [2, {"x": "]"}], {}], "o": {"p": {}}}
  },
  {"action": "repo.download_zip", "s": "\\\"", "t": "[{"},
  "scalar string with ] and , and \"quotes\"",
  42,  -1.5e3 ,true,
  null,
  []
]
`

func TestReader(t *testing.T) {
	page0 := `{
    "action": "git.clone",
    "msg": "a ] b } c \" d \\n e [ {",
    "nested": {"list": [1, [2, {"x": "]"}], {}], "o": {"p": {}}}
  }`
	tests := []struct {
		name string
		in   string
		max  int
		want []item
	}{
		{"empty", "", 0, nil},
		{"blank", " \r\n\n\t\n", 0, nil},
		{"ndjson crlf blank lines last line without newline",
			"{\"a\":1}\r\n\r\n  \n{\"b\":2}\r\n{\"c\":3}", 0,
			[]item{rec(1, `{"a":1}`), rec(4, `{"b":2}`), rec(5, `{"c":3}`)}},
		{"ndjson leading blank lines and bom",
			"\xef\xbb\xbf\n\n{\"a\":1}\n", 0, []item{rec(3, `{"a":1}`)}},
		{"ndjson several values on one line stay one record",
			"{\"a\":1}{\"b\":2} {\"c\":3}\n{\"d\":4}\n", 0,
			[]item{rec(1, `{"a":1}{"b":2} {"c":3}`), rec(2, `{"d":4}`)}},
		{"ndjson bad line does not affect the next",
			"{\"a\":1}\n{\"b\":\n]]]\n{\"c\":3}\n", 0,
			[]item{rec(1, `{"a":1}`), rec(2, `{"b":`), rec(3, `]]]`), rec(4, `{"c":3}`)}},
		{"ndjson line too long",
			"{\"a\":1}\n{\"b\":\"0123456789\"}\n{\"c\":3}\n", 12,
			[]item{rec(1, `{"a":1}`), bad(2, 0, ReasonRecordTooLong), rec(3, `{"c":3}`)}},
		{"ndjson line of exactly the limit with crlf",
			"{\"a\":12}\r\n{\"a\":123}\r\n", 8,
			[]item{rec(1, `{"a":12}`), bad(2, 0, ReasonRecordTooLong)}},
		{"plain log lines",
			"127.0.0.1 - alice [27/Nov/2026] \"GET /r.git/info/refs\"\n\nsecond line\n", 0,
			[]item{rec(1, `127.0.0.1 - alice [27/Nov/2026] "GET /r.git/info/refs"`), rec(3, "second line")}},
		{"binary", "{\"a\":1}\n\x00\x01\x02", 0, []item{bad(2, 0, ReasonBinaryFile)}},
		{"api page", apiPage, 0, []item{
			elem(2, 0, page0),
			elem(7, 1, `{"action": "repo.download_zip", "s": "\\\"", "t": "[{"}`),
			elem(8, 2, `"scalar string with ] and , and \"quotes\""`),
			elem(9, 3, `42`), elem(9, 4, `-1.5e3`), elem(9, 5, `true`),
			elem(10, 6, `null`),
			elem(11, 7, `[]`),
		}},
		{"api page on one line", `[{"a":"]"},{"b":[1,{"c":2}]}]`, 0,
			[]item{elem(1, 0, `{"a":"]"}`), elem(1, 1, `{"b":[1,{"c":2}]}`)}},
		{"empty arrays", "[]\n[ ]\n", 0, nil},
		{"concatenated arrays restart the index", "[{},2]\n[\n3]", 0,
			[]item{elem(1, 0, "{}"), elem(1, 1, "2"), elem(3, 0, "3")}},
		{"text lines starting with a bracket", "[2026-11-27 08:00:00,000 +0000] 1234 alice a/payments.git\n[x]\n", 0,
			[]item{rec(1, "[2026-11-27 08:00:00,000 +0000] 1234 alice a/payments.git"), rec(2, "[x]")}},
		{"array after leading blank lines", "\n\n  [\n\n {}]", 0, []item{elem(5, 0, "{}")}},
		{"records wrapper", "{\n  \"records\": [\n    {\"time\": \"t1\"},\n    {\"time\": \"t2\"}\n  ]\n}\n", 0,
			[]item{rec(1, "{\n  \"records\": [\n    {\"time\": \"t1\"},\n    {\"time\": \"t2\"}\n  ]\n}")}},
		{"concatenated pretty objects", "{\n \"a\": 1\n}\n{\n \"b\": \"}\"\n} {\"c\":3}\n", 0,
			[]item{rec(1, "{\n \"a\": 1\n}"), rec(4, "{\n \"b\": \"}\"\n}"), rec(6, `{"c":3}`)}},
		{"array element too long", `[{"a":"0123456789"},{"b":1}]`, 10,
			[]item{bad(1, 0, ReasonRecordTooLong), elem(1, 1, `{"b":1}`)}},
		{"pretty object too long", "{\n\"a\": \"0123456789\"\n}\n{\n\"b\":1\n}", 12,
			[]item{bad(1, 0, ReasonRecordTooLong), rec(4, "{\n\"b\":1\n}")}},
		{"mismatched bracket", "[\n {\"a\":1},\n {\"b\":2]\n, {\"c\":3}]", 0,
			[]item{elem(2, 0, `{"a":1}`), bad(3, 0, ReasonMalformedJSON)}},
		{"missing comma", `[{"a":1} {"b":2}]`, 0,
			[]item{elem(1, 0, `{"a":1}`), bad(1, 0, ReasonMalformedJSON)}},
		{"trailing comma", "[{},\n]", 0, []item{elem(1, 0, "{}"), bad(2, 0, ReasonMalformedJSON)}},
		{"empty element", `["a",,"b"]`, 0, []item{elem(1, 0, `"a"`), bad(1, 0, ReasonMalformedJSON)}},
		{"garbage after pretty object", "{\n\"a\":1\n}\nxyz", 0,
			[]item{rec(1, "{\n\"a\":1\n}"), bad(4, 0, ReasonMalformedJSON)}},
		{"closing bracket at top level", "[[1]]]", 0, []item{elem(1, 0, "[1]"), bad(1, 0, ReasonMalformedJSON)}},
		{"scalar elements", "[\"a\" , 1,2 ,-3e4,true\n,null]", 0, []item{elem(1, 0, `"a"`), elem(1, 1, "1"),
			elem(1, 2, "2"), elem(1, 3, "-3e4"), elem(1, 4, "true"), elem(2, 5, "null")}},
		{"scalar followed by a bracket", `["a", 1{}]`, 0, []item{elem(1, 0, `"a"`), elem(1, 1, "1"), bad(1, 0, ReasonMalformedJSON)}},
		{"line break inside a string", "[\n{\"a\":\"x\ny\"}]", 0, []item{bad(2, 0, ReasonMalformedJSON)}},
		{"truncated element", "[\n {\"a\":1},\n {\"b\":", 0,
			[]item{elem(2, 0, `{"a":1}`), bad(3, 1, ReasonTruncatedRecord)}},
		{"truncated array", "[{\"a\":1}\n", 0, []item{elem(1, 0, `{"a":1}`), bad(1, 0, ReasonTruncatedRecord)}},
		{"truncated single value", `{"a":`, 0, []item{bad(1, 0, ReasonTruncatedRecord)}},
		{"nesting too deep", strings.Repeat("[", maxDepth+2), 0, []item{bad(1, 0, ReasonMalformedJSON)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := drain(t, OpenReader("in.json", strings.NewReader(tc.in), Options{MaxRecordBytes: tc.max}), "in.json")
			compare(t, got, tc.want)
		})
		// The same content gzipped, whole and split into one member per
		// byte-aligned third, must give the same results.
		t.Run(tc.name+"/gzip", func(t *testing.T) {
			n := len(tc.in) / 3
			for _, data := range [][]byte{gz(tc.in), gz(tc.in[:n], tc.in[n:2*n], tc.in[2*n:])} {
				got := drain(t, OpenReader("in.json", bytes.NewReader(data), Options{MaxRecordBytes: tc.max}), "in.json")
				compare(t, got, tc.want)
			}
		})
	}
}

// TestReaderLarge covers inputs too big to write out: huge lines, long
// arrays and damaged gzip streams. Expected results are computed from the
// generated content, independently of the reader.
func TestReaderLarge(t *testing.T) {
	big := `{"x":"` + strings.Repeat("b", 100<<10) + `"}`
	huge := `{"x":"` + strings.Repeat("a", 10<<20) + `"}`
	var arr strings.Builder
	var arrWant []item
	arr.WriteString("[\n")
	for i := range 10000 {
		e := fmt.Sprintf(`{"i": %d, "s": "x]}\"y", "n": [{"k": [%d]}]}`, i, i)
		sep := ",\n"
		if i == 9999 {
			sep = "\n"
		}
		arr.WriteString("  " + e + sep)
		arrWant = append(arrWant, elem(int64(i+2), i, e))
	}
	arr.WriteString("]\n")

	var nd strings.Builder
	var ndWant []item
	for i := range 20000 {
		l := fmt.Sprintf(`{"@timestamp":%d,"action":"git.clone","actor":"user%d","repo":"org/repo%d"}`, i, i%97, i%1013)
		nd.WriteString(l + "\n")
		ndWant = append(ndWant, rec(int64(i+1), l))
	}
	ndGz := gz(nd.String())
	half := ndGz[:len(ndGz)/2]
	// What the standard library recovers from the cut stream: every complete
	// line of it must come out, then the error on the line it cut.
	prefix, err := io.ReadAll(mustGzipReader(t, half))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("half stream: err = %v, want unexpected EOF", err)
	}
	complete := bytes.Count(prefix, []byte{'\n'})
	if complete == 0 || complete == len(ndWant) {
		t.Fatalf("half stream holds %d complete lines: the cut is not mid-stream", complete)
	}
	truncWant := append(append([]item(nil), ndWant[:complete]...), bad(int64(complete+1), 0, ReasonTruncatedGzip))

	l1, l2, l3, l4 := `{"m":1}`, `{"m":2}`, `{"m":3}`, `{"m":4}`
	badCRC := gz(l2 + "\n" + l3 + "\n")
	badCRC[len(badCRC)-8] ^= 0xff // the CRC-32 in the member trailer
	badArr := gz(l2)
	badArr[len(badArr)-8] ^= 0xff
	badHeader := gz(l2 + "\n" + l3 + "\n")
	badHeader[2] = 0x07 // compression method: not deflate

	tests := []struct {
		name string
		in   []byte
		want []item
	}{
		{"10 MB line between good lines", []byte(l1 + "\n" + huge + "\n" + l2 + "\n"),
			[]item{rec(1, l1), bad(2, 0, ReasonRecordTooLong), rec(3, l2)}},
		{"10 MB line last without newline", []byte(l1 + "\r\n" + huge),
			[]item{rec(1, l1), bad(2, 0, ReasonRecordTooLong)}},
		{"10 MB array element", []byte("[" + l1 + ",\n" + huge + "," + l2 + "]"),
			[]item{elem(1, 0, l1), bad(2, 1, ReasonRecordTooLong), elem(2, 2, l2)}},
		{"first line longer than the read-ahead", []byte(big + "\n" + l1),
			[]item{rec(1, big), rec(2, l1)}},
		{"first line of 10 KB", []byte(big[:10000-2] + `"}` + "\n" + l1),
			[]item{rec(1, big[:10000-2]+`"}`), rec(2, l1)}},
		{"pretty object after 10 KB of blanks", []byte(strings.Repeat(" ", 10000) + "\n{\n\"a\": 1\n}"),
			[]item{rec(2, "{\n\"a\": 1\n}")}},
		{"array of 10000 elements", []byte(arr.String()), arrWant},
		{"array of 10000 elements gzip", gz(arr.String()), arrWant},
		{"ndjson gzip", ndGz, ndWant},
		{"truncated gzip", half, truncWant},
		{"truncated gzip header", ndGz[:5], []item{bad(1, 0, ReasonTruncatedGzip)}},
		{"truncated gzip array", gz(arr.String())[:len(gz(arr.String()))/2], nil}, // checked below
		{"multi-member gzip split mid-line", gz(l1+"\n"+l2[:3], l2[3:]+"\n", "", l3+"\n"+l4),
			[]item{rec(1, l1), rec(2, l2), rec(3, l3), rec(4, l4)}},
		{"corrupt member checksum", cat(gz(l1+"\n"), badCRC, gz(l4+"\n")),
			[]item{rec(1, l1), rec(2, l2), rec(3, l3), bad(4, 0, ReasonCorruptGzip), rec(5, l4)}},
		{"corrupt member header", cat(gz(l1+"\n"), badHeader, gz(l4+"\n")),
			[]item{rec(1, l1), bad(2, 0, ReasonCorruptGzip), rec(3, l4)}},
		{"corrupt member in an array ends the input", cat(gz("[\n"+l1+","), badArr, gz("\n]"), gz("[\n"+l4+"]")),
			[]item{elem(2, 0, l1), elem(2, 1, l2), bad(2, 0, ReasonCorruptGzip)}},
		{"trailing garbage after gzip", cat(gz(l1+"\n"), []byte("garbage that is not gzip")),
			[]item{rec(1, l1), bad(2, 0, ReasonCorruptGzip)}},
		{"empty gzip", gz(""), nil},
		{"gzipped binary", gz("\x00\x00"), []item{bad(1, 0, ReasonBinaryFile)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "input")
			if err := os.WriteFile(path, tc.in, 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got := drain(t, r, path)
			if tc.name == "truncated gzip array" {
				// A prefix of the elements, then the truncation.
				if len(got) < 2 || got[len(got)-1].Reason != ReasonTruncatedGzip {
					t.Fatalf("last result = %v, want %s", got, ReasonTruncatedGzip)
				}
				compare(t, got[:len(got)-1], arrWant[:len(got)-1])
				return
			}
			compare(t, got, tc.want)
			if n := r.(Progress).BytesRead(); n != int64(len(tc.in)) {
				t.Errorf("BytesRead = %d, want %d", n, len(tc.in))
			}
		})
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func mustGzipReader(t *testing.T, b []byte) io.Reader {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return zr
}

// TestGolden reads every fixture under testdata/ and compares the results
// with testdata/golden/<name>.txt; -update rewrites them.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := Open(f, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var b strings.Builder
			for _, it := range drain(t, r, f) {
				b.WriteString(it.String() + "\n")
			}
			golden := filepath.Join("testdata", "golden", filepath.Base(f)+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != string(want) {
				t.Errorf("results differ from %s:\n got:\n%s\nwant:\n%s", golden, b.String(), want)
			}
		})
	}
}

// TestStdin reads through OpenReader under the name "-", as the CLI does for
// stdin, with a reader that returns a few bytes at a time like a pipe.
func TestStdin(t *testing.T) {
	in := "{\"a\":1}\n{\"b\":2}\n"
	r := OpenReader("-", &trickle{s: in}, Options{})
	compare(t, drain(t, r, "-"), []item{rec(1, `{"a":1}`), rec(2, `{"b":2}`)})
	if n := r.(Progress).BytesRead(); n != int64(len(in)) {
		t.Errorf("BytesRead = %d, want %d", n, len(in))
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next after Close = %v, want io.EOF", err)
	}
}

// trickle returns at most 3 bytes per Read.
type trickle struct{ s string }

func (t *trickle) Read(p []byte) (int, error) {
	if t.s == "" {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 3)], t.s)
	t.s = t.s[n:]
	return n, nil
}

// TestReadError checks that an I/O error of the input ends it with a plain
// error naming the input, not an *Error.
func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	for _, in := range []io.Reader{
		io.MultiReader(strings.NewReader("{\"a\":1}\n{\"b\""), iotestErr{boom}),
		io.MultiReader(bytes.NewReader(gz("{\"a\":1}\n")[:20]), iotestErr{boom}),
	} {
		r := OpenReader("x.json", in, Options{})
		var err error
		for range 10 {
			if _, err = r.Next(); err != nil && !isRecordError(err) {
				break
			}
		}
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "x.json") {
			t.Errorf("err = %v, want boom naming x.json", err)
		}
	}
}

func isRecordError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

func TestOpenMissing(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "nope.json"), Options{})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope.json") {
		t.Errorf("err = %v, want not-exist naming the file", err)
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Origin: reposentry.Origin{Source: "a.json", Line: 12}, Reason: ReasonMalformedJSON, Err: errors.New("x")}
	if got, want := e.Error(), "a.json:12: malformed_json: x"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, e.Err) {
		t.Errorf("errors.Is does not reach the cause")
	}
}

// TestNoAllocs checks the hot path: NDJSON lines cost no allocation.
func TestNoAllocs(t *testing.T) {
	line := `{"action":"git.clone","actor":"alice","repo":"org/repo"}` + "\n"
	r := OpenReader("-", &cycle{b: []byte(line)}, Options{})
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(1000, func() { _, _ = r.Next() }); a != 0 {
		t.Errorf("allocs per record = %v, want 0", a)
	}
}

// cycle repeats b forever after an optional prefix.
type cycle struct {
	prefix []byte
	b      []byte
	off    int
}

func (c *cycle) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	n := 0
	for n < len(p) {
		m := copy(p[n:], c.b[c.off:])
		n += m
		c.off = (c.off + m) % len(c.b)
	}
	return n, nil
}
