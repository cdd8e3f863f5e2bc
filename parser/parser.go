// Package parser turns raw records into normalized events. It unwraps the
// delivery envelopes (JSON array pages, Splunk HEC, Azure "records") and hands
// each event object to the platform parser whose Sniff accepts it.
package parser

import (
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/intern"
	"github.com/valyala/fastjson"
)

// Platform parses the event objects of one platform.
type Platform interface {
	// Name is the platform's stable name ("github").
	Name() string
	// Sniff reports whether the object looks like one of this platform's
	// events. It must be cheap: it runs on every object until one accepts.
	Sniff(v *fastjson.Value) bool
	// Parse fills ev from v. It returns a *Rejection-compatible error (see
	// Reject) when the object cannot become an event; ev is then discarded.
	Parse(v *fastjson.Value, raw []byte, ev *reposentry.Event) error
}

// Rejection is a record (or an event inside a record) set aside, with why.
type Rejection struct {
	Origin reposentry.Origin
	Reason string // short stable key for the summary: "missing_time", "invalid_json", ...
	Err    error
}

func (r *Rejection) Error() string { return r.Reason + ": " + r.Err.Error() }
func (r *Rejection) Unwrap() error { return r.Err }

// Reject returns the error a Platform's Parse returns to set an object aside
// for reason (a short stable key such as "missing_time"). The Parser fills in
// the origin.
func Reject(reason string, err error) *Rejection {
	return &Rejection{Reason: reason, Err: err}
}

// TableUser is implemented by platforms that intern their strings; New hands
// them the Parser's table so that one table serves the whole pipeline stage.
type TableUser interface {
	UseTable(tab *intern.Table)
}

// Unwrapper is implemented by platforms with delivery envelopes of their own
// that carry several events in one object (Okta event-hook deliveries,
// Microsoft Graph pages). ok is false when v is not such an envelope.
type Unwrapper interface {
	Unwrap(v *fastjson.Value) (events []*fastjson.Value, ok bool)
}

// Timer is implemented by platforms that can read an object's event time
// without a full parse. Parser.Times uses it to pre-scan files cheaply; ok is
// false when the object has no usable time.
type Timer interface {
	TimeOf(v *fastjson.Value) (t time.Time, ok bool)
}
