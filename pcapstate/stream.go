package pcapstate

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"time"
)

// A Stream reads captures and hands over their connections one at a time,
// as the caller asks for them, the way bufio.Scanner hands over lines:
//
//	s, err := pcapstate.NewStream(inputs, opts)
//	if err != nil { ... }
//	defer s.Close()
//	for s.Next() {
//		c := s.Conn() // valid until the next call to Next: copy what you keep
//	}
//	if err := s.Err(); err != nil { ... }
//	res := s.Result() // everything else the captures say
//
// Next first hands over the finished connections Options.Retain keeps, as
// the engine releases them while the captures are read (each at the end
// of its linger time), then the connections still open at the end (and
// the finished ones still lingering). The engine runs inside Next, between
// the connections it hands over: it never calls the caller's code, and
// the caller never holds more of the captures than what it copies. The
// finished connections come in batches the Stream reuses, so that memory
// follows the connections open at once, not those seen.
//
// The order of the connections is the engine's, not Read's sorted order.
type Stream struct {
	opts  Options
	log   *slog.Logger
	files int
	res   *Result
	ex    exporter
	tr    *tracker
	pr    *producer
	full  chan *batch
	free  chan *batch
	stop  chan struct{}
	phase phase
	err   error
	cur   *Conn
	// pending are the finished connections the engine released while it
	// ran the last batch of segments, handed over from next on: the
	// batch is reused for the next run.
	pending []Conn
	next    int
	// At the end: the capture's last packet, the connections left to
	// hand over (at most left), where the halves' (hc, hj) and the
	// conns' (cc, cj) walks are, and the Conn the last one was exported
	// to: into, when NextBatch gives a slot of its batch, else one;
	// handed counts the connections handed over.
	end            int64
	left           int
	hc, hj, cc, cj int
	half           conn
	one            Conn
	into           *Conn
	handed         uint64
	// stopSpools stops the goroutines writing spools and releases them
	// (Options.Jobs), nil when none.
	stopSpools func()
}

// phase is what a Stream hands over next.
type phase uint8

const (
	phaseRead   phase = iota // finished connections, as the captures are read
	phaseHalves              // the halves left at the end, as the conns they stand for
	phaseConns               // the conns left at the end
	phaseDone                // nothing: the engine's memory is released
)

// NewStream opens the captures and starts reading them, merging their
// packets in timestamp order. A file that is not a capture is an error
// naming it; a truncated or corrupt file gives the packets before the
// damage and a warning. Close releases what a Stream not read to its end
// holds.
func NewStream(inputs []Input, opts Options) (*Stream, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	filter, err := newFilter(opts.Filter)
	if err != nil {
		return nil, err
	}
	s := &Stream{opts: opts, log: log, files: len(inputs), res: &Result{}}
	// Every input is opened first: a file that is neither a capture nor a
	// partial state is an error before anything is read.
	opened := make([]*source, len(inputs))
	var caps []*source
	for i, in := range inputs {
		src, err := openInput(in)
		if err != nil {
			return nil, err
		}
		if src.part != nil && src.part.hdr.Filter != opts.Filter {
			return nil, filterMismatch(in.Name, src.part.hdr.Filter, opts.Filter)
		}
		if opened[i] = src; src.part == nil {
			caps = append(caps, src)
		}
	}
	if opts.Jobs > 1 && len(caps) > 1 {
		// Rotated captures: each decoded on its own into a spool, read
		// back as a partial state (see spool.go).
		readers, stop, err := spoolCaptures(caps, opts.Filter, opts.Jobs, opts.SpoolDir)
		if err != nil {
			return nil, err
		}
		s.stopSpools = stop
		for k, src := range caps {
			pr, err := openPartial(readers[k])
			if err != nil {
				stop()
				if !errors.Is(err, errPartial) {
					return nil, err // the writer's, as the one pass would say it
				}
				return nil, fmt.Errorf("%s: %w", src.name, err)
			}
			src.pr, src.part, src.spooled = nil, pr, true
		}
	}
	s.res.Files = layoutFiles(opened)
	if err := checkTwice(s.res.Files, fileIDs(opened), false); err != nil {
		if s.stopSpools != nil {
			s.stopSpools()
		}
		return nil, err
	}
	names := make([]string, len(s.res.Files))
	for i := range s.res.Files {
		names[i] = s.res.Files[i].Name
	}
	bindFiles(opened, s.res.Files)
	s.ex = exporter{names: names, local: opts.Local, omitWhy: opts.OmitWhy}
	s.tr = newTracker(s.retire)
	s.tr.noHalves = opts.noHalves
	s.ex.tr = s.tr
	// One goroutine reads, merges and decodes the captures into batches of
	// segments while Next runs the state machines: the two halves of the
	// work take about the same time.
	s.full = make(chan *batch, pipelineDepth)
	s.free = make(chan *batch, pipelineDepth+1)
	s.stop = make(chan struct{})
	s.pr = &producer{srcs: opened, filter: filter, seed: s.tr.table.seed, progress: opts.Packets, stop: s.stop}
	go s.pr.run(s.full, s.free)
	return s, nil
}

