package pcapstate

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cwforensics/cwforensics/internal/hugepage"
)

// Input is one capture to read: its name as the user gave it (used only in
// positions and messages) and its content.
type Input struct {
	Name string
	R    io.Reader
	// ID is the capture's identity (CaptureID of the file R reads, when
	// R is not that file itself: a decompressing or buffered reader), so
	// that a capture given twice under two names is found. Empty, it is
	// CaptureID(R) when R can seek, else none.
	ID string
}

// Options tune Read.
type Options struct {
	// Local lists the networks whose endpoints are local. A connection whose
	// endpoints are both or neither inside is given its local endpoint by
	// the fallback rules of LocalRule.
	Local []netip.Prefix
	// Filter is a tcpdump filter expression packets must match, with
	// libpcap's semantics (see package filter for the subset the pure-Go
	// build implements; the libpcap build has the whole language).
	Filter string
	// Retain says which finished connections a Stream hands over (and
	// Read keeps); a finished connection is released from the engine as
	// soon as its linger time passes. Connections still open at the end
	// are always handed over.
	Retain Retain
	// Open, when not nil, limits the connections still open at the end
	// that a Stream hands over (and Read keeps) to those whose local
	// endpoint ends in one of these states: a caller that lists the
	// connections in CLOSE_WAIT exports none of the others (the reference
	// capture leaves 50,000 more open). The Result still counts every
	// connection.
	Open []State
	// OmitWhy leaves every Conn's Why empty, for a caller that does not
	// show it (the Verdict is set as ever): the text is built for each
	// connection left in CLOSE_WAIT, tens of thousands at times.
	OmitWhy bool
	// SummarizeHalfOpen leaves out of Conns the connections an endpoint
	// accepted that are still half-open at the end (the opener's SYN seen,
	// retransmitted or not, nothing else from either side, no anomaly) and
	// counts them per local endpoint in Result.HalfOpen instead: a SYN
	// flood leaves millions of them, each a Conn of 624 bytes, and none
	// can be in CLOSE_WAIT. Without it, Conns lists them all.
	SummarizeHalfOpen bool
	// Log receives debug diagnostics; nil discards them.
	Log *slog.Logger
	// noHalves makes every connection a conn from its first segment
	// (see half), for the tests that check halves against it.
	noHalves bool
	// Packets, when not nil, is set to the number of packets read so
	// far, every packetsEvery packets and at the end of the captures,
	// for a caller that shows progress from another goroutine. Read only
	// stores to it.
	Packets *atomic.Uint64
	// Jobs, above 1, is how many of the capture files given (when there
	// are two or more) are decoded at once, each by its own goroutine
	// into a spool file in SpoolDir (the system's temporary folder when
	// empty), while the engine reads the spools in time order as partial
	// states: the result is the same, the decoding (most of the work of
	// gzip-compressed captures) runs on that many cores. A spool is about
	// a tenth of its capture and has no name on disk.
	Jobs     int
	SpoolDir string
}

// packetsEvery is how often Options.Packets is updated: an atomic store
// per packet would cost the reading loop a shared cache line.
const packetsEvery = 4096

// Retain selects the finished connections a Result keeps.
type Retain uint8

// What to retain of finished connections.
const (
	RetainAll       Retain = iota // every connection
	RetainCloseWait               // those that had an endpoint in CLOSE_WAIT (transient CLOSE_WAIT)
	RetainNone                    // none: only connections open at the end
)

// FileStats describes one capture file and what could be read from it.
type FileStats struct {
	Name      string    `json:"name"`
	Format    string    `json:"format"`
	Packets   uint64    `json:"packets"`
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
	LinkTypes []string  `json:"link_types"`
	Truncated bool      `json:"truncated"` // reading stopped at damage (see the warnings)
	// Segments counts the file's frames that held a TCP segment, Filtered
	// those the BPF filter rejected, Skipped the others by kind (as in the
	// Result).
	Segments uint64      `json:"segments"`
	Filtered uint64      `json:"filtered"`
	Skipped  []SkipCount `json:"skipped"`
	// UnsupportedLinkTypes are the link types of the file (as stored in
	// it, e.g. 147) whose frames the decoder cannot read, sorted.
	UnsupportedLinkTypes []uint32 `json:"unsupported_link_types"`
	// Ignored is empty when the file gave at least one TCP segment;
	// otherwise it says why it gave none, for a report to show the input
	// as "ignored: ...": "no packets", "unsupported link type 147",
	// "all 12 packets filtered out", "no TCP segment in 120 packets
	// (unsupported-tunnel 118, arp 2)", "no packet before the damage".
	Ignored string `json:"ignored,omitempty"`
	// Via names the partial state the file was read through, "" when
	// it was read itself; Input is the index, among the Stream's
	// inputs, of the capture or partial state it came from.
	Via string `json:"via,omitempty"`
	// Through lists the partial states the one named by Via was merged
	// from, the last merged first, when the file came through a tree of
	// merges (a partial state written from partial states); ViaChain
	// names the whole path.
	Through  []string `json:"through,omitempty"`
	Input    int      `json:"-"`
	linkSeen map[uint32]bool
	skips    [SkipKinds]uint64
	first    int64
	last     int64
}

