package pcapstate

import (
	"bytes"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// TestPartialMergeCutEverywhere writes the partial state of each exactness
// scenario cut into two files with one record per block, cuts that
// partial state short after every record and inside every block, and
// merges what is left into another, alone and with a third capture:
// reading the merged partial state gives exactly what reading the cut one
// gives, so the records before the damage, and the damage's warning at
// its position (the capture and packet where the reading stopped), naming
// the partial state that was cut.
func TestPartialMergeCutEverywhere(t *testing.T) {
	scs := capgen.Scenarios(capgen.Options{})
	cuts, damaged := 0, 0
	for i, sc := range scs {
		local := netip.PrefixFrom(sc.Local.Addr(), sc.Local.Addr().BitLen())
		opts := Options{Local: []netip.Prefix{local}}
		a, b := splitScenario(t, sc.Capture)
		var p bytes.Buffer
		if _, err := writePartialBlocks(&p, []Input{{Name: "a.pcap", R: bytes.NewReader(a)}, {Name: "b.pcap", R: bytes.NewReader(b)}}, opts, 1); err != nil {
			t.Fatal(err)
		}
		var other bytes.Buffer
		if err := scs[(i+1)%len(scs)].Capture.Write(&other, capgen.Format{}); err != nil {
			t.Fatal(err)
		}
		for _, n := range cutPoints(t, p.Bytes()) {
			cut := p.Bytes()[:n]
			for _, with := range [][]Input{nil, {{Name: "c.pcap", R: bytes.NewReader(other.Bytes())}}} {
				name := fmt.Sprintf("%s: cut at byte %d of %d", sc.Name, n, p.Len())
				if with != nil {
					name += ", with a capture"
					with[0].R.(*bytes.Reader).Seek(0, 0)
				}
				want := readMerged(t, opts, append([]Input{{Name: "ab.part", R: bytes.NewReader(cut)}}, with...))
				if with != nil {
					with[0].R.(*bytes.Reader).Seek(0, 0)
				}
				var m bytes.Buffer
				if _, err := WritePartial(&m, append([]Input{{Name: "ab.part", R: bytes.NewReader(cut)}}, with...), opts); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				got := readMerged(t, opts, []Input{{Name: "merged.part", R: bytes.NewReader(m.Bytes())}})
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: the merged partial state gives another result\n got %+v\nwant %+v", name, got, want)
				}
				if n < p.Len() {
					if len(want.Warnings) == 0 || !strings.Contains(want.Warnings[len(want.Warnings)-1].Msg, "partial state ab.part:") || !want.Files[0].Truncated && !want.Files[1].Truncated {
						t.Fatalf("%s: no warning of the damage: %+v", name, want.Warnings)
					}
					damaged++
				}
				cuts++
			}
		}
	}
	t.Logf("%d cuts, %d of them damaged", cuts, damaged)
}

// splitScenario writes a scenario's packets as two files, the first
// holding the first half.
func splitScenario(t testing.TB, c *capgen.Capture) (a, b []byte) {
	t.Helper()
	for n := 1; n <= c.Len(); n++ {
		file := 0
		if n > c.Len()/2 {
			file = 1
		}
		c.SetFile(n, file)
	}
	var bufs [2]bytes.Buffer
	for i := range bufs {
		if err := c.File(i).Write(&bufs[i], capgen.Format{}); err != nil {
			t.Fatal(err)
		}
	}
	return bufs[0].Bytes(), bufs[1].Bytes()
}

