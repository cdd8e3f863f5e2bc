package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// The three delivery shapes, split by time so that a walk of examples/ in
// name order (api page, HEC file, stream folder) reads the days in order and
// nothing is delivered twice.
const (
	pageFile   = "logs/github-api-page.json"
	hecFile    = "logs/github-hec.json"
	streamDir  = "logs/github-stream"
	pageSpan   = 12 * time.Hour // the page holds the first hours of day one
	pageMax    = 100            // per_page maximum of the REST API
	batchEvery = 6 * time.Hour  // one stream object per six hours
)

// seed fixes the story; change it and every file changes.
var seed = [2]uint64{20260105, 1213003}

// generate writes the example logs under out and returns the event count.
func generate(out string) (int, error) {
	o := newOrg(rand.New(rand.NewPCG(seed[0], seed[1])))
	evs := o.story()

	var page, hec, stream []event
	dayTwo := start.AddDate(0, 0, 1).UnixMilli()
	for _, e := range evs {
		switch {
		case e.Timestamp < start.Add(pageSpan).UnixMilli() && len(page) < pageMax && len(hec) == 0:
			page = append(page, e)
		case e.Timestamp < dayTwo:
			hec = append(hec, e)
		default:
			stream = append(stream, e)
		}
	}

	// The REST API serves newest first (order=desc is the default).
	slices.Reverse(page)
	var buf bytes.Buffer
	buf.WriteString("[")
	for i, e := range page {
		if i > 0 {
			buf.WriteString(",\n")
		}
		if err := marshalTo(&buf, e); err != nil {
			return 0, err
		}
	}
	buf.WriteString("]\n")
	if err := writeFile(filepath.Join(out, pageFile), buf.Bytes()); err != nil {
		return 0, err
	}

	buf.Reset()
	for _, e := range hec {
		raw, err := json.Marshal(e)
		if err != nil {
			return 0, fmt.Errorf("encode event %s: %w", e.DocumentID, err)
		}
		env := struct {
			Time       json.Number     `json:"time"`
			Host       string          `json:"host"`
			Source     string          `json:"source"`
			Sourcetype string          `json:"sourcetype"`
			Event      json.RawMessage `json:"event"`
		}{json.Number(fmt.Sprintf("%d.%03d", e.Timestamp/1000, e.Timestamp%1000)), "github.com",
			"github-audit-log-stream", "github:enterprise:audit", raw}
		if err := marshalTo(&buf, env); err != nil {
			return 0, err
		}
		buf.WriteByte('\n')
	}
	if err := writeFile(filepath.Join(out, hecFile), buf.Bytes()); err != nil {
		return 0, err
	}

	// Stream objects: gzip-compressed NDJSON under a date/hour prefix.
	for len(stream) > 0 {
		batch := time.UnixMilli(stream[0].Timestamp).UTC().Truncate(batchEvery)
		end := batch.Add(batchEvery).UnixMilli()
		n := 0
		for n < len(stream) && stream[n].Timestamp < end {
			n++
		}
		buf.Reset()
		for _, e := range stream[:n] {
			if err := marshalTo(&buf, e); err != nil {
				return 0, err
			}
			buf.WriteByte('\n')
		}
		var gz bytes.Buffer
		zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		if err != nil {
			return 0, err
		}
		// The zero header (no name, no time) keeps the bytes reproducible.
		if _, err := zw.Write(buf.Bytes()); err != nil {
			return 0, err
		}
		if err := zw.Close(); err != nil {
			return 0, err
		}
		name := filepath.Join(out, streamDir, batch.Format("2006/01/02/15"), o.uuid()+".json.gz")
		if err := writeFile(name, gz.Bytes()); err != nil {
			return 0, err
		}
		stream = stream[n:]
	}
	return len(evs), nil
}

func marshalTo(buf *bytes.Buffer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	buf.Write(b)
	return nil
}

func writeFile(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("create folder for %s: %w", name, err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
