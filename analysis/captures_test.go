package analysis

import (
	"bytes"
	"context"
	"errors"
	"io"
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

	// In batches, as analyze takes them: the batch after the context ends
	// is none, and the error is the context's.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	cs, _, err = StreamCaptures(ctx, []Source{Bytes("load.pcap", data)}, pcapstate.Options{Retain: pcapstate.RetainAll})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	batches, n := 0, 0
	var batch []pcapstate.Conn
	for {
		if batch = cs.NextBatch(batch); batch == nil {
			break
		}
		n += len(batch)
		if batches++; batches == 2 {
			cancel()
		}
	}
	if !errors.Is(cs.Err(), context.Canceled) || batches != 2 || n >= st.Conns {
		t.Errorf("batches after the context ended: err %v, %d batches (%d connections), want context.Canceled after 2", cs.Err(), batches, n)
	}
	if cs.NextBatch(nil) != nil {
		t.Error("a batch after the stream's error")
	}
}

// cancelAfter calls cancel once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

// TestWritePartialCancelled: a context ending while the captures are read
// is WritePartial's error, not a partial state of the packets read so far
// that would look whole.
func TestWritePartialCancelled(t *testing.T) {
	var b bytes.Buffer
	if _, err := capgen.Load(&b, capgen.LoadOptions{Conns: 5000, Open: 100}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := Source{Name: "load.pcap", Size: int64(b.Len()), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(&cancelAfter{r: bytes.NewReader(b.Bytes()), n: b.Len() / 2, cancel: cancel}), nil
	}}
	var out bytes.Buffer
	if _, _, err := WritePartial(ctx, []Source{src}, &out, pcapstate.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("WritePartial: %v, want context.Canceled", err)
	}
}

// TestChooseJobs: the one pass for one file or fewer than 4 cores (where
// the pass already uses two), else every core but the engine's, at most
// one per file.
func TestChooseJobs(t *testing.T) {
	for _, tc := range []struct{ files, cores, want int }{
		{1, 16, 1}, {8, 2, 1}, {8, 3, 1}, {2, 4, 2}, {8, 4, 3}, {8, 16, 8}, {40, 16, 15},
	} {
		if got := ChooseJobs(tc.files, tc.cores); got != tc.want {
			t.Errorf("%d files, %d cores: %d jobs, want %d", tc.files, tc.cores, got, tc.want)
		}
	}
}
