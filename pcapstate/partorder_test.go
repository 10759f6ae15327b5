package pcapstate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// orderRec is what TestPartialBlockOrder compares of a record.
type orderRec struct {
	file     int
	ts       int64
	kind     uint8
	src, dst netip.AddrPort
	seq, ack uint32
}

// TestPartialBlockOrder writes records of up to six files into blocks of
// random sizes and reads them back: the same records in the same order,
// whatever the order. In the order the producer merges files by (the
// earliest head, a tie to the lower file, a file's end right after its
// last record), with times equal across files and going backwards within
// one, no block needs a switch; in a random order, the switches make the
// order exact. Segments of a few tuples shared by the files check that
// tuples are numbered, and their sequence numbers coded, in the order the
// records are read back.
func TestPartialBlockOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 2))
	ends := 0
	for iter := range 400 {
		ruled := iter%2 == 0
		nf := 1 + rng.IntN(6)
		// Each file's records, times mostly rising, some equal across
		// files (a coarse clock) and some going back.
		files := make([][]orderRec, nf)
		for f := range files {
			ts := int64(0)
			for range rng.IntN(40) {
				switch rng.IntN(8) {
				case 0:
					ts -= int64(rng.IntN(3000))
				case 1, 2:
				default:
					ts += int64(rng.IntN(3)) * 1000
				}
				r := orderRec{file: f, ts: ts, kind: recTick}
				if rng.IntN(2) == 0 {
					r.kind = recSeg
					a := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(3))}), 80)
					b := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 1, 1}), uint16(1000+rng.IntN(4)))
					if rng.IntN(2) == 0 {
						a, b = b, a
					}
					r.src, r.dst, r.seq, r.ack = a, b, rng.Uint32N(5000), rng.Uint32N(5000)
				}
				files[f] = append(files[f], r)
			}
		}
		var order []orderRec
		if ruled {
			order = ruleOrder(files)
		} else {
			order = randomOrder(rng, files)
		}
		hdr := partialHeader{Version: PartialVersion}
		for f := range nf {
			hdr.Files = append(hdr.Files, partialFile{Name: fmt.Sprintf("f%d.pcap", f)})
		}
		var b bytes.Buffer
		pw := newPartWriter(&b, hdr)
		pw.limit = 1 + rng.IntN(200)
		for i := range order {
			r := &order[i]
			switch r.kind {
			case recEOF:
				pw.eof(r.file, false, "", 0)
				r.ts = pw.lastTS[r.file]
			case recTick:
				pw.tick(r.file, r.ts, tickFiltered, "", 0)
			case recSeg:
				seg := Segment{Src: r.src.Addr(), SrcPort: r.src.Port(), Dst: r.dst.Addr(), DstPort: r.dst.Port(), Seq: r.seq, Ack: r.ack, Flags: ACK, Window: 1}
				pw.seg(r.file, r.ts, &seg, "", 0)
			}
		}
		if err := pw.close(partialTrailer{}); err != nil {
			t.Fatal(err)
		}
		pr, err := openPartial(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		var got []orderRec
		switches := 0
		for {
			var rec partRecord
			err := pr.next(&rec)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("case %d: %v", iter, err)
			}
			if pr.step == 1 {
				switches += len(pr.switches)
			}
			g := orderRec{file: rec.file, ts: rec.ts, kind: rec.kind}
			if rec.kind == recSeg {
				s := &rec.seg
				g.src, g.dst = netip.AddrPortFrom(s.Src, s.SrcPort), netip.AddrPortFrom(s.Dst, s.DstPort)
				g.seq, g.ack = s.Seq, s.Ack
			}
			got = append(got, g)
		}
		if len(got) != len(order) {
			t.Fatalf("case %d: %d records read, %d written", iter, len(got), len(order))
		}
		for i := range got {
			if got[i] != order[i] {
				t.Fatalf("case %d (ruled %v, %d files, blocks of %d bytes): record %d is %+v, written %+v", iter, ruled, nf, pw.limit, i, got[i], order[i])
			}
		}
		if ruled && switches > 0 {
			t.Errorf("case %d: %d switches in the producer's order", iter, switches)
		}
		if !ruled {
			ends += switches
		}
	}
	if ends == 0 {
		t.Error("no switch in any random order")
	}
}

// ruleOrder merges the files' records as the producer merges its inputs:
// the earliest head, a tie to the lower file; a file's end after its last
// record, or at the start when it has none.
func ruleOrder(files [][]orderRec) []orderRec {
	var out []orderRec
	next := make([]int, len(files))
	for f := range files {
		if len(files[f]) == 0 {
			out = append(out, orderRec{file: f, kind: recEOF})
		}
	}
	for {
		bf := -1
		for f := range files {
			if next[f] < len(files[f]) && (bf < 0 || files[f][next[f]].ts < files[bf][next[bf]].ts) {
				bf = f
			}
		}
		if bf < 0 {
			return out
		}
		out = append(out, files[bf][next[bf]])
		next[bf]++
		if next[bf] == len(files[bf]) {
			out = append(out, orderRec{file: bf, kind: recEOF})
		}
	}
}

// randomOrder interleaves the files' records at random, each file's in
// its order and its end anywhere after its last record.
func randomOrder(rng *rand.Rand, files [][]orderRec) []orderRec {
	var out []orderRec
	next := make([]int, len(files))
	for {
		var left []int
		for f := range files {
			if next[f] <= len(files[f]) {
				left = append(left, f)
			}
		}
		if len(left) == 0 {
			return out
		}
		f := left[rng.IntN(len(left))]
		if next[f] == len(files[f]) {
			out = append(out, orderRec{file: f, kind: recEOF})
		} else {
			out = append(out, files[f][next[f]])
		}
		next[f]++
	}
}
