package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/reposentry/reposentry"
)

// DefaultMaxRecordBytes is the longest record kept when Options leaves
// MaxRecordBytes at zero. Real audit events are a few KiB; 8 MiB leaves room
// for API pages with huge elements without letting one bad line exhaust
// memory.
const DefaultMaxRecordBytes = 8 << 20

// Reasons carried by *Error, stable keys for the run summary.
const (
	ReasonRecordTooLong   = "record_too_long"
	ReasonTruncatedGzip   = "truncated_gzip"
	ReasonCorruptGzip     = "corrupt_gzip"
	ReasonBinaryFile      = "binary_file"
	ReasonTruncatedRecord = "truncated_record"
	ReasonMalformedJSON   = "malformed_json"
)

const (
	bufSize    = 64 << 10 // decompressed read-ahead; lines up to this size take the zero-copy path
	binaryPeek = 4 << 10  // a NUL byte this early marks the input as binary
	maxDepth   = 10000    // deeper nesting is an attack or garbage, never an audit event
)

// Options tune a Reader.
type Options struct {
	// MaxRecordBytes is the longest record (line or JSON value) kept; longer
	// ones are skipped and reported as "record_too_long". Zero or less means
	// DefaultMaxRecordBytes.
	MaxRecordBytes int
}

// Progress is implemented by the Readers that Open and OpenReader return, so
// a progress bar can compare bytes consumed with Input.Size. The count is of
// the underlying (compressed) bytes, and is safe to read from another
// goroutine while Next runs.
type Progress interface {
	BytesRead() int64
}

