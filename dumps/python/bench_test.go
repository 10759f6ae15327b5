package python

import (
	"bytes"
	"testing"

	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
)

// BenchmarkReadText reads the real faulthandler stderr, reporting lines/s.
func BenchmarkReadText(b *testing.B) {
	data := bytes.Repeat(dumptest.ReadFile(b, "testdata/faulthandler-stderr.txt"), 50)
	lines := bytes.Count(data, []byte("\n"))
	n := 0
	for b.Loop() {
		if _, err := ReadText(bytes.NewReader(data), "bench"); err != nil {
			b.Fatal(err)
		}
		n += lines
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
}
