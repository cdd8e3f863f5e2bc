package parser

import (
	"errors"
	"time"
	"unicode/utf8"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/source"
	"github.com/valyala/fastjson"
)

// Rejection reasons set by the Parser itself; platforms add their own.
const (
	ReasonInvalidJSON   = "invalid_json"
	ReasonInvalidUTF8   = "invalid_utf8"
	ReasonUnknownFormat = "unknown_format"
	// ReasonInvalidEvent is used when a platform returns an error that is
	// not a *Rejection.
	ReasonInvalidEvent = "invalid_event"
)

var (
	errInvalidUTF8   = errors.New("record is not valid UTF-8")
	errNoPlatform    = errors.New("no platform recognises the object")
	errNotObject     = errors.New("value is not a JSON object")
	errNestedWrapper = errors.New("envelope nested too deeply")
)

// maxWrapDepth bounds envelope unwrapping: a page of HEC envelopes is fine,
// a page inside a page inside a wrapper is not an audit log.
const maxWrapDepth = 2

// Parser turns source records into events. It reuses its buffers between
// calls and is not safe for concurrent use: give each goroutine its own.
type Parser struct {
	platforms  []Platform
	unwrappers []Unwrapper

	single fastjson.Parser  // the common case: one JSON value per record
	multi  fastjson.Scanner // several values concatenated on one line
	inner  fastjson.Parser  // HEC events carried as JSON strings

	// scratch holds the Raw bytes of events that are sub-values of their
	// record. It is reset at the start of every call, which is why Raw is
	// only valid until the next call.
	scratch []byte

	// per-call state
	rec    source.Record
	dst    []reposentry.Event
	reject func(Rejection)
	times  func(time.Time)
	tmp    reposentry.Event // target of full parses made by Times
}

// New returns a Parser that hands each event object to the first of
// platforms whose Sniff accepts it. Platforms that implement TableUser are
// given tab.
func New(tab *intern.Table, platforms ...Platform) *Parser {
	if tab == nil {
		tab = intern.New(0)
	}
	for _, pl := range platforms {
		if u, ok := pl.(TableUser); ok {
			u.UseTable(tab)
		}
	}
	p := &Parser{platforms: platforms}
	for _, pl := range platforms {
		if u, ok := pl.(Unwrapper); ok {
			p.unwrappers = append(p.unwrappers, u)
		}
	}
	return p
}

// Parse appends the events found in rec to dst and returns the extended
// slice; records and objects that cannot become events are reported to
// reject (which may be nil). Each event's Raw is the event object's JSON:
// it aliases rec.Data or the Parser's own buffer, so it is valid only until
// the next call to Parse or Times and until rec.Data is reused.
func (p *Parser) Parse(rec source.Record, dst []reposentry.Event, reject func(Rejection)) []reposentry.Event {
	p.rec, p.dst, p.reject, p.times = rec, dst, reject, nil
	p.run()
	out := p.dst
	p.rec, p.dst, p.reject = source.Record{}, nil, nil
	return out
}

// Times calls fn with the time of every event in rec, without building the
// events when the platform can read times directly (see Timer). Objects
// that are not events are skipped silently. It is meant for ordering files
// before a hunt.
func (p *Parser) Times(rec source.Record, fn func(t time.Time)) {
	p.rec, p.dst, p.reject, p.times = rec, nil, nil, fn
	p.run()
	p.rec, p.times = source.Record{}, nil
}

func (p *Parser) run() {
	p.scratch = p.scratch[:0]
	data := p.rec.Data
	if !utf8.Valid(data) {
		p.fail(p.rec.Origin.Index, ReasonInvalidUTF8, errInvalidUTF8)
		return
	}
	data = trimSpace(data)
	if len(data) == 0 {
		return // a blank line is not a record
	}
	format := reposentry.FormatNDJSON
	if p.rec.Format == reposentry.FormatJSONArray {
		format = reposentry.FormatJSONArray
	}
	v, err := p.single.ParseBytes(data)
	if err == nil {
		p.dispatch(v, data, format, p.rec.Origin.Index, 0, p.rec.Format != reposentry.FormatJSONArray)
		return
	}
	// The record may be several values on one line (a Splunk HEC batch);
	// the scanner tells that apart from a record that is simply broken.
	p.multi.InitBytes(data)
	if !p.multi.Next() {
		p.fail(p.rec.Origin.Index, ReasonInvalidJSON, err)
		return
	}
	i := 0
	for {
		p.dispatch(p.multi.Value(), nil, format, i, 0, false)
		i++
		if !p.multi.Next() {
			break
		}
	}
	if err := p.multi.Error(); err != nil {
		p.fail(i, ReasonInvalidJSON, err)
	}
}