// retire takes a connection the engine releases: exported to the pending
// batch if Retain keeps it. One batch reused for all: a million
// connections handed over leave no garbage but their anomalies and
// verdicts' texts.
func (s *Stream) retire(c *conn) {
	if !s.retained(c) {
		return
	}
	if n := len(s.pending); n < cap(s.pending) {
		s.pending = s.pending[:n+1]
	} else {
		s.pending = append(s.pending, Conn{})
	}
	s.ex.exportInto(&s.pending[len(s.pending)-1], c, c.last)
}

// retained reports whether Retain keeps c, a finished connection.
func (s *Stream) retained(c *conn) bool {
	switch s.opts.Retain {
	case RetainNone:
		return false
	case RetainCloseWait:
		return c.cold[0].cwAt != 0 || c.cold[1].cwAt != 0
	}
	return true
}

// Next advances to the next connection, which Conn returns. It returns
// false at the end of the captures or at an error, which Err returns.
func (s *Stream) Next() bool {
	for {
		switch s.phase {
		case phaseRead:
			if s.next < len(s.pending) {
				s.cur = &s.pending[s.next]
				s.next++
				s.handed++
				return true
			}
			if !s.refill() {
				return false
			}
		case phaseHalves:
			if s.nextHalf() {
				return true
			}
		case phaseConns:
			if s.nextConn() {
				return true
			}
		default:
			s.cur = nil
			return false
		}
	}
}

// refill runs the state machines on the producer's next batch of
// segments, into an empty pending batch; at the end of the captures it
// completes the Result. It reports whether connections may follow.
func (s *Stream) refill() bool {
	// The connections in pending are the caller's now: the run exports
	// over them (exportInto writes every field), and those it does not
	// reach are cleared after it, so that their anomalies and texts are
	// not kept alive, without zeroing a slot to write it again.
	stale := len(s.pending)
	s.pending, s.next = s.pending[:0], 0
	b, ok := <-s.full
	if !ok {
		clear(s.pending[:stale])
		return s.endOfCaptures()
	}
	s.tr.run(b.items)
	if n := len(s.pending); n < stale {
		clear(s.pending[n:stale]) // not moved: n is within its capacity
	}
	b.items = b.items[:0]
	s.free <- b
	return true
}

