package pcapstate_test

import (
	"bytes"
	"io"
	"sync/atomic"
	"testing"

	"github.com/cwforensics/cwforensics/pcapstate"
)

// seenReader records Options.Packets each time the capture is read from:
// the reads happen on the goroutine that counts, so what it sees is what a
// poller would see at that point.
type seenReader struct {
	r    io.Reader
	n    *atomic.Uint64
	seen []uint64
}

func (s *seenReader) Read(p []byte) (int, error) {
	s.seen = append(s.seen, s.n.Load())
	return s.r.Read(p)
}

// TestPacketsProgress checks that Options.Packets follows the reading, in
// steps, and ends at the packets read.
func TestPacketsProgress(t *testing.T) {
	data, _ := loadCapture(t, 3000, 300)
	var n atomic.Uint64
	r := &seenReader{r: bytes.NewReader(data), n: &n}
	res, err := pcapstate.Read([]pcapstate.Input{{Name: "load.pcap", R: r}}, pcapstate.Options{Retain: pcapstate.RetainNone, Packets: &n})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != res.Packets || got == 0 {
		t.Fatalf("Packets at the end = %d, want %d", got, res.Packets)
	}
	var prev uint64
	moved := 0
	for _, v := range r.seen {
		if v < prev || v > res.Packets {
			t.Fatalf("Packets went %d -> %d (of %d)", prev, v, res.Packets)
		}
		if v != prev {
			moved++
		}
		prev = v
	}
	if moved < 2 {
		t.Errorf("Packets moved %d times during %d reads of %d packets: no progress while reading", moved, len(r.seen), res.Packets)
	}
}
