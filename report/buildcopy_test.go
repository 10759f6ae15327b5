package report

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// TestBuildSocketsCopied: a capture that leaves more sockets in
// CLOSE_WAIT than Finalize handles on one goroutine (parallelMin) gives
// each once, in Finalize's order, with no empty position among its
// evidence.
func TestBuildSocketsCopied(t *testing.T) {
	const leaks = parallelMin + 101
	var capture bytes.Buffer
	if _, err := capgen.Load(&capture, capgen.LoadOptions{Conns: 2 * leaks, Open: 500, LeakEvery: 2, Seed: 3, Step: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	res, err := pcapstate.Read([]pcapstate.Input{{Name: "load.pcap", R: bytes.NewReader(capture.Bytes())}}, pcapstate.Options{Retain: pcapstate.RetainAll, SummarizeHalfOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	bb := NewBuilder(BuildInput{})
	for i := range res.Conns {
		bb.Add(&res.Conns[i])
	}
	rest := *res
	rest.Conns = nil
	m, err := bb.Build(&rest)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	stuck := 0
	for _, s := range m.Sockets {
		if seen[s.Key] {
			t.Fatalf("socket %s twice", s.Key)
		}
		seen[s.Key] = true
		if s.Status.Stuck() {
			stuck++
		}
		if slices.ContainsFunc(s.Evidence, Pos.IsZero) {
			t.Fatalf("socket %s cites an empty position", s.Key)
		}
	}
	if stuck != leaks {
		t.Errorf("%d sockets stuck, want %d", stuck, leaks)
	}
	sorted := slices.Clone(m.Sockets)
	sortSockets(sorted)
	for i := range sorted {
		if sorted[i].Key != m.Sockets[i].Key {
			t.Fatalf("socket %d is %s, Finalize's order has %s", i, m.Sockets[i].Key, sorted[i].Key)
		}
	}
}
