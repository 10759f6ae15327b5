package pcapstate

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// BenchmarkEngineLarge runs the state machines alone (no reading or
// decoding) over the first 4 million segments of the capture that
// BenchmarkReplayLarge writes into $CWFORENSICS_BENCH_LARGE: 60,000
// connections open at once and the leaked ones piling up, as in the whole
// capture. It measures the engine goroutine, the one that bounds Read's
// speed, on one core. The first million segments, where the table and the
// slab grow to their working size, run outside the timer: the rest is
// the steady state of a long capture.
func BenchmarkEngineLarge(b *testing.B) {
	dir := os.Getenv("CWFORENSICS_BENCH_LARGE")
	if testing.Short() || dir == "" {
		b.Skip("set CWFORENSICS_BENCH_LARGE=DIR and run BenchmarkReplayLarge first, which writes the capture there")
	}
	f, err := os.Open(filepath.Join(dir, "load-1000000-60000-20.pcap"))
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	pr, err := openCapture(f)
	if err != nil {
		b.Fatal(err)
	}
	const n = 4 << 20
	seed := newTracker(nil).table.seed
	items := make([]item, 0, n)
	var (
		dec Decoder
		seg Segment
		rec record
	)
	for i := uint32(1); len(items) < n && pr.next(&rec) == nil; i++ {
		if dec.Decode(rec.link, rec.data, &seg) == SkipNone {
			items = items[:len(items)+1]
			items[len(items)-1].set(&seg, seed, rec.ts, ref{1, i})
		}
	}
	runtime.GC()
	b.ReportAllocs()
	const warm = 1 << 20
	for b.Loop() {
		b.StopTimer()
		tr := newTracker(func(*conn) {})
		tr.table.seed = seed
		tr.run(items[:warm])
		b.StartTimer()
		tr.run(items[warm:])
		b.StopTimer()
		tr.release()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*(len(items)-warm))/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkProducerLarge runs the other stage alone: the producer reads,
// merges and decodes the capture BenchmarkReplayLarge writes into
// $CWFORENSICS_BENCH_LARGE into batches of items, which are handed
// straight back, with no engine. With BenchmarkEngineLarge it says how
// Read's two goroutines share the work: each runs on a core of its own,
// so a read takes at least the longer of the two, and both together
// bound the packets a second on two cores.
func BenchmarkProducerLarge(b *testing.B) {
	dir := os.Getenv("CWFORENSICS_BENCH_LARGE")
	if testing.Short() || dir == "" {
		b.Skip("set CWFORENSICS_BENCH_LARGE=DIR and run BenchmarkReplayLarge first, which writes the capture there")
	}
	path := filepath.Join(dir, "load-1000000-60000-20.pcap")
	if _, err := os.Stat(path); err != nil {
		b.Skip(err)
	}
	packets := 0
	seed := newTracker(nil).table.seed
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		src, err := openInput(Input{Name: "load.pcap", R: f})
		if err != nil {
			b.Fatal(err)
		}
		src.stats = &FileStats{linkSeen: map[uint32]bool{}}
		p := &producer{srcs: []*source{src}, seed: seed}
		full := make(chan *batch, pipelineDepth)
		free := make(chan *batch, pipelineDepth+1)
		go p.run(full, free)
		for bt := range full {
			bt.items = bt.items[:0]
			free <- bt
		}
		f.Close()
		if p.err != nil {
			b.Fatal(p.err)
		}
		packets += int(p.packets)
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}
