package jvm

import (
	"bufio"
	"bytes"
	"errors"
	"testing"

	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
)

func FuzzReadJstack(f *testing.F) {
	dumptest.Seed(f, conf+"jstack/*", "../../testdata/dumps/*.txt", "../../testdata/real/jvm/*/*")
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, warns, err := ReadJstack(bytes.NewReader(data), "fuzz")
		if err != nil && !errors.Is(err, bufio.ErrTooLong) {
			t.Fatalf("in-memory input failed: %v", err)
		}
		dumptest.CheckWarnings(t, warns, true)
		for _, d := range ds {
			for _, th := range d.Threads {
				if th.Pos.Line < 1 {
					t.Fatalf("thread %q without a line", th.Name)
				}
			}
			n := 0
			for _, b := range d.Buckets {
				n += b.Count
			}
			if n != len(d.Threads) {
				t.Fatalf("buckets count %d threads, dump has %d", n, len(d.Threads))
			}
		}
	})
}

func FuzzReadJSON(f *testing.F) {
	f.Add([]byte(jvmJSONSample))
	dumptest.Seed(f, "../../testdata/real/jvm/*/*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		d, warns, err := ReadJSON(bytes.NewReader(data), "fuzz")
		if err == nil && d == nil {
			t.Fatal("no dump and no error")
		}
		dumptest.CheckWarnings(t, warns, false)
	})
}

func FuzzReadText(f *testing.F) {
	f.Add([]byte(jvmText21))
	dumptest.Seed(f, "../../testdata/real/jvm/*/thread-dump-to-file.txt", "../../testdata/cases/*/thread-dump-to-file.txt")
	f.Fuzz(func(t *testing.T, data []byte) {
		d, warns, err := ReadText(bytes.NewReader(data), "fuzz")
		if err == nil && d == nil {
			t.Fatal("no dump and no error")
		}
		dumptest.CheckWarnings(t, warns, true)
	})
}
