package capgen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Format says how a capture is written.
type Format struct {
	// Pcapng writes pcapng (SHB, one IDB per interface, EPBs) instead of
	// classic pcap.
	Pcapng bool
	// Nanos writes a classic pcap with nanosecond timestamps (magic
	// a1b23c4d); otherwise they are truncated to microseconds.
	Nanos bool
	// TSResol is the pcapng if_tsresol of every interface: the timestamp
	// unit is 10^-TSResol seconds, 0..9. Zero writes no if_tsresol option,
	// which means microseconds.
	TSResol uint8
	// BigEndian writes every header in big-endian byte order (as captured
	// on a big-endian host); the default is little-endian.
	BigEndian bool
	// Gzip compresses the output with gzip (no name, no time: deterministic).
	Gzip bool
}

// Write writes every packet of c to w in format f. A classic pcap file has a
// single link type, so all its packets must be on interfaces with the same
// link type; the file header takes the largest snaplen of the interfaces.
func (c *Capture) Write(w io.Writer, f Format) error {
	if !f.Pcapng {
		link := c.ifaces[0].Framing.Link
		for i, p := range c.pkts {
			if l := c.ifaces[p.Iface].Framing.Link; l != link {
				return fmt.Errorf("write pcap: packet %d: link type %d, file has %d: use pcapng", i+1, l.LinkType(), link.LinkType())
			}
		}
	}
	return writeFile(w, f, c.ifaces, func(fw fileWriter) error {
		for i, p := range c.pkts {
			if err := fw.packet(p.Time, p.Iface, p.Data, c.ifaces[p.Iface].snapLen()); err != nil {
				return fmt.Errorf("packet %d: %w", i+1, err)
			}
		}
		return nil
	})
}

// fileWriter writes the records of a capture file.
type fileWriter interface {
	packet(t time.Time, iface int, data []byte, snap uint32) error
}

// writeFile writes the file header for ifaces in format f to w, then the
// records that each writes, compressed if f says so.
func writeFile(w io.Writer, f Format, ifaces []Interface, each func(fileWriter) error) error {
	what := "pcap"
	if f.Pcapng {
		what = "pcapng"
	}
	if f.TSResol > 9 {
		return fmt.Errorf("write %s: if_tsresol %d: want 0..9", what, f.TSResol)
	}
	var gz *gzip.Writer
	if f.Gzip {
		gz = gzip.NewWriter(w)
		w = gz
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var fw fileWriter
	var err error
	if f.Pcapng {
		fw, err = newNgWriter(bw, f, ifaces)
	} else {
		fw, err = newPcapWriter(bw, f, ifaces)
	}
	if err != nil {
		return fmt.Errorf("write %s: header: %w", what, err)
	}
	if err := each(fw); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return fmt.Errorf("write %s: gzip: %w", what, err)
		}
	}
	return nil
}

// Bytes returns the capture written in format f.
func (c *Capture) Bytes(f Format) ([]byte, error) {
	var b bytes.Buffer
	err := c.Write(&b, f)
	return b.Bytes(), err
}

// byteOrder is what the writers need of binary.LittleEndian and BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func order(f Format) byteOrder {
	if f.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// pcapWriter writes classic pcap records.
type pcapWriter struct {
	w     io.Writer
	bo    byteOrder
	nanos bool
	hdr   [24]byte
}

// newPcapWriter writes the file header: the first interface's link type and
// the largest snaplen, so that no record exceeds it.
func newPcapWriter(w io.Writer, f Format, ifaces []Interface) (*pcapWriter, error) {
	p := &pcapWriter{w: w, bo: order(f), nanos: f.Nanos}
	var snap uint32
	for _, ifc := range ifaces {
		snap = max(snap, ifc.snapLen())
	}
	magic := uint32(0xa1b2c3d4)
	if p.nanos {
		magic = 0xa1b23c4d
	}
	h := p.hdr[:24]
	p.bo.PutUint32(h[0:], magic)
	p.bo.PutUint16(h[4:], 2)
	p.bo.PutUint16(h[6:], 4)
	p.bo.PutUint32(h[8:], 0)  // thiszone
	p.bo.PutUint32(h[12:], 0) // sigfigs
	p.bo.PutUint32(h[16:], snap)
	p.bo.PutUint32(h[20:], uint32(ifaces[0].Framing.Link.LinkType()))
	_, err := p.w.Write(h)
	return p, err
}

func (p *pcapWriter) packet(t time.Time, _ int, data []byte, snap uint32) error {
	caplen := uint32(len(data))
	if caplen > snap {
		caplen = snap
	}
	frac := uint32(t.Nanosecond())
	if !p.nanos {
		frac /= 1000
	}
	h := p.hdr[:16]
	p.bo.PutUint32(h[0:], uint32(t.Unix()))
	p.bo.PutUint32(h[4:], frac)
	p.bo.PutUint32(h[8:], caplen)
	p.bo.PutUint32(h[12:], uint32(len(data)))
	if _, err := p.w.Write(h); err != nil {
		return err
	}
	_, err := p.w.Write(data[:caplen])
	return err
}