// dispatch routes one JSON value: envelopes are unwrapped, event objects go
// to a platform. raw is the value's own text when known (nil otherwise);
// topArray says whether a JSON array is acceptable here as an API page.
func (p *Parser) dispatch(v *fastjson.Value, raw []byte, format reposentry.Format, index, depth int, topArray bool) {
	switch v.Type() {
	case fastjson.TypeArray:
		if !topArray {
			p.fail(index, ReasonUnknownFormat, errNotObject)
			return
		}
		elems, _ := v.Array()
		for i, el := range elems {
			p.dispatch(el, nil, reposentry.FormatJSONArray, i, depth+1, false)
		}
	case fastjson.TypeObject:
		o, _ := v.Object()
		if o.Get("action") == nil {
			if ev := o.Get("event"); ev != nil && isHECEvent(ev) {
				p.hec(ev, index, depth)
				return
			}
			if recs := o.Get("records"); recs != nil && recs.Type() == fastjson.TypeArray {
				if depth >= maxWrapDepth {
					p.fail(index, ReasonUnknownFormat, errNestedWrapper)
					return
				}
				elems, _ := recs.Array()
				for i, el := range elems {
					p.dispatch(el, nil, reposentry.FormatAzureRecords, i, depth+1, false)
				}
				return
			}
			for _, u := range p.unwrappers {
				elems, ok := u.Unwrap(v)
				if !ok {
					continue
				}
				if depth >= maxWrapDepth {
					p.fail(index, ReasonUnknownFormat, errNestedWrapper)
					return
				}
				for i, el := range elems {
					p.dispatch(el, nil, reposentry.FormatJSONArray, i, depth+1, false)
				}
				return
			}
		}
		p.event(v, raw, format, index)
	default:
		p.fail(index, ReasonUnknownFormat, errNotObject)
	}
}

// isHECEvent reports whether the "event" member of an object is a Splunk HEC
// payload: an object, or a string holding one. Plain string values are left
// alone because some audit events have an "event" field of their own.
func isHECEvent(v *fastjson.Value) bool {
	switch v.Type() {
	case fastjson.TypeObject:
		return true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		b = trimSpace(b)
		return len(b) > 0 && b[0] == '{'
	}
	return false
}

func (p *Parser) hec(ev *fastjson.Value, index, depth int) {
	if depth >= maxWrapDepth {
		p.fail(index, ReasonUnknownFormat, errNestedWrapper)
		return
	}
	if ev.Type() == fastjson.TypeObject {
		p.event(ev, nil, reposentry.FormatSplunkHEC, index)
		return
	}
	b, _ := ev.StringBytes()
	b = trimSpace(b)
	inner, err := p.inner.ParseBytes(b)
	if err != nil {
		p.fail(index, ReasonInvalidJSON, err)
		return
	}
	if inner.Type() != fastjson.TypeObject {
		p.fail(index, ReasonUnknownFormat, errNotObject)
		return
	}
	// b lives in the parse buffer of the outer value, which stays intact
	// until the next call.
	p.event(inner, b, reposentry.FormatSplunkHEC, index)
}

func (p *Parser) event(v *fastjson.Value, raw []byte, format reposentry.Format, index int) {
	var pl Platform
	for _, cand := range p.platforms {
		if cand.Sniff(v) {
			pl = cand
			break
		}
	}
	if pl == nil {
		p.fail(index, ReasonUnknownFormat, errNoPlatform)
		return
	}
	if p.times != nil {
		if tm, ok := pl.(Timer); ok {
			if t, ok := tm.TimeOf(v); ok {
				p.times(t)
			}
			return
		}
	}
	if raw == nil {
		start := len(p.scratch)
		p.scratch = v.MarshalTo(p.scratch)
		raw = p.scratch[start:len(p.scratch):len(p.scratch)]
	}
	var ev *reposentry.Event
	if p.times != nil {
		p.tmp = reposentry.Event{}
		ev = &p.tmp
	} else {
		p.dst = append(p.dst, reposentry.Event{})
		ev = &p.dst[len(p.dst)-1]
	}
	ev.Format = format
	ev.Raw = raw
	ev.Origin = p.rec.Origin
	ev.Origin.Index = index
	if err := pl.Parse(v, raw, ev); err != nil {
		if p.times == nil {
			p.dst = p.dst[:len(p.dst)-1]
		}
		if r, ok := err.(*Rejection); ok {
			p.fail(index, r.Reason, r.Err)
		} else {
			p.fail(index, ReasonInvalidEvent, err)
		}
		return
	}
	if p.times != nil {
		p.times(ev.Time)
	}
}

func (p *Parser) fail(index int, reason string, err error) {
	if p.reject == nil {
		return
	}
	o := p.rec.Origin
	o.Index = index
	p.reject(Rejection{Origin: o, Reason: reason, Err: err})
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
