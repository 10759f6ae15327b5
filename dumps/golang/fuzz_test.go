package golang

import (
	"bufio"
	"bytes"
	"errors"
	"testing"

	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
)

func FuzzReadGoroutines(f *testing.F) {
	dumptest.Seed(f, conf+"goroutines/*/*.txt", conf+"goroutines/*/*.out", "../../testdata/real/go/*")
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, warns, err := ReadGoroutines(bytes.NewReader(data), "fuzz")
		if err != nil && !errors.Is(err, bufio.ErrTooLong) {
			t.Fatalf("in-memory input failed: %v", err)
		}
		dumptest.CheckWarnings(t, warns, true)
		for _, d := range ds {
			if len(d.Goroutines) == 0 {
				t.Fatal("dump without goroutines")
			}
			n := 0
			for _, b := range d.Buckets {
				n += b.Count
			}
			if n != len(d.Goroutines) {
				t.Fatalf("buckets count %d goroutines, dump has %d", n, len(d.Goroutines))
			}
		}
	})
}

func FuzzReadGoroutineProfile(f *testing.F) {
	dumptest.Seed(f, conf+"goroutines/go-profiler-notes/*debug1*")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, warns, err := ReadGoroutineProfile(bytes.NewReader(data), "fuzz")
		if err != nil && !errors.Is(err, bufio.ErrTooLong) {
			t.Fatalf("in-memory input failed: %v", err)
		}
		dumptest.CheckWarnings(t, warns, true)
	})
}

func FuzzReadPprof(f *testing.F) {
	dumptest.Seed(f, conf+"goroutines/go-profiler-notes/*debug0*")
	f.Fuzz(func(t *testing.T, data []byte) {
		p, warns, err := ReadPprof(bytes.NewReader(data), "fuzz")
		if err == nil && p == nil {
			t.Fatal("no profile and no error")
		}
		dumptest.CheckWarnings(t, warns, false)
	})
}
