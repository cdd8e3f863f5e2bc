package source

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Input is one input to read, as found by Walk.
type Input struct {
	Path string // file path, or "-" for stdin
	Size int64  // bytes on disk (compressed size for gzip), -1 when unknown (stdin)
}

// Walk expands paths into the inputs to read, in order: "-" is stdin, a
// file is itself, a folder is every regular file below it, walked
// recursively in lexical order with dot-files and dot-directories skipped
// (exports come as .json, .ndjson, .jsonl, .json.gz and more, so names are
// not filtered: the reader sets aside binary content). Symbolic links to
// files are followed, links to folders are not, so a walk cannot loop. A
// path that does not exist is an error naming it.
func Walk(paths []string) ([]Input, error) {
	var out []Input
	for _, p := range paths {
		if p == "-" {
			out = append(out, Input{Path: "-", Size: -1})
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
		if !fi.IsDir() {
			// Named explicitly: taken even if it is a pipe such as <(zcat ...).
			out = append(out, Input{Path: p, Size: fi.Size()})
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			info, err := os.Stat(path) // follows a link to its target
			if err != nil {
				return err
			}
			if info.Mode().IsRegular() {
				out = append(out, Input{Path: path, Size: info.Size()})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("source: walk %s: %w", p, err)
		}
	}
	return out, nil
}
