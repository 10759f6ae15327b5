package pcapstate

import (
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/internal/measure"
)

// BenchmarkEngineFlood runs the engine alone (no reading or decoding) on
// the SYN flood that BenchmarkSYNFlood writes into
// $CWFORENSICS_BENCH_LARGE, in batches as the producer hands them over,
// then ends the stream as Read does with the half-open connections
// counted: the goroutine that bounds the flood's read, on one core. It
// reports the CPU time of the segments (run-cpu-ms/op) and of the end
// (end-cpu-ms/op) apart, and their wall times (run-ms/op, end-ms/op).
func BenchmarkEngineFlood(b *testing.B) {
	dir := os.Getenv("CWFORENSICS_BENCH_LARGE")
	if testing.Short() || dir == "" {
		b.Skip("set CWFORENSICS_BENCH_LARGE=DIR and run BenchmarkSYNFlood first, which writes the flood there")
	}
	f, err := os.Open(filepath.Join(dir, "flood-2000000-20000-1.pcap"))
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	pr, err := openCapture(f)
	if err != nil {
		b.Fatal(err)
	}
	seed := newTracker(nil).table.seed
	items := make([]item, 0, 2000000)
	var (
		dec Decoder
		seg Segment
		rec record
	)
	for i := uint32(1); pr.next(&rec) == nil; i++ {
		if dec.Decode(rec.link, rec.data, &seg) == SkipNone {
			items = append(items, item{})
			items[len(items)-1].set(&seg, seed, rec.ts, ref{1, i})
		}
	}
	srcs := map[addr128]bool{}
	for i := range items {
		if items[i].srcLo {
			srcs[items[i].key.lo] = true
		} else {
			srcs[items[i].key.hi] = true
		}
	}
	sources := len(srcs)
	srcs = nil
	runtime.GC()
	b.ReportAllocs()
	var run, end, runWall, endWall time.Duration
	for b.Loop() {
		c0, w0 := measure.CPUTime(), time.Now()
		s := &Stream{opts: Options{Retain: RetainNone, SummarizeHalfOpen: true}, log: slog.New(slog.DiscardHandler), res: &Result{}, pr: &producer{}}
		s.tr = newTracker(s.retire)
		s.tr.table.seed = seed
		s.ex = exporter{names: []string{"flood.pcap"}, tr: s.tr}
		for i := 0; i < len(items); i += batchSize {
			s.tr.run(items[i:min(i+batchSize, len(items))])
		}
		c1, w1 := measure.CPUTime(), time.Now()
		runWall += w1.Sub(w0)
		if !s.endOfCaptures() {
			b.Fatal(s.Err())
		}
		for s.Next() {
			b.Fatal("a connection handed over")
		}
		c2 := measure.CPUTime()
		endWall += time.Since(w1)
		run += c1 - c0
		end += c2 - c1
		if h := s.res.HalfOpen; len(h) != 1 || int(h[0].Conns) != len(items) || int(h[0].Sources) != sources {
			b.Fatalf("half-open %+v, want %d from %d sources", h, len(items), sources)
		}
	}
	b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(run.Milliseconds())/float64(b.N), "run-cpu-ms/op")
	b.ReportMetric(float64(end.Milliseconds())/float64(b.N), "end-cpu-ms/op")
	b.ReportMetric(float64(runWall.Microseconds())/1000/float64(b.N), "run-ms/op")
	b.ReportMetric(float64(endWall.Microseconds())/1000/float64(b.N), "end-ms/op")
}
