package pcapstate

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/netip"
	"slices"
)

// A partial state is what the engine takes from a slice of the traffic
// (one or more capture files), written so that reading several of them
// together gives exactly what reading their captures together gives: the
// same connections with the same verdicts, positions, counts and warnings.
//
// It holds, per packet and in the order the captures were merged, what the
// engine and the statistics take from it: for a TCP segment its 5-tuple
// (defined once per block, then an index), flags, sequence and
// acknowledgement numbers as differences from the same direction's last,
// payload length and the bits the state machines read (zero window, cut
// header, HTTP/1.x start, tunnel); for an IP fragment of TCP what
// reassembly needs; for any other packet its time and why it was passed
// over; a damaged record's warning. The connections' state is rebuilt
// when the partial states are read, by the one engine, in time order: a
// connection cut by a slice boundary (inside its handshake, between a FIN
// and its ACK, across port reuse) is continued exactly as in one pass,
// because nothing about it was decided when its slice was written.
//
// The format (version 2):
//
//	magic "cwforensics partial state\n", uvarint version
//	frames: type byte, uvarint length, payload, CRC-32C of type and payload
//	  'H' header: JSON {filter, files: [{name, format, through}]}
//	  'B' block of records, each file's in a sub-stream of its own, read
//	      back in the order they were written (see partorder.go; a tuple
//	      is numbered in the block that first needs it and kept while it
//	      is used, see tupleTable; times are differences from the file's
//	      last record)
//	  'T' trailer: JSON {records, files: [{link_types}]}, the last frame
//
// Version 1, still read, has the same frames, but a block is its records
// in order, each record whose file is not the last record's naming it
// (recFile, extFile): when the captures of several hosts taken at the
// same time alternate, that is a byte or two a record.
//
// A file that ends before its trailer, or whose frame fails its checksum,
// is damaged: what came before the damage is used, with a warning.
//
// Partial states merge into partial states (WritePartial given some among
// its inputs), so that a fleet's can be reduced in a tree before the last
// read: the merged one lists their captures in its header, each with the
// partial states it came through ("through"), and holds their records
// merged in time order as reading them would merge them, recoded against
// its own blocks and tuples; the ends of their files, and the damage that
// cut one short, are end records with their warnings at their positions.
// Reading the merged partial state gives what reading its inputs gives.

// partialMagic begins every partial state file.
const partialMagic = "cwforensics partial state\n"

// PartialVersion is the version of the partial state format this package
// writes; it reads it and every version before it.
const PartialVersion = 2

// Frame types.
const (
	frameHeader  = 'H'
	frameBlock   = 'B'
	frameTrailer = 'T'
)

