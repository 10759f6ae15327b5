package capgen

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"time"
)

// LoadOptions shape the synthetic capture Load writes. Zero fields take
// the defaults in brackets.
type LoadOptions struct {
	Conns int // connections in all [1000]
	Open  int // connections open at once, interleaved [100]
	// Exchanges is the number of request/response exchanges per connection
	// (client data, server data, client ACK) [2]. With 2, a connection is
	// 13 packets: handshake, exchanges, then the client's FIN, the server's
	// ACK, the server's FIN and the client's last ACK.
	Exchanges int
	Payload   int    // bytes in each data segment [100]
	SnapLen   uint32 // snaplen that cuts the frames [DefaultSnapLen]
	// LeakEvery makes every LeakEvery-th connection (index i with
	// i%LeakEvery == LeakEvery-1) end in confirmed CLOSE_WAIT at the server:
	// its last two packets (the server's FIN and the client's ACK) are never
	// sent. 0: none leaks.
	LeakEvery int
	Seed      uint64        // which open connection sends next (PCG seed)
	Start     time.Time     // time of the first packet [2026-03-14T15:09:26.535897932Z]
	Step      time.Duration // time between packets [10µs]
	Format    Format        // [classic pcap, microseconds, little-endian]
	Framing   Framing       // [plain Ethernet]
	IPv6      bool          // IPv6 endpoints (see Endpoints)
	// HTTP begins each client data segment with an HTTP/1.1 request line
	// and each server one with a status line (200), so that every data
	// segment begins an HTTP message.
	HTTP bool
}

// The first bytes of the data segments of LoadOptions.HTTP.
var (
	loadRequest  = []byte("GET /load HTTP/1.1\r\nHost: load\r\n\r\n")
	loadResponse = []byte("HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n")
)

func (o *LoadOptions) defaults() {
	if o.Conns == 0 {
		o.Conns = 1000
	}
	if o.Open <= 0 {
		o.Open = 100
	}
	if o.Exchanges == 0 {
		o.Exchanges = 2
	}
	if o.Payload == 0 {
		o.Payload = 100
	}
	if o.Start.IsZero() {
		o.Start = defaultStart
	}
	if o.Step == 0 {
		o.Step = 10 * time.Microsecond
	}
}

// loadPorts is how many client ports each client address uses.
const loadPorts = 50000

// Endpoints returns the client and server of connection i (from 0) of a
// Load capture: clients count up from 10.0.0.1 (or 2001:db8::1), 50,000
// ports each from 10000; the server is 10.255.0.1:8080 (or
// [2001:db8:ffff::1]:8080).
func (o LoadOptions) Endpoints(i int) (client, server netip.AddrPort) {
	port := uint16(10000 + i%loadPorts)
	if o.IPv6 {
		a := [16]byte{0x20, 0x01, 0x0d, 0xb8}
		binary.BigEndian.PutUint32(a[12:], 1+uint32(i/loadPorts))
		s := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 15: 1}
		return netip.AddrPortFrom(netip.AddrFrom16(a), port), netip.AddrPortFrom(netip.AddrFrom16(s), 8080)
	}
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], 10<<24+1+uint32(i/loadPorts))
	return netip.AddrPortFrom(netip.AddrFrom4(a), port), netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 255, 0, 1}), 8080)
}

// Leaks reports whether connection i ends in CLOSE_WAIT.
func (o LoadOptions) Leaks(i int) bool { return o.LeakEvery > 0 && i%o.LeakEvery == o.LeakEvery-1 }

// LoadStats describe what Load wrote.
type LoadStats struct {
	Packets   int
	Bytes     int64 // frame bytes before the snaplen
	Conns     int
	CloseWait int // connections left in confirmed CLOSE_WAIT
	MaxOpen   int // most connections open at once
}

// loadConn is one open connection of Load.
type loadConn struct {
	i        int
	step     int
	n        int // packets in its script
	cseq     uint32
	sseq     uint32
	ipid     [2]uint16
	src, dst netip.AddrPort
}

// Load streams a capture of o.Conns complete TCP connections, o.Open of
// them interleaved at any time, to w. Memory follows o.Open, not the
// capture's length, so it writes captures of millions of packets for
// benchmarks. The same options give the same bytes.
func Load(w io.Writer, o LoadOptions) (LoadStats, error) {
	o.defaults()
	if msg := o.Framing.valid(); msg != "" {
		return LoadStats{}, fmt.Errorf("load capture: %s", msg)
	}
	if o.Framing.Tunnel == Teredo && !o.IPv6 {
		return LoadStats{}, fmt.Errorf("load capture: Teredo carries IPv6 only")
	}
	var st LoadStats
	ifaces := []Interface{{Framing: o.Framing, SnapLen: o.SnapLen}}
	err := writeFile(w, o.Format, ifaces, func(fw fileWriter) error {
		return load(fw, o, ifaces[0].snapLen(), &st)
	})
	return st, err
}

