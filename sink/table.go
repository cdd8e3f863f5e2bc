package sink

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/reposentry/reposentry"
)

// tableWidth is the line width the explanation is wrapped to; 100 columns
// fit a default terminal with room for the indent.
const tableWidth = 100

// indent puts the explanation under the row it belongs to.
const indent = "    "

// table buffers alerts and prints them, most severe first, at Close: a hunt
// is read as a whole, and the risk stage may update an alert several times,
// so only the last version of each alert id is printed.
type table struct {
	w      io.Writer
	color  bool
	alerts []reposentry.Alert
	byID   map[string]int
}

// NewTable returns a sink printing a table for a person at a terminal, with
// ANSI colours on the severity when color is true. Nothing is written until
// Close.
func NewTable(w io.Writer, color bool) Sink {
	return &table{w: w, color: color, byID: make(map[string]int)}
}

func (t *table) Write(a reposentry.Alert) error {
	if i, ok := t.byID[a.ID]; ok && a.ID != "" {
		t.alerts[i] = a
		return nil
	}
	t.byID[a.ID] = len(t.alerts)
	t.alerts = append(t.alerts, a)
	return nil
}

func (t *table) Close() error {
	slices.SortStableFunc(t.alerts, func(a, b reposentry.Alert) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	bw := bufio.NewWriter(t.w)
	if len(t.alerts) == 0 {
		bw.WriteString("No alerts.\n")
		return flush(bw)
	}
	head := []string{"SEVERITY", "RISK", "RULE", "ENTITY", "FIRST SEEN (UTC)", "LAST SEEN (UTC)"}
	rows := make([][]string, len(t.alerts))
	widths := make([]int, len(head))
	for i, h := range head {
		widths[i] = len(h)
	}
	for i, a := range t.alerts {
		rows[i] = []string{strings.ToUpper(a.Severity.String()), strconv.Itoa(a.Risk), a.Rule, a.Entity.ID,
			compactTime(a.FirstSeen), compactTime(a.LastSeen)}
		for j, c := range rows[i] {
			widths[j] = max(widths[j], utf8.RuneCountInString(c))
		}
	}
	writeRow(bw, head, widths, false)
	for i, a := range t.alerts {
		bw.WriteByte('\n')
		writeRow(bw, rows[i], widths, t.color)
		for _, line := range wrap(a.Explanation, tableWidth-len(indent)) {
			bw.WriteString(indent + line + "\n")
		}
		if ev := keyEvidence(a); ev != "" {
			bw.WriteString(indent + ev + "\n")
		}
	}
	fmt.Fprintf(bw, "\n%d alert%s\n", len(t.alerts), plural(len(t.alerts)))
	return flush(bw)
}

func flush(bw *bufio.Writer) error {
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write alert table: %w", err)
	}
	return nil
}

// writeRow pads every cell to its column; the risk column is right-aligned
// because it is a number.
func writeRow(bw *bufio.Writer, cells []string, widths []int, color bool) {
	for i, c := range cells {
		pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
		if i > 0 {
			bw.WriteString("  ")
		}
		switch {
		case i == 1:
			bw.WriteString(pad + c)
		case i == 0 && color:
			bw.WriteString(severityColor(c) + c + "\x1b[0m" + pad)
		case i == len(cells)-1:
			bw.WriteString(c) // no trailing blanks
		default:
			bw.WriteString(c + pad)
		}
	}
	bw.WriteByte('\n')
}

func severityColor(upper string) string {
	switch upper {
	case "CRITICAL":
		return "\x1b[1;31m" // bold red
	case "HIGH":
		return "\x1b[31m"
	case "MEDIUM":
		return "\x1b[33m"
	case "LOW":
		return "\x1b[36m"
	}
	return "\x1b[2m" // info: dim
}

