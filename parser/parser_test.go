package parser_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/intern"
	"github.com/reposentry/reposentry/parser"
	"github.com/reposentry/reposentry/parser/github"
	"github.com/reposentry/reposentry/parser/parsertest"
	"github.com/reposentry/reposentry/source"
)

func newParser() *parser.Parser {
	return parser.New(intern.New(0), github.New())
}

// records splits a testdata file the way a source would: one record per
// line for .ndjson, the whole file for .json.
func records(t *testing.T, path string) []source.Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	name := filepath.Base(path)
	if !strings.HasSuffix(path, ".ndjson") {
		return []source.Record{{Data: data, Origin: reposentry.Origin{Source: name, Line: 1}}}
	}
	var recs []source.Record
	for i, line := range bytes.Split(data, []byte("\n")) {
		recs = append(recs, source.Record{Data: line, Origin: reposentry.Origin{Source: name, Line: int64(i + 1)}})
	}
	return recs
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "golden", "*.*json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden.json") {
			continue
		}
		t.Run(filepath.Base(in), func(t *testing.T) {
			p := newParser()
			g := parsertest.Result{Events: []parsertest.Event{}, Rejections: []parsertest.Rejection{}}
			for _, rec := range records(t, in) {
				evs := p.Parse(rec, nil, rejectionsInto(&g.Rejections))
				for i := range evs {
					g.Events = append(g.Events, parsertest.Render(&evs[i]))
				}
			}
			checkGolden(t, filepath.Base(in)+".golden.json", g)
		})
	}
}

const clone = `{"@timestamp":1767225600123,"_document_id":"Zq3kLr8TmQ2wXy7pVb1cDe","action":"git.clone","actor":"jdoe","repo":"acme/a"}`