// ViaChain names the partial states the file was read through: the one
// read, then each one the last named was merged from, "all.cwfp (merged
// from hosts-1.cwfp, merged from web-3.cwfp)"; "" when the file was read
// itself.
func (f *FileStats) ViaChain() string {
	if len(f.Through) == 0 {
		return f.Via
	}
	return f.Via + " (merged from " + strings.Join(f.Through, ", merged from ") + ")"
}

// SkipCount is how many frames were not TCP segments, by kind.
type SkipCount struct {
	Kind    string `json:"kind"`
	Packets uint64 `json:"packets"`
}

// Result is everything the captures say about TCP connections.
type Result struct {
	Files []FileStats `json:"files"`
	// Start and End are the capture times of the first and last packets of
	// all files: the analysis's only clock.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Packets counts every frame read; Segments those that were TCP;
	// Filtered those the BPF filter rejected.
	Packets  uint64      `json:"packets"`
	Segments uint64      `json:"segments"`
	Filtered uint64      `json:"filtered"`
	Skipped  []SkipCount `json:"skipped"`
	// Connections counts every connection seen, kept in Conns or not.
	Connections uint64 `json:"connections"`
	// Conns are sorted by local endpoint, remote endpoint, then first
	// packet. Read fills it; a Stream hands the connections over one at a
	// time instead, and its Result has none.
	Conns []Conn `json:"conns"`
	// HalfOpen counts, per local endpoint, the half-open connections left
	// out of Conns (Options.SummarizeHalfOpen), sorted by local endpoint
	// then VLAN.
	HalfOpen []HalfOpen `json:"half_open,omitempty"`
	Warnings []Warning  `json:"warnings"`
}

// HalfOpen is the half-open connections to one local endpoint still open
// at the end of the captures: each is a remote endpoint's SYN (or its
// retransmissions) that the local endpoint never answered.
type HalfOpen struct {
	Local netip.AddrPort `json:"local"`
	VLAN  uint16         `json:"vlan"`
	Conns uint64         `json:"conns"`
	// Sources counts the distinct remote addresses among them (IPv6
	// ones told apart by a 64-bit hash: two of them colliding, about one
	// chance in 10^7 among two million, would count once).
	Sources uint64 `json:"sources"`
	// First and FirstPacket are the earliest SYN of these connections,
	// Last and LastPacket the latest packet.
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
	FirstPacket Pos       `json:"first_packet"`
	LastPacket  Pos       `json:"last_packet"`
}

// halfOpen reports whether c, open at the end, is half-open: the opener
// sent only its SYN (and retransmissions of it), the acceptor nothing.
func (c *conn) halfOpen() bool {
	return c.handshake && !c.reused && !c.rst && c.nAnom == 0 && c.ep[1].pkts == 0 &&
		c.ep[0].state == SynSent && c.ep[0].bytes == 0 && c.ep[0].markers == 0
}

// halfOpenKey groups half-open connections.
type halfOpenKey struct {
	local netip.AddrPort
	vlan  uint16
}

// NonTCP is the number of frames that held no TCP segment.
func (r *Result) NonTCP() uint64 {
	var n uint64
	for _, s := range r.Skipped {
		n += s.Packets
	}
	return n
}

