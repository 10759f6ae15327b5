package golang

import (
	"bytes"
	"testing"

	"github.com/cwforensics/cwforensics/dumps/internal/dumptest"
)

func BenchmarkReadGoroutines(b *testing.B) {
	dumptest.BenchLines(b, conf+"goroutines/gostackparse/frameselided_goroutine.txt", func(d []byte) error {
		_, _, err := ReadGoroutines(bytes.NewReader(d), "bench")
		return err
	})
}

func BenchmarkReadGoroutineProfile(b *testing.B) {
	dumptest.BenchLines(b, conf+"goroutines/go-profiler-notes/2.net.http.pprof.goroutine.debug1.txt", func(d []byte) error {
		_, _, err := ReadGoroutineProfile(bytes.NewReader(d), "bench")
		return err
	})
}