func TestParseShapes(t *testing.T) {
	type want struct {
		ids     []string
		formats []reposentry.Format
		indexes []int
		reasons []string
		// rejIndexes are the Origin.Index of the rejections.
		rejIndexes []int
	}
	ev := func(id string) string {
		return strings.Replace(clone, "Zq3kLr8TmQ2wXy7pVb1cDe", id, 1)
	}
	tests := []struct {
		name   string
		data   string
		format reposentry.Format
		index  int
		want   want
	}{
		{"ndjson object", clone, 0, 0, want{ids: []string{"Zq3kLr8TmQ2wXy7pVb1cDe"}, formats: []reposentry.Format{reposentry.FormatNDJSON}, indexes: []int{0}}},
		{"object with CRLF", clone + "\r\n", 0, 0, want{ids: []string{"Zq3kLr8TmQ2wXy7pVb1cDe"}, formats: []reposentry.Format{reposentry.FormatNDJSON}, indexes: []int{0}}},
		{"array page", "[" + ev("a") + "," + ev("b") + "]", 0, 0, want{ids: []string{"a", "b"},
			formats: []reposentry.Format{reposentry.FormatJSONArray, reposentry.FormatJSONArray}, indexes: []int{0, 1}}},
		{"empty array page", "[]", 0, 0, want{}},
		{"streamed array element", clone, reposentry.FormatJSONArray, 7, want{ids: []string{"Zq3kLr8TmQ2wXy7pVb1cDe"},
			formats: []reposentry.Format{reposentry.FormatJSONArray}, indexes: []int{7}}},
		{"streamed element that is an array", "[" + clone + "]", reposentry.FormatJSONArray, 3, want{reasons: []string{"unknown_format"}, rejIndexes: []int{3}}},
		{"hec object", `{"time":1,"host":"h","sourcetype":"s","event":` + clone + `}`, 0, 0, want{ids: []string{"Zq3kLr8TmQ2wXy7pVb1cDe"},
			formats: []reposentry.Format{reposentry.FormatSplunkHEC}, indexes: []int{0}}},
		{"hec string", `{"event":` + strconvQuote(clone) + `}`, 0, 0, want{ids: []string{"Zq3kLr8TmQ2wXy7pVb1cDe"},
			formats: []reposentry.Format{reposentry.FormatSplunkHEC}, indexes: []int{0}}},
		{"hec string not json", `{"event":"{broken"}`, 0, 0, want{reasons: []string{"invalid_json"}, rejIndexes: []int{0}}},
		{"hec string array", `{"event":"{\"a\":1}"}{"event":"[1]"}`, 0, 0, want{reasons: []string{"unknown_format", "unknown_format"}, rejIndexes: []int{0, 1}}},
		{"hec batch", `{"event":` + ev("a") + `}{"event":` + ev("b") + `} {"event":` + ev("c") + "}", 0, 0, want{ids: []string{"a", "b", "c"},
			formats: []reposentry.Format{reposentry.FormatSplunkHEC, reposentry.FormatSplunkHEC, reposentry.FormatSplunkHEC}, indexes: []int{0, 1, 2}}},
		{"concatenated objects", ev("a") + ev("b"), 0, 0, want{ids: []string{"a", "b"},
			formats: []reposentry.Format{reposentry.FormatNDJSON, reposentry.FormatNDJSON}, indexes: []int{0, 1}}},
		{"concatenated with broken tail", ev("a") + `{"x":`, 0, 0, want{ids: []string{"a"},
			formats: []reposentry.Format{reposentry.FormatNDJSON}, indexes: []int{0}, reasons: []string{"invalid_json"}, rejIndexes: []int{1}}},
		{"azure records", `{"records":[` + ev("a") + `,` + ev("b") + `]}`, 0, 0, want{ids: []string{"a", "b"},
			formats: []reposentry.Format{reposentry.FormatAzureRecords, reposentry.FormatAzureRecords}, indexes: []int{0, 1}}},
		{"azure record not an object", `{"records":[1,` + ev("b") + `]}`, 0, 0, want{ids: []string{"b"},
			formats: []reposentry.Format{reposentry.FormatAzureRecords}, indexes: []int{1}, reasons: []string{"unknown_format"}, rejIndexes: []int{0}}},
		{"array of hec envelopes", `[{"event":` + ev("a") + `}]`, 0, 0, want{ids: []string{"a"},
			formats: []reposentry.Format{reposentry.FormatSplunkHEC}, indexes: []int{0}}},
		{"wrapper nested too deep", `[{"records":[{"records":[` + clone + `]}]}]`, 0, 0, want{reasons: []string{"unknown_format"}, rejIndexes: []int{0}}},
		{"event field that is not an envelope", `{"@timestamp":1767225600123,"_document_id":"w","action":"workflows.created_workflow_run","event":"push"}`, 0, 0,
			want{ids: []string{"w"}, formats: []reposentry.Format{reposentry.FormatNDJSON}, indexes: []int{0}}},
		{"blank line", "  \r\n", 0, 0, want{}},
		{"invalid json", `{"action":`, 0, 0, want{reasons: []string{"invalid_json"}, rejIndexes: []int{0}}},
		{"invalid utf8", `{"action":"git.clone","_document_id":"x` + "\xff" + `"}`, 0, 0, want{reasons: []string{"invalid_utf8"}, rejIndexes: []int{0}}},
		{"unknown object", `{"eventType":"user.session.start","uuid":"u","published":"2026-01-01T00:00:00Z"}`, 0, 0, want{reasons: []string{"unknown_format"}, rejIndexes: []int{0}}},
		{"scalar", `42`, 0, 0, want{reasons: []string{"unknown_format"}, rejIndexes: []int{0}}},
		{"platform rejection", `{"_document_id":"x","action":"git.clone"}`, 0, 0, want{reasons: []string{"missing_time"}, rejIndexes: []int{0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newParser()
			var rejs []parser.Rejection
			rec := source.Record{Data: []byte(tc.data), Format: tc.format, Origin: reposentry.Origin{Source: "f", Line: 9, Index: tc.index}}
			evs := p.Parse(rec, nil, func(r parser.Rejection) { rejs = append(rejs, r) })
			var got want
			for i := range evs {
				got.ids = append(got.ids, evs[i].ID.String())
				got.formats = append(got.formats, evs[i].Format)
				got.indexes = append(got.indexes, evs[i].Origin.Index)
				if evs[i].Origin.Source != "f" || evs[i].Origin.Line != 9 {
					t.Errorf("event %d origin = %+v, want source f line 9", i, evs[i].Origin)
				}
				if !json.Valid(evs[i].Raw) {
					t.Errorf("event %d raw is not JSON: %q", i, evs[i].Raw)
				}
				var m map[string]any
				if err := json.Unmarshal(evs[i].Raw, &m); err != nil || m["_document_id"] != evs[i].ID.String() {
					t.Errorf("event %d raw %q does not hold its own object", i, evs[i].Raw)
				}
			}
			for _, r := range rejs {
				got.reasons = append(got.reasons, r.Reason)
				got.rejIndexes = append(got.rejIndexes, r.Origin.Index)
				if r.Err == nil || r.Origin.Source != "f" {
					t.Errorf("rejection %+v lacks error or origin", r)
				}
			}
			if !equalWant(got.ids, tc.want.ids) || !equalWant(got.formats, tc.want.formats) ||
				!equalWant(got.indexes, tc.want.indexes) || !equalWant(got.reasons, tc.want.reasons) ||
				!equalWant(got.rejIndexes, tc.want.rejIndexes) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func equalWant[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestParseAppendsAndRawSurvivesLaterEvents(t *testing.T) {
	p := newParser()
	dst := make([]reposentry.Event, 1, 8)
	dst[0].Action = "kept"
	page := `[` + clone + `,` + strings.Replace(clone, `"jdoe"`, `"other"`, 1) + `]`
	dst = p.Parse(source.Record{Data: []byte(page)}, dst, nil)
	if len(dst) != 3 || dst[0].Action != "kept" {
		t.Fatalf("Parse did not append to dst: %d events, first %q", len(dst), dst[0].Action)
	}
	if !bytes.Contains(dst[1].Raw, []byte(`"jdoe"`)) || !bytes.Contains(dst[2].Raw, []byte(`"other"`)) {
		t.Errorf("raw of page elements mixed up: %q / %q", dst[1].Raw, dst[2].Raw)
	}
	if dst[1].Actor.Login != "jdoe" || dst[2].Actor.Login != "other" {
		t.Errorf("actors = %q, %q", dst[1].Actor.Login, dst[2].Actor.Login)
	}
}

func TestRawIsRecordForTopLevelObject(t *testing.T) {
	p := newParser()
	data := []byte(clone + "\n")
	evs := p.Parse(source.Record{Data: data}, nil, nil)
	if len(evs) != 1 || string(evs[0].Raw) != clone {
		t.Fatalf("raw = %q, want the record without its newline", evs[0].Raw)
	}
	if &evs[0].Raw[0] != &data[0] {
		t.Error("raw of a top-level object should alias the record, not a copy")
	}
}

func TestTimes(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []int64 // unix ms
	}{
		{"object", clone, []int64{1767225600123}},
		{"page", `[` + clone + `,{"created_at":"2026-01-01T00:00:01Z","action":"x"}]`, []int64{1767225600123, 1767225601000}},
		{"hec batch", `{"event":` + clone + `}{"event":{"@timestamp":"1767225600999.0","action":"y"}}`, []int64{1767225600123, 1767225600999}},
		{"skips bad", `[{"@timestamp":"soon","action":"x","_document_id":"a"},42,` + clone + `]`, []int64{1767225600123}},
		{"invalid json", `{`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newParser()
			var got []int64
			p.Times(source.Record{Data: []byte(tc.data)}, func(tm time.Time) { got = append(got, tm.UnixMilli()) })
			if !equalWant(got, tc.want) {
				t.Errorf("Times = %v, want %v", got, tc.want)
			}
		})
	}
}

// noTimer hides the Timer implementation so Times falls back to full parses.
type noTimer struct{ parser.Platform }

func TestTimesFallsBackToParse(t *testing.T) {
	p := parser.New(nil, noTimer{github.New()})
	var got []int64
	p.Times(source.Record{Data: []byte(`[` + clone + `,{"_document_id":"z","action":"x"}]`)}, func(tm time.Time) { got = append(got, tm.UnixMilli()) })
	if !equalWant(got, []int64{1767225600123}) {
		t.Errorf("Times = %v", got)
	}
}

func TestParseZeroAllocWhenWarm(t *testing.T) {
	p := newParser()
	recs := benchRecords()
	dst := make([]reposentry.Event, 0, 4)
	for _, r := range recs { // warm the intern table and buffers
		dst = p.Parse(r, dst[:0], nil)
	}
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		dst = p.Parse(recs[i%len(recs)], dst[:0], nil)
		i++
	})
	if allocs != 0 {
		t.Errorf("Parse allocates %.1f times per record once warm, want 0", allocs)
	}
	page := source.Record{Data: []byte(`{"records":[` + string(recs[0].Data) + `,` + string(recs[1].Data) + `]}`)}
	dst = p.Parse(page, dst[:0], nil)
	allocs = testing.AllocsPerRun(100, func() { dst = p.Parse(page, dst[:0], nil) })
	if allocs != 0 {
		t.Errorf("Parse of a records wrapper allocates %.1f times once warm, want 0", allocs)
	}
}

func TestPlatformsShareTheParserTable(t *testing.T) {
	tab := intern.New(0)
	p := parser.New(tab, github.New())
	evs := p.Parse(source.Record{Data: []byte(clone)}, nil, nil)
	if len(evs) != 1 {
		t.Fatalf("got %d events", len(evs))
	}
	if got := tab.String("acme/a"); got != evs[0].Repo || unsafe.StringData(got) != unsafe.StringData(evs[0].Repo) {
		t.Errorf("repo %q was not interned in the parser's table", evs[0].Repo)
	}
}

func TestRejectHelper(t *testing.T) {
	base := errors.New("boom")
	r := parser.Reject("missing_time", base)
	if r.Reason != "missing_time" || !errors.Is(r, base) || r.Error() != "missing_time: boom" {
		t.Errorf("Reject = %+v (%v)", r, r)
	}
}
