package source

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"io"
)

// gzipSource decompresses gzip content, member after member. A truncated or
// corrupt stream is not passed on as an error: the source reports io.EOF and
// holds the fault until the reader takes it (take), so that the reader can
// first finish the records before it and drop the record it cut short.
type gzipSource struct {
	// zr is handed to gzip as a flate.Reader, so decompression reads no
	// further than the bytes it uses and a corrupt member can be skipped by
	// searching zr for the next member's header.
	zr     *bufio.Reader
	zs     gzip.Reader
	reason string // pending fault, "" if none
	cause  error
	done   bool
}

func (g *gzipSource) Read(p []byte) (int, error) {
	if g.done || g.reason != "" {
		return 0, io.EOF
	}
	n, err := g.zs.Read(p)
	if n > 0 || err == nil {
		return n, nil // gzip repeats a sticky error on the next call
	}
	if err == io.EOF {
		g.done = true
		return 0, io.EOF
	}
	reason, ok := gzipReason(err)
	if !ok {
		return 0, err // the file itself failed to read: not recoverable
	}
	g.reason, g.cause = reason, err
	return 0, io.EOF
}

// take returns the pending fault, if any, and clears it. After a corrupt
// member it moves on to the next member and reports whether one was found;
// after a truncation there is nothing more to read.
func (g *gzipSource) take() (reason string, cause error, resumed bool) {
	reason, cause = g.reason, g.cause
	g.reason, g.cause = "", nil
	switch reason {
	case "":
		return "", nil, false
	case ReasonCorruptGzip:
		resumed = g.resync()
	}
	g.done = !resumed
	return reason, cause, resumed
}

// resync skips to the next gzip member header after a corrupt member.
func (g *gzipSource) resync() bool {
	for {
		if _, err := g.zr.Peek(len(gzipMagic)); err != nil {
			return false
		}
		b, _ := g.zr.Peek(g.zr.Buffered())
		i := bytes.Index(b, gzipMagic)
		if i < 0 {
			// Keep the tail: a header may straddle two reads.
			_, _ = g.zr.Discard(len(b) - len(gzipMagic) + 1)
			continue
		}
		_, _ = g.zr.Discard(i)
		err := g.zs.Reset(g.zr)
		if err == nil {
			return true
		}
		if _, ok := gzipReason(err); !ok || errors.Is(err, io.ErrUnexpectedEOF) {
			return false
		}
		// A false match inside compressed data: Reset consumed at least
		// the magic bytes, so the search moves on.
	}
}

// gzipReason classifies a decompression error: a stream cut short, or bytes
// that are not valid gzip. Anything else is an I/O error of the input.
func gzipReason(err error) (string, bool) {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ReasonTruncatedGzip, true
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &corrupt):
		return ReasonCorruptGzip, true
	}
	return "", false
}