// Bounds: a block is flushed once its records pass blockBytes; a frame
// longer than maxFrame is damage, not data.
const (
	blockBytes = 256 << 10
	maxFrame   = 16 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SniffPartial reports whether head, the first bytes of a file, begins a
// partial state.
func SniffPartial(head []byte) bool {
	n := min(len(head), len(partialMagic))
	return n >= 8 && string(head[:n]) == partialMagic[:n]
}

type partialHeader struct {
	Version int           `json:"version"`
	Filter  string        `json:"filter"`
	Files   []partialFile `json:"files"`
}

type partialFile struct {
	Name   string `json:"name"`
	Format string `json:"format"`
	// Through lists the partial states a merged partial state took the
	// capture's records from, the last merged first: a partial state
	// written from partial states holds their captures, not them.
	Through []string `json:"through,omitempty"`
	// ID is the capture's identity (CaptureID), when it has one, so
	// that the same capture given again under another name is found.
	ID string `json:"id,omitempty"`
}

type partialTrailer struct {
	Records uint64          `json:"records"`
	Files   []partialLinked `json:"files"`
}

type partialLinked struct {
	LinkTypes []uint32 `json:"link_types"`
}

// Record kinds: the low two bits of a record's first byte.
const (
	recTick uint8 = iota // a packet that gave no segment: filtered or passed over
	recSeg               // a TCP segment
	recFrag              // an IPv4 fragment of TCP, for reassembly
	recEOF               // the end of a file (not a packet)
)

// Bits of a record's first byte above its kind. A segment's has its
// direction, whether an extra byte follows, and its TCP flags as an index
// in segFlags (segFlagsRaw: a byte of flags follows); the other records'
// have the file (version 1 only) and warning bits.
const (
	recFile    = 1 << 2 // a file index follows: the record is another file's (version 1)
	recWarn    = 1 << 3 // a warning follows (offset, text)
	recTrunc   = 1 << 4 // end of file: reading stopped at damage
	recReverse = 1 << 2 // segments: sent by the tuple's second endpoint
	recExtra   = 1 << 3 // segments: an extra byte of rarer fields follows
	recFlags   = 4      // segments: the shift of the flags' index
)

// segFlags are the TCP flags most segments have, coded in a segment's
// first byte; others take a byte of their own.
var segFlags = [...]Flags{ACK, PSH | ACK, SYN, SYN | ACK, FIN | ACK, FIN | PSH | ACK, RST, RST | ACK,
	SYN | ECE | CWR, SYN | ACK | ECE, ACK | ECE, ACK | CWR, PSH | ACK | CWR, FIN, 0}

const segFlagsRaw = len(segFlags)

// Bits of a segment's extra byte.
const (
	extFile      = 1 << iota // as recFile (version 1)
	extWarn                  // as recWarn
	extNewTup                // the tuple is defined here
	extZeroWin               // the window advertised is zero
	extHeaderCut             // Segment.HeaderCut
	extFragment              // Segment.Fragment
	extTunnel                // a tunnel byte follows
	extHTTP                  // an HTTPStart follows
)

// tickFiltered is a tick's kind byte for a packet the filter rejected;
// other ticks carry the Skip that passed the packet over.
const tickFiltered = 0xff

// tupleKey is a 5-tuple in a canonical order (a < b), plus the VLAN.
type tupleKey struct {
	a, b netip.AddrPort
	vlan uint16
}

// tupleState is what the records of one tuple are coded against: each
// direction's (0: from a) next sequence number after its last segment.
// A segment's sequence number is coded as its difference from its
// direction's next, its acknowledgement number as its difference from
// the other direction's next: both are 0 for in-order traffic.
type tupleState struct {
	key  tupleKey
	nxt  [2]uint32
	used uint32 // the block it was last used in
	live bool
}

// tupleTable numbers the tuples of a partial state. A tuple keeps its
// number while it is used: at each block's start, the tuples not used in
// the last keepBlocks blocks are forgotten and their numbers reused,
// lowest first, so that the writer and the reader, doing the same, agree,
// and the table holds the tuples of those blocks (about 350,000 records),
// not of the whole capture: a connection open among 60,000 others is
// numbered once, a SYN flood's tuples are forgotten.
type tupleTable struct {
	states []tupleState
	free   []uint32
	block  uint32
}

// keepBlocks is how many blocks a tuple is kept unused.
const keepBlocks = 16

// newBlock starts a block, calling forget for each tuple it forgets.
func (t *tupleTable) newBlock(forget func(k tupleKey)) {
	t.block++
	if t.block <= keepBlocks {
		return
	}
	for i := range t.states {
		if st := &t.states[i]; st.live && st.used+keepBlocks < t.block {
			if forget != nil {
				forget(st.key)
			}
			*st = tupleState{}
			t.free = append(t.free, uint32(i))
		}
	}
}

// add numbers a new tuple.
func (t *tupleTable) add(k tupleKey) uint32 {
	st := tupleState{key: k, used: t.block, live: true}
	if len(t.free) > 0 {
		i := t.free[0]
		t.free = t.free[1:]
		t.states[i] = st
		return i
	}
	t.states = append(t.states, st)
	return uint32(len(t.states) - 1)
}

// advance moves direction dir past seg.
func (st *tupleState) advance(dir int, seg *Segment) {
	n := seg.Seq + seg.Payload
	if seg.Flags&SYN != 0 {
		n++
	}
	if seg.Flags&FIN != 0 {
		n++
	}
	st.nxt[dir] = n
}

// partWriter codes records into blocks and frames. A block keeps each
// file's records apart, one sub-stream per file (see blockOrder): the
// records are coded in the order they come, into one buffer, and laid out
// by file when the block is flushed.
type partWriter struct {
	w       *bufio.Writer
	buf     []byte    // the block's records, in the order they came
	spans   []recSpan // where each of them ends in buf, with its file and key
	out     []byte    // the block as written
	tuples  map[tupleKey]uint32
	tab     tupleTable
	lastTS  []int64
	order   blockOrder
	mixed   bool // the block has records of more than one file
	limit   int  // blockBytes, or less in tests
	records uint64
	written int64
	err     error
}

// recSpan is a record of the block being written: its file, its key in
// the reader's order, and the end of its bytes in the block's buffer.
type recSpan struct {
	key  headKey
	file int32
	end  int32
}

func newPartWriter(w io.Writer, hdr partialHeader) *partWriter {
	pw := &partWriter{w: bufio.NewWriterSize(w, 64<<10), tuples: map[tupleKey]uint32{}, lastTS: make([]int64, len(hdr.Files)), limit: blockBytes}
	pw.tab.newBlock(nil)
	pw.raw([]byte(partialMagic))
	pw.raw(binary.AppendUvarint(nil, PartialVersion))
	js, err := json.Marshal(hdr)
	if err != nil {
		pw.err = err
		return pw
	}
	pw.frame(frameHeader, js, nil)
	return pw
}

func (pw *partWriter) raw(b []byte) {
	if pw.err != nil {
		return
	}
	n, err := pw.w.Write(b)
	pw.written += int64(n)
	pw.err = err
}

// frame writes one frame: type, length, payload (lead then rest),
// checksum.
func (pw *partWriter) frame(typ byte, lead, rest []byte) {
	var head [1 + binary.MaxVarintLen64]byte
	head[0] = typ
	n := 1 + binary.PutUvarint(head[1:], uint64(len(lead)+len(rest)))
	pw.raw(head[:n])
	pw.raw(lead)
	pw.raw(rest)
	crc := crc32.Update(crc32.Checksum(head[:1], castagnoli), castagnoli, lead)
	crc = crc32.Update(crc, castagnoli, rest)
	pw.raw(binary.LittleEndian.AppendUint32(nil, crc))
}

// flush writes the block being coded and starts the next one, forgetting
// the tuples no longer used.
func (pw *partWriter) flush() {
	if len(pw.spans) == 0 {
		return
	}
	if f := pw.spans[0].file; !pw.mixed {
		// One file's records: one sub-stream, in order, no switch.
		pw.out = append(binary.AppendUvarint(append(pw.out[:0], 1), uint64(f)), 0)
		pw.frame(frameBlock, pw.out, pw.buf)
	} else {
		pw.out = pw.order.layout(pw.out[:0], pw.buf, pw.spans, len(pw.lastTS))
		pw.frame(frameBlock, pw.out, nil)
	}
	pw.buf, pw.spans, pw.mixed = pw.buf[:0], pw.spans[:0], false
	pw.tab.newBlock(func(k tupleKey) { delete(pw.tuples, k) })
}

// begin starts a record of file f at ts (end: the end of the file), after
// room: the first byte b is its kind and bits, with recWarn when it has a
// warning, which appendContext codes with its time.
func (pw *partWriter) begin(b uint8, f int, ts int64, end bool, warn string, offset int64) {
	pw.records++
	if warn != "" {
		b |= recWarn
	}
	pw.span(f, headKey{ts: ts, end: end})
	pw.buf = pw.appendContext(append(pw.buf, b), f, ts, warn, offset)
}

// appendContext appends what every record has after its first byte (or
// bytes): its warning if any, and its time, as a difference from its
// file's last record's.
func (pw *partWriter) appendContext(b []byte, f int, ts int64, warn string, offset int64) []byte {
	if warn != "" {
		b = binary.AppendVarint(b, offset)
		b = binary.AppendUvarint(b, uint64(len(warn)))
		b = append(b, warn...)
	}
	b = appendTS(b, ts-pw.lastTS[f])
	pw.lastTS[f] = ts
	return b
}

// span adds a record of file f to the block, its end to come (ended).
func (pw *partWriter) span(f int, k headKey) {
	if len(pw.spans) > 0 && pw.spans[0].file != int32(f) {
		pw.mixed = true
	}
	pw.spans = append(pw.spans, recSpan{key: k, file: int32(f)})
}

// ended closes the record begun last: its bytes end here.
func (pw *partWriter) ended() {
	pw.spans[len(pw.spans)-1].end = int32(len(pw.buf))
}

// room starts a new block when the one being coded is full; every record
// begins with it, before it looks at the block's tuples.
func (pw *partWriter) room() {
	if len(pw.buf) >= pw.limit {
		pw.flush()
	}
}

// appendTS codes a time difference in ns: in microseconds when it is a
// whole number of them (as in every pcap file written in microseconds),
// else in ns, the two low bits saying which; a difference too large for
// that (over 2^60 ns, 36 years: a damaged or odd timestamp) follows whole.
func appendTS(b []byte, d int64) []byte {
	const limit = 1 << 60
	switch {
	case d%1000 == 0 && d/1000 > -limit && d/1000 < limit:
		return binary.AppendUvarint(b, zigzag(d/1000)<<2) // tsMicros
	case d > -limit && d < limit:
		return binary.AppendUvarint(b, zigzag(d)<<2|tsNanos)
	}
	return binary.AppendVarint(binary.AppendUvarint(b, tsWhole), d)
}

// The two low bits of a coded time difference.
const (
	tsMicros = iota
	tsNanos
	tsWhole
)

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// ts decodes what appendTS coded.
func (d *decoder) ts() int64 {
	u := d.uvarint()
	switch u & 3 {
	case tsMicros:
		return unzigzag(u>>2) * 1000
	case tsNanos:
		return unzigzag(u >> 2)
	case tsWhole:
		return d.varint()
	}
	if d.err == nil {
		d.err = errors.New("bad time difference")
	}
	return 0
}

// tick records a packet that gave no segment: kind is its Skip, or
// tickFiltered.
func (pw *partWriter) tick(f int, ts int64, kind uint8, warn string, offset int64) {
	pw.room()
	pw.begin(recTick, f, ts, false, warn, offset)
	pw.buf = append(pw.buf, kind)
	pw.ended()
}

// eof records the end of file f; trunc when it ended at damage, with the
// warning said there.
func (pw *partWriter) eof(f int, trunc bool, warn string, offset int64) {
	pw.room()
	b := recEOF
	if trunc {
		b |= recTrunc
	}
	pw.begin(b, f, pw.lastTS[f], true, warn, offset)
	pw.ended()
}

// frag records an IPv4 fragment of TCP as Decode gave it (k).
func (pw *partWriter) frag(f int, ts int64, k Skip, seg *Segment, warn string, offset int64) {
	pw.room()
	pw.begin(recFrag, f, ts, false, warn, offset)
	b := pw.buf
	b = append(b, uint8(k))
	b = appendAddr(b, seg.Src)
	b = appendAddr(b, seg.Dst)
	b = binary.BigEndian.AppendUint16(b, seg.SrcPort)
	b = binary.BigEndian.AppendUint16(b, seg.DstPort)
	b = binary.BigEndian.AppendUint32(b, seg.Seq)
	b = binary.BigEndian.AppendUint32(b, seg.Ack)
	b = append(b, uint8(seg.Flags))
	b = binary.BigEndian.AppendUint16(b, seg.Window)
	b = binary.AppendUvarint(b, uint64(seg.Payload))
	var bits uint8
	if seg.HeaderCut {
		bits |= 1
	}
	if seg.Fragment {
		bits |= 2
	}
	if seg.frag.more {
		bits |= 4
	}
	b = append(b, bits)
	b = binary.AppendUvarint(b, uint64(seg.VLAN))
	b = append(b, uint8(seg.Tunnel))
	b = binary.AppendUvarint(b, uint64(seg.HTTP))
	b = binary.BigEndian.AppendUint16(b, seg.frag.id)
	b = binary.AppendUvarint(b, uint64(seg.frag.start))
	b = binary.AppendUvarint(b, uint64(seg.frag.end))
	pw.buf = b
	pw.ended()
}

// seg records a TCP segment.
func (pw *partWriter) seg(f int, ts int64, seg *Segment, warn string, offset int64) {
	pw.room()
	pw.records++
	src, dst := netip.AddrPortFrom(seg.Src, seg.SrcPort), netip.AddrPortFrom(seg.Dst, seg.DstPort)
	k := tupleKey{src, dst, seg.VLAN}
	dir := 0
	if src.Compare(dst) > 0 {
		k.a, k.b, dir = dst, src, 1
	}
	var ext uint8
	idx, known := pw.tuples[k]
	if !known {
		ext |= extNewTup
		idx = pw.tab.add(k)
		pw.tuples[k] = idx
	}
	st := &pw.tab.states[idx]
	st.used = pw.tab.block
	if warn != "" {
		ext |= extWarn
	}
	if seg.Window == 0 {
		ext |= extZeroWin
	}
	if seg.HeaderCut {
		ext |= extHeaderCut
	}
	if seg.Fragment {
		ext |= extFragment
	}
	if seg.Tunnel != TunnelNone {
		ext |= extTunnel
	}
	if seg.HTTP != 0 {
		ext |= extHTTP
	}
	fi := segFlagsRaw
	for i, fl := range segFlags {
		if fl == seg.Flags {
			fi = i
			break
		}
	}
	b := recSeg | uint8(fi)<<recFlags
	if dir == 1 {
		b |= recReverse
	}
	if ext != 0 {
		b |= recExtra
	}
	pw.span(f, headKey{ts: ts})
	buf := append(pw.buf, b)
	if ext != 0 {
		buf = append(buf, ext)
	}
	if fi == segFlagsRaw {
		buf = append(buf, uint8(seg.Flags))
	}
	buf = pw.appendContext(buf, f, ts, warn, offset)
	if ext&extNewTup != 0 {
		buf = appendAddr(buf, k.a.Addr())
		buf = appendAddr(buf, k.b.Addr())
		buf = binary.BigEndian.AppendUint16(buf, k.a.Port())
		buf = binary.BigEndian.AppendUint16(buf, k.b.Port())
		buf = binary.AppendUvarint(buf, uint64(k.vlan))
	} else {
		buf = binary.AppendUvarint(buf, uint64(idx))
	}
	buf = binary.AppendVarint(buf, int64(int32(seg.Seq-st.nxt[dir])))
	buf = binary.AppendVarint(buf, int64(int32(seg.Ack-st.nxt[1-dir])))
	buf = binary.AppendUvarint(buf, uint64(seg.Payload))
	st.advance(dir, seg)
	if ext&extTunnel != 0 {
		buf = append(buf, uint8(seg.Tunnel))
	}
	if ext&extHTTP != 0 {
		buf = binary.AppendUvarint(buf, uint64(seg.HTTP))
	}
	pw.buf = buf
	pw.ended()
}

// close writes the last block and the trailer.
func (pw *partWriter) close(tr partialTrailer) error {
	pw.flush()
	tr.Records = pw.records
	js, err := json.Marshal(tr)
	if err != nil {
		return err
	}
	pw.frame(frameTrailer, js, nil)
	if pw.err == nil {
		pw.err = pw.w.Flush()
	}
	return pw.err
}

// appendAddr codes an address: its length (4 or 16) and bytes; an IPv6
// address keeps its zone out (packets carry none).
func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return append(append(b, 4), v[:]...)
	}
	v := a.As16()
	return append(append(b, 16), v[:]...)
}

