package bench

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/reposentry/reposentry/source"
)

const events = `{"@timestamp":1767600000000,"_document_id":"a","action":"git.clone","actor":"alice","repo":"acme/api"}
{"@timestamp":1767600001000,"_document_id":"b","action":"repo.download_zip","actor":"alice","repo":"acme/web"}

{"@timestamp":1767600002000,"_document_id":"c","action":"org.add_outside_collaborator","actor":"bob"}
not json
`

func TestReferencesReadTheSameEvents(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "a.ndjson")
	if err := os.WriteFile(plain, []byte(events), 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(events))
	zw.Close()
	packed := filepath.Join(dir, "b.json.gz")
	if err := os.WriteFile(packed, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "c.json")
	if err := os.WriteFile(page, []byte(`[{"action":"git.clone"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs := []source.Input{{Path: plain}, {Path: packed}, {Path: page}}

	lines, n, err := Lines(inputs)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 8 { // 4 non-empty lines per NDJSON file; the array page is skipped
		t.Fatalf("Lines read %d lines, want 8", len(lines))
	}
	if n != 2*int64(len(events)-1) { // the blank line's newline is not counted
		t.Errorf("Lines counted %d bytes, want %d", n, 2*(len(events)-1))
	}
	for _, r := range []Result{Ceiling(lines), Naive(lines)} {
		if r.Events != 6 { // "not json" is skipped by both
			t.Errorf("%s parsed %d events, want 6", r.Name, r.Events)
		}
		if r.PerSecond <= 0 {
			t.Errorf("%s: no rate", r.Name)
		}
	}

	out := t.TempDir()
	dec, err := Decompress(inputs, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(dec) != 3 {
		t.Fatalf("Decompress returned %d inputs, want 3", len(dec))
	}
	b, err := os.ReadFile(dec[1].Path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != events || dec[1].Size != int64(len(events)) {
		t.Errorf("decompressed %s = %d bytes, want the original %d", dec[1].Path, len(b), len(events))
	}
}
