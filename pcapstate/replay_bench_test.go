package pcapstate_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/internal/measure"
	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// loadCapture writes a synthetic capture of conns connections, open at
// once, every 20th left in CLOSE_WAIT, a packet every 10 ms: the capture
// spans 43 minutes, so most finished connections outlive their two minutes
// of linger and are released.
func loadCapture(tb testing.TB, conns, open int) ([]byte, capgen.LoadStats) {
	tb.Helper()
	var b bytes.Buffer
	st, err := capgen.Load(&b, capgen.LoadOptions{Conns: conns, Open: open, LeakEvery: 20, Seed: 1, Step: 10 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	return b.Bytes(), st
}

// TestLoadVerdicts checks the engine on the benchmark's capture: exactly
// the leaked connections are in confirmed CLOSE_WAIT, a Stream hands over
// every connection once, and finished connections are released as the
// capture is read (Read, retaining none, keeps only those left at the end).
func TestLoadVerdicts(t *testing.T) {
	data, st := loadCapture(t, 20000, 2000)
	res, err := pcapstate.Read([]pcapstate.Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, pcapstate.Options{Retain: pcapstate.RetainNone})
	if err != nil {
		t.Fatal(err)
	}
	confirmed := 0
	for _, c := range res.Conns {
		if c.Verdict == pcapstate.CloseWaitConfirmed {
			confirmed++
		}
	}
	if confirmed != st.CloseWait || int(res.Packets) != st.Packets || int(res.Connections) != st.Conns {
		t.Errorf("confirmed %d of %d, packets %d of %d, connections %d of %d", confirmed, st.CloseWait, res.Packets, st.Packets, res.Connections, st.Conns)
	}
	// Left at the end: the leaked, the open and those finished in the last
	// two minutes (20,000 connections over 43 minutes: about 930).
	if len(res.Conns) > st.CloseWait+st.MaxOpen+st.Conns/10 {
		t.Errorf("%d connections left at the end: finished connections are not released", len(res.Conns))
	}
	s, err := pcapstate.NewStream([]pcapstate.Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, pcapstate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	handed := 0
	for s.Next() {
		handed++
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if handed != st.Conns || s.Result().Conns != nil {
		t.Errorf("the stream handed over %d connections of %d, and its Result has %d", handed, st.Conns, len(s.Result().Conns))
	}
}

// BenchmarkReplay reads, decodes and tracks a capture of 20,000
// connections, 2,000 open at once, reporting packets per second.
func BenchmarkReplay(b *testing.B) {
	data, st := loadCapture(b, 20000, 2000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	packets := 0
	for b.Loop() {
		res, err := pcapstate.Read([]pcapstate.Input{{Name: "load.pcap", R: bytes.NewReader(data)}},
			pcapstate.Options{Retain: pcapstate.RetainNone})
		if err != nil {
			b.Fatal(err)
		}
		packets += int(res.Packets)
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(st.Packets), "packets/op")
}

// BenchmarkReplayStream is BenchmarkReplay reading a Stream that hands
// over every connection, as analyze reads the captures: the difference is
// the cost of exporting the finished connections and handing them over.
func BenchmarkReplayStream(b *testing.B) {
	data, st := loadCapture(b, 20000, 2000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	packets := 0
	for b.Loop() {
		s, err := pcapstate.NewStream([]pcapstate.Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, pcapstate.Options{Retain: pcapstate.RetainAll})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for s.Next() {
			n++
		}
		if err := s.Err(); err != nil {
			b.Fatal(err)
		}
		if n != st.Conns {
			b.Fatalf("%d connections handed over, want %d", n, st.Conns)
		}
		packets += int(s.Result().Packets)
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(st.Packets), "packets/op")
}

// BenchmarkReplayHTTP is BenchmarkReplay with every data segment
// beginning an HTTP/1.1 message (a request line from the client, a status
// line from the server): the decoder recognises each and the engine
// records it, prefetching the whole conn.
func BenchmarkReplayHTTP(b *testing.B) {
	var buf bytes.Buffer
	st, err := capgen.Load(&buf, capgen.LoadOptions{Conns: 20000, Open: 2000, LeakEvery: 20, Seed: 1, Step: 10 * time.Millisecond, HTTP: true})
	if err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	packets := 0
	for b.Loop() {
		res, err := pcapstate.Read([]pcapstate.Input{{Name: "load.pcap", R: bytes.NewReader(data)}},
			pcapstate.Options{Retain: pcapstate.RetainNone})
		if err != nil {
			b.Fatal(err)
		}
		packets += int(res.Packets)
		if c := res.Conns[0]; c.Local.LastStatus != 200 || c.Remote.LastRequest != pcapstate.MethodGET {
			b.Fatalf("last exchange not recognised: %+v", c)
		}
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(st.Packets), "packets/op")
}

// TestLoadManyChunks reads a capture whose open connections need several
// chunks of the engine's slab (the first, on the Go heap, and mapped
// ones), so that the slab grows, is compacted at the end and is released
// while exporting: every connection comes out once, with its verdict.
func TestLoadManyChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30,000-connection capture")
	}
	data, st := loadCapture(t, 30000, 16000)
	for _, retain := range []pcapstate.Retain{pcapstate.RetainAll, pcapstate.RetainNone} {
		res, err := pcapstate.Read([]pcapstate.Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, pcapstate.Options{Retain: retain})
		if err != nil {
			t.Fatal(err)
		}
		confirmed := 0
		type id struct {
			l, r  netip.AddrPort
			first time.Time
		}
		seen := map[id]bool{}
		for _, c := range res.Conns {
			if c.Verdict == pcapstate.CloseWaitConfirmed {
				confirmed++
			}
			k := id{c.Local.Addr, c.Remote.Addr, c.First}
			if seen[k] {
				t.Fatalf("retain %d: %v -> %v exported twice", retain, c.Local.Addr, c.Remote.Addr)
			}
			seen[k] = true
		}
		if confirmed != st.CloseWait || int(res.Connections) != st.Conns {
			t.Errorf("retain %d: confirmed %d of %d, connections %d of %d", retain, confirmed, st.CloseWait, res.Connections, st.Conns)
		}
		if retain == pcapstate.RetainAll && len(res.Conns) != st.Conns {
			t.Errorf("retain all: %d conns, want %d", len(res.Conns), st.Conns)
		}
	}
}

// BenchmarkReplayFilter is BenchmarkReplay with filters that keep every
// packet of the capture (its server is port 8080), so that the difference
// is the filter's cost alone.
func BenchmarkReplayFilter(b *testing.B) {
	data, st := loadCapture(b, 20000, 2000)
	for _, expr := range []string{"", "tcp port 8080", "tcp port 8080 and not tcp[tcpflags] & tcp-rst != 0 and not host 192.0.2.1"} {
		name := expr
		if name == "" {
			name = "none"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			packets := 0
			cpu0 := measure.CPUTime()
			for b.Loop() {
				res, err := pcapstate.Read([]pcapstate.Input{{Name: "load.pcap", R: bytes.NewReader(data)}},
					pcapstate.Options{Retain: pcapstate.RetainNone, Filter: expr})
				if err != nil {
					b.Fatal(err)
				}
				if res.Filtered != 0 {
					b.Fatalf("%q filtered out %d packets", expr, res.Filtered)
				}
				packets += int(res.Packets)
			}
			b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
			// Both goroutines' CPU time: on a shared machine wall time
			// counts the waits.
			b.ReportMetric(float64(packets)/(measure.CPUTime()-cpu0).Seconds(), "packets/cpu-s")
			b.ReportMetric(float64(st.Packets), "packets/op")
		})
	}
}

// BenchmarkReplayProgress is BenchmarkReplay with Options.Packets set, as
// a progress display sets it: the difference is the counter's cost.
func BenchmarkReplayProgress(b *testing.B) {
	data, st := loadCapture(b, 20000, 2000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var n atomic.Uint64
	for b.Loop() {
		if _, err := pcapstate.Read([]pcapstate.Input{{Name: "load.pcap", R: bytes.NewReader(data)}},
			pcapstate.Options{Retain: pcapstate.RetainNone, Packets: &n}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n.Load()*uint64(b.N))/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(st.Packets), "packets/op")
}

// BenchmarkPartialWrite writes the partial state of BenchmarkReplay's
// capture (pcapstate.WritePartial): the cost of a slice's task.
func BenchmarkPartialWrite(b *testing.B) {
	data, st := loadCapture(b, 20000, 2000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var size int
	for b.Loop() {
		var out bytes.Buffer
		if _, err := pcapstate.WritePartial(&out, []pcapstate.Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, pcapstate.Options{}); err != nil {
			b.Fatal(err)
		}
		size = out.Len()
	}
	b.ReportMetric(float64(st.Packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(len(data))/float64(size), "capture/partial")
}

// BenchmarkPartialRead is BenchmarkReplay reading the capture's partial
// state instead: the merge's cost.
func BenchmarkPartialRead(b *testing.B) {
	data, st := loadCapture(b, 20000, 2000)
	var part bytes.Buffer
	if _, err := pcapstate.WritePartial(&part, []pcapstate.Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, pcapstate.Options{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(part.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pcapstate.Read([]pcapstate.Input{{Name: "load.cwfp", R: bytes.NewReader(part.Bytes())}},
			pcapstate.Options{Retain: pcapstate.RetainNone}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.Packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkPartialReadHosts is BenchmarkPartialRead on the partial state
// of BenchmarkReplay's capture as the captures of 8 hosts taken at the
// same time (splitByConn), written at once: the records of the 8
// interleave in every block, put back in order as they are read.
func BenchmarkPartialReadHosts(b *testing.B) {
	data, st := loadCapture(b, 20000, 2000)
	var ins []pcapstate.Input
	for i, f := range splitByConn(b, data, 8) {
		ins = append(ins, pcapstate.Input{Name: fmt.Sprintf("host%d.pcap", i), R: bytes.NewReader(f)})
	}
	var part bytes.Buffer
	if _, err := pcapstate.WritePartial(&part, ins, pcapstate.Options{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(part.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pcapstate.Read([]pcapstate.Input{{Name: "hosts.cwfp", R: bytes.NewReader(part.Bytes())}},
			pcapstate.Options{Retain: pcapstate.RetainNone}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.Packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(len(data))/float64(part.Len()), "capture/partial")
}