// partRecord is one record as read back.
type partRecord struct {
	kind   uint8
	file   int
	ts     int64
	skip   Skip
	filt   bool // a tick: the filter rejected the packet
	trunc  bool // end of file: at damage
	seg    Segment
	warn   string
	offset int64
}

// errPartial is the damage a partial state reader found.
var errPartial = errors.New("damaged partial state")

// partReader reads a partial state's records.
type partReader struct {
	r       *bufio.Reader
	off     int64 // bytes read
	hdr     partialHeader
	trailer *partialTrailer
	version uint64
	block   []byte // the last frame's payload, whose array the next frame reuses; version 1 reads its records from pos
	pos     int
	tab     tupleTable
	lastTS  []int64
	cur     int // the file of the last record read
	records uint64
	// Version 2: the block's sub-streams, their heads merged as the
	// writer merged them (merge) but at the switches, which say where
	// the writer took another record; step counts the block's records
	// read; pending is damage found decoding a head ahead.
	subs     []partSub
	merge    headMerge
	switches []blockSwitch
	swi      int
	step     uint64
	pending  error
	single   bool // the block is one sub-stream with no switch, not read to its end
}

// openPartial reads a partial state's magic, version and header from r.
func openPartial(r io.Reader) (*partReader, error) {
	pr := &partReader{r: bufio.NewReaderSize(r, 64<<10)}
	magic := make([]byte, len(partialMagic))
	if _, err := io.ReadFull(pr.r, magic); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	} else if err != nil || string(magic) != partialMagic {
		return nil, fmt.Errorf("%w: no partial state magic", errPartial)
	}
	pr.off = int64(len(magic))
	v, err := binary.ReadUvarint(pr.r)
	if err != nil {
		return nil, fmt.Errorf("%w: version: %w", errPartial, err)
	}
	pr.off += int64(len(binary.AppendUvarint(nil, v)))
	switch {
	case v > PartialVersion:
		return nil, fmt.Errorf("partial state version %d, written by a newer cwforensics: this one reads versions 1 to %d; read it with the cwforensics that wrote it (or a newer one), or write it again from the captures with this one's `cwforensics partial`", v, PartialVersion)
	case v < 1:
		return nil, fmt.Errorf("%w: version %d, which no cwforensics wrote", errPartial, v)
	}
	pr.version = v
	typ, payload, err := pr.frame()
	if err != nil {
		return nil, err
	}
	if typ != frameHeader {
		return nil, fmt.Errorf("%w: first frame is %q, not the header", errPartial, typ)
	}
	if err := json.Unmarshal(payload, &pr.hdr); err != nil {
		return nil, fmt.Errorf("%w: header: %w", errPartial, err)
	}
	if len(pr.hdr.Files) == 0 {
		return nil, fmt.Errorf("%w: header names no capture", errPartial)
	}
	pr.lastTS = make([]int64, len(pr.hdr.Files))
	return pr, nil
}

