package pcapstate

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// streamCapture is a capture of 6,000 connections, 600 open at once,
// every 20th left in CLOSE_WAIT, over 9 minutes: most finished connections
// are released while it is read.
func streamCapture(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := capgen.Load(&b, capgen.LoadOptions{Conns: 6000, Open: 600, LeakEvery: 20, Seed: 3, Step: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// countingReader counts the bytes read from r, atomically: the Stream's
// producer reads while the test looks.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestStreamHandsOverWhileReading: the finished connections come out of a
// Stream while the capture is still being read, in batches that stay
// small (the engine releases a few per batch of segments), and the Stream
// keeps none of them.
func TestStreamHandsOverWhileReading(t *testing.T) {
	data := streamCapture(t)
	r := &countingReader{r: bytes.NewReader(data)}
	s, err := NewStream([]Input{{Name: "load.pcap", R: r}}, Options{Retain: RetainAll})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	whileReading, maxBatch, firstAt := 0, 0, -1
	for s.Next() {
		if s.phase != phaseRead {
			continue
		}
		if firstAt < 0 {
			firstAt = int(r.n.Load())
		}
		whileReading++
		maxBatch = max(maxBatch, len(s.pending))
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if whileReading < 4000 {
		t.Errorf("%d connections handed over while reading, want most of the 6000", whileReading)
	}
	if firstAt < 0 || firstAt > len(data)/2 {
		t.Errorf("first connection handed over after %d of %d bytes", firstAt, len(data))
	}
	if maxBatch > batchSize {
		t.Errorf("the engine released %d connections in one batch of segments", maxBatch)
	}
	if s.pending != nil || s.phase != phaseDone {
		t.Errorf("the stream holds %d connections after its end (phase %d)", len(s.pending), s.phase)
	}
}

// TestStreamIsRead: the connections a Stream hands over, sorted, are the
// Result Read returns, and the rest of its Result is Read's, for each
// Retain and with the half-open connections summarized or not.
func TestStreamIsRead(t *testing.T) {
	data := streamCapture(t)
	for _, opts := range []Options{{Retain: RetainAll}, {Retain: RetainCloseWait}, {Retain: RetainNone, SummarizeHalfOpen: true}} {
		want, err := Read([]Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewStream([]Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		var conns []Conn
		for s.Next() {
			conns = append(conns, *s.Conn())
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		got := s.Result()
		if got.Conns != nil {
			t.Fatalf("retain %d: the stream's Result has %d conns", opts.Retain, len(got.Conns))
		}
		SortConns(conns)
		got.Conns = conns
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if !bytes.Equal(wj, gj) {
			t.Errorf("retain %d: the stream's connections differ from Read's (%d against %d)", opts.Retain, len(got.Conns), len(want.Conns))
		}
	}
}

// TestStreamClose: a Stream closed before its end stops its reader, which
// reads no more of the capture, and releases the engine.
func TestStreamClose(t *testing.T) {
	data := streamCapture(t)
	r := &countingReader{r: bytes.NewReader(data)}
	s, err := NewStream([]Input{{Name: "load.pcap", R: r}}, Options{Retain: RetainAll})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if !s.Next() {
			t.Fatal("the stream ended early")
		}
	}
	s.Close()
	read := int(r.n.Load())
	if _, ok := <-s.full; ok {
		t.Fatal("the reader still sends batches after Close")
	}
	if read == len(data) {
		t.Errorf("the whole capture was read before Close")
	}
	if s.Next() || s.Conn() != nil || s.tr.chunks != nil {
		t.Errorf("a closed stream hands over connections or holds the engine's memory")
	}
	s.Close()
	if int(r.n.Load()) != read {
		t.Errorf("%d bytes read after Close", int(r.n.Load())-read)
	}
}

// TestOptionsHoldNoCode: Options holds values only, so that the engine
// never calls its caller's code (data flows one way, see the package
// documentation).
func TestOptionsHoldNoCode(t *testing.T) {
	typ := reflect.TypeFor[Options]()
	for i := range typ.NumField() {
		if f := typ.Field(i); f.Type.Kind() == reflect.Func || f.Type.Kind() == reflect.Interface {
			t.Errorf("Options.%s is a %s: the engine would call back into its caller", f.Name, f.Type.Kind())
		}
	}
}

// TestStreamLeft: left is 0 while the captures are read and, after their
// end, bounds the connections handed over from then on (exactly them
// when Retain keeps no finished connection), so that Read can size its
// list once.
func TestStreamLeft(t *testing.T) {
	data := streamCapture(t)
	for _, opts := range []Options{{Retain: RetainAll}, {Retain: RetainNone, SummarizeHalfOpen: true}} {
		s, err := NewStream([]Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		during, after := 0, 0
		for s.Next() {
			if s.left == 0 {
				during++
			} else {
				after++
			}
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		if after == 0 || s.left < after || opts.Retain == RetainNone && (s.left != after || during != 0) {
			t.Errorf("retain %d: %d handed over while reading, %d after; Left %d", opts.Retain, during, after, s.left)
		}
	}
}

// TestStreamNextBatch: NextBatch hands over the connections Next would, in
// Next's order, whether its batches are given back or not and mixed with
// Next; the batches handed over while reading are the stream's own (no
// copy), and what a caller leaves in a batch it gives back is cleared.
func TestStreamNextBatch(t *testing.T) {
	data := streamCapture(t)
	var want []Conn
	s, err := NewStream([]Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, Options{Retain: RetainAll})
	if err != nil {
		t.Fatal(err)
	}
	reading := 0 // handed over while reading
	for s.Next() {
		if s.phase == phaseRead {
			reading++
		}
		want = append(want, *s.Conn())
	}
	// The order of those left at the end follows the slab, whose layout
	// can differ from one stream to the next (the table's hash seed): they
	// are compared as sets.
	inOrder := func(cs []Conn) []byte {
		cs = slices.Clone(cs)
		if len(cs) > reading {
			SortConns(cs[reading:])
		}
		b, _ := json.Marshal(cs)
		return b
	}
	wantJSON := inOrder(want)
	for _, tt := range []struct {
		name  string
		reuse bool // give the batches back
		mix   bool // every third step a Next instead
	}{{"new batches", false, false}, {"batches given back", true, false}, {"mixed with Next", true, true}} {
		s, err := NewStream([]Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, Options{Retain: RetainAll})
		if err != nil {
			t.Fatal(err)
		}
		var got []Conn
		var back [][]Conn
		shared, batches := 0, 0
		for step := 0; ; step++ {
			if tt.mix && step%3 == 2 {
				if !s.Next() {
					break
				}
				got = append(got, *s.Conn())
				continue
			}
			var reuse []Conn
			if tt.reuse && len(back) == 3 {
				reuse, back = back[0], back[1:]
			}
			reading := s.phase == phaseRead
			b := s.NextBatch(reuse)
			if b == nil {
				break
			}
			for _, r := range back {
				if len(r) > 0 && len(b) > 0 && &r[:cap(r)][cap(r)-1] == &b[:cap(b)][cap(b)-1] {
					t.Fatalf("%s: a batch handed over twice while the caller holds it", tt.name)
				}
			}
			if reading && s.phase == phaseRead {
				batches++
				if len(s.pending) > 0 && &s.pending[0] == &b[0] {
					shared++
				}
			}
			got = append(got, b...)
			if tt.reuse {
				back = append(back, b)
			}
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		if shared > 0 {
			t.Errorf("%s: %d batches still the stream's pending list after being handed over", tt.name, shared)
		}
		if batches == 0 {
			t.Errorf("%s: no batch handed over while reading", tt.name)
		}
		if gotJSON := inOrder(got); !bytes.Equal(gotJSON, wantJSON) {
			first := -1
			for i := range min(len(got), len(want)) {
				if got[i].FirstPacket != want[i].FirstPacket {
					first = i
					break
				}
			}
			t.Errorf("%s: %d connections handed over, want Next's %d in its order (first difference at %d)", tt.name, len(got), len(want), first)
		}
	}
	// A batch given back is cleared: the texts and anomalies it held are
	// not kept alive. It becomes the stream's pending batch, which its
	// next refill, in the call after, exports over or clears: then each
	// of its slots is empty or a connection of the batch that call hands
	// over. The refill may outgrow it, which then holds copies of the
	// first connections moved to a larger one: a slot is checked by
	// value, not by address. Every batch of the read is given back so,
	// so that some are refilled with fewer than they held.
	s, err = NewStream([]Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, Options{Retain: RetainAll})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cleared := 0
	for s.phase == phaseRead {
		b := s.NextBatch(nil)
		if b == nil {
			break
		}
		old := b[:len(b):len(b)]
		was := make([]Pos, len(old))
		for i := range old {
			was[i] = old[i].FirstPacket
		}
		if s.NextBatch(b) == nil || s.phase != phaseRead {
			// The captures ended in that call: b was not made the
			// pending batch (the connections left go into b or a new
			// batch, which the stream does not keep).
			break
		}
		handed := map[Pos]bool{}
		for _, cn := range s.NextBatch(nil) {
			handed[cn.FirstPacket] = true
		}
		for i := range old {
			switch {
			case reflect.DeepEqual(old[i], Conn{}):
				cleared++
			case old[i].FirstPacket == was[i] || !handed[old[i].FirstPacket]:
				t.Fatalf("connection %d of a batch given back (packet %d) is still set", i, old[i].FirstPacket.Packet)
			}
		}
	}
	if cleared == 0 {
		t.Error("no batch given back was refilled with fewer connections than it held: its clearing is not checked")
	}
}

// TestStreamPendingTail: after each run of the engine, the pending batch's
// slots past the connections it released hold nothing, whether the batch
// was Next's or one given back to NextBatch: the run exports over the
// slots it reaches and clears the rest, so that the connections handed
// over before are not kept alive.
func TestStreamPendingTail(t *testing.T) {
	data := streamCapture(t)
	for _, batches := range []bool{false, true} {
		s, err := NewStream([]Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, Options{Retain: RetainAll})
		if err != nil {
			t.Fatal(err)
		}
		check := func(released []Conn) {
			if s.phase != phaseRead {
				return
			}
			tail := released[len(released):cap(released)]
			for i := range tail {
				if !reflect.DeepEqual(tail[i], Conn{}) {
					t.Fatalf("batches %v: slot %d past the %d released is still set", batches, len(released)+i, len(released))
				}
			}
		}
		runs := 0
		var back []Conn
		for {
			if !batches {
				if !s.Next() {
					break
				}
				if s.next == 1 {
					runs++
					check(s.pending)
				}
				continue
			}
			b := s.NextBatch(back)
			if b == nil {
				break
			}
			runs++
			check(b)
			back = b
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		if runs < 2 {
			t.Errorf("batches %v: %d runs checked", batches, runs)
		}
		s.Close()
	}
}

// readAtCounter counts the reads at an offset (io.ReaderAt) of its bytes:
// those of an identity (CaptureIDAt).
type readAtCounter struct {
	*bytes.Reader
	n int
}

func (r *readAtCounter) ReadAt(p []byte, off int64) (int, error) {
	r.n++
	return r.Reader.ReadAt(p, off)
}

// TestOpenInputIDOnlyCaptures: a capture opened gets the identity
// CaptureID gives it before a byte is read; a partial state's ends are not
// read for one (its captures' are in its header).
func TestOpenInputIDOnlyCaptures(t *testing.T) {
	data := streamCapture(t)
	var part bytes.Buffer
	if _, err := WritePartial(&part, []Input{{Name: "load.pcap", R: bytes.NewReader(data)}}, Options{}); err != nil {
		t.Fatal(err)
	}
	want, err := CaptureID(bytes.NewReader(data))
	if err != nil || want == "" {
		t.Fatalf("CaptureID %q, %v", want, err)
	}
	for _, tt := range []struct {
		name    string
		data    []byte
		capture bool
	}{{"load.pcap", data, true}, {"load.cwfp", part.Bytes(), false}} {
		if len(tt.data) < 2*idBytes {
			t.Fatalf("%s: %d bytes, too small to have an identity", tt.name, len(tt.data))
		}
		r := &readAtCounter{Reader: bytes.NewReader(tt.data)}
		src, err := openInput(Input{Name: tt.name, R: r})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case (src.part == nil) != tt.capture:
			t.Errorf("%s: opened as a capture %v, want %v", tt.name, src.part == nil, tt.capture)
		case tt.capture && src.id != want:
			t.Errorf("%s: identity %q, want %q", tt.name, src.id, want)
		case !tt.capture && r.n != 0:
			t.Errorf("%s: a partial state's ends read %d times for an identity it does not use", tt.name, r.n)
		}
	}
}

// TestStreamBurstBatches: each gap in capture time longer than the linger
// releases every connection lingering in one run, into one large batch. A
// caller that rotates its batches, as analyze's handoff does with 8, must
// not keep a burst's worth in each of them: a batch given back that large
// is dropped, so that at the end no batch in the rotation is one.
func TestStreamBurstBatches(t *testing.T) {
	const burst = maxReuse + 500
	c := capgen.New(time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC))
	server := netip.MustParseAddrPort("10.0.0.2:8080")
	for g := range 4 {
		if g > 0 {
			c.Wait(3 * time.Minute) // longer than the linger
		}
		for i := range burst {
			k := c.Conn(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(g), 1}), uint16(10000+i)), server, capgen.ConnOptions{})
			k.Handshake()
			k.FIN(capgen.FromClient)
			k.ACK(capgen.FromServer)
			k.FIN(capgen.FromServer)
			k.ACK(capgen.FromClient)
			c.Wait(time.Millisecond)
		}
	}
	var data bytes.Buffer
	if err := c.Write(&data, capgen.Format{}); err != nil {
		t.Fatal(err)
	}
	s, err := NewStream([]Input{{Name: "gaps.pcap", R: &data}}, Options{Retain: RetainAll})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rotation := make([][]Conn, 8)
	handed, largest := 0, 0
	for {
		b := s.NextBatch(rotation[0])
		if b == nil {
			break
		}
		handed += len(b)
		largest = max(largest, len(b))
		rotation = append(rotation[1:], b)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if handed != 4*burst || largest < burst {
		t.Fatalf("%d connections handed over, at most %d at once; want %d, and a burst of %d at once", handed, largest, 4*burst, burst)
	}
	for i, b := range rotation {
		if cap(b) > maxReuse {
			t.Errorf("batch %d of the rotation keeps room for %d connections at the end, more than %d", i, cap(b), maxReuse)
		}
	}
}