// Open opens a file for reading records; "-" reads stdin. Open itself reads
// nothing: problems with the content come back from Next.
//
// Everything is decided from the content, never the name: gzip (also
// several concatenated members) by its magic bytes; then the layout from the
// first non-blank byte. "{" with the value closed on its first line is NDJSON
// and every non-blank line is a record, as is any other text (log lines).
// "[" followed by "{", "[", "\"" or "]" is an API page: each element of the
// top-level array is a record with Format FormatJSONArray, streamed, not
// loaded whole. "{" with the value open past its first line is pretty-printed
// JSON: each top-level value is a record. The returned Reader implements
// Progress.
func Open(path string, opt Options) (Reader, error) {
	if path == "-" {
		return OpenReader("-", os.Stdin, opt), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	r := newReader(path, f, opt)
	r.closer = f
	return r, nil
}

// OpenReader reads records from rd, naming them name in every Origin ("-"
// for stdin). Close does not close rd: the caller owns it.
func OpenReader(name string, rd io.Reader, opt Options) Reader {
	return newReader(name, rd, opt)
}

// Reader modes, decided from the first bytes of the content.
const (
	modeStart  = iota // nothing read yet
	modeLines         // NDJSON or plain log lines: one record per non-empty line
	modeStruct        // JSON array pages and pretty-printed values
	modeDone          // everything reported; Next returns io.EOF
)

// Element-level expectations inside a top-level array.
const (
	expectFirst = iota // after '[': an element or ']'
	expectNext         // after ',': an element
	expectAfter        // after an element: ',' or ']'
)

type reader struct {
	name   string
	max    int
	count  countingReader
	closer io.Closer
	br     *bufio.Reader // decompressed content
	gz     *gzipSource   // nil for plain content
	mode   int
	line   int64  // line mode: lines started; struct mode: current line
	buf    []byte // long lines and records spanning read windows

	// Struct mode: a byte-level scanner that tracks strings, escapes and
	// brackets, enough to find where each value ends.
	// open brackets, outermost first; with no record open, a non-empty
	// stack is a top-level array whose elements are records
	stack   []byte
	inStr   bool
	esc     bool
	expect  int
	arrLine int64
	index   int
	inRec   bool
	scalar  bool // the record is a bare scalar element, ended by a delimiter
	base    int  // len(stack) at which the current record is complete
	recLine int64
	recLen  int
	tooLong bool
}

func newReader(name string, rd io.Reader, opt Options) *reader {
	max := opt.MaxRecordBytes
	if max <= 0 {
		max = DefaultMaxRecordBytes
	}
	return &reader{name: name, max: max, count: countingReader{r: rd}}
}

// BytesRead implements Progress.
func (r *reader) BytesRead() int64 { return r.count.n.Load() }

// Close releases the file opened by Open; later calls to Next return io.EOF.
func (r *reader) Close() error {
	r.mode = modeDone
	if r.closer == nil {
		return nil
	}
	c := r.closer
	r.closer = nil
	return c.Close()
}

// Next implements Reader.
func (r *reader) Next() (Record, error) {
	switch r.mode {
	case modeLines:
		return r.nextLine()
	case modeStruct:
		return r.nextStruct()
	case modeStart:
		if err := r.start(); err != nil {
			r.mode = modeDone
			return Record{}, err
		}
		return r.Next()
	}
	return Record{}, io.EOF
}

func (r *reader) fail(line int64, reason string, err error) *Error {
	return &Error{Origin: reposentry.Origin{Source: r.name, Line: line}, Reason: reason, Err: err}
}

// start detects gzip, binary content and the record layout. It returns
// io.EOF for empty content and an *Error for content it will not read.
func (r *reader) start() error {
	raw := bufio.NewReaderSize(&r.count, bufSize)
	magic, err := raw.Peek(len(gzipMagic))
	if err != nil && err != io.EOF {
		return fmt.Errorf("source: read %s: %w", r.name, err)
	}
	r.br = raw
	if bytes.Equal(magic, gzipMagic) {
		r.gz = &gzipSource{zr: raw}
		if err := r.gz.zs.Reset(raw); err != nil {
			if reason, ok := gzipReason(err); ok {
				return r.fail(1, reason, err)
			}
			return fmt.Errorf("source: read %s: %w", r.name, err)
		}
		r.br = bufio.NewReaderSize(r.gz, bufSize)
	}

	// Peeking blocks until binaryPeek bytes or the end arrive; on a slow
	// stdin that delays only the first records.
	head, err := r.peek(binaryPeek)
	if err != nil {
		return err
	}
	if i := bytes.IndexByte(head, 0); i >= 0 {
		line := int64(bytes.Count(head[:i], []byte{'\n'})) + 1
		return r.fail(line, ReasonBinaryFile, errors.New("NUL byte in the first 4 KiB"))
	}
	if bytes.HasPrefix(head, utf8BOM) {
		_, _ = r.br.Discard(len(utf8BOM)) // Windows exports start with one; never part of a record
	}
	for n := binaryPeek; ; n = min(2*n, bufSize) {
		w, err := r.peek(n)
		if err != nil {
			return err
		}
		atEOF := len(w) < n
		switch detect(w, atEOF) {
		case modeLines, modeDone:
			// Blank content still goes through nextLine, which reports a
			// gzip fault that cut it short.
			r.mode = modeLines
			return nil
		case modeStruct:
			r.mode = modeStruct
			r.line = 1
			return nil
		}
		if atEOF || n == bufSize {
			// A first line longer than the read-ahead is an NDJSON
			// event, not the opening line of a pretty-printed object.
			r.mode = modeLines
			return nil
		}
	}
}

// peek returns up to n bytes of content without consuming them; fewer means
// the content ends there. It fills one read at a time so that it returns as
// soon as n bytes are there.
func (r *reader) peek(n int) ([]byte, error) {
	for {
		b, _ := r.br.Peek(r.br.Buffered())
		if len(b) >= n {
			return b[:n], nil
		}
		if _, err := r.br.Peek(len(b) + 1); err != nil {
			b, _ = r.br.Peek(r.br.Buffered())
			if err == io.EOF {
				return b, nil
			}
			return nil, fmt.Errorf("source: read %s: %w", r.name, err)
		}
	}
}

var (
	gzipMagic = []byte{0x1f, 0x8b, 0x08}
	utf8BOM   = []byte{0xef, 0xbb, 0xbf}
)

// detect decides the mode from the first bytes w of the content: modeDone for
// blank content, modeStart when w is not enough to decide. An opening '{'
// whose value closes on its first line is NDJSON; one that does not is a
// pretty-printed value.
func detect(w []byte, atEOF bool) int {
	i := 0
	for i < len(w) && isSpace(w[i]) {
		i++
	}
	if i == len(w) {
		if atEOF {
			return modeDone
		}
		return modeStart
	}
	switch w[i] {
	case '[':
		// Only arrays of objects, arrays or strings are API pages; a
		// line such as "[2026-11-27 08:00:00,000] ..." (Gerrit) is text.
		for i++; i < len(w) && isSpace(w[i]); i++ {
		}
		switch {
		case i == len(w) && atEOF:
			return modeStruct
		case i == len(w):
			return modeStart
		case w[i] == '{' || w[i] == '[' || w[i] == '"' || w[i] == ']':
			return modeStruct
		}
		return modeLines
	case '{':
	default:
		return modeLines // plain log lines; the parser rejects what it cannot read
	}
	depth, inStr, esc := 0, false, false
	for _, c := range w[i:] {
		switch {
		case c == '\n':
			return modeStruct
		case esc:
			esc = false
		case inStr:
			switch c {
			case '\\':
				esc = true
			case '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return modeLines
			}
		}
	}
	if atEOF {
		return modeStruct // an unterminated value: reported as truncated_record
	}
	return modeStart
}

// structural marks the bytes that matter inside a value outside strings.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true, '\n': true}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// trimSpace trims JSON whitespace without allocating.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// contentLen is the length of a line without its "\n" or "\r\n" terminator.
func contentLen(b []byte) int {
	n := len(b)
	if n > 0 && b[n-1] == '\n' {
		n--
	}
	if n > 0 && b[n-1] == '\r' {
		n--
	}
	return n
}

// nextLine yields the next non-blank line. Lines that fit the read-ahead
// are returned straight from it; longer ones are gathered in r.buf, or
// skipped without buffering once they pass MaxRecordBytes.
func (r *reader) nextLine() (Record, error) {
	for {
		r.line++
		b, err := r.br.ReadSlice('\n')
		if err == nil {
			if contentLen(b) > r.max {
				return Record{}, r.tooLongErr(r.line)
			}
			data := trimSpace(b)
			if len(data) == 0 {
				continue
			}
			return Record{Data: data, Origin: reposentry.Origin{Source: r.name, Line: r.line}}, nil
		}

		// The line is longer than the read-ahead, or the last one. Allow one
		// byte over the limit for a '\r' that may still come.
		tooLong := false
		r.buf = r.buf[:0]
		for {
			if !tooLong {
				if len(r.buf)+len(b) > r.max+2 {
					tooLong = true
					r.buf = r.buf[:0]
				} else {
					r.buf = append(r.buf, b...)
				}
			}
			if err != bufio.ErrBufferFull {
				break
			}
			b, err = r.br.ReadSlice('\n')
		}
		switch err {
		case nil:
		case io.EOF:
			if r.gz != nil {
				if e, resumed := r.gzipFault(); e != nil {
					if !resumed {
						r.mode = modeDone
					}
					return Record{}, e // the line cut short by the fault is dropped
				}
			}
			if len(r.buf) == 0 && !tooLong {
				r.mode = modeDone
				return Record{}, io.EOF
			}
		default:
			r.mode = modeDone
			return Record{}, fmt.Errorf("source: read %s: %w", r.name, err)
		}
		if tooLong || contentLen(r.buf) > r.max {
			return Record{}, r.tooLongErr(r.line)
		}
		data := trimSpace(r.buf)
		if len(data) == 0 {
			continue
		}
		return Record{Data: data, Origin: reposentry.Origin{Source: r.name, Line: r.line}}, nil
	}
}

func (r *reader) tooLongErr(line int64) *Error {
	return r.fail(line, ReasonRecordTooLong, errors.New("record longer than "+strconv.Itoa(r.max)+" bytes"))
}

// gzipFault turns a pending gzip fault into an *Error naming the current
// line, and reports whether reading resumed at a later gzip member.
func (r *reader) gzipFault() (*Error, bool) {
	reason, cause, resumed := r.gz.take()
	if reason == "" {
		return nil, false
	}
	return r.fail(r.line, reason, cause), resumed
}

// window returns the buffered content, reading more when none is buffered.
func (r *reader) window() ([]byte, error) {
	if n := r.br.Buffered(); n > 0 {
		return r.br.Peek(n)
	}
	if _, err := r.br.Peek(1); err != nil {
		return nil, err
	}
	return r.br.Peek(r.br.Buffered())
}

// nextStruct yields the next top-level object, or the next element of a
// top-level array. Records inside one read window are returned from it
// without copying.
func (r *reader) nextStruct() (Record, error) {
	for {
		win, err := r.window()
		if err != nil {
			return Record{}, r.structEnd(err)
		}
		start := 0 // where the current record starts in win
		for i := 0; i < len(win); i++ {
			c := win[i]
			if r.esc {
				r.esc = false
				if c == '\n' {
					return Record{}, r.malformed("line break in a string")
				}
				continue
			}
			if r.inStr {
				for c != '"' && c != '\\' && c != '\n' {
					if i++; i == len(win) {
						break
					}
					c = win[i]
				}
				if i == len(win) {
					break
				}
				switch c {
				case '\\':
					r.esc = true
				case '\n':
					return Record{}, r.malformed("line break in a string")
				default:
					r.inStr = false
					if r.inRec && len(r.stack) == r.base {
						return r.endRecord(win, start, i+1)
					}
				}
				continue
			}
			if r.inRec && r.scalar {
				switch c {
				case ' ', '\t', '\r', '\n', ',', ']', '}', '[', '{', '"', ':':
					return r.endRecord(win, start, i) // the delimiter is read next time
				}
				continue
			}
			if r.inRec {
				for !structural[c] {
					if i++; i == len(win) {
						break
					}
					c = win[i]
				}
				if i == len(win) {
					break
				}
				switch c {
				case '\n':
					r.line++
				case '"':
					r.inStr = true
				case '{', '[':
					if err := r.push(c); err != nil {
						return Record{}, err
					}
				case '}', ']':
					if err := r.pop(c); err != nil {
						return Record{}, err
					}
					if len(r.stack) == r.base {
						return r.endRecord(win, start, i+1)
					}
				}
				continue
			}
			if c == '\n' {
				r.line++
				continue
			}
			if isSpace(c) {
				continue
			}
			if len(r.stack) == 0 {
				switch c {
				case '{':
					r.begin(&start, i, 0)
					_ = r.push(c)
				case '[':
					_ = r.push(c)
					r.expect, r.arrLine, r.index = expectFirst, r.line, 0
				default:
					return Record{}, r.malformed("unexpected " + strconv.QuoteRune(rune(c)) + " between top-level values")
				}
				continue
			}
			// Between the elements of a top-level array.
			switch {
			case c == ']' && r.expect != expectNext:
				r.stack = r.stack[:0]
			case c == ',' && r.expect == expectAfter:
				r.expect = expectNext
			case r.expect == expectAfter:
				return Record{}, r.malformed("expected ',' or ']' after an array element")
			case c == '{' || c == '[':
				r.begin(&start, i, 1)
				if err := r.push(c); err != nil {
					return Record{}, err
				}
			case c == '"':
				r.begin(&start, i, 1)
				r.inStr = true
			case c == ']' || c == ',' || c == '}' || c == ':':
				return Record{}, r.malformed("unexpected " + strconv.QuoteRune(rune(c)) + " in an array")
			default:
				r.begin(&start, i, 1)
				r.scalar = true
			}
		}
		if r.inRec {
			r.keep(win[start:])
		}
		_, _ = r.br.Discard(len(win))
	}
}

// begin starts a record at win[i] that is complete when the bracket stack is
// back to base entries.
func (r *reader) begin(start *int, i, base int) {
	*start = i
	r.inRec, r.scalar, r.base = true, false, base
	r.recLine, r.recLen, r.tooLong = r.line, 0, false
	r.buf = r.buf[:0]
}

// keep saves the part of the current record that is in a window about to be
// discarded, unless the record is already too long to keep.
func (r *reader) keep(seg []byte) {
	r.recLen += len(seg)
	if r.tooLong {
		return
	}
	if r.recLen > r.max {
		r.tooLong, r.buf = true, r.buf[:0]
		return
	}
	r.buf = append(r.buf, seg...)
}

// endRecord completes the record ending just before win[end].
func (r *reader) endRecord(win []byte, start, end int) (Record, error) {
	_, _ = r.br.Discard(end)
	seg := win[start:end]
	r.inRec = false
	rec := Record{Origin: reposentry.Origin{Source: r.name, Line: r.recLine}}
	if r.base == 1 {
		rec.Origin.Index = r.index
		rec.Format = reposentry.FormatJSONArray
		r.index++
		r.expect = expectAfter
	}
	if r.tooLong || r.recLen+len(seg) > r.max {
		e := r.tooLongErr(r.recLine)
		e.Origin.Index = rec.Origin.Index
		return Record{}, e
	}
	if len(r.buf) == 0 {
		rec.Data = seg
	} else {
		r.buf = append(r.buf, seg...)
		rec.Data = r.buf
	}
	return rec, nil
}

func (r *reader) push(c byte) error {
	if len(r.stack) == maxDepth {
		return r.malformed("nesting deeper than " + strconv.Itoa(maxDepth))
	}
	r.stack = append(r.stack, c)
	return nil
}

func (r *reader) pop(c byte) error {
	open := byte('{')
	if c == ']' {
		open = '['
	}
	if r.stack[len(r.stack)-1] != open {
		return r.malformed(strconv.QuoteRune(rune(c)) + " closes " + strconv.QuoteRune(rune(r.stack[len(r.stack)-1])))
	}
	r.stack = r.stack[:len(r.stack)-1]
	return nil
}

// malformed ends the input: after a structural error the scanner cannot
// know where the next value starts.
func (r *reader) malformed(what string) *Error {
	r.mode = modeDone
	return r.fail(r.line, ReasonMalformedJSON, errors.New(what))
}

// structEnd reports the end of the content in struct mode: a gzip fault, a
// value left open, or io.EOF.
func (r *reader) structEnd(err error) error {
	r.mode = modeDone
	if err != io.EOF {
		return fmt.Errorf("source: read %s: %w", r.name, err)
	}
	if r.gz != nil {
		// Resuming at the next member would lose the bracket state, so
		// a fault ends the input here.
		if e, _ := r.gzipFault(); e != nil {
			return e
		}
	}
	switch {
	case r.inRec:
		e := r.fail(r.recLine, ReasonTruncatedRecord, errors.New("value not closed at end of input"))
		if r.base == 1 {
			e.Origin.Index = r.index
		}
		return e
	case len(r.stack) > 0:
		return r.fail(r.arrLine, ReasonTruncatedRecord, errors.New("array not closed at end of input"))
	}
	return io.EOF
}

// countingReader counts the bytes read from the input for Progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