// frame reads the next frame and checks it.
func (pr *partReader) frame() (byte, []byte, error) {
	start := pr.off
	typ, err := pr.r.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, fmt.Errorf("%w: the file ends at byte %d without its trailer: truncated", errPartial, start)
		}
		return 0, nil, err
	}
	// The length, read a byte at a time so that a failure to read (a
	// spool's writer failing) is told from a bad or cut length.
	var n uint64
	for shift := uint(0); ; shift += 7 {
		c, err := pr.r.ReadByte()
		switch {
		case errors.Is(err, io.EOF):
			return 0, nil, fmt.Errorf("%w: frame at byte %d is cut short in its length: truncated", errPartial, start)
		case err != nil:
			return 0, nil, err
		case shift > 63:
			return 0, nil, fmt.Errorf("%w: frame at byte %d has a bad length", errPartial, start)
		}
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			break
		}
	}
	if n > maxFrame {
		return 0, nil, fmt.Errorf("%w: frame at byte %d has a bad length", errPartial, start)
	}
	payload := slices.Grow(pr.block[:0], int(n)+4)[:n+4]
	if _, err := io.ReadFull(pr.r, payload); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return 0, nil, fmt.Errorf("%w: frame at byte %d is cut short: truncated", errPartial, start)
		}
		return 0, nil, err
	}
	pr.off += 1 + int64(len(binary.AppendUvarint(nil, n))) + int64(n) + 4
	crc := crc32.Update(crc32.Checksum([]byte{typ}, castagnoli), castagnoli, payload[:n])
	if crc != binary.LittleEndian.Uint32(payload[n:]) {
		return 0, nil, fmt.Errorf("%w: frame at byte %d fails its checksum", errPartial, start)
	}
	return typ, payload[:n], nil
}

