package pcapstate

import (
	"net/netip"
	"testing"
	"time"
	"unsafe"
)

// TestConnList keeps connections across several chunks, drops some with
// Keep, and checks that Sorted gives SortConns' order of the same ones.
func TestConnList(t *testing.T) {
	base := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	mk := func(i int) Conn {
		// Local ports repeat so that the remote, then the time, decide.
		return Conn{
			Local:       Side{Addr: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(8000+i%7))},
			Remote:      Side{Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i % 3), 2}), uint16(40000+i%11))},
			First:       base.Add(time.Duration((i*7919)%5003) * time.Millisecond),
			FirstPacket: Pos{File: "c.pcap", Packet: uint64(i + 1)},
			Why:         "kept",
		}
	}
	for _, n := range []int{0, 1, connListFirst + 1, connListFirstMax, connListFirstMax + 1, connListFirstMax + connListChunk, connListFirstMax + 2*connListChunk + 17} {
		var l ConnList
		var want []Conn
		for i := range n {
			c := mk(i)
			l.Add(&c)
			if i%3 != 1 {
				want = append(want, c)
			}
		}
		if l.Len() != n {
			t.Fatalf("%d added, Len %d", n, l.Len())
		}
		l.Keep(func(c *Conn) bool { return (c.FirstPacket.Packet-1)%3 != 1 })
		if l.Len() != len(want) {
			t.Fatalf("%d added: %d kept, want %d", n, l.Len(), len(want))
		}
		chunks := 0
		if len(want) > 0 {
			chunks = 1 + (max(len(want)-connListFirstMax, 0)+connListChunk-1)/connListChunk
		}
		if got, max := len(l.chunks), chunks; got != max {
			t.Errorf("%d kept in %d chunks, want %d", len(want), got, max)
		}
		// The slots after the kept ones hold nothing of the dropped
		// connections (their strings would stay reachable).
		for k, ch := range l.chunks {
			for j, c := range ch {
				if i := l.start(k) + j; i >= l.Len() && (c.Why != "" || !c.FirstPacket.IsZero()) {
					t.Fatalf("%d added: slot %d after the %d kept holds packet %d", n, i, l.Len(), c.FirstPacket.Packet)
				}
			}
		}
		SortConns(want)
		got := l.Sorted()
		for i := range want {
			if got[i].FirstPacket != want[i].FirstPacket {
				t.Fatalf("%d added: sorted[%d] is packet %d, want %d", n, i, got[i].FirstPacket.Packet, want[i].FirstPacket.Packet)
			}
		}
	}
}

// TestConnChunkPlacement: a chunk after the first begins within a Conn
// after a 2 MiB boundary, so that its Conns fill three whole 2 MiB pages
// (huge pages when the system gives them) but for the last few bytes, and
// it holds connListChunk Conns with no room to grow into the slack.
func TestConnChunkPlacement(t *testing.T) {
	size := unsafe.Sizeof(Conn{})
	if connListChunk*int(size) > 3*chunkBytes || (connListChunk+1)*int(size) <= 3*chunkBytes {
		t.Fatalf("%d Conns of %d bytes do not fill three 2 MiB pages", connListChunk, size)
	}
	for range 20 {
		c := newConnChunk()
		if len(c) != connListChunk || cap(c) != connListChunk {
			t.Fatalf("chunk of len %d, cap %d, want %d", len(c), cap(c), connListChunk)
		}
		start := uintptr(unsafe.Pointer(&c[0]))
		if into := start % chunkBytes; into >= size {
			t.Fatalf("chunk begins %d bytes after a 2 MiB boundary, want less than a Conn (%d)", into, size)
		}
	}
}
