// Package sink delivers alerts to people and programs: JSON lines for
// scripts, a table for a terminal, plus the closing summary of a hunt and the
// progress bar shown while it runs.
package sink

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/reposentry/reposentry"
)

// Sink receives alerts as the risk stage raises them.
type Sink interface {
	// Write delivers one alert.
	Write(reposentry.Alert) error
	// Close flushes what the sink buffered; it does not close the
	// underlying writer, which the caller owns.
	Close() error
}

// jsonl writes one alert object per line, in the architecture.md contract.
type jsonl struct {
	enc *json.Encoder
}

// NewJSONL returns a sink writing each alert as one JSON object per line, as
// soon as it arrives, so a stream consumer sees alerts without delay.
func NewJSONL(w io.Writer) Sink {
	enc := json.NewEncoder(w)
	// Explanations contain "<" and "&"; keep them readable for grep and jq.
	enc.SetEscapeHTML(false)
	return &jsonl{enc: enc}
}

func (s *jsonl) Write(a reposentry.Alert) error {
	if err := s.enc.Encode(a); err != nil {
		return fmt.Errorf("write alert %s (%s): %w", a.ID, a.Rule, err)
	}
	return nil
}

func (s *jsonl) Close() error { return nil }
