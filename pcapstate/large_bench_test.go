package pcapstate_test

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/cwforensics/cwforensics/internal/measure"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// largeEnv names the environment variable that enables the large
// benchmark and test: the directory where the 1.5 GB capture is written
// once and then reused (it takes a few minutes to make).
const largeEnv = "CWFORENSICS_BENCH_LARGE"

// largeOptions shape the reference capture: a million connections,
// 60,000 open at once, every 20th left in CLOSE_WAIT, a packet every
// millisecond (the capture spans 3.6 hours, far more than the two minutes
// finished connections linger), about 13 million packets.
var largeOptions = capgen.LoadOptions{Conns: 1000000, Open: 60000, LeakEvery: 20, Seed: 1, Step: time.Millisecond}

// largeCapture returns the path of the large capture and what it holds,
// writing it into $CWFORENSICS_BENCH_LARGE on first use. It skips the
// caller with -short or when the variable is unset.
func largeCapture(tb testing.TB) (string, capgen.LoadStats) {
	tb.Helper()
	dir := os.Getenv(largeEnv)
	if testing.Short() || dir == "" {
		tb.Skipf("set %s=DIR (and no -short) to run on the 1M-connection capture written to DIR", largeEnv)
	}
	o := largeOptions
	path := filepath.Join(dir, fmt.Sprintf("load-%d-%d-%d.pcap", o.Conns, o.Open, o.LeakEvery))
	stats := path + ".stats"
	var st capgen.LoadStats
	if b, err := os.ReadFile(stats); err == nil {
		if _, err := fmt.Sscan(string(b), &st.Packets, &st.Conns, &st.CloseWait, &st.MaxOpen); err == nil {
			return path, st
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	st, err = capgen.Load(w, o)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.WriteFile(stats, fmt.Appendf(nil, "%d %d %d %d\n", st.Packets, st.Conns, st.CloseWait, st.MaxOpen), 0o644)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return path, st
}

// readLarge reads the large capture as `conns --state close-wait` does.
func readLarge(tb testing.TB, path string) *pcapstate.Result {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	res, err := pcapstate.Read([]pcapstate.Input{{Name: "load.pcap", R: f}}, pcapstate.Options{Retain: pcapstate.RetainNone})
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// BenchmarkReplayLarge reads the reference capture (a million
// connections, 60,000 open at once, 13 million packets) from a file,
// reporting packets per wall second, packets per CPU second (all
// goroutines, the collections between reads left out) and the peak heap.
func BenchmarkReplayLarge(b *testing.B) {
	path, st := largeCapture(b)
	b.ReportAllocs()
	runtime.GC()
	var rss uint64
	rssOK := measure.ResetPeakRSS()
	peak := measure.Start()
	cpu0 := measure.CPUTime()
	packets := 0
	var gcCPU time.Duration
	for b.Loop() {
		// Collect the previous read's garbage and return it to the OS
		// outside the timer, so that each read's peaks are its own, as in
		// a fresh process.
		b.StopTimer()
		c := measure.CPUTime()
		debug.FreeOSMemory()
		gcCPU += measure.CPUTime() - c
		measure.ResetPeakRSS()
		b.StartTimer()
		res := readLarge(b, path)
		packets += int(res.Packets)
		rss = max(rss, measure.PeakRSS())
	}
	cpu := measure.CPUTime() - cpu0 - gcCPU
	peak.End()
	if packets != b.N*st.Packets {
		b.Fatalf("read %d packets in %d runs, want %d each", packets, b.N, st.Packets)
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(packets)/cpu.Seconds(), "packets/cpu-s")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(peak.Heap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peak.Held)/(1<<20), "peak-held-MiB")
	if rssOK {
		b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
	}
}

// maxLargeMemory is the budget for reading the reference capture:
// the process's peak resident memory (the Go heap, the slab mapped outside
// it, the program itself) where it can be measured (Linux), else the
// memory the Go runtime holds from the OS.
const maxLargeMemory = 100 << 20

// TestLargeMemory checks the verdicts on the reference capture and bounds
// the memory: it follows the 60,000 connections open at once (and the
// 50,000 leaked ones), not the million seen.
func TestLargeMemory(t *testing.T) {
	path, st := largeCapture(t)
	runtime.GC()
	rssOK := measure.ResetPeakRSS()
	peak := measure.Start()
	res := readLarge(t, path)
	peak.End()
	rss := measure.PeakRSS()
	confirmed := 0
	for _, c := range res.Conns {
		if c.Verdict == pcapstate.CloseWaitConfirmed {
			confirmed++
		}
	}
	if confirmed != st.CloseWait || int(res.Packets) != st.Packets || int(res.Connections) != st.Conns {
		t.Errorf("confirmed %d of %d, packets %d of %d, connections %d of %d", confirmed, st.CloseWait, res.Packets, st.Packets, res.Connections, st.Conns)
	}
	t.Logf("%d conns at the end; peak Go heap %.1f MiB, peak held by the Go runtime %.1f MiB, peak resident %.1f MiB (the issue's budget: 100 MiB)",
		len(res.Conns), float64(peak.Heap)/(1<<20), float64(peak.Held)/(1<<20), float64(rss)/(1<<20))
	used, what := peak.Held, "the Go runtime held"
	if rssOK {
		used, what = rss, "the process's peak resident memory was"
	}
	if used > maxLargeMemory {
		t.Errorf("%s %.1f MiB, want at most %d MiB", what, float64(used)/(1<<20), maxLargeMemory>>20)
	}
}
