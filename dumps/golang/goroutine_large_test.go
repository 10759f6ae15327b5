package golang

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/internal/measure"
)

// largeGoroutines is the shape of issue 13's goroutine dump: a million
// goroutines in four wait states across fifty worker functions, each with a
// created-by frame, about 245 bytes a goroutine.
const (
	largeGoroutines = 1_000_000
	largeWorkers    = 50
)

// writeGoroutineLoad writes a debug=2 style dump of n goroutines: worker w
// (of largeWorkers) waits in one of four states, with a wait time on some,
// and was started by main.startWorkers.
func writeGoroutineLoad(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	states := [...]struct{ state, fn, file string }{
		{"IO wait", "internal/poll.runtime_pollWait(0x7f3a5c2e1e28, 0x72)", "/usr/lib/go/src/runtime/netpoll.go:351 +0x85"},
		{"chan receive", "runtime.gopark(0xc000022f28?, 0x0?, 0x0?, 0x0?, 0x0?)", "/usr/lib/go/src/runtime/proc.go:435 +0xce"},
		{"select", "runtime.selectgo(0xc000067f28, 0xc000067f00, 0x0?, 0x0, 0x0?, 0x1)", "/usr/lib/go/src/runtime/select.go:351 +0x837"},
		{"sync.Mutex.Lock", "sync.runtime_SemacquireMutex(0xc00001c0d8?, 0x0?, 0x1?)", "/usr/lib/go/src/runtime/sema.go:95 +0x25"},
	}
	fmt.Fprintf(bw, "goroutine 1 [running]:\nmain.main()\n\t/srv/app/main.go:30 +0x1d\n\n")
	for i := range n {
		s := states[i%len(states)]
		worker := (i / len(states)) % largeWorkers
		wait := ""
		if i%3 == 0 {
			wait = fmt.Sprintf(", %d minutes", 1+i%40)
		}
		fmt.Fprintf(bw, "goroutine %d [%s%s]:\n%s\n\t%s\nmain.worker%02d(0xc0000a2000, {0xc000300000?, 0x1000, 0x1000})\n\t/srv/app/worker.go:%d +0x1d\ncreated by main.startWorkers in goroutine 1\n\t/srv/app/main.go:42 +0x25\n\n",
			i+2, s.state, wait, s.fn, s.file, worker, 100+worker)
	}
	return bw.Flush()
}

// largeGoroutineDump writes the dump to a temporary file once per test.
func largeGoroutineDump(tb testing.TB) (string, int64) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "goroutines.txt")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := writeGoroutineLoad(f, largeGoroutines); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return path, fi.Size()
}

func readLargeGoroutines(tb testing.TB, path string) *dumps.Evidence {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	ev, err := dumps.Chain(Formats()).Read(f, "goroutines.txt")
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

// BenchmarkReadGoroutinesLarge reads the million-goroutine dump from a file,
// as analyze does (Sniff, then the parser): bytes/s and goroutines/s.
func BenchmarkReadGoroutinesLarge(b *testing.B) {
	path, size := largeGoroutineDump(b)
	b.SetBytes(size)
	n, reads := 0, 0
	cpu0 := measure.CPUTime()
	for b.Loop() {
		ev := readLargeGoroutines(b, path)
		n += countGoroutines(ev)
		reads++
	}
	cpu := (measure.CPUTime() - cpu0).Seconds()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "goroutines/s")
	b.ReportMetric(float64(size)*float64(reads)/1e6/cpu, "MB/cpu-s")
}

func countGoroutines(ev *dumps.Evidence) int {
	n := 0
	for _, d := range ev.GoroutineDumps {
		for _, bk := range d.Buckets {
			n += bk.Count
		}
	}
	return n
}

// maxLargeGoroutineMemory is issue 13's budget for the million-goroutine
// dump.
const maxLargeGoroutineMemory = 256 << 20

// TestLargeGoroutineMemory reads the million-goroutine dump and bounds the
// Go heap's peak: the dump is bucketed while it is read, so memory follows
// the distinct stacks and one small record a goroutine, not the bytes read.
func TestLargeGoroutineMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads a 245 MB dump")
	}
	path, size := largeGoroutineDump(t)
	runtime.GC()
	peak := measure.Start()
	ev := readLargeGoroutines(t, path)
	peak.End()
	if got := countGoroutines(ev); got != largeGoroutines+1 {
		t.Errorf("read %d goroutines, want %d", got, largeGoroutines+1)
	}
	buckets := 0
	for _, d := range ev.GoroutineDumps {
		buckets += len(d.Buckets)
	}
	if want := 4*largeWorkers + 1; buckets != want {
		t.Errorf("%d buckets, want %d", buckets, want)
	}
	t.Logf("%.0f MB dump, %d buckets; peak Go heap %.1f MiB, peak held by the Go runtime %.1f MiB (budget %d MiB)",
		float64(size)/1e6, buckets, float64(peak.Heap)/(1<<20), float64(peak.Held)/(1<<20), maxLargeGoroutineMemory>>20)
	if peak.Held > maxLargeGoroutineMemory {
		t.Errorf("the Go runtime held %.1f MiB, want at most %d MiB", float64(peak.Held)/(1<<20), maxLargeGoroutineMemory>>20)
	}
}

func TestIDSet(t *testing.T) {
	var s idSet
	ids := []int64{0, 1, 63, 64, 1000, idSetBits - 1, idSetBits, 1 << 40, -5}
	for _, id := range ids {
		if s.has(id) {
			t.Fatalf("empty set has %d", id)
		}
		s.add(id)
		if !s.has(id) {
			t.Fatalf("set lacks %d after add", id)
		}
	}
	for _, id := range []int64{2, 62, 65, 999, 1001, idSetBits + 1, 1<<40 + 1, -4} {
		if s.has(id) {
			t.Errorf("set has %d, never added", id)
		}
	}
	s.reset()
	for _, id := range ids {
		if s.has(id) {
			t.Errorf("set has %d after reset", id)
		}
	}
	s.add(5)
	if !s.has(5) || s.has(1000) {
		t.Errorf("after reset and add(5): has(5)=%t has(1000)=%t", s.has(5), s.has(1000))
	}
}