// cutPoints are the lengths a partial state is cut to: the end of its
// header, of each frame after it, and the middle of each such frame.
func cutPoints(t testing.TB, data []byte) []int {
	t.Helper()
	pr, err := openPartial(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	pts := []int{int(pr.off)}
	for {
		start := pr.off
		if _, _, err := pr.frame(); err != nil {
			break
		}
		pts = append(pts, int(start+pr.off)/2, int(pr.off))
	}
	if pts[len(pts)-1] != len(data) {
		t.Fatalf("frames end at %d of %d bytes", pts[len(pts)-1], len(data))
	}
	return pts
}

// readMerged reads the inputs with every connection kept, leaving out
// which partial states the files came through.
func readMerged(t testing.TB, opts Options, ins []Input) *Result {
	t.Helper()
	res, err := Read(ins, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Files {
		res.Files[i].Via, res.Files[i].Through, res.Files[i].Input = "", nil, 0
	}
	return res
}

// hostsScenario writes a scenario's packets as the captures of three
// hosts taken at the same time, so that their records interleave: packet
// n to file n%3, every fourth packet at the time of the one before it (in
// another file: equal times across captures), and the second packet of
// the third file (the fifth of all) before the first (a clock going
// back in one capture).
func hostsScenario(t testing.TB, c *capgen.Capture) []Input {
	t.Helper()
	pk := c.Packets()
	for i := range pk {
		c.SetFile(i+1, i%3)
		if i%4 == 3 {
			pk[i].Time = pk[i-1].Time
		}
	}
	if len(pk) > 5 {
		pk[5].Time = pk[2].Time.Add(-time.Millisecond)
	}
	var ins []Input
	for i := range 3 {
		var b bytes.Buffer
		if err := c.File(i).Write(&b, capgen.Format{}); err != nil {
			t.Fatal(err)
		}
		ins = append(ins, Input{Name: fmt.Sprintf("host%d.pcap", i), R: bytes.NewReader(b.Bytes())})
	}
	return ins
}

// rewind puts the inputs' readers back at their start.
func rewind(ins []Input) []Input {
	for _, in := range ins {
		in.R.(*bytes.Reader).Seek(0, 0)
	}
	return ins
}

// partialBlocks is writePartialBlocks' partial state, the inputs rewound.
func partialBlocks(t testing.TB, opts Options, limit int, ins ...Input) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := writePartialBlocks(&b, rewind(ins), opts, limit); err != nil {
		t.Fatal(err)
	}
	rewind(ins)
	return b.Bytes()
}

// TestPartialHostsCutEverywhere reads every exactness scenario as the
// captures of three hosts taken at the same time (hostsScenario: records
// of the three interleaving in every block, equal times across captures,
// a time going back in one): their partial states read together, merged,
// merged as a tree with a capture, and written at once in blocks of one
// record, of a few and of the usual size, give exactly what the captures
// give. The one of a few records a block is cut short after every block
// and inside every one, and merged: reading the merged partial state
// gives what reading the cut one gives.
func TestPartialHostsCutEverywhere(t *testing.T) {
	cuts := 0
	for _, sc := range capgen.Scenarios(capgen.Options{}) {
		local := netip.PrefixFrom(sc.Local.Addr(), sc.Local.Addr().BitLen())
		opts := Options{Local: []netip.Prefix{local}}
		caps := hostsScenario(t, sc.Capture)
		want := readMerged(t, opts, rewind(caps))
		rewind(caps)
		var parts []Input
		for _, c := range caps {
			parts = append(parts, Input{Name: c.Name + ".cwfp", R: bytes.NewReader(partialBlocks(t, opts, blockBytes, c))})
		}
		check := func(what string, ins ...Input) {
			t.Helper()
			if got := readMerged(t, opts, rewind(ins)); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %s gives another result\n got %+v\nwant %+v", sc.Name, what, got, want)
			}
			rewind(ins)
		}
		check("the hosts' partial states", parts...)
		merged := partialBlocks(t, opts, 64, parts...)
		two := partialBlocks(t, opts, 64, parts[0], parts[1])
		tree := partialBlocks(t, opts, 64, Input{Name: "two.cwfp", R: bytes.NewReader(two)}, caps[2])
		check("their partial states merged", Input{Name: "merged.cwfp", R: bytes.NewReader(merged)})
		check("a tree of merges with a capture", Input{Name: "tree.cwfp", R: bytes.NewReader(tree)})
		if n := switches(t, merged) + switches(t, tree); n > 0 {
			t.Errorf("%s: %d switches in merged partial states: the reader's rule is not the producer's", sc.Name, n)
		}
		var few []byte
		for _, limit := range []int{1, 64, blockBytes} {
			p := partialBlocks(t, opts, limit, caps...)
			check(fmt.Sprintf("their partial state in blocks of %d bytes", limit), Input{Name: "hosts.cwfp", R: bytes.NewReader(p)})
			if n := switches(t, p); n > 0 {
				t.Errorf("%s: the partial state in blocks of %d bytes has %d switches: the reader's rule is not the producer's", sc.Name, limit, n)
			}
			if limit == 64 {
				few = p
			}
		}
		for _, n := range cutPoints(t, few) {
			cut := few[:n]
			wantCut := readMerged(t, opts, []Input{{Name: "hosts.part", R: bytes.NewReader(cut)}})
			m := partialBlocks(t, opts, 64, Input{Name: "hosts.part", R: bytes.NewReader(cut)})
			if got := readMerged(t, opts, []Input{{Name: "merged.part", R: bytes.NewReader(m)}}); !reflect.DeepEqual(got, wantCut) {
				t.Fatalf("%s: cut at byte %d of %d: the merged partial state gives another result\n got %+v\nwant %+v", sc.Name, n, len(few), got, wantCut)
			}
			cuts++
		}
	}
	t.Logf("%d cuts", cuts)
}

// switches counts the switches in a partial state's blocks: none where
// the records came in the order the reader replays.
func switches(t testing.TB, data []byte) int {
	t.Helper()
	pr, err := openPartial(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		var rec partRecord
		if err := pr.next(&rec); err != nil {
			if pr.trailer == nil {
				t.Fatal(err)
			}
			return n
		}
		if pr.step == 1 {
			n += len(pr.switches)
		}
	}
}
