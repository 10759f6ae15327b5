package pcapstate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/google/gopacket/layers"
)

// ErrNotCapture is returned for a file that is neither pcap nor pcapng
// (plain or gzip-compressed).
var ErrNotCapture = errors.New("not a pcap or pcapng capture")

// Magic numbers of the capture formats.
const (
	magicPcapMicro   = 0xa1b2c3d4
	magicPcapNano    = 0xa1b23c4d
	magicPcapngBlock = 0x0a0d0d0a // section header block type
	pcapngBOM        = 0x1a2b3c4d
)

// maxRecord bounds a packet record or pcapng block: larger is corruption,
// not a frame (the largest real captures hold 256 KiB GRO super-frames).
const maxRecord = 16 << 20

// Sniff reports whether head (the first bytes of a file, at least 4) looks
// like a capture: pcap in either byte order and resolution, pcapng, or gzip
// (whose content is checked when the file is opened).
func Sniff(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	if head[0] == 0x1f && head[1] == 0x8b {
		return true
	}
	le, be := binary.LittleEndian.Uint32(head), binary.BigEndian.Uint32(head)
	for _, m := range []uint32{magicPcapMicro, magicPcapNano, magicPcapngBlock} {
		if le == m || be == m {
			return true
		}
	}
	return false
}

// record is one packet as read from a capture file. data points into the
// reader's buffer and is valid until the next call to next.
type record struct {
	data    []byte
	ts      int64           // capture time, ns since the Unix epoch
	origLen int             // length of the frame on the wire
	link    layers.LinkType // as Decode takes it (see DecoderLinkType)
	rawLink uint32          // as the file stores it
	offset  int64           // byte offset of the record in the (decompressed) file
	warn    string          // damage the reader repaired in this record, for a warning
}

// packetReader reads the packet records of one capture file.
type packetReader interface {
	// next returns the next record, io.EOF at a clean end, or an error
	// describing damage (a truncated or corrupt record) at rec.offset.
	next(rec *record) error
	// format names the file format, for messages.
	format() string
}

// window is a read buffer over r that hands out slices of its content
// without copying, and knows the file offset of every byte.
type window struct {
	r          io.Reader
	buf        []byte
	start, end int
	off        int64 // file offset of buf[start]
	eof        bool  // the reader has no more data
	err        error // why, when it was not a clean end of file
}

// newWindow starts small, for the many small captures; need grows it to
// hold the largest record, and to windowBig for big files.
// windowBig is the window of a big file: large enough that compaction
// copies and read calls are rare, small enough that what a read call
// copies in is still in the core's cache (1 or 2 MiB of L2 on today's
// x86 cores) when the packets are decoded. A 1 MiB window read the
// reference capture about 10% slower than 256 KiB.
const windowBig = 256 << 10

func newWindow(r io.Reader) *window { return &window{r: r, buf: make([]byte, 64<<10)} }

// need makes n bytes available at buf[start:]. It returns io.EOF when the
// file ended exactly at start, io.ErrUnexpectedEOF when it ended inside.
func (w *window) need(n int) error {
	for w.end-w.start < n {
		if w.eof {
			switch {
			case w.err != nil:
				return w.err
			case w.end == w.start:
				return io.EOF
			}
			return io.ErrUnexpectedEOF
		}
		if n > len(w.buf) || (w.start > 0 && len(w.buf) < windowBig && w.off > windowBig) {
			// Grow to fit n; a file past its first windowBig bytes gets a
			// window of that size, so that compaction copies stay rare.
			nb := make([]byte, max(n, 2*len(w.buf)))
			w.end = copy(nb, w.buf[w.start:w.end])
			w.buf, w.start = nb, 0
		} else if w.start+n > len(w.buf) {
			w.end = copy(w.buf, w.buf[w.start:w.end])
			w.start = 0
		}
		m, err := w.r.Read(w.buf[w.end:])
		w.end += m
		if err != nil {
			// Keep what was read; the error shows when more is needed.
			w.eof = true
			if err != io.EOF {
				w.err = err
			}
		}
	}
	return nil
}

// peek returns the next n bytes; need(n) must have succeeded.
func (w *window) peek(n int) []byte { return w.buf[w.start : w.start+n] }

// skip consumes n bytes; need(n) must have succeeded.
func (w *window) skip(n int) { w.start += n; w.off += int64(n) }

