// Package bench measures reposentry against two reference points over the
// same bytes: a ceiling (a reused fastjson parser reading the six fields any
// detection needs, doing nothing else) and a naive baseline (encoding/json
// into a map per event, then one expression per rule), so that hunt's
// throughput can be reported as ratios that mean something on any machine.
package bench

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reposentry/reposentry/source"
	"github.com/valyala/fastjson"
)

// Lines reads every NDJSON line of the given inputs (gzip or plain) into
// memory, so the reference scans measure parsing and not I/O. JSON array
// files are skipped: the references only read NDJSON, as the bulk of real
// data (streaming) is.
func Lines(inputs []source.Input) (lines [][]byte, bytesTotal int64, err error) {
	for _, in := range inputs {
		if in.Path == "-" {
			continue
		}
		b, err := readAll(in.Path)
		if err != nil {
			return nil, 0, err
		}
		if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '[' {
			continue
		}
		for len(b) > 0 {
			i := bytes.IndexByte(b, '\n')
			var line []byte
			if i < 0 {
				line, b = b, nil
			} else {
				line, b = b[:i], b[i+1:]
			}
			line = bytes.TrimRight(line, "\r")
			if len(line) == 0 {
				continue
			}
			lines = append(lines, line)
			bytesTotal += int64(len(line)) + 1
		}
	}
	return lines, bytesTotal, nil
}

func readAll(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("bench: reading %s: %w", path, err)
	}
	return b, nil
}

// Decompress writes each input's content, gunzipped where it is gzip, to a
// file of the same relative name (without .gz) under dir, and returns the
// new inputs in the same order.
func Decompress(inputs []source.Input, dir string) ([]source.Input, error) {
	out := make([]source.Input, 0, len(inputs))
	for i, in := range inputs {
		if in.Path == "-" {
			continue
		}
		b, err := readAll(in.Path)
		if err != nil {
			return nil, err
		}
		name := filepath.Join(dir, fmt.Sprintf("%06d-%s", i, strings.TrimSuffix(filepath.Base(in.Path), ".gz")))
		if err := os.WriteFile(name, b, 0o644); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		out = append(out, source.Input{Path: name, Size: int64(len(b))})
	}
	return out, nil
}

// Result is one reference run.
type Result struct {
	Name      string        `json:"name"`
	Events    int           `json:"events"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	PerSecond float64       `json:"events_per_second"`
}

func result(name string, n int, d time.Duration) Result {
	r := Result{Name: name, Events: n, Elapsed: d}
	if d > 0 {
		r.PerSecond = float64(n) / d.Seconds()
	}
	return r
}

// Ceiling scans the lines with one reused fastjson parser, reading six
// fields of each event and counting reads per actor: the least any detector
// must do, with no allocation per event.
func Ceiling(lines [][]byte) Result {
	var p fastjson.Parser
	var sink int
	start := time.Now()
	n := 0
	for _, l := range lines {
		v, err := p.ParseBytes(l)
		if err != nil {
			continue
		}
		n++
		sink += len(v.GetStringBytes("action"))
		sink += len(v.GetStringBytes("actor"))
		sink += len(v.GetStringBytes("repo"))
		sink += len(v.GetStringBytes("_document_id"))
		sink += len(v.GetStringBytes("actor_ip"))
		sink += int(v.GetInt64("@timestamp") & 1)
	}
	d := time.Since(start)
	if sink == -1 { // keep the work observable to the compiler
		fmt.Fprint(io.Discard, sink)
	}
	return result("ceiling (fastjson, 6 fields)", n, d)
}

// naiveRule is one condition over a decoded event, the way a rule written as
// an expression over a map is evaluated.
type naiveRule func(m map[string]any) bool

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

var naiveRules = []naiveRule{
	func(m map[string]any) bool { a := str(m, "action"); return a == "git.clone" || a == "git.fetch" },
	func(m map[string]any) bool { return str(m, "action") == "repo.download_zip" },
	func(m map[string]any) bool {
		return str(m, "action") == "repo.access" && str(m, "visibility") == "public"
	},
	func(m map[string]any) bool { return str(m, "action") == "private_repository_forking.enable" },
	func(m map[string]any) bool { return str(m, "action") == "org.add_outside_collaborator" },
	func(m map[string]any) bool {
		a := str(m, "action")
		return a == "personal_access_token.access_granted" || a == "public_key.create"
	},
}

// Naive decodes each line with encoding/json into a map and evaluates one
// expression per rule, counting distinct repositories read per actor: what
// a straightforward implementation does.
func Naive(lines [][]byte) Result {
	reads := map[string]map[string]bool{}
	hits := 0
	start := time.Now()
	n := 0
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			continue
		}
		n++
		for i, r := range naiveRules {
			if !r(m) {
				continue
			}
			hits++
			if i == 0 || i == 1 {
				actor := str(m, "actor")
				if reads[actor] == nil {
					reads[actor] = map[string]bool{}
				}
				reads[actor][str(m, "repo")] = true
			}
		}
	}
	d := time.Since(start)
	if hits < 0 {
		fmt.Fprint(io.Discard, hits)
	}
	return result("naive (encoding/json map + rule expressions)", n, d)
}