func load(fw fileWriter, o LoadOptions, snap uint32, st *LoadStats) error {
	rng := rand.New(rand.NewPCG(o.Seed, 0x63617067656e))
	open := make([]loadConn, 0, o.Open)
	next := 0
	start := func() loadConn {
		c := loadConn{i: next, n: 3 + 3*o.Exchanges + 4}
		if o.Leaks(next) {
			c.n -= 2
			st.CloseWait++
		}
		c.src, c.dst = o.Endpoints(next)
		c.cseq = uint32(next)*0x9e3779b1 + 0x1000
		c.sseq = uint32(next)*0x85ebca6b + 0x2000
		next++
		return c
	}
	var buf []byte
	var opts [20]byte
	now := o.Start
	for next < o.Conns || len(open) > 0 {
		for len(open) < o.Open && next < o.Conns {
			open = append(open, start())
		}
		st.MaxOpen = max(st.MaxOpen, len(open))
		j := rng.IntN(len(open))
		c := &open[j]
		h := c.segment(o.Exchanges, o.Payload, uint32(now.UnixMilli()), opts[:])
		if o.HTTP && h.payload > 0 {
			h.lead = loadResponse
			if h.fromClient {
				h.lead = loadRequest
			}
		}
		buf = appendFrame(buf[:0], &o.Framing, &h)
		if err := fw.packet(now, 0, buf, snap); err != nil {
			return fmt.Errorf("packet %d: %w", st.Packets+1, err)
		}
		st.Packets++
		st.Bytes += int64(len(buf))
		now = now.Add(o.Step)
		c.step++
		if c.step == c.n {
			st.Conns++
			open[j] = open[len(open)-1]
			open = open[:len(open)-1]
		}
	}
	return nil
}

// segment returns c's next segment and moves its sequence numbers. The
// script: SYN, SYN-ACK, ACK; per exchange client data, server data, client
// ACK; client FIN, server ACK, server FIN, client ACK.
func (c *loadConn) segment(exchanges, payload int, ms uint32, opts []byte) hdr {
	h := hdr{window: 502}
	client := true
	last := 3 + 3*exchanges
	switch s := c.step; {
	case s == 0:
		h.flags, h.seq = SYN, c.cseq-1
		h.window = 64240
	case s == 1:
		client = false
		h.flags, h.seq = SYN|ACK, c.sseq-1
		h.window = 65160
	case s == 2:
		h.flags = ACK
	case s < last:
		switch (s - 3) % 3 {
		case 0:
			h.flags, h.payload = PSH|ACK, payload
		case 1:
			client = false
			h.flags, h.payload = PSH|ACK, payload
		case 2:
			h.flags = ACK
		}
	case s == last:
		h.flags = FIN | ACK
	case s == last+1:
		client = false
		h.flags = ACK
	case s == last+2:
		client = false
		h.flags = FIN | ACK
	default:
		h.flags = ACK
	}
	d := 0
	h.src, h.dst = c.src, c.dst
	h.srcMAC, h.dstMAC = [6]byte{2, 0, 0, 0, 0, 1}, [6]byte{2, 0, 0, 0, 0, 2}
	if client {
		h.seq, h.ack = c.cseq, c.sseq
	} else {
		d = 1
		h.src, h.dst = h.dst, h.src
		h.srcMAC, h.dstMAC = h.dstMAC, h.srcMAC
		h.seq, h.ack = c.sseq, c.cseq
	}
	h.fromClient = client
	c.ipid[d]++
	h.ipid = c.ipid[d]
	if h.flags&SYN != 0 {
		if client {
			h.ack = 0
		}
		binary.BigEndian.PutUint32(opts[0:], 0x020405b4) // MSS 1460
		binary.BigEndian.PutUint32(opts[4:], 0x0402080a) // SACK permitted, timestamps
		binary.BigEndian.PutUint32(opts[8:], ms)
		binary.BigEndian.PutUint32(opts[12:], 0)
		binary.BigEndian.PutUint32(opts[16:], 0x01030307) // NOP, window scale 7
		h.opts = opts[:20]
	} else {
		binary.BigEndian.PutUint32(opts[0:], 0x0101080a) // NOP, NOP, timestamps
		binary.BigEndian.PutUint32(opts[4:], ms)
		binary.BigEndian.PutUint32(opts[8:], ms)
		h.opts = opts[:12]
	}
	adv := uint32(h.payload)
	if h.flags&(SYN|FIN) != 0 {
		adv++
	}
	if client {
		if h.flags&SYN == 0 {
			c.cseq += adv
		}
	} else if h.flags&SYN == 0 {
		c.sseq += adv
	}
	return h
}