// source is one input being read, with its current packet.
type source struct {
	idx      int
	name     string
	pr       packetReader
	rec      record
	n        uint64 // packets read so far
	stats    *FileStats
	lastLink uint32
	// pendWarn is the warning of the packet last read, kept by
	// WritePartial for that packet's record.
	pendWarn Warning
	// id is a capture's identity (CaptureID), "" when it has none.
	id string
	// A partial state's source reads its records instead of packets
	// (part), the last in prec. Its files are the Result's from base on,
	// with their stats and packets read so far; idx, n and stats follow
	// the file of the last record.
	part    *partReader
	prec    partRecord
	spooled bool // part reads a spool of a capture given (Options.Jobs)
	// failed is what stopped a partial state's reading that is not damage
	// of its content: a spool's writer failed (a filter error, a full
	// disk), an error as reading the capture itself would be.
	failed error
	base   int
	files  []*FileStats
	ns     []uint64
	// merging is set when WritePartial merges this partial state into
	// another: advancePart keeps in ends where each of its files ended
	// (its end record, or the damage that stopped the reading), for the
	// merged partial state to record them; ended says which have.
	merging bool
	ends    []partEnd
	ended   []bool
}

// Read reads the captures, merging their packets in timestamp order, and
// returns every TCP connection with its state at the end (those Retain
// keeps of the finished ones, and every one still open). A file that is
// not a capture is an error naming it; a truncated or corrupt file gives
// the packets before the damage and a warning. Read is a Stream whose
// connections are collected and sorted: memory grows with the connections
// kept, where a Stream's follows the connections open at once.
func Read(inputs []Input, opts Options) (*Result, error) {
	s, err := NewStream(inputs, opts)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var conns []Conn
	grown := false
	for s.Next() {
		if !grown && s.phase != phaseRead {
			// The connections left at the end are about to be exported:
			// their memory is fresh and about to be written whole (the
			// collector's first scan touches it all), so it is allocated
			// once, at its size, after the engine's table is released;
			// huge pages spare tens of thousands of page faults (30 MiB
			// took 60-80 ms of faults in a virtual machine, a few ms with
			// huge pages).
			grown = true
			conns = slices.Grow(conns, s.left)
			hugepage.Advise(unsafe.Pointer(unsafe.SliceData(conns)), uintptr(cap(conns))*unsafe.Sizeof(Conn{}))
		}
		conns = append(conns, *s.Conn())
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	res := s.Result()
	res.Conns = conns
	SortConns(res.Conns)
	return res, nil
}

// linkName names a link type as stored in a capture file.
func linkName(n uint32) string {
	if n == 276 {
		return "LinuxSLL2"
	}
	if lt, ok := DecoderLinkType(n); ok {
		if s := lt.String(); !strings.HasPrefix(s, "Unknown") {
			return s
		}
	}
	return fmt.Sprintf("linktype-%d", n)
}

// Pipeline sizes: segments per batch and batches in flight.
const (
	batchSize     = 2048
	pipelineDepth = 4
)

type batch struct{ items []item }

// producer reads the sources in timestamp order, filters and decodes their
// packets. Its fields are read by the Stream only after full is closed.
type producer struct {
	srcs     []*source
	filter   matcher
	seed     uint64 // the tracker's hash seed
	packets  uint64
	filtered uint64
	segments uint64
	skipped  [SkipKinds]uint64
	start    int64
	end      int64
	warnings []Warning
	err      error
	progress *atomic.Uint64 // Options.Packets
	// stop is closed when the Stream is closed before the end: run
	// returns at its next batch (or progress update).
	stop <-chan struct{}
}

// run sends batches of segments on full, taking empty ones from free, and
// closes full at the end, at the first error, or when stop is closed.
func (p *producer) run(full chan<- *batch, free <-chan *batch) {
	defer close(full)
	if p.progress != nil {
		defer func() { p.progress.Store(p.packets) }()
	}
	// Prime every source with its first packet, then always take the
	// earliest (ties go to the file named first).
	h := p.srcs[:0]
	for _, s := range p.srcs {
		if s.advance(&p.warnings) {
			h = append(h, s)
		} else if s.failed != nil {
			p.err = s.failed
			return
		}
	}
	var dec Decoder
	var seg Segment
	var frags fragTable
	// Batches are made as needed, at most pipelineDepth+1 of them: a small
	// capture needs one small batch.
	made := 0
	size := 64
	// get returns an empty batch, nil when the stream is stopped.
	get := func() *batch {
		var b *batch
		select {
		case b = <-free:
		default:
			if made <= pipelineDepth {
				made++
				size = min(size*4, batchSize)
				return &batch{items: make([]item, 0, size)}
			}
			select {
			case b = <-free:
			case <-p.stop:
				return nil
			}
		}
		// The engine read this batch last, so its cache lines are in the
		// other core's cache. Clearing it in one sequential sweep takes
		// them back with the hardware prefetcher's help; filling it item by
		// item would take each line's miss while decoding.
		clear(b.items[:cap(b.items)])
		return b
	}
	b := get()
	for len(h) > 0 {
		bi := earliest(h)
		s := h[bi]
		rec := &s.rec
		if p.packets == 0 || rec.ts < p.start {
			p.start = rec.ts
		}
		p.end = max(p.end, rec.ts)
		p.packets++
		if p.packets%packetsEvery == 0 {
			if p.progress != nil {
				p.progress.Store(p.packets)
			}
			select {
			case <-p.stop:
				return
			default:
			}
		}
		keep := true
		if s.part != nil {
			// A partial state's record: filtered and decoded when it
			// was written.
			if keep = !s.prec.filt; !keep {
				p.filtered++
				s.stats.count(true, 0)
			}
		} else if p.filter != nil {
			ok, err := p.filter.match(rec)
			if err != nil {
				p.err = fmt.Errorf("filter %s: packet %d: %w", s.name, s.n, err)
				return
			}
			if !ok {
				p.filtered++
				s.stats.count(true, 0)
				keep = false
			}
		}
		if keep {
			r := ref{file: uint32(s.idx + 1), n: uint32(min(s.n, 1<<32-1))}
			var k Skip
			sp := &seg
			if s.part != nil {
				k, sp = s.prec.skip, &s.prec.seg
			} else {
				k = dec.Decode(rec.link, rec.data, &seg)
			}
			s.stats.count(false, k)
			if k == SkipNone {
				p.segments++
			} else {
				p.skipped[k]++
			}
			if (k == SkipNone || k == SkipIPFragment) && sp.frag.end != 0 {
				// A fragment of TCP: the segment waits for its datagram's
				// length (see fragTable).
				if frags.add(sp, rec.ts, r) {
					if b = p.emit(frags.ready, b, full, get); b == nil {
						return
					}
				}
			} else if k == SkipNone {
				b.items = b.items[:len(b.items)+1]
				b.items[len(b.items)-1].set(sp, p.seed, rec.ts, r)
				if len(b.items) == cap(b.items) {
					if b = p.send(b, full, get); b == nil {
						return
					}
				}
			}
		}
		if !s.advance(&p.warnings) {
			if s.failed != nil {
				p.err = s.failed
				return
			}
			h = slices.Delete(h, bi, bi+1)
		}
	}
	frags.flush()
	if b = p.emit(frags.ready, b, full, get); b != nil && len(b.items) > 0 {
		select {
		case full <- b:
		case <-p.stop:
		}
	}
}

// send sends b on full and returns the batch to fill next from get, or nil
// when the stream is stopped.
func (p *producer) send(b *batch, full chan<- *batch, get func() *batch) *batch {
	select {
	case full <- b:
		return get()
	case <-p.stop:
		return nil
	}
}

// emit appends the segments fragment reassembly released to b, sending b
// on full and taking another from get when it fills, and returns the
// batch being filled, nil when the stream is stopped.
func (p *producer) emit(ready []readyFrag, b *batch, full chan<- *batch, get func() *batch) *batch {
	for i := range ready {
		b.items = b.items[:len(b.items)+1]
		b.items[len(b.items)-1].set(&ready[i].seg, p.seed, ready[i].ts, ready[i].r)
		if len(b.items) == cap(b.items) {
			if b = p.send(b, full, get); b == nil {
				return nil
			}
		}
	}
	return b
}

// advance reads the source's next packet. It returns false at the end of the
// file or at damage, which it records as a warning.
func (s *source) advance(warnings *[]Warning) bool {
	if s.part != nil {
		return s.advancePart(warnings)
	}
	err := s.pr.next(&s.rec)
	if err == nil {
		s.n++
		st := s.stats
		st.Packets++
		if ts := s.rec.ts; st.Packets == 1 {
			st.first, st.last = ts, ts
		} else {
			st.first, st.last = min(st.first, ts), max(st.last, ts)
		}
		if s.rec.rawLink != s.lastLink || st.Packets == 1 {
			s.lastLink = s.rec.rawLink
			st.linkSeen[s.rec.rawLink] = true
		}
		if s.rec.warn != "" {
			*warnings = append(*warnings, Warning{Pos: Pos{File: s.name, Packet: s.n}, Offset: s.rec.offset, Msg: s.rec.warn})
		}
		return true
	}
	if errors.Is(err, io.EOF) {
		return false
	}
	msg := err.Error()
	if errors.Is(err, io.ErrUnexpectedEOF) {
		msg = "file ends inside this packet's record: truncated capture"
	}
	s.stats.Truncated = true
	*warnings = append(*warnings, Warning{
		Pos:    Pos{File: s.name, Packet: s.n + 1},
		Offset: s.rec.offset,
		Msg:    fmt.Sprintf("%s; the %d packets before it were used", msg, s.n),
	})
	return false
}

// connKeyOrder is what the Result's Conns are ordered by, in words: local
// endpoint, remote endpoint (as netip.AddrPort.Compare orders them), first
// packet's time, VLAN, then first packet's file and number. Sorting these
// and then moving each Conn once is about ten times faster than sorting
// the Conns, whose swaps move 624 bytes.
type connKeyOrder struct {
	local, remote addrOrder
	firstSec      int64
	firstNsec     int32
	vlan          uint16
	i             int32 // the Conn's index
	packet        uint64
	file          string
}

// addrOrder orders an address and port as netip.AddrPort.Compare does:
// by family, address, zone, then port.
type addrOrder struct {
	hi, lo uint64
	zone   string
	port   uint16
	bits   uint8
}

func addrOrderOf(ap netip.AddrPort) addrOrder {
	a := ap.Addr()
	b := a.As16()
	return addrOrder{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), a.Zone(), ap.Port(), uint8(a.BitLen() / 8)}
}

