package sink

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reposentry/reposentry"
)

// Summary is the closing account of a hunt: what was read, what was set
// aside and why, and what was found. Its JSON form (--stats FILE) is a
// contract for scripts (architecture.md).
type Summary struct {
	Records          int64            `json:"records"`
	Parsed           int64            `json:"parsed"`
	Rejected         int64            `json:"rejected"`
	RejectedByReason map[string]int64 `json:"rejected_by_reason"`
	Alerts           int              `json:"alerts"`
	AlertsBySeverity map[string]int   `json:"alerts_by_severity"`
	Files            int              `json:"files"`
	Bytes            int64            `json:"bytes"`
	Late             int64            `json:"late"`
	Duplicates       int64            `json:"duplicates"`
	FirstEvent       time.Time        `json:"first_event"`
	LastEvent        time.Time        `json:"last_event"`
	Elapsed          time.Duration    `json:"elapsed_seconds"`
	EventsPerSecond  float64          `json:"events_per_second"`
	Notes            []string         `json:"notes"`
}

// MarshalJSON writes the elapsed time in seconds, times in RFC 3339 UTC (null
// when no event was seen) and empty maps and lists rather than null, so
// scripts can index the result without checks.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	out := struct {
		plain
		FirstEvent *time.Time `json:"first_event"`
		LastEvent  *time.Time `json:"last_event"`
		Elapsed    float64    `json:"elapsed_seconds"`
	}{plain: plain(s), Elapsed: float64(s.Elapsed.Milliseconds()) / 1000}
	if !s.FirstEvent.IsZero() {
		t := s.FirstEvent.UTC()
		out.FirstEvent = &t
	}
	if !s.LastEvent.IsZero() {
		t := s.LastEvent.UTC()
		out.LastEvent = &t
	}
	if out.RejectedByReason == nil {
		out.RejectedByReason = map[string]int64{}
	}
	if out.AlertsBySeverity == nil {
		out.AlertsBySeverity = map[string]int{}
	}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	return json.Marshal(out)
}

// WriteJSON writes the summary as one indented JSON object.
func (s Summary) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// WriteText writes the summary as a block a person reads on stderr after a
// hunt. Sections with nothing to say (no rejections, no late events) are left
// out.
func (s Summary) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	line := func(label, value string) { fmt.Fprintf(bw, "  %-11s %s\n", label, value) }

	bw.WriteString("reposentry summary\n")
	line("input", fmt.Sprintf("%s file%s, %s", num(int64(s.Files)), plural(s.Files), bytesText(s.Bytes)))
	line("records", fmt.Sprintf("%s read, %s parsed, %s rejected", num(s.Records), num(s.Parsed), num(s.Rejected)))
	for _, r := range sortedByCount(s.RejectedByReason) {
		fmt.Fprintf(bw, "    %-22s %s\n", r, num(s.RejectedByReason[r]))
	}
	if s.Late > 0 || s.Duplicates > 0 {
		line("dropped", fmt.Sprintf("%s late, %s duplicate", num(s.Late), num(s.Duplicates)))
	}
	if !s.FirstEvent.IsZero() {
		line("events", s.FirstEvent.UTC().Format(time.RFC3339)+" to "+s.LastEvent.UTC().Format(time.RFC3339))
	}
	line("alerts", alertsText(s.Alerts, s.AlertsBySeverity))
	line("elapsed", fmt.Sprintf("%s (%s events/s)", s.Elapsed.Round(time.Millisecond), num(int64(s.EventsPerSecond+0.5))))
	for _, n := range s.Notes {
		line("note", n)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// alertsText lists counts most severe first: "3 (critical 1, high 2)".
func alertsText(total int, bySev map[string]int) string {
	var parts []string
	for sev := reposentry.SeverityCritical; ; sev-- {
		if n := bySev[sev.String()]; n > 0 {
			parts = append(parts, sev.String()+" "+strconv.Itoa(n))
		}
		if sev == reposentry.SeverityInfo {
			break
		}
	}
	if len(parts) == 0 {
		return strconv.Itoa(total)
	}
	return strconv.Itoa(total) + " (" + strings.Join(parts, ", ") + ")"
}

// sortedByCount orders reasons by count, largest first, then by name.
func sortedByCount(m map[string]int64) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return keys
}

// num formats n with thousands separators: counts in the millions are read
// at a glance.
func num(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// bytesText prints a size in binary units with one decimal.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
