package main

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/internal/measure"
)

// TestLargeConnsMemory runs `conns --state close-wait` on issue 13's
// reference capture, as a user would (every row written, here to a hash),
// and bounds the peak resident memory of the whole run at the 100
// MiB, with the test program's own memory in it. pcapstate's
// TestLargeMemory bounds the read alone; the rows kept and written after it
// once took conns above the bound (a doubling slice and the reserved slots'
// queue), unseen by that test. It skips unless CWFORENSICS_BENCH_LARGE names
// the directory where pcapstate's large tests wrote the capture.
func TestLargeConnsMemory(t *testing.T) {
	dir := os.Getenv("CWFORENSICS_BENCH_LARGE")
	if testing.Short() || dir == "" {
		t.Skip("set CWFORENSICS_BENCH_LARGE=DIR and run pcapstate's TestLargeMemory first, which writes the capture there")
	}
	path := filepath.Join(dir, "load-1000000-60000-20.pcap")
	if _, err := os.Stat(path); err != nil {
		t.Skip(err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	if !measure.ResetPeakRSS() {
		t.Skip("no way to reset the peak resident memory here")
	}
	before := measure.PeakRSS()
	h := sha256.New()
	var stderr strings.Builder
	code := run([]string{"conns", "--state", "close-wait", "--format", "tsv", "--progress", "never", path}, nil, h, &stderr)
	rss := measure.PeakRSS()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	t.Logf("peak resident %.1f MiB, of which %.1f MiB before the run (the issue's budget: 100 MiB); rows %x", float64(rss)/(1<<20), float64(before)/(1<<20), h.Sum(nil)[:8])
	if rss > 100<<20 {
		t.Errorf("conns peaked at %.1f MiB resident, want at most 100 MiB", float64(rss)/(1<<20))
	}
}
