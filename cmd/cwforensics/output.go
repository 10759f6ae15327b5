package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cwforensics/cwforensics/analysis"
)

// bufioWriter is what writeAtomic's callers write to.
type bufioWriter = bufio.Writer

// formatOf is the report format for an output file, from its extension.
func formatOf(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return "html", nil
	case ".md", ".markdown":
		return "md", nil
	case ".json":
		return "json", nil
	}
	return "", fmt.Errorf("-o %s: unknown report format, want a .html, .md or .json file", path)
}

// checkOutputs refuses an -o that names a folder or one of the inputs: the
// report would replace the evidence it is made of.
func checkOutputs(outputs []string, srcs []analysis.Source) error {
	for _, o := range outputs {
		fi, err := os.Stat(o)
		if err != nil {
			continue // a new file
		}
		if fi.IsDir() {
			return fmt.Errorf("-o %s: is a folder; name the report file", o)
		}
		for _, s := range srcs {
			if s.Open == nil || s.Stdin {
				continue
			}
			if si, err := os.Stat(filepath.FromSlash(s.Name)); err == nil && os.SameFile(fi, si) {
				return fmt.Errorf("-o %s: is an input (%s); the report would overwrite it", o, s.Name)
			}
		}
	}
	return nil
}

// writeAtomic writes a file through write, all or nothing: into a
// temporary file in the same folder, synced, then renamed over path. A
// failure, or the process being killed, leaves path as it was (a killed
// run may leave the hidden temporary file, never a half-written report).
func writeAtomic(path string, write func(*bufio.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// The rename is durable once the folder is synced; that is best
	// effort (not every file system syncs folders): the report is whole
	// either way.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