// openCapture recognises the format of r (decompressing gzip) and returns a
// reader of its packets.
func openCapture(r io.Reader) (packetReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(4)
	if len(head) < 4 {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: file has %d bytes", ErrNotCapture, len(head))
		}
		return nil, err
	}
	var src io.Reader = br
	if head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: bad gzip header: %w", ErrNotCapture, err)
		}
		zr.Multistream(true)
		src = zr
	}
	w := newWindow(src)
	if err := w.need(4); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: too short", ErrNotCapture)
		}
		return nil, err
	}
	magic := w.peek(4)
	le, be := binary.LittleEndian.Uint32(magic), binary.BigEndian.Uint32(magic)
	switch {
	case le == magicPcapMicro || le == magicPcapNano || be == magicPcapMicro || be == magicPcapNano:
		return newPcapReader(w)
	case le == magicPcapngBlock:
		return newPcapngReader(w)
	}
	return nil, fmt.Errorf("%w: starts with % x", ErrNotCapture, magic)
}

// pcapReader reads classic libpcap files, both byte orders, micro- and
// nanosecond timestamps.
type pcapReader struct {
	w       *window
	order   binary.ByteOrder
	be      bool // order is big-endian
	nanos   bool
	link    layers.LinkType
	rawLink uint32
	snaplen uint32
	clamped int // records whose fraction of a second was clamped
}

// maxClampWarnings bounds the warnings about clamped timestamps of one
// file: a writer that gets every record wrong is named ten times, not a
// million.
const maxClampWarnings = 10

func newPcapReader(w *window) (*pcapReader, error) {
	if err := w.need(24); err != nil {
		return nil, fmt.Errorf("%w: pcap file header cut short", ErrNotCapture)
	}
	h := w.peek(24)
	p := &pcapReader{w: w, order: binary.LittleEndian}
	m := binary.LittleEndian.Uint32(h)
	if m != magicPcapMicro && m != magicPcapNano {
		p.order, p.be = binary.BigEndian, true
		m = binary.BigEndian.Uint32(h)
	}
	p.nanos = m == magicPcapNano
	if major := p.order.Uint16(h[4:]); major != 2 {
		return nil, fmt.Errorf("%w: pcap version %d.%d", ErrNotCapture, major, p.order.Uint16(h[6:]))
	}
	p.snaplen = p.order.Uint32(h[16:])
	// The upper bits of the link type field carry FCS information.
	p.rawLink = p.order.Uint32(h[20:]) & 0x0fffffff
	p.link = decoderLink(p.rawLink)
	w.skip(24)
	return p, nil
}

func (p *pcapReader) format() string { return "pcap" }

func (p *pcapReader) next(rec *record) error {
	w := p.w
	rec.offset = w.off
	if err := w.need(16); err != nil {
		return err
	}
	// Read little-endian and swapped for a big-endian file: a call
	// through p.order for each field cost the producer a tenth of its
	// time on a flood of small records.
	h := w.peek(16)
	sec, sub := binary.LittleEndian.Uint32(h), binary.LittleEndian.Uint32(h[4:])
	capLen, origLen := binary.LittleEndian.Uint32(h[8:]), binary.LittleEndian.Uint32(h[12:])
	if p.be {
		sec, sub = bits.ReverseBytes32(sec), bits.ReverseBytes32(sub)
		capLen, origLen = bits.ReverseBytes32(capLen), bits.ReverseBytes32(origLen)
	}
	if capLen > maxRecord {
		return fmt.Errorf("corrupt record header: captured length %d", capLen)
	}
	if err := w.need(16 + int(capLen)); err != nil {
		return err
	}
	// A fraction of a second out of range is a writer's bug in one
	// field, not a lost record boundary (the lengths are sane): clamp it
	// to the second's last tick and go on, with a warning.
	rec.warn = ""
	unit, limit := "microseconds", uint32(1e6)
	if p.nanos {
		unit, limit = "nanoseconds", 1e9
	}
	if sub >= limit {
		p.clamped++
		if p.clamped <= maxClampWarnings {
			rec.warn = fmt.Sprintf("record header: timestamp fraction of %d %s, clamped to %d", sub, unit, limit-1)
			if p.clamped == maxClampWarnings {
				rec.warn += "; further such records are clamped without a warning"
			}
		}
		sub = limit - 1
	}
	if !p.nanos {
		sub *= 1000
	}
	w.skip(16)
	rec.data = w.peek(int(capLen))
	w.skip(int(capLen))
	rec.ts = int64(sec)*1e9 + int64(sub)
	rec.origLen = int(max(origLen, capLen))
	rec.link, rec.rawLink = p.link, p.rawLink
	return nil
}

