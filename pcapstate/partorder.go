package pcapstate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// A version 2 block keeps each file's records apart: one sub-stream per
// file with records in the block, each record coded as in version 1 but
// without naming its file (times are differences from the file's last
// record's; tuples are numbered as the records come, across files). The
// reader puts them back in the order they were written by the rule the
// producer merges its inputs with: the next record is the head of a
// sub-stream with the earliest time, a tie going to the lowest file
// (the file named first), except that the end of a file comes as soon as
// it is a head (the producer writes a file's end right after the record
// it followed). Merging files by their heads' times, whatever the order
// of times inside a file, gives the same order as merging partial states
// of those files, each merged so, when the files are listed in the order
// of the inputs: a merged partial state's records, and a merge of it
// with others, are so replayed. Where the records came in another order
// (a version 1 partial state being merged whose order was not this
// rule's, or damage that ended several files at once), a switch says
// which sub-stream the record at that step is taken from.
//
// The block's payload:
//
//	uvarint n, the number of sub-streams; n times: uvarint file (rising),
//	uvarint length in bytes but for the last, which has the rest
//	uvarint count of switches; each: uvarint steps since the last
//	switch's next (the first's: its step, from 0), uvarint sub-stream
//	the sub-streams' bytes, one after the other

// headKey is what the order of a block's records compares of a
// sub-stream's head: its time, and whether it ends its file.
type headKey struct {
	ts  int64
	end bool
}

// headMerge is a heap of a block's sub-streams by their heads' keys, a
// tie going to the lower sub-stream (the lower file).
type headMerge struct {
	key  []headKey // each sub-stream's head
	heap []int32   // sub-streams with a head
	pos  []int32   // each sub-stream's place in heap, -1 when out
}

func (m *headMerge) reset(n int) {
	m.key = slices.Grow(m.key[:0], n)[:n]
	m.pos = slices.Grow(m.pos[:0], n)[:n]
	for i := range m.pos {
		m.pos[i] = -1
	}
	m.heap = m.heap[:0]
}

// before says whether sub-stream a's head comes before b's.
func (m *headMerge) before(a, b int32) bool {
	ka, kb := m.key[a], m.key[b]
	switch {
	case ka.end != kb.end:
		return ka.end
	case !ka.end && ka.ts != kb.ts:
		return ka.ts < kb.ts
	}
	return a < b
}

func (m *headMerge) top() int32 { return m.heap[0] }

// push adds sub-stream i, its head's key set.
func (m *headMerge) push(i int32) {
	m.pos[i] = int32(len(m.heap))
	m.heap = append(m.heap, i)
	m.up(len(m.heap) - 1)
}

// fix puts sub-stream i back in place after its head's key changed.
func (m *headMerge) fix(i int32) {
	if p := int(m.pos[i]); !m.down(p) {
		m.up(p)
	}
}

// remove takes sub-stream i out: it has no head left.
func (m *headMerge) remove(i int32) {
	p, last := int(m.pos[i]), len(m.heap)-1
	if p != last {
		m.swap(p, last)
	}
	m.heap = m.heap[:last]
	m.pos[i] = -1
	if p != last {
		m.fix(m.heap[p])
	}
}

func (m *headMerge) swap(p, q int) {
	m.heap[p], m.heap[q] = m.heap[q], m.heap[p]
	m.pos[m.heap[p]], m.pos[m.heap[q]] = int32(p), int32(q)
}

func (m *headMerge) up(p int) {
	for p > 0 {
		q := (p - 1) / 2
		if !m.before(m.heap[p], m.heap[q]) {
			return
		}
		m.swap(p, q)
		p = q
	}
}

// down moves the element at p down to its place, reporting whether it
// moved.
func (m *headMerge) down(p int) bool {
	p0 := p
	for {
		c := 2*p + 1
		if c >= len(m.heap) {
			break
		}
		if r := c + 1; r < len(m.heap) && m.before(m.heap[r], m.heap[c]) {
			c = r
		}
		if !m.before(m.heap[c], m.heap[p]) {
			break
		}
		m.swap(p, c)
		p = c
	}
	return p != p0
}

