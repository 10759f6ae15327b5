package jvm

import (
	"bytes"
	"testing"

	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
)

// BenchmarkReadJstack reads the 263 KB, 428-thread playframework dump.
func BenchmarkReadJstack(b *testing.B) {
	dumptest.BenchLines(b, conf+"jstack/playframework_threaddump.txt", func(d []byte) error {
		_, _, err := ReadJstack(bytes.NewReader(d), "bench")
		return err
	})
}

// BenchmarkRead is Sniff plus the parser, as the CLI runs it.
func BenchmarkRead(b *testing.B) {
	dumptest.BenchLines(b, conf+"jstack/playframework_threaddump.txt", func(d []byte) error {
		_, err := chain().Read(bytes.NewReader(d), "bench")
		return err
	})
}