// compactTime prints a time in UTC to the minute, the precision a person
// triaging needs; the zero time prints as "-".
func compactTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// wrap splits s into lines of at most width runes at spaces; a word longer
// than width gets a line of its own.
func wrap(s string, width int) []string {
	var lines []string
	var line strings.Builder
	n := 0
	for _, word := range strings.Fields(s) {
		wl := utf8.RuneCountInString(word)
		if n > 0 && n+1+wl > width {
			lines = append(lines, line.String())
			line.Reset()
			n = 0
		}
		if n > 0 {
			line.WriteByte(' ')
			n++
		}
		line.WriteString(word)
		n += wl
	}
	if n > 0 {
		lines = append(lines, line.String())
	}
	return lines
}

// evidenceKeys are the evidence entries shown under each row, with the
// names detections use for them, in order of preference (counts before
// lists, which detections cap).
var evidenceKeys = []struct {
	label string
	names []string
}{
	{"repos", []string{"non_public_repositories", "distinct_repositories", "repos", "repositories"}},
	{"credential", []string{"credential", "credentials"}},
	{"country", []string{"country", "countries"}},
}

// keyEvidence renders the evidence an analyst reads first: how many
// repositories, with which credential, from where, and the accounts behind
// the identity. Values are looked up on the alert, then on its signals.
func keyEvidence(a reposentry.Alert) string {
	var parts []string
	for _, k := range evidenceKeys {
		if v, ok := lookupEvidence(a, k.label == "repos", k.names); ok {
			parts = append(parts, k.label+": "+v)
		}
	}
	if len(a.Entity.Accounts) > 0 && !(len(a.Entity.Accounts) == 1 && a.Entity.Accounts[0] == a.Entity.ID) {
		parts = append(parts, "accounts: "+strings.Join(a.Entity.Accounts, ", "))
	}
	return strings.Join(parts, "  ")
}

// lookupEvidence finds the first of names in the alert's evidence, its
// signals' evidence and the per-rule evidence the risk stage groups under
// "by_rule". A count is the largest found, since the signals of one incident
// see growing windows.
func lookupEvidence(a reposentry.Alert, count bool, names []string) (string, bool) {
	sources := []map[string]any{a.Evidence}
	for _, s := range a.Signals {
		sources = append(sources, s.Evidence)
	}
	if byRule, ok := a.Evidence["by_rule"].(map[string]any); ok {
		for _, rule := range slices.Sorted(maps.Keys(byRule)) {
			if m, ok := byRule[rule].(map[string]any); ok {
				sources = append(sources, m)
			}
		}
	}
	best, found := -1, false
	for _, m := range sources {
		for _, n := range names {
			v, ok := m[n]
			if !ok || v == nil {
				continue
			}
			if !count {
				return formatEvidence(v), true
			}
			if c, ok := countOf(v); ok && c > best {
				best, found = c, true
			}
			break
		}
	}
	return strconv.Itoa(best), found
}

// countOf reads a count: a number, or the length of a list.
func countOf(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		return int(x), true
	case []string:
		return len(x), true
	case []any:
		return len(x), true
	}
	return 0, false
}

// formatEvidence prints a value compactly, joining lists.
func formatEvidence(v any) string {
	var list []string
	switch x := v.(type) {
	case []string:
		list = x
	case []any:
		for _, e := range x {
			list = append(list, formatScalar(e))
		}
	case []map[string]any:
		for _, e := range x {
			list = append(list, formatScalar(e))
		}
	default:
		return truncate(formatScalar(v), 48)
	}
	return truncate(strings.Join(list, ", "), 48)
}

// formatScalar prints one value; a credential ({"kind", "id"}) prints as its
// kind and the start of its id, enough to search the logs for it.
func formatScalar(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case map[string]any:
		if kind, ok := x["kind"].(string); ok {
			if id, _ := x["id"].(string); id != "" {
				return kind + " " + truncate(id, 13)
			}
			return kind
		}
	}
	return fmt.Sprint(v)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