// decoderLink maps a stored link type to Decode's, or to one Decode counts
// as unsupported.
func decoderLink(n uint32) layers.LinkType {
	if lt, ok := DecoderLinkType(n); ok {
		return lt
	}
	return linkTypeUnsupported
}

// linkTypeUnsupported stands for a link type that layers.LinkType cannot
// hold; Decode counts its frames as unsupported (147 is LINKTYPE_USER0,
// private to a site, never decoded).
const linkTypeUnsupported = layers.LinkType(147)

// pcapngReader reads pcapng files: several sections, interfaces with their
// own link types and timestamp resolutions, enhanced, simple and obsolete
// packet blocks.
type pcapngReader struct {
	w      *window
	order  binary.ByteOrder
	ifaces []ngIface
	lastTS int64
}

type ngIface struct {
	link    layers.LinkType
	rawLink uint32
	snaplen uint32
	// A timestamp is ticks of 1/tsDiv seconds: tsPow10 true means
	// tsDiv = 10^tsExp, false 2^tsExp.
	tsExp    uint8
	tsPow10  bool
	tsOffset int64 // seconds added to every timestamp
}

// newPcapngReader checks that the file starts with a whole section header
// block: anything less is not a capture.
func newPcapngReader(w *window) (*pcapngReader, error) {
	if err := w.need(28); err != nil {
		return nil, fmt.Errorf("%w: pcapng section header cut short", ErrNotCapture)
	}
	h := w.peek(28)
	order := binary.ByteOrder(binary.LittleEndian)
	switch binary.LittleEndian.Uint32(h[8:]) {
	case pcapngBOM:
	case 0x4d3c2b1a:
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: pcapng byte-order magic % x", ErrNotCapture, h[8:12])
	}
	if n := order.Uint32(h[4:]); n < 28 || n > maxRecord || w.need(int(n)) != nil {
		return nil, fmt.Errorf("%w: pcapng section header cut short", ErrNotCapture)
	}
	return &pcapngReader{w: w}, nil
}

func (p *pcapngReader) format() string { return "pcapng" }

// Block types.
const (
	ngSHB = 0x0a0d0d0a
	ngIDB = 1
	ngPB  = 2 // obsolete packet block
	ngSPB = 3
	ngEPB = 6
)

func (p *pcapngReader) next(rec *record) error {
	w := p.w
	for {
		rec.offset = w.off
		if err := w.need(12); err != nil {
			return err
		}
		h := w.peek(12)
		typ := binary.LittleEndian.Uint32(h)
		if typ == ngSHB {
			// The byte-order magic after the length says how to read the
			// length itself.
			switch binary.LittleEndian.Uint32(h[8:]) {
			case pcapngBOM:
				p.order = binary.LittleEndian
			case 0x4d3c2b1a:
				p.order = binary.BigEndian
			default:
				return fmt.Errorf("corrupt section header: byte-order magic % x", h[8:12])
			}
			p.ifaces = p.ifaces[:0]
		} else if p.order == nil {
			return errors.New("corrupt pcapng: no section header block")
		} else {
			typ = p.order.Uint32(h)
		}
		blen := p.order.Uint32(h[4:])
		if blen < 12 || blen%4 != 0 || blen > maxRecord {
			return fmt.Errorf("corrupt block header: block type %#x, length %d", typ, blen)
		}
		if err := w.need(int(blen)); err != nil {
			return err
		}
		b := w.peek(int(blen))
		body := b[8 : blen-4]
		if trailer := p.order.Uint32(b[blen-4:]); trailer != blen {
			return fmt.Errorf("corrupt block: type %#x, length %d at the start and %d at the end", typ, blen, trailer)
		}
		var err error
		isPacket := false
		switch typ {
		case ngIDB:
			err = p.readIDB(body)
		case ngEPB, ngPB:
			isPacket = true
			err = p.readPacket(typ, body, rec)
		case ngSPB:
			isPacket = true
			err = p.readSimple(body, rec)
		}
		if err != nil {
			return err
		}
		w.skip(int(blen))
		if isPacket {
			return nil
		}
	}
}

