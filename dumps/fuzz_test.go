package dumps

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func FuzzReadJstack(f *testing.F) {
	seed(f, conf+"jstack/*", "../testdata/dumps/*.txt", "../testdata/real/jvm/*/*")
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, warns, err := ReadJstack(bytes.NewReader(data), "fuzz")
		if err != nil && !errors.Is(err, bufio.ErrTooLong) {
			t.Fatalf("in-memory input failed: %v", err)
		}
		checkWarnings(t, warns, true)
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

func FuzzReadJVMJSON(f *testing.F) {
	f.Add([]byte(jvmJSONSample))
	seed(f, "../testdata/real/jvm/*/*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		d, warns, err := ReadJVMJSON(bytes.NewReader(data), "fuzz")
		if err == nil && d == nil {
			t.Fatal("no dump and no error")
		}
		checkWarnings(t, warns, false)
	})
}

func FuzzReadJVMText(f *testing.F) {
	f.Add([]byte(jvmText21))
	seed(f, "../testdata/real/jvm/*/thread-dump-to-file.txt", "../testdata/cases/*/thread-dump-to-file.txt")
	f.Fuzz(func(t *testing.T, data []byte) {
		d, warns, err := ReadJVMText(bytes.NewReader(data), "fuzz")
		if err == nil && d == nil {
			t.Fatal("no dump and no error")
		}
		checkWarnings(t, warns, true)
	})
}

// seed adds every file matching the patterns to the corpus.
func seed(f *testing.F, patterns ...string) {
	f.Helper()
	for _, p := range patterns {
		files, _ := filepath.Glob(p)
		for _, file := range files {
			if st, err := os.Stat(file); err != nil || st.IsDir() {
				continue
			}
			f.Add(readTestFile(f, file))
		}
	}
}

func checkWarnings(t *testing.T, warns []Warning, lines bool) {
	t.Helper()
	for _, w := range warns {
		if w.Pos.File != "fuzz" || (lines && w.Pos.Line < 1) || w.Msg == "" {
			t.Fatalf("bad warning %+v", w)
		}
	}
}
