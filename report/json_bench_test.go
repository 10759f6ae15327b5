package report_test

import (
	"io"
	"testing"

	"github.com/cwforensics/cwforensics/report"
	"github.com/cwforensics/cwforensics/report/internal/sample"
)

// BenchmarkWriteJSON writes the JSON report of an incident of 50,000
// sockets stuck in one process, one finding that cites them all (its
// sockets and its evidence, 3 MB of the 27 MB): whole, and its head
// alone (the model without its top-level sockets list, the findings most
// of it), which is what analyze wrote through encoding/json before the
// findings were written field by field.
func BenchmarkWriteJSON(b *testing.B) {
	m := sample.Stuck(50_000, 1)
	if err := m.Finalize(); err != nil {
		b.Fatal(err)
	}
	head := *m
	head.Sockets = nil
	for _, bb := range []struct {
		name string
		m    *report.Model
	}{{"whole", m}, {"head", &head}} {
		b.Run(bb.name, func(b *testing.B) {
			var w countWriter
			if err := report.WriteJSON(&w, bb.m); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(w.n)
			b.ReportAllocs()
			for b.Loop() {
				if err := report.WriteJSON(io.Discard, bb.m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// countWriter counts the bytes written to it.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}