func (a *addrOrder) compare(b *addrOrder) int {
	if c := cmp.Compare(a.bits, b.bits); c != 0 {
		return c
	}
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	if c := cmp.Compare(a.lo, b.lo); c != 0 {
		return c
	}
	if c := strings.Compare(a.zone, b.zone); c != 0 {
		return c
	}
	return cmp.Compare(a.port, b.port)
}

// keyOrderOf returns the key of c, which is the i-th Conn.
func keyOrderOf(c *Conn, i int) connKeyOrder {
	return connKeyOrder{
		local: addrOrderOf(c.Local.Addr), remote: addrOrderOf(c.Remote.Addr),
		firstSec: c.First.Unix(), firstNsec: int32(c.First.Nanosecond()),
		vlan: c.VLAN, i: int32(i), packet: c.FirstPacket.Packet, file: c.FirstPacket.File,
	}
}

func (a *connKeyOrder) compare(b *connKeyOrder) int {
	if c := a.local.compare(&b.local); c != 0 {
		return c
	}
	if c := a.remote.compare(&b.remote); c != 0 {
		return c
	}
	if c := cmp.Compare(a.firstSec, b.firstSec); c != 0 {
		return c
	}
	if c := cmp.Compare(a.firstNsec, b.firstNsec); c != 0 {
		return c
	}
	if c := cmp.Compare(a.vlan, b.vlan); c != 0 {
		return c
	}
	if c := strings.Compare(a.file, b.file); c != 0 {
		return c
	}
	return cmp.Compare(a.packet, b.packet)
}

// SortConns sorts connections as a Result's Conns are: by local endpoint,
// remote endpoint, then first packet (connKeyOrder), for a caller that
// keeps some of those a Stream hands over.
func SortConns(conns []Conn) {
	keys := sortKeys(len(conns), func(i int) *Conn { return &conns[i] })
	// Put each Conn in its place, following the permutation's cycles:
	// the Conn at j must become the one at keys[j].i.
	for i := range keys {
		if int(keys[i].i) == i {
			continue
		}
		tmp := conns[i]
		j := i
		for {
			k := int(keys[j].i)
			keys[j].i = int32(j)
			if k == i {
				conns[j] = tmp
				break
			}
			conns[j] = conns[k]
			j = k
		}
	}
}

// earliest returns the index of the source whose packet comes first; ties
// go to the file named first.
func earliest(h []*source) int {
	bi := 0
	for i := 1; i < len(h); i++ {
		if h[i].rec.ts < h[bi].rec.ts {
			bi = i
		}
	}
	return bi
}