// next reads the next record into rec; io.EOF after the trailer.
func (pr *partReader) next(rec *partRecord) error {
	for !pr.more() {
		if pr.trailer != nil {
			return io.EOF
		}
		typ, payload, err := pr.frame()
		if err != nil {
			return err
		}
		switch typ {
		case frameBlock:
			pr.tab.newBlock(nil)
			if err := pr.startBlock(payload); err != nil {
				return fmt.Errorf("%w: record %d: %w", errPartial, pr.records+1, err)
			}
		case frameTrailer:
			var tr partialTrailer
			if err := json.Unmarshal(payload, &tr); err != nil {
				return fmt.Errorf("%w: trailer: %w", errPartial, err)
			}
			if tr.Records != pr.records {
				return fmt.Errorf("%w: trailer counts %d records, the blocks hold %d", errPartial, tr.Records, pr.records)
			}
			// Read to its end: what decoding needed is released, so
			// that the partial states already read cost nothing while
			// the others are (rotated slices are read one after the
			// other).
			pr.trailer, pr.block, pr.pos = &tr, nil, 0
			pr.tab, pr.subs, pr.switches, pr.merge, pr.single = tupleTable{}, nil, nil, headMerge{}, false
			return io.EOF
		default:
			return fmt.Errorf("%w: unknown frame type %q", errPartial, typ)
		}
	}
	var err error
	if pr.version == 1 {
		err = pr.decode(rec)
	} else {
		err = pr.replay(rec)
	}
	if err != nil {
		return fmt.Errorf("%w: record %d: %w", errPartial, pr.records+1, err)
	}
	pr.records++
	return nil
}

// more says whether the block being read has a record left (or, in
// version 2, the damage found reading ahead).
func (pr *partReader) more() bool {
	if pr.version == 1 {
		return pr.pos < len(pr.block)
	}
	return pr.single || len(pr.merge.heap) > 0 || pr.pending != nil
}

var errShort = errors.New("record cut short")

// decode decodes the version 1 record at pr.pos.
func (pr *partReader) decode(rec *partRecord) error {
	d := decoder{b: pr.block, i: pr.pos}
	var h recHead
	pr.head(&d, &h, pr.cur)
	h.record(rec)
	if err := pr.body(&d, rec, h.b, h.ext); err != nil {
		return err
	}
	pr.pos = d.i
	return nil
}

// recHead is a record's first fields, up to its time (head), with its
// first byte b and extra byte ext, which the rest depends on (body).
type recHead struct {
	b, ext, kind uint8
	flags        Flags
	file         int
	ts           int64
	warn         string
	offset       int64
}

// record begins rec with h.
func (h *recHead) record(rec *partRecord) {
	*rec = partRecord{kind: h.kind, file: h.file, ts: h.ts, warn: h.warn, offset: h.offset}
	rec.seg.Flags = h.flags
}

// head decodes the first fields of a record of file f, up to its time,
// into h (a version 1 record may name another file, which becomes
// pr.cur), leaving a failure in d.err.
func (pr *partReader) head(d *decoder, h *recHead, f int) {
	b := d.byte()
	*h = recHead{b: b, kind: b & 3, file: f}
	hasFile, hasWarn := b&recFile != 0, b&recWarn != 0
	if h.kind == recSeg {
		if b&recExtra != 0 {
			h.ext = d.byte()
		}
		fi := int(b >> recFlags)
		switch {
		case fi < len(segFlags):
			h.flags = segFlags[fi]
		case fi == segFlagsRaw:
			h.flags = Flags(d.byte())
		}
		hasFile, hasWarn = h.ext&extFile != 0, h.ext&extWarn != 0
	}
	if hasFile {
		if pr.version != 1 {
			d.failWith(errors.New("a record names its file"))
			return
		}
		f := d.uvarint()
		if f >= uint64(len(pr.hdr.Files)) {
			d.failWith(fmt.Errorf("file %d of %d", f, len(pr.hdr.Files)))
			return
		}
		h.file, pr.cur = int(f), int(f)
	}
	if hasWarn {
		h.offset = d.varint()
		n := d.uvarint()
		h.warn = string(d.bytes(n))
	}
	h.ts = pr.lastTS[h.file] + d.ts()
	pr.lastTS[h.file] = h.ts
}

