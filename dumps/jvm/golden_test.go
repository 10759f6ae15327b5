package jvm

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
	"github.com/cwforensics/cwforensics/internal/golden"
)

// jvmInputs are the JVM dump inputs with their goldens; dumps/golang
// checks the Go ones (testdata/dumps/go-*, the goroutine directories).
func jvmInputs(tb testing.TB) map[string]string {
	return dumptest.Inputs(tb, "../../testdata", func(name string) bool { return !strings.HasPrefix(name, "go-") },
		"conformance/jstack", "real/jvm/jdk17", "real/jvm/jdk25")
}

func TestGolden(t *testing.T) {
	in := jvmInputs(t)
	if len(in) < 20 {
		t.Fatalf("found %d JVM dump inputs, want the conformance set (20+)", len(in))
	}
	for path, want := range in {
		t.Run(filepath.Base(path), func(t *testing.T) {
			name := filepath.Base(path)
			data := dumptest.ReadFile(t, path)
			ev, err := chain().Read(bytes.NewReader(data), name)
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
