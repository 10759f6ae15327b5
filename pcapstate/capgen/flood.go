package capgen

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"time"
)

// FloodOptions shape the SYN flood Flood writes: SYNs from pseudo-random
// sources to one address and port, never answered. Zero fields take the
// defaults in brackets.
type FloodOptions struct {
	SYNs      int            // SYNs in all [1000]
	PerSecond int            // SYNs per second of capture time [20000]
	Target    netip.AddrPort // where the SYNs go [10.255.0.1:80]
	Seed      uint64         // the sources (PCG seed)
	Start     time.Time      // time of the first packet [2026-03-14T15:09:26.535897932Z]
	SnapLen   uint32         // snaplen that cuts the frames [DefaultSnapLen]
	Format    Format         // [classic pcap, microseconds, little-endian]
	Framing   Framing        // [plain Ethernet]
}

func (o *FloodOptions) defaults() {
	if o.SYNs == 0 {
		o.SYNs = 1000
	}
	if o.PerSecond <= 0 {
		o.PerSecond = 20000
	}
	if !o.Target.IsValid() {
		o.Target = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 255, 0, 1}), 80)
	}
	if o.Start.IsZero() {
		o.Start = defaultStart
	}
}

// FloodStats describe what Flood wrote.
type FloodStats struct {
	Packets int
	Bytes   int64 // frame bytes before the snaplen
}

// floodBits is the size of the space of flood sources: 22 bits of address
// and 15 of port.
const floodBits = 37

// FloodSource returns the source of SYN i (from 0) of a Flood with seed
// seed: a pseudo-random address in 100.64.0.0/10 (in 2001:db8:1::/64 for
// an IPv6 target) and port from 32768. It is a bijection of i mod 2^37
// (xor, multiply by an odd number and xor-shift are invertible there), so
// the sources of a flood are distinct: each is one half-open connection.
func FloodSource(i int, seed uint64, v6 bool) netip.AddrPort {
	const mask = 1<<floodBits - 1
	x := (uint64(i) ^ seed) & mask
	x = x * 0x9e3779b97f4a7c15 & mask
	x ^= x >> 19
	x = x * 0xbf58476d1ce4e5b9 & mask
	x ^= x >> 17
	port := uint16(32768 + x&(1<<15-1))
	a22 := uint32(x >> 15)
	if v6 {
		a := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1}
		binary.BigEndian.PutUint32(a[12:], a22)
		return netip.AddrPortFrom(netip.AddrFrom16(a), port)
	}
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], 100<<24|64<<16|a22)
	return netip.AddrPortFrom(netip.AddrFrom4(a), port)
}

// Flood streams a capture of o.SYNs SYNs, o.PerSecond a second, from
// distinct pseudo-random sources (FloodSource) to o.Target, to w.
// Nothing answers them: each is a half-open connection at the end. Memory is constant, and
// the same options give the same bytes.
func Flood(w io.Writer, o FloodOptions) (FloodStats, error) {
	o.defaults()
	if msg := o.Framing.valid(); msg != "" {
		return FloodStats{}, fmt.Errorf("flood capture: %s", msg)
	}
	v6 := o.Target.Addr().Is6() && !o.Target.Addr().Is4In6()
	if o.Framing.Tunnel == Teredo && !v6 {
		return FloodStats{}, fmt.Errorf("flood capture: Teredo carries IPv6 only")
	}
	var st FloodStats
	ifaces := []Interface{{Framing: o.Framing, SnapLen: o.SnapLen}}
	err := writeFile(w, o.Format, ifaces, func(fw fileWriter) error {
		rng := rand.New(rand.NewPCG(o.Seed, 0x666c6f6f64))
		snap := ifaces[0].snapLen()
		var buf []byte
		var opts [4]byte
		binary.BigEndian.PutUint32(opts[:], 0x020405b4) // MSS 1460
		step := time.Second / time.Duration(o.PerSecond)
		if o.SYNs > 1<<floodBits {
			return fmt.Errorf("%d SYNs: at most %d distinct sources", o.SYNs, 1<<floodBits)
		}
		for i := range o.SYNs {
			h := hdr{
				src: FloodSource(i, o.Seed, v6), dst: o.Target,
				srcMAC: [6]byte{2, 0, 0, 0, 0, 1}, dstMAC: [6]byte{2, 0, 0, 0, 0, 2},
				fromClient: true, ipid: uint16(i), seq: uint32(rng.Uint64()),
				flags: SYN, window: 1024, opts: opts[:],
			}
			buf = appendFrame(buf[:0], &o.Framing, &h)
			t := o.Start.Add(time.Duration(i) * step)
			if err := fw.packet(t, 0, buf, snap); err != nil {
				return fmt.Errorf("packet %d: %w", i+1, err)
			}
			st.Packets++
			st.Bytes += int64(len(buf))
		}
		return nil
	})
	return st, err
}
