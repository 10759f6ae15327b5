package golang

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
	"github.com/cwforensics/cwforensics/dumps/sockets"
	"github.com/cwforensics/cwforensics/internal/golden"
	"github.com/google/go-cmp/cmp"
)

// goInputs are the Go dump inputs with their goldens; dumps checks the JVM
// ones.
func goInputs(tb testing.TB) map[string]string {
	return dumptest.Inputs(tb, "../../testdata", func(name string) bool { return strings.HasPrefix(name, "go-") },
		"conformance/goroutines/go-profiler-notes", "conformance/goroutines/gostackparse",
		"conformance/goroutines/gotestsum", "real/go", "real/gotest")
}

// TestGolden reads the Go inputs (and the socket listings saved next to
// them) through the Go formats and those after them in analysis.Formats;
// analysis checks that no JVM format claims a Go dump.
func TestGolden(t *testing.T) {
	in := goInputs(t)
	if len(in) < 20 {
		t.Fatalf("found %d Go dump inputs, want the conformance set (20+)", len(in))
	}
	for path, want := range in {
		t.Run(filepath.Base(path), func(t *testing.T) {
			name := filepath.Base(path)
			data := dumptest.ReadFile(t, path)
			ev, err := dumps.Chain(append(Formats(), sockets.Formats()...)).Read(bytes.NewReader(data), name)
			if ev != nil && ev.Kind == dumps.KindGoroutines {
				ev.GoroutineDumps = withGoroutines(t, data, name, ev.GoroutineDumps)
			}
			var b bytes.Buffer
			if err != nil {
				fmt.Fprintf(&b, "error: %v\n", err)
			}
			if ev != nil {
				dumptest.WriteEvidence(&b, ev)
			}
			golden.Check(t, want, b.Bytes())
		})
	}
}

// withGoroutines reads the goroutine dumps again with ReadGoroutines, which
// keeps every goroutine, for the goldens, and checks that Read, which
// buckets them as it reads, gave the same buckets.
func withGoroutines(t *testing.T, data []byte, name string, lean []*dumps.GoroutineDump) []*dumps.GoroutineDump {
	t.Helper()
	full, _, _ := ReadGoroutines(bytes.NewReader(data), name)
	if len(full) != len(lean) {
		t.Fatalf("ReadGoroutines found %d dumps, Read %d", len(full), len(lean))
	}
	for i := range full {
		if diff := cmp.Diff(full[i].Buckets, lean[i].Buckets); diff != "" {
			t.Errorf("dump %d: Read's buckets differ from ReadGoroutines' (-full +read):\n%s", i, diff)
		}
		if lean[i].Goroutines != nil || lean[i].Total() != len(full[i].Goroutines) {
			t.Errorf("dump %d: Read kept %d goroutines and counted %d, want none kept and %d counted", i, len(lean[i].Goroutines), lean[i].Total(), len(full[i].Goroutines))
		}
	}
	return full
}
