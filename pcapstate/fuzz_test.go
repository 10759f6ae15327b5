package pcapstate

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// FuzzRead feeds arbitrary bytes to the whole pipeline: capture reader,
// decoder and state engine. Invariants only: no panic, errors only for
// non-captures, warnings with positions, confirmed verdicts backed by their
// packets.
func FuzzRead(f *testing.F) {
	for _, path := range append(traceFiles(f), decEncapCaptures(f)...) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 64<<10 {
			continue // big seeds slow the fuzzer down without adding shapes
		}
		f.Add(data)
		f.Add(data[:len(data)*2/3])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Read([]Input{{Name: "fuzz.pcap", R: bytes.NewReader(data)}}, Options{})
		if err != nil {
			if !errors.Is(err, ErrNotCapture) {
				t.Fatalf("in-memory input failed: %v", err)
			}
			return
		}
		for _, w := range res.Warnings {
			if w.Pos.File != "fuzz.pcap" || w.Pos.Packet < 1 || w.Offset < 0 || w.Offset > int64(len(data)) {
				t.Fatalf("bad warning position: %+v", w)
			}
		}
		var segs uint64
		for _, c := range res.Conns {
			segs += c.Local.Packets + c.Remote.Packets
			if c.Verdict == CloseWaitConfirmed && (c.Local.State != CloseWait || c.Remote.FIN.IsZero() || c.Remote.FINAck.IsZero() || c.Local.Packets == 0) {
				t.Fatalf("confirmed CLOSE_WAIT without its evidence: %+v", c)
			}
		}
		if segs != res.Segments || res.Segments+res.NonTCP()+res.Filtered != res.Packets {
			t.Fatalf("packet counts disagree: %d in conns, %d segments, %d non-TCP, %d packets", segs, res.Segments, res.NonTCP(), res.Packets)
		}
	})
}