// body decodes the rest of the record head began.
func (pr *partReader) body(d *decoder, rec *partRecord, b, ext uint8) error {
	if d.err != nil {
		return d.err
	}
	switch rec.kind {
	case recTick:
		k := d.byte()
		if k == tickFiltered {
			rec.filt = true
		} else if int(k) < SkipKinds {
			rec.skip = Skip(k)
		} else {
			return fmt.Errorf("tick of kind %d", k)
		}
	case recEOF:
		rec.trunc = b&recTrunc != 0
	case recFrag:
		rec.skip = Skip(d.byte())
		s := &rec.seg
		s.Src, s.Dst = d.addr(), d.addr()
		s.SrcPort, s.DstPort = d.u16(), d.u16()
		s.Seq, s.Ack = d.u32(), d.u32()
		s.Flags = Flags(d.byte())
		s.Window = d.u16()
		s.Payload = uint32(d.uvarint())
		bits := d.byte()
		s.HeaderCut, s.Fragment, s.frag.more = bits&1 != 0, bits&2 != 0, bits&4 != 0
		s.VLAN = uint16(d.uvarint())
		s.Tunnel = Tunnel(d.byte())
		s.HTTP = HTTPStart(d.uvarint())
		s.frag.id = d.u16()
		s.frag.start, s.frag.end = uint32(d.uvarint()), uint32(d.uvarint())
		if rec.skip != SkipNone && rec.skip != SkipIPFragment || s.frag.end == 0 {
			return errors.New("fragment record without a fragment")
		}
	case recSeg:
		var st *tupleState
		if ext&extNewTup != 0 {
			a, bb := d.addr(), d.addr()
			pa, pb := d.u16(), d.u16()
			vlan := uint16(d.uvarint())
			st = &pr.tab.states[pr.tab.add(tupleKey{netip.AddrPortFrom(a, pa), netip.AddrPortFrom(bb, pb), vlan})]
		} else {
			i := d.uvarint()
			if i >= uint64(len(pr.tab.states)) || !pr.tab.states[i].live {
				return fmt.Errorf("tuple %d not defined", i)
			}
			st = &pr.tab.states[i]
		}
		st.used = pr.tab.block
		dir := 0
		src, dst := st.key.a, st.key.b
		if b&recReverse != 0 {
			dir, src, dst = 1, dst, src
		}
		s := &rec.seg
		s.Src, s.SrcPort, s.Dst, s.DstPort, s.VLAN = src.Addr(), src.Port(), dst.Addr(), dst.Port(), st.key.vlan
		s.Seq = st.nxt[dir] + uint32(d.varint())
		s.Ack = st.nxt[1-dir] + uint32(d.varint())
		s.Payload = uint32(d.uvarint())
		st.advance(dir, s)
		s.Window = 1
		if ext&extZeroWin != 0 {
			s.Window = 0
		}
		s.HeaderCut, s.Fragment = ext&extHeaderCut != 0, ext&extFragment != 0
		if ext&extTunnel != 0 {
			s.Tunnel = Tunnel(d.byte())
		}
		if ext&extHTTP != 0 {
			s.HTTP = HTTPStart(d.uvarint())
		}
	}
	if d.err != nil {
		return d.err
	}
	return nil
}

// decoder reads a block's fields, remembering the first overrun.
type decoder struct {
	b   []byte
	i   int
	err error
}

// failWith stops d at err, unless it failed before.
func (d *decoder) failWith(err error) {
	if d.err == nil {
		d.err = err
	}
	d.i = len(d.b)
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errShort
	}
	d.i = len(d.b)
}

func (d *decoder) byte() uint8 {
	if d.i >= len(d.b) {
		d.fail()
		return 0
	}
	d.i++
	return d.b[d.i-1]
}

func (d *decoder) bytes(n uint64) []byte {
	if n > uint64(len(d.b)-d.i) {
		d.fail()
		return nil
	}
	d.i += int(n)
	return d.b[d.i-int(n) : d.i]
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		d.fail()
		return 0
	}
	d.i += n
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b[d.i:])
	if n <= 0 {
		d.fail()
		return 0
	}
	d.i += n
	return v
}

func (d *decoder) u16() uint16 {
	b := d.bytes(2)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint16(b)
}

