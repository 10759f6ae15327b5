package pcapstate

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// TestSpoolStoppedBeforeTurn: a capture whose writer had not started when
// the spools were stopped (a Stream closed early, one job) is not read at
// all: its writer ends at once instead of decoding it into a spool no one
// reads.
func TestSpoolStoppedBeforeTurn(t *testing.T) {
	data := streamCapture(t) // larger than what opening it reads ahead
	// The first capture's packets come through a pipe, so that its writer
	// holds the only job until the spools are stopped.
	pr, pw := io.Pipe()
	go func() { pw.Write(data[:64]) }() // the pcap header and a packet's start
	first, err := openInput(Input{Name: "a.pcap", R: pr})
	if err != nil {
		t.Fatal(err)
	}
	cr := &countingReader{r: bytes.NewReader(data)}
	second, err := openInput(Input{Name: "b.pcap", R: cr})
	if err != nil {
		t.Fatal(err)
	}
	opened := cr.n.Load()
	readers, stop, err := spoolCaptures([]*source{first, second}, "", 1, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(readers) != 2 {
		t.Fatalf("%d readers, want 2", len(readers))
	}
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	// Once stop has asked every spool to stop, the first capture ends and
	// its writer gives the job up.
	sp := readers[1].(*spoolReader).sp
	for deadline := time.Now().Add(5 * time.Second); !sp.stopped(); {
		if time.Now().After(deadline) {
			t.Fatal("the spools were not stopped")
		}
		time.Sleep(time.Millisecond)
	}
	pw.Close()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("stop did not return")
	}
	if n := cr.n.Load(); n != opened {
		t.Errorf("%d more bytes of the second capture were read after the spools were stopped", n-opened)
	}
}
