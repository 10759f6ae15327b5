package capgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// DefaultSnapLen is the snapshot length of an Interface whose SnapLen is 0,
// tcpdump's default.
const DefaultSnapLen = 262144

// Gap is how far the capture clock moves after each packet.
const Gap = time.Millisecond

// Interface is one capture interface: a pcapng Interface Description Block,
// or the file header of a classic pcap file.
type Interface struct {
	Name    string // pcapng if_name; empty: none
	Framing Framing
	// SnapLen cuts every frame of the interface to this many bytes when it
	// is written; 0 means DefaultSnapLen.
	SnapLen uint32
}

func (i Interface) snapLen() uint32 {
	if i.SnapLen == 0 {
		return DefaultSnapLen
	}
	return i.SnapLen
}

// Packet is one captured frame, stored whole: writers cut it to its
// interface's snaplen. Src, Dst and Seg say what TCP segment it carries
// (zero for a frame given to Add or Noise), so tests can compare a decoder's output
// with what was generated.
type Packet struct {
	Time     time.Time
	Iface    int // index into the capture's interfaces
	Data     []byte
	Src, Dst netip.AddrPort
	Seg      Segment // Options as written
	Noise    Noise   // the kind of a frame made by Capture.Noise
	file     int
}

// Capture collects packets with explicit capture timestamps. Its clock starts
// at the time given to New, moves by Gap after every packet and by Wait.
// Nothing in it reads the wall clock, so a capture built twice the same way
// is written to identical bytes.
type Capture struct {
	ifaces []Interface
	pkts   []Packet
	file   int // the file new packets go to
	nfiles int // files made by SetFile
	now    time.Time
	conns  int
}

// New returns an empty capture whose clock starts at start. Without
// interfaces it has one: plain Ethernet with the default snaplen. New panics
// on an invalid Framing (a VLAN tag on a non-Ethernet link, an unknown link),
// which is a mistake in the calling test, not input.
func New(start time.Time, ifaces ...Interface) *Capture {
	if len(ifaces) == 0 {
		ifaces = []Interface{{}}
	}
	for i, ifc := range ifaces {
		if msg := ifc.Framing.valid(); msg != "" {
			panic(fmt.Sprintf("capgen: interface %d: %s", i, msg))
		}
	}
	return &Capture{ifaces: ifaces, now: start}
}

// Now is the capture time the next packet gets.
func (c *Capture) Now() time.Time { return c.now }

// Wait moves the capture clock by d.
func (c *Capture) Wait(d time.Duration) { c.now = c.now.Add(d) }

// Interfaces returns the capture's interfaces.
func (c *Capture) Interfaces() []Interface { return c.ifaces }

// Packets returns the packets in capture order. Packet number n (from 1, as
// in "file: packet n") is Packets()[n-1].
func (c *Capture) Packets() []Packet { return c.pkts }

// Len is the number of packets.
func (c *Capture) Len() int { return len(c.pkts) }

// Add appends a frame on interface iface at the current capture time and
// returns its packet number (from 1). The frame is stored whole.
func (c *Capture) Add(iface int, frame []byte) int {
	c.pkts = append(c.pkts, Packet{Time: c.now, Iface: iface, Data: frame, file: c.file})
	c.now = c.now.Add(Gap)
	return len(c.pkts)
}

// Swap exchanges the frames of packets a and b (numbers from 1) but not
// their timestamps and files, so time still runs forward: the way to show
// segments out of order.
func (c *Capture) Swap(a, b int) {
	pa, pb := &c.pkts[a-1], &c.pkts[b-1]
	pa.Time, pb.Time = pb.Time, pa.Time
	pa.file, pb.file = pb.file, pa.file
	*pa, *pb = *pb, *pa
}

// Rotate starts a new file: the packets added from now on go to it, as with
// tcpdump -C or -G. Packet numbers keep counting across files in the
// Capture; in each File they start again from 1.
func (c *Capture) Rotate() {
	c.file = c.Files()
}

// SetFile moves packet n to file i (from 0), for files written at the same
// time: one per direction, host or interface. Each file keeps its packets in
// capture order, so files may overlap in time.
func (c *Capture) SetFile(n, i int) {
	c.pkts[n-1].file = i
	c.nfiles = max(c.nfiles, i+1)
}

// Files is the number of files, 1 if Rotate and SetFile were never called.
func (c *Capture) Files() int { return max(c.nfiles, c.file+1) }

// File returns the packets of file i (from 0) as a capture of their own,
// with the same interfaces, ready to be written.
func (c *Capture) File(i int) *Capture {
	f := &Capture{ifaces: c.ifaces, now: c.now}
	for _, p := range c.pkts {
		if p.file == i {
			p.file = 0
			f.pkts = append(f.pkts, p)
		}
	}
	return f
}

// FilePos returns the file (from 0) and the packet number within it (from 1)
// of packet n of the whole capture.
func (c *Capture) FilePos(n int) (file, packet int) {
	file = c.pkts[n-1].file
	for _, p := range c.pkts[:n] {
		if p.file == file {
			packet++
		}
	}
	return file, packet
}

// SplitPcap cuts a classic pcap file (as Load and Flood write it: little
// endian, microseconds) into files of at most n packets each, as tcpdump
// -C rotates them, each with the file header.
func SplitPcap(b []byte, n int) ([][]byte, error) {
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		return nil, errors.New("not a little-endian microsecond pcap file")
	}
	hdr := b[:24]
	var out [][]byte
	var cur []byte
	for off, count := 24, 0; off < len(b); count++ {
		if off+16 > len(b) {
			return nil, errors.New("a record header is cut short")
		}
		l := int(binary.LittleEndian.Uint32(b[off+8:]))
		if off+16+l > len(b) {
			return nil, errors.New("a record is cut short")
		}
		if count%n == 0 {
			if cur != nil {
				out = append(out, cur)
			}
			cur = append([]byte(nil), hdr...)
		}
		cur = append(cur, b[off:off+16+l]...)
		off += 16 + l
	}
	return append(out, cur), nil
}
