package report

import (
	"bytes"
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
