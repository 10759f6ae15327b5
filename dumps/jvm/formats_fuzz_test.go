package jvm

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
)

// fuzzThreadDumps runs a JVM dump reader on any input and checks the
// invariants every reader keeps: no failure on in-memory input, positioned
// warnings, every thread at a line, buckets that count every thread.
func fuzzThreadDumps(f *testing.F, read func(io.Reader, string) ([]*dumps.ThreadDump, []dumps.Warning, error), patterns ...string) {
	dumptest.Seed(f, patterns...)
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, warns, err := read(bytes.NewReader(data), "fuzz")
		if err != nil && !errors.Is(err, bufio.ErrTooLong) {
			t.Fatalf("in-memory input failed: %v", err)
		}
		dumptest.CheckWarnings(t, warns, true)
		for _, d := range ds {
			n := 0
			for _, b := range d.Buckets {
				n += b.Count
			}
			if n != len(d.Threads) {
				t.Fatalf("buckets count %d threads, dump has %d", n, len(d.Threads))
			}
			for _, th := range d.Threads {
				if th.Pos.Line < 1 || th.Frames == nil {
					t.Fatalf("thread %q: line %d, frames %v", th.Name, th.Pos.Line, th.Frames)
				}
				for _, l := range th.Locks {
					if l.Frame >= len(th.Frames) {
						t.Fatalf("thread %q: lock under frame %d of %d", th.Name, l.Frame, len(th.Frames))
					}
				}
			}
		}
	})
}

func FuzzReadThreadInfo(f *testing.F) {
	fuzzThreadDumps(f, ReadThreadInfo, "../../testdata/dumps/jmx-*", "../../testdata/dumps/tda-jmx-*")
}

func FuzzReadJRockit(f *testing.F) {
	fuzzThreadDumps(f, ReadJRockit, "../../testdata/dumps/threadlogic-jrockit-*")
}
