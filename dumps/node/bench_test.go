package node

import (
	"bytes"
	"testing"

	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
)

// BenchmarkReadReport reads the real report of 9 tcp handles, reporting
// reports/s.
func BenchmarkReadReport(b *testing.B) {
	data := dumptest.ReadFile(b, "testdata/unconsumed.json")
	n := 0
	for b.Loop() {
		if _, _, err := ReadReport(bytes.NewReader(data), "bench"); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "reports/s")
}