// pcapng block types and options.
const (
	ngSHB          = 0x0a0d0d0a
	ngIDB          = 0x00000001
	ngEPB          = 0x00000006
	ngOptEnd       = 0
	ngOptIfName    = 2
	ngOptIfTSResol = 9
)

// ngBlock builds pcapng blocks in one reused buffer.
type ngBlock struct {
	bo  byteOrder
	buf []byte
}

func (n *ngBlock) start(typ uint32) {
	n.buf = n.bo.AppendUint32(n.buf[:0], typ)
	n.buf = n.bo.AppendUint32(n.buf, 0) // length, set by end
}

func (n *ngBlock) u16(v uint16) { n.buf = n.bo.AppendUint16(n.buf, v) }
func (n *ngBlock) u32(v uint32) { n.buf = n.bo.AppendUint32(n.buf, v) }

// bytes appends b padded to 32 bits.
func (n *ngBlock) bytes(b []byte) {
	n.buf = append(n.buf, b...)
	n.buf = appendZeros(n.buf, (4-len(b)%4)%4)
}

func (n *ngBlock) option(code uint16, v []byte) {
	n.u16(code)
	n.u16(uint16(len(v)))
	n.bytes(v)
}

func (n *ngBlock) end(w io.Writer) error {
	l := uint32(len(n.buf) + 4)
	n.bo.PutUint32(n.buf[4:], l)
	n.u32(l)
	_, err := w.Write(n.buf)
	return err
}

// ngWriter writes pcapng blocks.
type ngWriter struct {
	w    io.Writer
	n    ngBlock
	unit int64 // nanoseconds per timestamp unit
}

// newNgWriter writes the section header and one interface description per
// interface.
func newNgWriter(w io.Writer, f Format, ifaces []Interface) (*ngWriter, error) {
	g := &ngWriter{w: w, n: ngBlock{bo: order(f)}, unit: 1000} // microseconds by default
	if f.TSResol != 0 {
		g.unit = 1
		for r := f.TSResol; r < 9; r++ {
			g.unit *= 10
		}
	}
	n := &g.n
	n.start(ngSHB)
	n.u32(0x1a2b3c4d)
	n.u16(1)
	n.u16(0)
	n.u32(0xffffffff) // section length unknown
	n.u32(0xffffffff)
	if err := n.end(w); err != nil {
		return nil, err
	}
	for i, ifc := range ifaces {
		n.start(ngIDB)
		n.u16(ifc.Framing.Link.LinkType())
		n.u16(0)
		n.u32(ifc.snapLen())
		if ifc.Name != "" {
			n.option(ngOptIfName, []byte(ifc.Name))
		}
		if f.TSResol != 0 {
			n.option(ngOptIfTSResol, []byte{f.TSResol})
		}
		if ifc.Name != "" || f.TSResol != 0 {
			n.option(ngOptEnd, nil)
		}
		if err := n.end(w); err != nil {
			return nil, fmt.Errorf("interface %d: %w", i, err)
		}
	}
	return g, nil
}

func (g *ngWriter) packet(t time.Time, iface int, data []byte, snap uint32) error {
	caplen := uint32(len(data))
	if caplen > snap {
		caplen = snap
	}
	ts := uint64(t.UnixNano() / g.unit)
	n := &g.n
	n.start(ngEPB)
	n.u32(uint32(iface))
	n.u32(uint32(ts >> 32))
	n.u32(uint32(ts))
	n.u32(caplen)
	n.u32(uint32(len(data)))
	n.bytes(data[:caplen])
	return n.end(g.w)
}

// Stored returns t as a reader gets it back from format f: truncated to
// microseconds, nanoseconds or the pcapng if_tsresol unit. Compare an
// Endpoint's Since with the engine's answer through it.
func (f Format) Stored(t time.Time) time.Time {
	switch {
	case f.Pcapng && f.TSResol != 0:
		unit := time.Duration(1)
		for r := f.TSResol; r < 9; r++ {
			unit *= 10
		}
		return t.Truncate(unit)
	case !f.Pcapng && f.Nanos:
		return t
	}
	return t.Truncate(time.Microsecond)
}

// Ext is the usual file name extension of format f: .pcap or .pcapng, then
// .gz when compressed.
func (f Format) Ext() string {
	ext := ".pcap"
	if f.Pcapng {
		ext = ".pcapng"
	}
	if f.Gzip {
		ext += ".gz"
	}
	return ext
}

// WriteFiles writes each file of s's capture into dir in format f, named
// after the scenario (rotated captures: name.0.pcap, name.1.pcap, ...),
// and returns their paths in order.
func (s Scenario) WriteFiles(dir string, f Format) ([]string, error) {
	var paths []string
	for i := range s.Capture.Files() {
		name := s.Name + f.Ext()
		if s.Capture.Files() > 1 {
			name = fmt.Sprintf("%s.%d%s", s.Name, i, f.Ext())
		}
		b, err := s.Capture.File(i).Bytes(f)
		if err != nil {
			return paths, fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return paths, fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}