// blockSwitch says that the block's record at step (counted from 0) is
// sub-stream sub's head, not the one the rule gives.
type blockSwitch struct {
	step uint64
	sub  int32
}

// blockOrder lays a block's records out in sub-streams when it is
// written, and finds its switches; its slices are kept from block to
// block.
type blockOrder struct {
	subOf    []int32 // by file: its sub-stream in the block, or -1
	files    []int32 // the block's files, rising
	first    []int32 // by sub-stream: its first record
	last     []int32 // by sub-stream: its last record so far, then its head
	size     []int   // by sub-stream: its bytes
	next     []int32 // by record: its file's next record, or -1
	switches []blockSwitch
	merge    headMerge
}

// layout appends to out the block of the records whose bytes are in buf,
// spans saying where each ends, of a partial state of nfiles files.
func (o *blockOrder) layout(out, buf []byte, spans []recSpan, nfiles int) []byte {
	for len(o.subOf) < nfiles {
		o.subOf = append(o.subOf, -1)
	}
	o.files = o.files[:0]
	for _, sp := range spans {
		if o.subOf[sp.file] < 0 {
			o.subOf[sp.file] = 0
			o.files = append(o.files, sp.file)
		}
	}
	slices.Sort(o.files)
	n := len(o.files)
	o.first = slices.Grow(o.first[:0], n)[:n]
	o.last = slices.Grow(o.last[:0], n)[:n]
	o.size = slices.Grow(o.size[:0], n)[:n]
	for i, f := range o.files {
		o.subOf[f], o.first[i], o.size[i] = int32(i), -1, 0
	}
	o.next = slices.Grow(o.next[:0], len(spans))[:len(spans)]
	start := int32(0)
	for j, sp := range spans {
		i := o.subOf[sp.file]
		o.next[j] = -1
		if o.first[i] < 0 {
			o.first[i] = int32(j)
		} else {
			o.next[o.last[i]] = int32(j)
		}
		o.last[i] = int32(j)
		o.size[i] += int(sp.end - start)
		start = sp.end
	}
	// Replay the reader's rule: where its head is not the record that
	// came, a switch.
	m := &o.merge
	m.reset(n)
	for i := range n {
		m.key[i] = spans[o.first[i]].key
		m.push(int32(i))
	}
	o.switches = o.switches[:0]
	for j, sp := range spans {
		i := o.subOf[sp.file]
		if m.top() != i {
			o.switches = append(o.switches, blockSwitch{step: uint64(j), sub: i})
		}
		if nx := o.next[j]; nx >= 0 {
			m.key[i] = spans[nx].key
			m.fix(i)
		} else {
			m.remove(i)
		}
	}
	out = binary.AppendUvarint(out, uint64(n))
	for i, f := range o.files {
		out = binary.AppendUvarint(out, uint64(f))
		if i < n-1 {
			out = binary.AppendUvarint(out, uint64(o.size[i]))
		}
	}
	out = binary.AppendUvarint(out, uint64(len(o.switches)))
	from := uint64(0)
	for _, s := range o.switches {
		out = binary.AppendUvarint(out, s.step-from)
		out = binary.AppendUvarint(out, uint64(s.sub))
		from = s.step + 1
	}
	for i := range n {
		for j := o.first[i]; j >= 0; j = o.next[j] {
			start := int32(0)
			if j > 0 {
				start = spans[j-1].end
			}
			out = append(out, buf[start:spans[j].end]...)
		}
	}
	for _, f := range o.files {
		o.subOf[f] = -1
	}
	return out
}

// partSub is a sub-stream of a version 2 block being read: its file, its
// bytes, and its head, decoded up to its time.
type partSub struct {
	file int
	d    decoder
	head recHead
}

