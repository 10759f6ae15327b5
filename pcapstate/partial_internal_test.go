package pcapstate

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cwforensics/cwforensics/internal/golden"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// partialGoldens are the captures whose partial states are kept in
// testdata/partial, byte for byte, so that a change of the format that
// forgets PartialVersion fails; their records are kept as text beside.
var partialGoldens = []string{
	filepath.Join(zeekDir, "traces", "ftp_ipv6.pcap"),
	filepath.Join(zeekDir, "traces", "tcp_retransmit-fast009.pcap"),
	filepath.Join(zeekDir, "traces", "tunnels_Teredo.pcap"),
	filepath.Join("testdata", "public", "erspan-type-ii-3.pcap"),
}

func writePartialOf(t testing.TB, paths ...string) []byte {
	t.Helper()
	var ins []Input
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, Input{Name: filepath.Base(p), R: bytes.NewReader(data)})
	}
	var b bytes.Buffer
	if _, err := WritePartial(&b, ins, Options{}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// dumpPartial lists a partial state's records, one per line.
func dumpPartial(t testing.TB, data []byte) string {
	t.Helper()
	pr, err := openPartial(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "filter %q files [", pr.hdr.Filter)
	for i, f := range pr.hdr.Files {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "{Name:%s Format:%s", f.Name, f.Format)
		if len(f.Through) > 0 {
			fmt.Fprintf(&b, " Through:%v", f.Through)
		}
		b.WriteByte('}')
	}
	b.WriteString("]\n")
	var rec partRecord
	for {
		if err := pr.next(&rec); err != nil {
			if pr.trailer == nil {
				t.Fatal(err)
			}
			break
		}
		fmt.Fprintf(&b, "file %d ts %d ", rec.file, rec.ts)
		switch rec.kind {
		case recTick:
			if rec.filt {
				b.WriteString("filtered")
			} else {
				b.WriteString("skip " + rec.skip.String())
			}
		case recEOF:
			fmt.Fprintf(&b, "end truncated=%v", rec.trunc)
		default:
			s := &rec.seg
			kind := "seg"
			if rec.kind == recFrag {
				kind = fmt.Sprintf("frag %v id %d [%d,%d) more=%v", rec.skip, s.frag.id, s.frag.start, s.frag.end, s.frag.more)
			}
			fmt.Fprintf(&b, "%s %v:%d > %v:%d flags %#02x seq %d ack %d len %d zerowin=%v cut=%v frag=%v vlan %d tunnel %v http %d",
				kind, s.Src, s.SrcPort, s.Dst, s.DstPort, uint8(s.Flags), s.Seq, s.Ack, s.Payload, s.Window == 0, s.HeaderCut, s.Fragment, s.VLAN, s.Tunnel, s.HTTP)
		}
		if rec.warn != "" {
			fmt.Fprintf(&b, " warning at %d: %s", rec.offset, rec.warn)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "trailer %+v\n", *pr.trailer)
	return b.String()
}

// TestPartialGolden keeps the partial states of real captures (IPv6,
// retransmissions, a Teredo tunnel, ERSPAN) byte for byte, and their
// records as text; and so the partial state merged from the first two
// and the third's capture, whose header names the partial states its
// captures came through.
func TestPartialGolden(t *testing.T) {
	var ins []Input
	for i, p := range partialGoldens {
		name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		data := writePartialOf(t, p)
		golden.Check(t, filepath.Join("testdata", "partial", name+".cwfp"), data)
		golden.Check(t, filepath.Join("testdata", "partial", name+".records"), []byte(dumpPartial(t, data)))
		switch i {
		case 0, 1:
			ins = append(ins, Input{Name: name + ".cwfp", R: bytes.NewReader(data)})
		case 2:
			capture, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			ins = append(ins, Input{Name: filepath.Base(p), R: bytes.NewReader(capture)})
		}
	}
	merged := mergePartial(t, ins...)
	golden.Check(t, filepath.Join("testdata", "partial", "merged.cwfp"), merged)
	golden.Check(t, filepath.Join("testdata", "partial", "merged.records"), []byte(dumpPartial(t, merged)))
	// Three hosts' captures taken at the same time, interleaving in its
	// blocks (version 2's sub-streams), and a partial state whose
	// records came in an order that needs switches.
	sc := capgen.Scenarios(capgen.Options{})[0]
	hosts := partialBlocks(t, Options{}, 64, hostsScenario(t, sc.Capture)...)
	golden.Check(t, filepath.Join("testdata", "partial", "hosts.cwfp"), hosts)
	golden.Check(t, filepath.Join("testdata", "partial", "hosts.records"), []byte(dumpPartial(t, hosts)))
	sw := switchedPartial(t)
	golden.Check(t, filepath.Join("testdata", "partial", "switched.cwfp"), sw)
	golden.Check(t, filepath.Join("testdata", "partial", "switched.records"), []byte(dumpPartial(t, sw)))
	if switches(t, hosts) != 0 || switches(t, sw) == 0 {
		t.Errorf("%d switches in hosts.cwfp, %d in switched.cwfp", switches(t, hosts), switches(t, sw))
	}
}

// switchedPartial is a partial state of three captures whose records
// came in an order other than the merge's, as a version 1 partial state
// written so would be merged: a later time first, a file's end before
// another's records of the same time.
func switchedPartial(t testing.TB) []byte {
	t.Helper()
	hdr := partialHeader{Version: PartialVersion, Files: []partialFile{{Name: "a.pcap", Format: "pcap"}, {Name: "b.pcap", Format: "pcap"}, {Name: "c.pcap", Format: "pcap"}}}
	var b bytes.Buffer
	pw := newPartWriter(&b, hdr)
	seg := func(f int, ts int64, sport uint16, fl Flags, seq, ack uint32) {
		s := Segment{Src: netip.MustParseAddr("10.0.0.1"), SrcPort: sport, Dst: netip.MustParseAddr("10.0.0.2"), DstPort: 80, Flags: fl, Seq: seq, Ack: ack, Window: 1}
		pw.seg(f, ts, &s, "", 0)
	}
	seg(1, 2e9, 40000, SYN, 100, 0)
	seg(0, 1e9, 40001, SYN, 500, 0)
	pw.tick(2, 1e9, uint8(SkipARP), "", 0)
	seg(0, 3e9, 40001, ACK, 501, 0)
	pw.eof(0, false, "", 0)
	seg(1, 3e9, 40000, ACK, 101, 0)
	pw.eof(2, true, "damaged packet header", 90)
	pw.eof(1, false, "", 0)
	if err := pw.close(partialTrailer{Files: make([]partialLinked, 3)}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPartialVersion1 reads the version 1 partial states kept in
// testdata/partial/v1 (written before version 2 kept each capture's
// records apart in a block): the same records, in the same order, as
// version 2's of the same captures, and the same result when read.
func TestPartialVersion1(t *testing.T) {
	olds, _ := filepath.Glob(filepath.Join("testdata", "partial", "v1", "*.cwfp"))
	if len(olds) != len(partialGoldens)+1 {
		t.Fatalf("%d version 1 partial states, want %d", len(olds), len(partialGoldens)+1)
	}
	for _, p := range olds {
		old, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if v := old[len(partialMagic)]; v != 1 {
			t.Fatalf("%s: version %d", p, v)
		}
		name := filepath.Base(p)
		cur, err := os.ReadFile(filepath.Join("testdata", "partial", name))
		if err != nil {
			t.Fatal(err)
		}
		if cur[len(partialMagic)] != PartialVersion {
			t.Fatalf("testdata/partial/%s is not of version %d", name, PartialVersion)
		}
		want, err := os.ReadFile(filepath.Join("testdata", "partial", strings.TrimSuffix(name, ".cwfp")+".records"))
		if err != nil {
			t.Fatal(err)
		}
		if got := dumpPartial(t, old); got != string(want) {
			t.Errorf("%s: records\n%s\nwant\n%s", p, got, want)
		}
		rold, err := Read([]Input{{Name: name, R: bytes.NewReader(old)}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		rcur, err := Read([]Input{{Name: name, R: bytes.NewReader(cur)}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rold, rcur) {
			t.Errorf("%s: version 1 gives\n%+v\nversion 2\n%+v", name, rold, rcur)
		}
	}
}

// TestPartialZeekTraces reads every Zeek trace through its partial state,
// all of them through one, and all of them through a tree of merges (the
// traces' partial states merged four at a time, those merged into one),
// against reading the traces themselves.
func TestPartialZeekTraces(t *testing.T) {
	traces := traceFiles(t)
	var caps, parts []Input
	for _, p := range traces {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		caps = append(caps, Input{Name: name, R: bytes.NewReader(data)})
		parts = append(parts, Input{Name: name + ".cwfp", R: bytes.NewReader(writePartialOf(t, p))})
	}
	read := func(ins []Input) *Result {
		for i := range ins {
			ins[i].R.(*bytes.Reader).Seek(0, 0)
		}
		res, err := Read(ins, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range res.Files {
			res.Files[i].Via, res.Files[i].Through, res.Files[i].Input = "", nil, 0
		}
		return res
	}
	for i := range traces {
		if want, got := read(caps[i:i+1]), read(parts[i:i+1]); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the partial state gives another result", traces[i])
		}
	}
	all := Input{Name: "all.cwfp", R: bytes.NewReader(writePartialOf(t, traces...))}
	if want, got := read(caps), read([]Input{all}); !reflect.DeepEqual(got, want) {
		t.Errorf("all traces: the partial state gives another result")
	}
	var level1 []Input
	for i := 0; i < len(parts); i += 4 {
		level1 = append(level1, Input{Name: fmt.Sprintf("level1-%d.cwfp", i/4), R: bytes.NewReader(mergePartial(t, parts[i:min(i+4, len(parts))]...))})
	}
	tree := Input{Name: "tree.cwfp", R: bytes.NewReader(mergePartial(t, level1...))}
	if want, got := read(caps), read([]Input{tree}); !reflect.DeepEqual(got, want) {
		t.Errorf("all traces through a tree of merges: the partial state gives another result")
	}
}

// mergePartial writes the partial state of the inputs, read from their
// start.
func mergePartial(t testing.TB, ins ...Input) []byte {
	t.Helper()
	for i := range ins {
		ins[i].R.(*bytes.Reader).Seek(0, 0)
	}
	var b bytes.Buffer
	if _, err := WritePartial(&b, ins, Options{}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// FuzzReadPartial feeds damaged partial states to Read: no panic, an error
// only for a bad header, warnings that name a capture of the header and
// the partial state, counts that agree.
func FuzzReadPartial(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "partial", "*.cwfp"))
	v1, _ := filepath.Glob(filepath.Join("testdata", "partial", "v1", "*.cwfp"))
	seeds = append(seeds, v1...)
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Read([]Input{{Name: "fuzz.cwfp", R: bytes.NewReader(data)}}, Options{})
		if err != nil {
			return
		}
		for _, w := range res.Warnings {
			known := false
			for _, fs := range res.Files {
				known = known || fs.Name == w.Pos.File
			}
			if !known || w.Pos.Packet < 1 {
				t.Fatalf("warning at an unknown position: %+v", w)
			}
		}
		var segs uint64
		for _, c := range res.Conns {
			segs += c.Local.Packets + c.Remote.Packets
		}
		if segs != res.Segments || res.Segments+res.NonTCP()+res.Filtered != res.Packets {
			t.Fatalf("packet counts disagree: %d in conns, %d segments, %d non-TCP, %d filtered, %d packets", segs, res.Segments, res.NonTCP(), res.Filtered, res.Packets)
		}
	})
}

// FuzzMergePartial merges damaged partial states into another: the merge
// fails only where reading fails (a bad header), and reading what it
// wrote gives what reading the damaged one gives, warnings and positions
// included.
func FuzzMergePartial(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "partial", "*.cwfp"))
	v1, _ := filepath.Glob(filepath.Join("testdata", "partial", "v1", "*.cwfp"))
	seeds = append(seeds, v1...)
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, err := Read([]Input{{Name: "fuzz.cwfp", R: bytes.NewReader(data)}}, Options{})
		var merged bytes.Buffer
		_, merr := WritePartial(&merged, []Input{{Name: "fuzz.cwfp", R: bytes.NewReader(data)}}, Options{})
		if err != nil && merr == nil && strings.Contains(err.Error(), "written with filter") {
			return // read without its filter, merged with it (carried over)
		}
		if err != nil || merr != nil {
			if (err == nil) != (merr == nil) {
				t.Fatalf("read: %v; merge: %v", err, merr)
			}
			return
		}
		got, err := Read([]Input{{Name: "merged.cwfp", R: bytes.NewReader(merged.Bytes())}}, Options{})
		if err != nil {
			t.Fatalf("reading the merged partial state: %v", err)
		}
		for _, res := range []*Result{want, got} {
			for i := range res.Files {
				res.Files[i].Via, res.Files[i].Through = "", nil
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("the merged partial state gives another result\n got %+v\nwant %+v", got, want)
		}
	})
}

// TestTimeDifferences: every time difference comes back as it was coded,
// microseconds, nanoseconds, and the whole ones too large for either.
func TestTimeDifferences(t *testing.T) {
	for _, d := range []int64{0, 1000, -1000, 1, -1, 999, 1e9, -1e9, 1 << 59, 1<<60 - 1, 1 << 60, 1<<62 + 7, -(1 << 62), 1<<63 - 1, -1 << 63, (1<<52 + 1) * 1000, 4611686018427387000} {
		b := appendTS(nil, d)
		dec := decoder{b: b}
		if got := dec.ts(); got != d || dec.err != nil || dec.i != len(b) {
			t.Errorf("%d: read back %d (%v, %d of %d bytes)", d, got, dec.err, dec.i, len(b))
		}
	}
}

// TestPartialReaderReleases: a partial state read to its end holds no
// block and no tuple.
func TestPartialReaderReleases(t *testing.T) {
	pr, err := openPartial(bytes.NewReader(writePartialOf(t, partialGoldens[0])))
	if err != nil {
		t.Fatal(err)
	}
	var rec partRecord
	n := 0
	for pr.next(&rec) == nil {
		n++
	}
	if n == 0 || pr.trailer == nil || pr.block != nil || len(pr.tab.states) != 0 {
		t.Errorf("%d records, trailer %v: %d bytes of block and %d tuples kept", n, pr.trailer != nil, len(pr.block), len(pr.tab.states))
	}
}

// TestPartialStatsCounts: the packets and TCP segments WritePartial says
// it wrote, and each capture's counts and why it is ignored, are those
// Read gives for the same captures (fragments that make a segment
// included), whether it wrote them from the captures or merged them from
// their partial states.
func TestPartialStatsCounts(t *testing.T) {
	for _, p := range traceFiles(t) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Read([]Input{{Name: "a.pcap", R: bytes.NewReader(data)}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var part bytes.Buffer
		st, err := WritePartial(&part, []Input{{Name: "a.pcap", R: bytes.NewReader(data)}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		mst, err := WritePartial(&bytes.Buffer{}, []Input{{Name: "a.cwfp", R: bytes.NewReader(part.Bytes())}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []PartialStats{st, mst} {
			if s.Packets != res.Packets || s.Segments != res.Segments {
				t.Errorf("%s: partial wrote %d packets, %d segments; read counts %d, %d", filepath.Base(p), s.Packets, s.Segments, res.Packets, res.Segments)
			}
			if len(s.Captures) != 1 {
				t.Fatalf("%s: %d captures' stats, want 1", filepath.Base(p), len(s.Captures))
			}
			got, want := s.Captures[0], res.Files[0]
			if got.Packets != want.Packets || got.Segments != want.Segments || got.Filtered != want.Filtered ||
				!reflect.DeepEqual(got.Skipped, want.Skipped) || got.Ignored != want.Ignored {
				t.Errorf("%s: partial's stats %+v, read's %+v", filepath.Base(p), got, want)
			}
		}
	}
}

// TestPartialVersionUnknown: a partial state of a version this package
// does not know is an error that says what to do, never damage read as
// far as it goes: a later version's says it came from a newer
// cwforensics, and a version 0 that none wrote one.
func TestPartialVersionUnknown(t *testing.T) {
	cur, err := os.ReadFile(filepath.Join("testdata", "partial", "ftp_ipv6.cwfp"))
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[byte][]string{
		PartialVersion + 1: {fmt.Sprintf("partial state version %d, written by a newer cwforensics", PartialVersion+1), fmt.Sprintf("reads versions 1 to %d", PartialVersion), "write it again"},
		0:                  {"version 0, which no cwforensics wrote"},
	} {
		b := bytes.Clone(cur)
		b[len(partialMagic)] = v
		_, err := Read([]Input{{Name: "p.cwfp", R: bytes.NewReader(b)}}, Options{})
		if err == nil {
			t.Fatalf("version %d read", v)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("version %d: error %q, want it to say %q", v, err, w)
			}
		}
	}
}