func (d *decoder) u32() uint32 {
	b := d.bytes(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (d *decoder) addr() netip.Addr {
	switch d.byte() {
	case 4:
		b := d.bytes(4)
		if b == nil {
			return netip.Addr{}
		}
		return netip.AddrFrom4([4]byte(b))
	case 16:
		b := d.bytes(16)
		if b == nil {
			return netip.Addr{}
		}
		return netip.AddrFrom16([16]byte(b))
	}
	if d.err == nil {
		d.err = errors.New("bad address length")
	}
	d.i = len(d.b)
	return netip.Addr{}
}

// PartialStats is what WritePartial wrote.
type PartialStats struct {
	Files    int    // capture files the partial state holds
	Merged   int    // partial states among the inputs, merged into it
	Packets  uint64 // packets read
	Segments uint64 // of which TCP segments
	Bytes    int64  // bytes written
	// Captures are the captures' stats as reading the partial state
	// gives them (Read's Result.Files): Ignored says why one gives no
	// TCP segment.
	Captures []FileStats
}

// WritePartial reads the inputs as Read would (merged in time order,
// through opts.Filter) and writes their partial state to w. Only
// opts.Filter is used: the rest applies when partial states are read. A
// damaged capture gives the packets before the damage, and its warning
// goes into the partial state, as Read would report it.
//
// An input may itself be a partial state: its captures are listed in the
// new one's header (each with the partial states it came through) and its
// records merged with the others', so that reading the new partial state
// gives what reading its inputs gives, and partial states reduce in a
// tree. Damage in it cuts it short as reading it would, its warning kept
// at its position. Its filter carries over: the inputs' partial states
// must have been written with opts.Filter, or with one same filter when
// opts.Filter is empty, which then applies to the captures among them
// too.
func WritePartial(w io.Writer, inputs []Input, opts Options) (PartialStats, error) {
	return writePartialBlocks(w, inputs, opts, blockBytes)
}

// writePartialBlocks is WritePartial with blocks flushed once they pass limit
// bytes: the tests cut partial states after every record with a limit of
// 1.
func writePartialBlocks(w io.Writer, inputs []Input, opts Options, limit int) (PartialStats, error) {
	var srcs []*source
	for _, in := range inputs {
		src, err := openInput(in)
		if err != nil {
			return PartialStats{}, err
		}
		srcs = append(srcs, src)
	}
	expr, err := mergedFilter(srcs, opts.Filter)
	if err != nil {
		return PartialStats{}, err
	}
	filter, err := newFilter(expr)
	if err != nil {
		return PartialStats{}, err
	}
	stats := layoutFiles(srcs)
	ids := fileIDs(srcs)
	if err := checkTwice(stats, ids, true); err != nil {
		return PartialStats{}, err
	}
	bindFiles(srcs, stats)
	// The new header lists every capture, with the partial states it
	// came through, this one's input first.
	hdr := partialHeader{Version: PartialVersion, Filter: expr}
	for i, fs := range stats {
		f := partialFile{Name: fs.Name, Format: fs.Format, ID: ids[i]}
		if fs.Via != "" {
			f.Through = append([]string{fs.Via}, fs.Through...)
		}
		hdr.Files = append(hdr.Files, f)
	}
	merged := 0
	for _, src := range srcs {
		if src.part != nil {
			merged++
			src.ended, src.merging = make([]bool, len(src.ns)), true
		}
	}
	pw := newPartWriter(w, hdr)
	pw.limit = limit
	p := &producer{srcs: srcs, filter: filter, progress: opts.Packets}
	if err := p.writePartial(pw); err != nil {
		return PartialStats{}, err
	}
	if err := pw.close(trailerOf(stats)); err != nil {
		return PartialStats{}, fmt.Errorf("write partial state: %w", err)
	}
	for i := range stats {
		stats[i].finish()
	}
	return PartialStats{Files: len(hdr.Files), Merged: merged, Packets: p.packets, Segments: p.segments, Bytes: pw.written, Captures: stats}, nil
}

// mergedFilter is the filter of a partial state written from srcs with
// the filter expr: expr, or when it is empty the one the partial states
// among srcs were written with, carried over. Their packets were filtered
// when they were written, with no way back: one written with another
// filter than expr, or two with different filters, are an error naming
// them.
func mergedFilter(srcs []*source, expr string) (string, error) {
	var from *source
	for _, s := range srcs {
		if s.part == nil {
			continue
		}
		f := s.part.hdr.Filter
		switch {
		case expr != "" && f != expr:
			return "", fmt.Errorf("%s: a partial state %s cannot be merged with filter %q: its packets were filtered when it was written", s.name, writtenWith(f), expr)
		case from == nil:
			from = s
		case f != from.part.hdr.Filter:
			return "", fmt.Errorf("%s: a partial state %s cannot be merged with %s, %s: give partial states written with one filter", s.name, writtenWith(f), from.name, writtenWith(from.part.hdr.Filter))
		}
	}
	if expr == "" && from != nil {
		return from.part.hdr.Filter, nil
	}
	return expr, nil
}

// writtenWith says how a partial state of filter expr was written, for
// messages: with the filter, or without one ("" is no filter, not an
// empty one).
func writtenWith(expr string) string {
	if expr == "" {
		return "written without a filter"
	}
	return fmt.Sprintf("written with filter %q", expr)
}

// trailerOf is the trailer of a partial state of files with these stats.
func trailerOf(stats []FileStats) partialTrailer {
	var tr partialTrailer
	for i := range stats {
		lts := make([]uint32, 0, len(stats[i].linkSeen))
		for lt := range stats[i].linkSeen {
			lts = append(lts, lt)
		}
		slices.Sort(lts)
		tr.Files = append(tr.Files, partialLinked{LinkTypes: lts})
	}
	return tr
}

// writePartial reads the sources in timestamp order, as run does, and
// codes every packet into pw: a capture's decoded, a partial state's
// record recoded as it was.
func (p *producer) writePartial(pw *partWriter) error {
	if p.progress != nil {
		defer func() { p.progress.Store(p.packets) }()
	}
	h := p.srcs[:0]
	var warn []Warning
	for _, s := range p.srcs {
		ok := s.advance(&warn)
		if s.failed != nil {
			return s.failed
		}
		if ok {
			h = append(h, s)
			s.pend(warn)
		}
		pw.endsOf(s, ok, warn)
		warn = warn[:0]
	}
	var dec Decoder
	var seg Segment
	for len(h) > 0 {
		bi := earliest(h)
		s := h[bi]
		rec := &s.rec
		p.packets++
		if p.progress != nil && p.packets%packetsEvery == 0 {
			p.progress.Store(p.packets)
		}
		w, off := s.pendWarn.Msg, s.pendWarn.Offset
		s.pendWarn = Warning{}
		f := s.idx
		keep := true
		if s.part != nil {
			keep = false
			p.recode(pw, f, &s.prec)
			s.stats.count(s.prec.filt, s.prec.skip)
		} else if p.filter != nil {
			ok, err := p.filter.match(rec)
			if err != nil {
				return fmt.Errorf("filter %s: packet %d: %w", s.name, s.n, err)
			}
			if !ok {
				keep = false
				s.stats.count(true, 0)
				pw.tick(f, rec.ts, tickFiltered, w, off)
			}
		}
		if keep {
			k := dec.Decode(rec.link, rec.data, &seg)
			s.stats.count(false, k)
			if k == SkipNone {
				p.segments++ // a fragment that is a segment too
			}
			switch {
			case (k == SkipNone || k == SkipIPFragment) && seg.frag.end != 0:
				pw.frag(f, rec.ts, k, &seg, w, off)
			case k == SkipNone:
				pw.seg(f, rec.ts, &seg, w, off)
			default:
				pw.tick(f, rec.ts, uint8(k), w, off)
			}
		}
		ok := s.advance(&warn)
		if s.failed != nil {
			return s.failed
		}
		if !ok {
			h = slices.Delete(h, bi, bi+1)
		} else {
			s.pend(warn)
		}
		pw.endsOf(s, ok, warn)
		warn = warn[:0]
		if pw.err != nil {
			return fmt.Errorf("write partial state: %w", pw.err)
		}
	}
	return nil
}

// recode writes a partial state's packet record r again, as the record of
// file f: filtered and decoded when it was first written.
func (p *producer) recode(pw *partWriter, f int, r *partRecord) {
	switch r.kind {
	case recTick:
		kind := uint8(r.skip)
		if r.filt {
			kind = tickFiltered
		}
		pw.tick(f, r.ts, kind, r.warn, r.offset)
	case recFrag:
		if r.skip == SkipNone {
			p.segments++
		}
		pw.frag(f, r.ts, r.skip, &r.seg, r.warn, r.offset)
	case recSeg:
		p.segments++
		pw.seg(f, r.ts, &r.seg, r.warn, r.offset)
	}
}

// endsOf records where s's files ended, after advance read its next
// packet (ok) or found its end: a capture's end, with the warning advance
// gave when it ended at damage; the ends a partial state's records said,
// or its damage.
func (pw *partWriter) endsOf(s *source, ok bool, warn []Warning) {
	if s.part == nil {
		if !ok {
			pw.eofOf(s, warn)
		}
		return
	}
	for _, e := range s.ends {
		pw.eof(s.base+e.file, e.trunc, e.warn, e.offset)
	}
	s.ends = s.ends[:0]
}

// eofOf records the end of s's file, with the warning advance gave when
// it ended at damage.
func (pw *partWriter) eofOf(s *source, warn []Warning) {
	if s.stats.Truncated && len(warn) > 0 {
		w := warn[len(warn)-1]
		pw.eof(s.idx, true, w.Msg, w.Offset)
		return
	}
	pw.eof(s.idx, false, "", 0)
}

// pend keeps the warning advance gave for the packet it read, if any, for
// that packet's record; a partial state's record carries its own.
func (s *source) pend(warn []Warning) {
	if len(warn) > 0 && s.part == nil {
		s.pendWarn = warn[len(warn)-1]
	}
}

// advancePart reads a partial state source's next packet record, as
// advance reads a capture's next packet: its file's stats and warnings
// are kept as reading the capture would keep them. It returns false after
// the trailer, or at damage, which it records as a warning on the file
// being read.
func (s *source) advancePart(warnings *[]Warning) bool {
	for {
		r := &s.prec
		if err := s.part.next(r); err != nil {
			if errors.Is(err, io.EOF) {
				for i, f := range s.part.trailer.Files {
					if i < len(s.files) {
						for _, lt := range f.LinkTypes {
							s.files[i].linkSeen[lt] = true
						}
					}
				}
				s.endAll()
				return false
			}
			if !errors.Is(err, errPartial) {
				s.failed = err
				return false
			}
			f := s.part.cur
			s.files[f].Truncated = true
			w := Warning{
				Pos:    Pos{File: s.files[f].Name, Packet: s.ns[f] + 1},
				Offset: s.part.off,
				Msg:    fmt.Sprintf("partial state %s: %v; the records before it were used", s.name, err),
			}
			*warnings = append(*warnings, w)
			if s.merging {
				s.ends = append(s.ends, partEnd{file: f, trunc: true, warn: w.Msg, offset: w.Offset})
				s.ended[f] = true
				s.endAll()
			}
			return false
		}
		st := s.files[r.file]
		if r.kind == recEOF {
			if r.trunc {
				st.Truncated = true
				*warnings = append(*warnings, Warning{Pos: Pos{File: st.Name, Packet: s.ns[r.file] + 1}, Offset: r.offset, Msg: r.warn})
			}
			if s.merging {
				s.ends = append(s.ends, partEnd{file: r.file, trunc: r.trunc, warn: r.warn, offset: r.offset})
				s.ended[r.file] = true
			}
			continue
		}
		s.ns[r.file]++
		n := s.ns[r.file]
		s.idx, s.n, s.stats = s.base+r.file, n, st
		st.Packets++
		if st.Packets == 1 {
			st.first, st.last = r.ts, r.ts
		} else {
			st.first, st.last = min(st.first, r.ts), max(st.last, r.ts)
		}
		if r.warn != "" {
			*warnings = append(*warnings, Warning{Pos: Pos{File: st.Name, Packet: n}, Offset: r.offset, Msg: r.warn})
		}
		s.rec.ts = r.ts
		return true
	}
}

// partEnd is where a file of a partial state being merged ended: its end
// record, or the damage that cut the partial state short (trunc, with
// the warning reading it gives).
type partEnd struct {
	file   int
	trunc  bool
	warn   string
	offset int64
}

// endAll ends, when s is being merged, its files that have no end yet:
// the partial state is read to its end, or cut short.
func (s *source) endAll() {
	if !s.merging {
		return
	}
	for f, done := range s.ended {
		if !done {
			s.ends = append(s.ends, partEnd{file: f})
			s.ended[f] = true
		}
	}
}