// startBlock begins reading a version 2 block.
func (pr *partReader) startBlock(payload []byte) error {
	if pr.version == 1 {
		pr.block, pr.pos = payload, 0
		return nil
	}
	pr.block = payload // its buffer is the next frame's
	d := decoder{b: payload}
	n := d.uvarint()
	if d.err != nil {
		return d.err
	}
	if n == 0 || n > uint64(len(pr.hdr.Files)) {
		return fmt.Errorf("block of %d sub-streams", n)
	}
	pr.subs = pr.subs[:0]
	total, prev := uint64(0), -1
	for i := range n {
		f, size := d.uvarint(), uint64(0)
		if i < n-1 {
			size = d.uvarint()
		}
		if d.err != nil {
			return d.err
		}
		if f >= uint64(len(pr.hdr.Files)) || int(f) <= prev {
			return fmt.Errorf("sub-stream of file %d out of order", f)
		}
		if i < n-1 && (size == 0 || size > uint64(len(payload))) {
			return fmt.Errorf("sub-stream of file %d has a bad length", f)
		}
		prev, total = int(f), total+size
		pr.subs = append(pr.subs, partSub{file: int(f), d: decoder{i: int(size)}})
	}
	ns := d.uvarint()
	if ns > uint64(len(payload)) {
		d.failWith(errShort)
	}
	pr.switches = pr.switches[:0]
	step := uint64(0)
	for range ns {
		step += d.uvarint()
		s := d.uvarint()
		if d.err != nil {
			break
		}
		if s >= n {
			return fmt.Errorf("switch to sub-stream %d of %d", s, n)
		}
		pr.switches = append(pr.switches, blockSwitch{step: step, sub: int32(s)})
		step++
	}
	if d.err != nil {
		return d.err
	}
	if total >= uint64(len(payload)-d.i) {
		return fmt.Errorf("sub-streams of %d bytes and more in %d", total, len(payload)-d.i)
	}
	pr.subs[len(pr.subs)-1].d.i = len(payload) - d.i - int(total)
	at := d.i
	for i := range pr.subs {
		size := pr.subs[i].d.i
		pr.subs[i].d = decoder{b: payload[at : at+size]}
		at += size
	}
	pr.swi, pr.step = 0, 0
	pr.merge.reset(len(pr.subs))
	if pr.single = len(pr.subs) == 1 && len(pr.switches) == 0; pr.single {
		return nil // read in order, each record whole (replay)
	}
	for i := range pr.subs {
		pr.headOf(int32(i))
	}
	return nil
}

// headOf decodes sub-stream i's next head and puts it in its place; a
// failure is pending, for the next record read.
func (pr *partReader) headOf(i int32) {
	s := &pr.subs[i]
	pr.head(&s.d, &s.head, s.file)
	m := &pr.merge
	if s.d.err != nil {
		if pr.pending == nil {
			pr.pending = s.d.err
		}
		if m.pos[i] >= 0 {
			m.remove(i)
		}
		return
	}
	m.key[i] = headKey{ts: s.head.ts, end: s.head.kind == recEOF}
	if m.pos[i] < 0 {
		m.push(i)
	} else {
		m.fix(i)
	}
}

var errSwitchLate = errors.New("a switch after the block's last record")

// replay reads the version 2 block's next record, in the order it was
// written.
func (pr *partReader) replay(rec *partRecord) error {
	if pr.pending != nil {
		return pr.pending
	}
	if pr.single {
		s := &pr.subs[0]
		pr.head(&s.d, &s.head, s.file)
		s.head.record(rec)
		if err := pr.body(&s.d, rec, s.head.b, s.head.ext); err != nil {
			return err
		}
		pr.cur = rec.file
		if s.d.i == len(s.d.b) {
			pr.single = false
		}
		return nil
	}
	m := &pr.merge
	i := m.top()
	if pr.swi < len(pr.switches) && pr.switches[pr.swi].step == pr.step {
		i = pr.switches[pr.swi].sub
		pr.swi++
		if m.pos[i] < 0 {
			return fmt.Errorf("switch to sub-stream %d, read to its end", i)
		}
	}
	pr.step++
	s := &pr.subs[i]
	s.head.record(rec)
	if err := pr.body(&s.d, rec, s.head.b, s.head.ext); err != nil {
		return err
	}
	pr.cur = rec.file
	if s.d.i < len(s.d.b) {
		pr.headOf(i)
	} else {
		m.remove(i)
	}
	if len(m.heap) == 0 && pr.swi < len(pr.switches) && pr.pending == nil {
		pr.pending = errSwitchLate
	}
	return nil
}
