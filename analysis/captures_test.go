package analysis

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// TestStreamCaptures: StreamCaptures hands over every connection of a
// capture once, with the Result after them; a context that ends while the
// connections come stops them within ctxEvery connections, and Err says
// why.
func TestStreamCaptures(t *testing.T) {
	var b bytes.Buffer
	st, err := capgen.Load(&b, capgen.LoadOptions{Conns: 3*ctxEvery + 100, Open: 500, LeakEvery: 20, Seed: 2, Step: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	cs, skipped, err := StreamCaptures(context.Background(), []Source{Bytes("load.pcap", data)}, pcapstate.Options{Retain: pcapstate.RetainAll})
	if err != nil || len(skipped) != 0 {
		t.Fatalf("err %v, skipped %v", err, skipped)
	}
	n := 0
	for cs.Next() {
		n++
	}
	cs.Close()
	if err := cs.Err(); err != nil || n != st.Conns || cs.Result().Connections != uint64(st.Conns) {
		t.Fatalf("err %v: %d connections handed over, %d counted, want %d", err, n, cs.Result().Connections, st.Conns)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs, _, err = StreamCaptures(ctx, []Source{Bytes("load.pcap", data)}, pcapstate.Options{Retain: pcapstate.RetainAll})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	n = 0
	for cs.Next() {
		if n++; n == 10 {
			cancel()
		}
	}
	if !errors.Is(cs.Err(), context.Canceled) || n > ctxEvery {
		t.Errorf("after the context ended: err %v, %d connections handed over (at most %d)", cs.Err(), n, ctxEvery)
	}
}