// NextBatch hands over the next connections at once, in the order Next
// would advance to them, at least one; nil at the end of the captures or
// at an error, which Err returns. The batch is the caller's until it gives
// it back as reuse, which the stream fills again (nil: a new one), so that
// the finished connections released while the captures are read reach the
// caller without a copy; what the caller left in it up to its length is
// not kept alive (its slots after its length must be as the stream gave
// them). A batch given back with room for more than maxReuse connections
// is dropped, not refilled. After the captures' end the batches hold at
// most cap(reuse) connections, or 256 in a new batch when cap(reuse) is
// less. Next and NextBatch may be mixed.
func (s *Stream) NextBatch(reuse []Conn) []Conn {
	if cap(reuse) > maxReuse {
		reuse = nil
	}
	for s.phase == phaseRead {
		if s.next < len(s.pending) {
			out := s.pending[s.next:]
			s.handed += uint64(len(out))
			// reuse becomes pending, every connection in it handed
			// over: the next refill exports over it and clears the
			// rest.
			s.pending, s.next, s.cur = reuse, len(reuse), nil
			return out
		}
		if !s.refill() {
			clear(reuse)
			return nil
		}
	}
	// After the read, each connection is exported straight into its slot
	// of the batch (handOver), not into s.one and copied there: the
	// connections still open at the end can be hundreds of thousands.
	out, n := reuse[:0], max(cap(reuse), 256)
	if cap(out) < n {
		out = make([]Conn, 0, n)
	}
	for len(out) < n {
		out = out[:len(out)+1]
		s.into = &out[len(out)-1]
		if !s.Next() {
			out = out[:len(out)-1]
			break
		}
	}
	s.into = nil
	if len(out) < len(reuse) {
		clear(reuse[len(out):])
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// maxReuse is the largest batch NextBatch refills, twice the segments of a
// run: a run releases about as many connections as segments finished them
// two minutes (the linger) earlier, at most 307 in a run of the reference
// capture. A gap in capture time longer than the linger releases every
// connection lingering in one run, into a batch as large (77 MB for
// 120,000); kept, it would stay in a caller's rotation (analyze keeps 8
// batches), and each gap would leave another (TestStreamBurstBatches).
const maxReuse = 2 * batchSize

// Conn returns the connection Next advanced to. It is valid until the next
// call to Next or Close, which may reuse it: copy what you keep.
func (s *Stream) Conn() *Conn { return s.cur }

// Err returns the error that ended the stream, nil at the end of the
// captures.
func (s *Stream) Err() error { return s.err }

// Result returns what the captures say besides their connections: files,
// times, counts, the half-open summary and warnings. It is complete once
// Next has returned false with no error; its Conns are nil (the Stream
// handed them over).
func (s *Stream) Result() *Result { return s.res }

// Close stops reading and releases the engine's memory. It is needed only
// when the stream is not read to its end (Next returning false), and may
// be called more than once.
func (s *Stream) Close() {
	if s.phase == phaseDone {
		return
	}
	if s.phase == phaseRead {
		// The producer returns at its next batch: wait for it, so that
		// it reads none of the inputs after Close.
		close(s.stop)
		for range s.full {
		}
	}
	s.finish()
}

// finish releases the engine's memory.
func (s *Stream) finish() {
	if s.stopSpools != nil {
		s.stopSpools()
		s.stopSpools = nil
	}
	s.tr.release()
	s.phase, s.cur, s.pending = phaseDone, nil, nil
}

// endOfCaptures completes the Result once every packet is read and
// prepares the end's walks: it reports whether connections may follow.
//
// The rest of the engine's state (its table, lists and linger queue) is
// released first, and the slab compacted (without the finished connections
// when none is retained), so that the connections left can be exported a
// chunk of the slab at a time, each chunk released once walked: a caller
// that keeps them grows as the engine's state shrinks. The table's slots
// outlive it as scratch memory for counting the half-open connections'
// sources: there are at least twice as many slots as connections in the
// table.
func (s *Stream) endOfCaptures() bool {
	pr, tr, res := s.pr, s.tr, s.res
	s.pending = nil
	if pr.err != nil {
		s.err = pr.err
		s.finish()
		return false
	}
	res.Packets, res.Filtered, res.Segments, res.Warnings = pr.packets, pr.filtered, pr.segments, pr.warnings
	sortWarnings(res.Warnings, res.Files)
	if res.Packets > 0 {
		res.Start, res.End = time.Unix(0, pr.start).UTC(), time.Unix(0, pr.end).UTC()
	}
	for k, n := range pr.skipped {
		if n > 0 {
			res.Skipped = append(res.Skipped, SkipCount{Skip(k).String(), n})
		}
	}
	res.Connections = tr.created
	s.end = pr.end
	spare := tr.table
	tr.table, tr.free, tr.queue = table{}, nil, nil
	n := tr.compact(s.opts.Retain == RetainNone)
	halvesLeft := tr.halves // exported as Conns
	if s.opts.SummarizeHalfOpen {
		// At most as many sources as connections in the table.
		hs := newHalfOpenSums(spare.slots, spare.n)
		// The few half-open connections that are conns (their SYN
		// retransmitted with another ISN, or cut by the snaplen), then the
		// halves.
		for _, ch := range tr.chunks {
			for j := range ch.conns {
				if c := &ch.conns[j]; c.live && !c.done() {
					if l, ok := s.summarize(c); ok {
						// Counted, not handed over: nextConn passes
						// over it as no longer live.
						c.live = false
						n--
						a, port := c.addr(l)
						ra, _ := c.addr(1 - l)
						hs.add(endpointKey{*a, port, c.key.vlan, c.v4[l]}, sourceValue(ra, c.v4[1-l]), c.first, c.firstRef, c.last, c.lastRef)
					}
				}
			}
		}
		halvesLeft -= hs.addHalves(tr, &s.ex)
		hs.countSources()
		res.HalfOpen = hs.result(&s.ex)
	}
	spare.release()
	for i := range res.Files {
		res.Files[i].finish()
	}
	s.left = n + halvesLeft
	s.phase = phaseHalves
	if halvesLeft == 0 {
		tr.releaseHalves()
		s.phase = phaseConns
	}
	return true
}

// summarize reports whether c, open at the end, goes into the half-open
// counts rather than the connections handed over, and its local endpoint.
func (s *Stream) summarize(c *conn) (int, bool) {
	if !s.opts.SummarizeHalfOpen || !c.halfOpen() {
		return 0, false
	}
	l, _ := s.ex.localSide(c)
	return l, l == 1
}

// nextHalf hands over the next half left at the end as the conn it stands
// for; at the last, it releases the halves and moves on to the conns.
func (s *Stream) nextHalf() bool {
	tr := s.tr
	for ; s.hc < len(tr.halfChunks); s.hc, s.hj = s.hc+1, 0 {
		ch := &tr.halfChunks[s.hc]
		for s.hj < len(ch.halves) {
			h := &ch.halves[s.hj]
			s.hj++
			if h.bits&halfLive == 0 {
				continue // or counted in the half-open summary
			}
			s.half = conn{live: true}
			tr.fill(&s.half, h)
			if s.opts.Open != nil && !s.openWanted(&s.half) {
				continue // left out, as Options.Open says
			}
			s.handOver(&s.half, s.end)
			return true
		}
	}
	tr.releaseHalves()
	s.phase = phaseConns
	return false
}

// nextConn hands over the next conn left at the end, releasing each chunk
// of the slab once walked; after the last, it releases the rest.
func (s *Stream) nextConn() bool {
	tr := s.tr
	for ; s.cc < len(tr.chunks); s.cc, s.cj = s.cc+1, 0 {
		conns := tr.chunks[s.cc].conns
		for s.cj < len(conns) {
			c := &conns[s.cj]
			s.cj++
			switch {
			case !c.live:
			case c.done():
				// Finished, still lingering: handed over as Retain says,
				// like those released before the end.
				if s.retained(c) {
					s.handOver(c, c.last)
					return true
				}
			case s.opts.Open != nil && !s.openWanted(c):
				// Left out, as Options.Open says.
			default:
				s.handOver(c, s.end)
				return true
			}
		}
		tr.releaseChunk(s.cc)
	}
	s.log.Debug("captures read", "files", s.files, "packets", s.res.Packets, "segments", s.res.Segments, "conns", s.handed)
	s.finish()
	return false
}

// openWanted reports whether c, open at the end, has its local endpoint
// in one of the states of Options.Open, once settled as exported.
func (s *Stream) openWanted(c *conn) bool {
	s.ex.settle(c)
	l, _ := s.ex.localSide(c)
	return slices.Contains(s.opts.Open, c.ep[l].state)
}

// handOver makes c, a connection left at the end, the current one,
// exported at end straight into the Conn handed over (exportInto), not
// built as a value and copied there.
func (s *Stream) handOver(c *conn, end int64) {
	to := s.into
	if to == nil {
		to = &s.one
	}
	s.ex.exportInto(to, c, end)
	s.cur = to
	s.handed++
}

// sortWarnings orders warnings by file, in the order of the Result's
// files, then packet: the order in which the files' packets are read is
// the merge's, which partial states written from several files do not
// keep.
func sortWarnings(ws []Warning, files []FileStats) {
	idx := make(map[string]int, len(files))
	for i := len(files) - 1; i >= 0; i-- {
		idx[files[i].Name] = i
	}
	slices.SortStableFunc(ws, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(idx[a.Pos.File], idx[b.Pos.File]), cmp.Compare(a.Pos.Packet, b.Pos.Packet))
	})
}