func (p *pcapngReader) readIDB(body []byte) error {
	if len(body) < 8 {
		return fmt.Errorf("corrupt interface description block: %d bytes", len(body))
	}
	ifc := ngIface{
		rawLink: uint32(p.order.Uint16(body)),
		snaplen: p.order.Uint32(body[4:]),
		tsExp:   6,
		tsPow10: true,
	}
	opts := body[8:]
	for len(opts) >= 4 {
		code, olen := p.order.Uint16(opts), int(p.order.Uint16(opts[2:]))
		if code == 0 || 4+olen > len(opts) {
			break
		}
		v := opts[4 : 4+olen]
		switch {
		case code == 9 && olen >= 1: // if_tsresol
			ifc.tsPow10 = v[0]&0x80 == 0
			ifc.tsExp = v[0] & 0x7f
		case code == 14 && olen >= 8: // if_tsoffset
			ifc.tsOffset = int64(p.order.Uint64(v))
		}
		opts = opts[4+(olen+3)&^3:]
	}
	ifc.link = decoderLink(ifc.rawLink)
	if (ifc.tsPow10 && ifc.tsExp > 18) || (!ifc.tsPow10 && ifc.tsExp > 63) {
		return fmt.Errorf("unsupported timestamp resolution in interface %d", len(p.ifaces))
	}
	p.ifaces = append(p.ifaces, ifc)
	return nil
}

// ns converts a timestamp of interface ifc to nanoseconds since the epoch.
func (ifc *ngIface) ns(ticks uint64) int64 {
	var sec, frac, div uint64
	if ifc.tsPow10 {
		div = 1
		for range ifc.tsExp {
			div *= 10
		}
		sec, frac = ticks/div, ticks%div
	} else {
		div = 1 << ifc.tsExp
		sec, frac = ticks>>ifc.tsExp, ticks&(div-1)
	}
	hi, lo := bits.Mul64(frac, 1e9)
	nsec, _ := bits.Div64(hi, lo, div)
	return (int64(sec)+ifc.tsOffset)*1e9 + int64(nsec)
}

func (p *pcapngReader) readPacket(typ uint32, body []byte, rec *record) error {
	if len(body) < 20 {
		return fmt.Errorf("corrupt packet block: %d bytes", len(body))
	}
	var id uint32
	if typ == ngEPB {
		id = p.order.Uint32(body)
	} else {
		id = uint32(p.order.Uint16(body))
	}
	if int(id) >= len(p.ifaces) {
		return fmt.Errorf("corrupt packet block: interface %d not described (section has %d)", id, len(p.ifaces))
	}
	ifc := &p.ifaces[id]
	ticks := uint64(p.order.Uint32(body[4:]))<<32 | uint64(p.order.Uint32(body[8:]))
	capLen, origLen := p.order.Uint32(body[12:]), p.order.Uint32(body[16:])
	if int(capLen) > len(body)-20 {
		return fmt.Errorf("corrupt packet block: captured length %d in a block of %d bytes", capLen, len(body)+12)
	}
	rec.data = body[20 : 20+capLen]
	rec.ts = ifc.ns(ticks)
	rec.origLen = int(max(origLen, capLen))
	rec.link, rec.rawLink = ifc.link, ifc.rawLink
	p.lastTS = rec.ts
	return nil
}

func (p *pcapngReader) readSimple(body []byte, rec *record) error {
	if len(p.ifaces) == 0 {
		return errors.New("corrupt simple packet block: no interface described")
	}
	if len(body) < 4 {
		return fmt.Errorf("corrupt simple packet block: %d bytes", len(body))
	}
	origLen := p.order.Uint32(body)
	capLen := min(origLen, uint32(len(body)-4))
	if s := p.ifaces[0].snaplen; s != 0 {
		capLen = min(capLen, s)
	}
	rec.data = body[4 : 4+capLen]
	rec.ts = p.lastTS // simple packet blocks carry no timestamp
	rec.origLen = int(max(origLen, capLen))
	rec.link, rec.rawLink = p.ifaces[0].link, p.ifaces[0].rawLink
	return nil
}

// Check reads the start of r and reports its capture format ("pcap" or
// "pcapng"), or an error wrapping ErrNotCapture.
func Check(r io.Reader) (string, error) {
	pr, err := openCapture(r)
	if err != nil {
		return "", err
	}
	return pr.format(), nil
}

// Recognize reports the capture format ("pcap" or "pcapng") of the file
// whose first bytes are head, or an error wrapping ErrNotCapture. head must
// be decompressed (a gzip stream is not recognised) and hold the whole file
// header, as Read needs it: a file Recognize accepts opens. Magic numbers
// are checked first, so no text in a capture's payload is ever taken for
// its format.
func Recognize(head []byte) (string, error) {
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		return "", fmt.Errorf("%w: gzip-compressed (decompress it first)", ErrNotCapture)
	}
	if !Sniff(head) {
		return "", ErrNotCapture
	}
	pr, err := openCapture(bytes.NewReader(head))
	if err != nil {
		return "", err
	}
	return pr.format(), nil
}
