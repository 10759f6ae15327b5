package applog

import (
	"bytes"
	"testing"
)

// BenchmarkReadLog reads a mix of the log formats, reporting lines/s.
func BenchmarkReadLog(b *testing.B) {
	var mix []byte
	for _, f := range []string{"mixed-plain.log", "json-lines.log", "logfmt.log", "journal.json", "syslog.log"} {
		mix = append(mix, readFile(b, "testdata/"+f)...)
	}
	data := bytes.Repeat(mix, 200)
	lines := bytes.Count(data, []byte("\n"))
	n := 0
	for b.Loop() {
		if _, _, _, err := ReadLog(bytes.NewReader(data), "bench"); err != nil {
			b.Fatal(err)
		}
		n += lines
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
}