// checkTwice fails when a capture's name comes twice among files and one
// of the two came through a partial state (any two, when all is set: a
// partial state cannot hold two captures of one name). A capture twice
// would double every packet; two captures of one name would make
// positions ambiguous. Captures given twice themselves are read twice,
// as asked. Names are compared cleaned (filepath.Clean): "./a.pcap"
// written into a partial state is the a.pcap given beside it.
func checkTwice(files []FileStats, ids []string, all bool) error {
	seen := make(map[string]int, len(files))
	seenID := make(map[string]int, len(files))
	for i := range files {
		f := &files[i]
		name := filepath.Clean(f.Name)
		if j, ok := seen[name]; ok && (all || f.Via != "" || files[j].Via != "") {
			return fmt.Errorf("capture %s is read twice (%s and %s): a capture read twice doubles every packet; if these are two captures of the same name, write their partial states from paths that tell them apart (a folder per host)", f.Name, viaName(&files[j]), viaName(f))
		}
		seen[name] = i
		if ids[i] == "" {
			continue
		}
		if j, ok := seenID[ids[i]]; ok && (all || f.Via != "" || files[j].Via != "") {
			return fmt.Errorf("capture %s (%s) and capture %s (%s) are one capture read twice, their bytes the same: a capture read twice doubles every packet", files[j].Name, viaName(&files[j]), f.Name, viaName(f))
		}
		seenID[ids[i]] = i
	}
	return nil
}

