package dumps

import (
	"bytes"
	"testing"
)

// BenchmarkReadJstack reads the 263 KB, 428-thread playframework dump.
func BenchmarkReadJstack(b *testing.B) {
	benchLines(b, conf+"jstack/playframework_threaddump.txt", func(d []byte) error {
		_, _, err := ReadJstack(bytes.NewReader(d), "bench")
		return err
	})
}

// BenchmarkRead is Sniff plus the parser, as the CLI runs it.
func BenchmarkRead(b *testing.B) {
	benchLines(b, conf+"jstack/playframework_threaddump.txt", func(d []byte) error {
		_, err := testChain().Read(bytes.NewReader(d), "bench")
		return err
	})
}

func benchLines(b *testing.B, path string, read func([]byte) error) {
	data := readTestFile(b, path)
	lines := bytes.Count(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	n := 0
	for b.Loop() {
		if err := read(data); err != nil {
			b.Fatal(err)
		}
		n += lines
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
}
