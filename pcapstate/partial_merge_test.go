package pcapstate

import (
	"bytes"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

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
		if _, err := writePartialBlocks(&p, []Input{{"a.pcap", bytes.NewReader(a)}, {"b.pcap", bytes.NewReader(b)}}, opts, 1); err != nil {
			t.Fatal(err)
		}
		var other bytes.Buffer
		if err := scs[(i+1)%len(scs)].Capture.Write(&other, capgen.Format{}); err != nil {
			t.Fatal(err)
		}
		for _, n := range cutPoints(t, p.Bytes()) {
			cut := p.Bytes()[:n]
			for _, with := range [][]Input{nil, {{"c.pcap", bytes.NewReader(other.Bytes())}}} {
				name := fmt.Sprintf("%s: cut at byte %d of %d", sc.Name, n, p.Len())
				if with != nil {
					name += ", with a capture"
					with[0].R.(*bytes.Reader).Seek(0, 0)
				}
				want := readMerged(t, opts, append([]Input{{"ab.part", bytes.NewReader(cut)}}, with...))
				if with != nil {
					with[0].R.(*bytes.Reader).Seek(0, 0)
				}
				var m bytes.Buffer
				if _, err := WritePartial(&m, append([]Input{{"ab.part", bytes.NewReader(cut)}}, with...), opts); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				got := readMerged(t, opts, []Input{{"merged.part", bytes.NewReader(m.Bytes())}})
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