// fileIDs lists the identities (CaptureID) of srcs' files, as
// layoutFiles lays the files out: "" where there is none.
func fileIDs(srcs []*source) []string {
	var ids []string
	for _, src := range srcs {
		if src.part == nil {
			ids = append(ids, src.id)
			continue
		}
		for _, f := range src.part.hdr.Files {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

// idBytes is how much of a capture's start and of its end its identity
// hashes.
const idBytes = 4096

// CaptureID is the identity of the file r reads from where it is (a
// capture, compressed or not), recorded in the partial states it is
// written into, so that the same capture given under another name (an
// absolute path and a relative one, a link, a copy, on another machine)
// is found read twice: its size and a hash of its first and last idBytes
// bytes, read where they are (io.ReaderAt), r left where it was. It is
// none ("") when r cannot seek and read at (a pipe), or holds less than 2*idBytes: a capture that
// small may hold no packet, and two of those taken on two hosts (the
// same header, no packet) could be alike byte for byte though they are
// not one capture. Larger, two captures alike in size and at both ends,
// packet times to the microsecond, are one capture, wherever they were
// read: nothing of the file system (paths, devices, inodes, times) is
// compared, which a partial state written on another machine or in
// another folder could share with a different capture.
func CaptureID(r io.Reader) (string, error) {
	return CaptureIDAt(r, CaptureStart(r))
}

// CaptureStart is where r is now, to be given to CaptureIDAt once what r
// reads from there is known to be a capture; -1 when r cannot seek (a
// pipe), whose capture has no identity.
func CaptureStart(r io.Reader) int64 {
	s, ok := r.(io.Seeker)
	if !ok {
		return -1
	}
	start, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return -1 // not seekable after all (a pipe's *os.File)
	}
	return start
}

// CaptureIDAt is CaptureID of the file r reads taken from offset start
// (CaptureStart; none when start is negative), wherever r is now (it is
// left there): the identity of a capture recognised from its first bytes,
// found to be one only once they were read, so that other files cost no
// hashing.
func CaptureIDAt(r io.Reader, start int64) (string, error) {
	s, ok := r.(io.Seeker)
	ra, okAt := r.(io.ReaderAt)
	if !ok || !okAt || start < 0 {
		return "", nil
	}
	cur, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return "", nil // not seekable after all (a pipe's *os.File)
	}
	end, err := s.Seek(0, io.SeekEnd)
	if _, serr := s.Seek(cur, io.SeekStart); err == nil {
		err = serr
	}
	if err != nil || end-start < 2*idBytes {
		return "", err
	}
	h := sha256.New()
	var buf [idBytes]byte
	for _, at := range []int64{start, end - idBytes} {
		if _, err := ra.ReadAt(buf[:], at); err != nil {
			return "", err
		}
		h.Write(buf[:])
	}
	return fmt.Sprintf("%d:%x", end-start, h.Sum(nil)[:16]), nil
}

// filterMismatch is the error of reading partial state name, written with
// filter written, with filter read: it says "without a filter" for an
// empty one, and which filter to read it with.
func filterMismatch(name, written, read string) error {
	switch {
	case read == "":
		return fmt.Errorf("%s: a partial state written with filter %q cannot be read without a filter: its packets were filtered when it was written; read it with filter %q", name, written, written)
	case written == "":
		return fmt.Errorf("%s: a partial state written without a filter cannot be read with filter %q: its packets were decoded when it was written, with nothing left to filter; write it again with that filter, or read it without one", name, read)
	}
	return fmt.Errorf("%s: a partial state written with filter %q cannot be read with filter %q: its packets were filtered when it was written; read it with filter %q", name, written, read, written)
}

// layoutFiles lists the files of srcs as a Result has them, in the
// sources' order: a capture is one, a partial state is those of its
// captures, in its order, each naming the partial state it came through
// (a spool is none) and the ones that was merged from. Input is the
// source's index.
func layoutFiles(srcs []*source) []FileStats {
	var files []FileStats
	for i, src := range srcs {
		if src.part == nil {
			files = append(files, FileStats{Name: src.name, Format: src.pr.format(), Input: i, linkSeen: map[uint32]bool{}})
			continue
		}
		for _, f := range src.part.hdr.Files {
			fs := FileStats{Name: f.Name, Format: f.Format, Input: i, linkSeen: map[uint32]bool{}}
			if !src.spooled {
				fs.Via, fs.Through = src.name, f.Through
			}
			files = append(files, fs)
		}
	}
	return files
}

// bindFiles points each of srcs at its files' stats among files, as
// layoutFiles laid them out: a capture's, or from base on a partial
// state's, with their packet counts.
func bindFiles(srcs []*source, files []FileStats) {
	k := 0
	for _, src := range srcs {
		if src.part == nil {
			src.idx, src.stats = k, &files[k]
			k++
			continue
		}
		n := len(src.part.hdr.Files)
		src.base, src.ns, src.files = k, make([]uint64, n), nil
		for j := range n {
			src.files = append(src.files, &files[k+j])
		}
		src.idx, src.stats = k, src.files[0]
		k += n
	}
}

// viaName says where a file was read: its partial states, or itself.
func viaName(f *FileStats) string {
	if f.Via != "" {
		return "through " + f.ViaChain()
	}
	return "itself"
}

// openInput opens a capture or a partial state, recognised by content, as
// a source; anything else is an error naming it.
func openInput(in Input) (*source, error) {
	// Where R starts, for a capture's identity (CaptureIDAt), taken once
	// it is known to be a capture: a partial state's captures have theirs
	// in its header, and its own ends are neither read nor hashed.
	start := int64(-1)
	if in.ID == "" {
		start = CaptureStart(in.R)
	}
	br := bufio.NewReaderSize(in.R, 64<<10)
	if head, _ := br.Peek(len(partialMagic)); SniffPartial(head) {
		pr, err := openPartial(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in.Name, err)
		}
		return &source{name: in.Name, part: pr}, nil
	}
	pr, err := openCapture(br)
	if err != nil {
		if errors.Is(err, ErrNotCapture) {
			return nil, fmt.Errorf("%s: %w", in.Name, err)
		}
		return nil, fmt.Errorf("open capture %s: %w", in.Name, err)
	}
	id := in.ID
	if id == "" {
		if id, err = CaptureIDAt(in.R, start); err != nil {
			return nil, fmt.Errorf("open %s: %w", in.Name, err)
		}
	}
	return &source{name: in.Name, pr: pr, id: id}, nil
}
