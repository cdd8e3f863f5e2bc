// Package source reads raw records from inputs (files, folders, gzip files,
// stdin) and says where each came from, so that every error and every alert
// can point back to a file and line.
package source

import (
	"github.com/reposentry/reposentry"
)

// Record is one top-level JSON value (an object, or an array page) or one log
// line, as read from an input. Data is valid only until the next call to Next.
type Record struct {
	Data   []byte
	Origin reposentry.Origin
	// Format is FormatJSONArray when the record is one element of a
	// top-level JSON array (an API page), else FormatUnknown and the parser
	// decides from the record itself.
	Format reposentry.Format
}

// Reader yields the records of one input in input order.
//
// Next returns io.EOF at the end. A bad record (a line that is too long, a
// truncated gzip member, bytes that are not JSON) comes back as an *Error:
// the caller counts it and keeps calling Next, because the records after it
// are still good. Any other error ends the input.
type Reader interface {
	Next() (Record, error)
	Close() error
}

// Error is a recoverable problem with one record of an input.
type Error struct {
	Origin reposentry.Origin
	Reason string // short stable key for the summary: one of the Reason constants
	Err    error
}

func (e *Error) Error() string {
	return e.Origin.Source + ":" + itoa(e.Origin.Line) + ": " + e.Reason + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
