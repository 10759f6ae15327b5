package report

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// BenchmarkBuilderAdd gives a Builder 20,000 connections of a load, most
// of them finished normally and every 20th left in CLOSE_WAIT, as analyze
// does a million on the reference capture: the cost of Add per connection
// (ns/conn), which runs beside the read.
func BenchmarkBuilderAdd(b *testing.B) {
	var capture bytes.Buffer
	if _, err := capgen.Load(&capture, capgen.LoadOptions{Conns: 20000, Open: 2000, LeakEvery: 20, Seed: 5, Step: 10 * time.Millisecond}); err != nil {
		b.Fatal(err)
	}
	res, err := pcapstate.Read([]pcapstate.Input{{Name: "load.pcap", R: bytes.NewReader(capture.Bytes())}}, pcapstate.Options{Retain: pcapstate.RetainAll})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		bb := NewBuilder(BuildInput{})
		for i := range res.Conns {
			bb.Add(&res.Conns[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(res.Conns)), "ns/conn")
}

// BenchmarkBuilderBuild is what analyze does once the captures are read: a
// Builder given 200,000 connections of a load shaped as the reference
// capture (12,000 open at once, every 20th left in CLOSE_WAIT, one packet
// a millisecond, so that most CLOSE_WAITs last long enough to be closed
// later) builds its model. Only Build is timed (ms/op): on the reference
// capture it runs after the stream, alone, for most of the time analyze
// takes beyond conns'.
func BenchmarkBuilderBuild(b *testing.B) {
	res, err := buildBenchCapture()
	if err != nil {
		b.Fatal(err)
	}
	rest := *res
	rest.Conns = nil
	b.ReportAllocs()
	var stuck int
	for b.Loop() {
		b.StopTimer()
		bb := NewBuilder(BuildInput{})
		for j := range res.Conns {
			bb.Add(&res.Conns[j])
		}
		b.StartTimer()
		m, err := bb.Build(&rest)
		if err != nil {
			b.Fatal(err)
		}
		stuck = m.Summary.CloseWait
	}
	if stuck != 200000/20 {
		b.Fatalf("%d sockets stuck, want %d", stuck, 200000/20)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

// buildBenchCapture reads BenchmarkBuilderBuild's load once for all its
// runs.
var buildBenchCapture = sync.OnceValues(func() (*pcapstate.Result, error) {
	var capture bytes.Buffer
	if _, err := capgen.Load(&capture, capgen.LoadOptions{Conns: 200000, Open: 12000, LeakEvery: 20, Seed: 1, Step: time.Millisecond}); err != nil {
		return nil, err
	}
	return pcapstate.Read([]pcapstate.Input{{Name: "load.pcap", R: bytes.NewReader(capture.Bytes())}}, pcapstate.Options{Retain: pcapstate.RetainAll, SummarizeHalfOpen: true})
})
