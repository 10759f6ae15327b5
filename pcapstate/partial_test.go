package pcapstate_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate"
	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// partialOf writes the partial state of the captures.
func partialOf(t testing.TB, opts pcapstate.Options, caps ...pcapstate.Input) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := pcapstate.WritePartial(&b, caps, opts); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func input(name string, b []byte) pcapstate.Input {
	return pcapstate.Input{Name: name, R: bytes.NewReader(b)}
}

// readAll reads the inputs with opts, every connection retained.
func readAll(t testing.TB, opts pcapstate.Options, ins ...pcapstate.Input) *pcapstate.Result {
	t.Helper()
	res, err := pcapstate.Read(ins, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Files {
		res.Files[i].Via, res.Files[i].Through, res.Files[i].Input = "", nil, 0
	}
	return res
}

// sameResult fails unless got, read through partial states, is want, read
// from the captures.
func sameResult(t *testing.T, what string, got, want *pcapstate.Result) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	switch {
	case len(got.Conns) != len(want.Conns):
		t.Errorf("%s: %d connections, want %d", what, len(got.Conns), len(want.Conns))
	case !reflect.DeepEqual(got.Files, want.Files):
		t.Errorf("%s: files\n got %+v\nwant %+v", what, got.Files, want.Files)
	case !reflect.DeepEqual(got.Warnings, want.Warnings):
		t.Errorf("%s: warnings\n got %v\nwant %v", what, got.Warnings, want.Warnings)
	default:
		for i := range got.Conns {
			if !reflect.DeepEqual(got.Conns[i], want.Conns[i]) {
				t.Errorf("%s: connection %d\n got %+v\nwant %+v", what, i, got.Conns[i], want.Conns[i])
				return
			}
		}
		t.Errorf("%s: results differ\n got %+v\nwant %+v", what, got, want)
	}
}

// cutScenario writes the scenario's packets as two files, the first
// holding packets 1 to k.
func cutScenario(t testing.TB, sc capgen.Scenario, k int, f capgen.Format) (a, b []byte) {
	t.Helper()
	c := sc.Capture
	for n := 1; n <= c.Len(); n++ {
		file := 0
		if n > k {
			file = 1
		}
		c.SetFile(n, file)
	}
	var bufs [2]bytes.Buffer
	for i := range bufs {
		if err := c.File(i).Write(&bufs[i], f); err != nil {
			t.Fatal(err)
		}
	}
	return bufs[0].Bytes(), bufs[1].Bytes()
}

// TestPartialCutEverywhere cuts every scenario of the "Exact" list (port
// reuse, retransmitted and out-of-order FINs, FINs on data, keep-alives,
// midstream starts, snaplen cuts, tunnels...) after every one of its
// packets, so inside every handshake, between every FIN and its ACK and
// across every port reuse, and checks that the partial states of the two
// slices read together give exactly what the two captures give: the same
// connections, verdicts, positions, counts, files and warnings. So do
// one partial state of both slices, a partial state read with the other
// slice's capture, and the two levels of a tree: the two slices' partial
// states merged into one (or one merged with the other's capture), read
// alone.
func TestPartialCutEverywhere(t *testing.T) {
	framings := []struct {
		name string
		o    capgen.Options
		f    capgen.Format
	}{
		{"ethernet", capgen.Options{}, capgen.Format{}},
		{"ipv6-pcapng-gz", capgen.Options{IPv6: true}, capgen.Format{Pcapng: true, Gzip: true}},
		{"vlan-gtpu-snaplen", capgen.Options{Interface: capgen.Interface{Framing: capgen.Framing{VLANs: []uint16{42}, Tunnel: capgen.GTPU}, SnapLen: 96}}, capgen.Format{Nanos: true}},
	}
	cuts := 0
	for _, fr := range framings {
		for _, sc := range capgen.Scenarios(fr.o) {
			local := netip.PrefixFrom(sc.Local.Addr(), sc.Local.Addr().BitLen())
			opts := pcapstate.Options{Local: []netip.Prefix{local}}
			for k := 0; k <= sc.Capture.Len(); k++ {
				a, b := cutScenario(t, sc, k, fr.f)
				want := readAll(t, opts, input("a.pcap", a), input("b.pcap", b))
				pa := partialOf(t, opts, input("a.pcap", a))
				pb := partialOf(t, opts, input("b.pcap", b))
				name := fmt.Sprintf("%s/%s/cut after packet %d", fr.name, sc.Name, k)
				sameResult(t, name+": two partial states", readAll(t, opts, input("a.part", pa), input("b.part", pb)), want)
				sameResult(t, name+": a partial state and a capture", readAll(t, opts, input("a.part", pa), input("b.pcap", b)), want)
				pab := partialOf(t, opts, input("a.pcap", a), input("b.pcap", b))
				sameResult(t, name+": one partial state of both", readAll(t, opts, input("ab.part", pab)), want)
				merged := partialOf(t, opts, input("a.part", pa), input("b.part", pb))
				sameResult(t, name+": the two partial states merged", readAll(t, opts, input("merged.part", merged)), want)
				mixed := partialOf(t, opts, input("a.part", pa), input("b.pcap", b))
				sameResult(t, name+": a partial state merged with a capture", readAll(t, opts, input("mixed.part", mixed)), want)
				cuts++
				if t.Failed() {
					t.Logf("scenario: %s", sc.Doc)
					return
				}
			}
		}
	}
	t.Logf("%d cuts", cuts)
}

// TestPartialCutBetweenFINAndACK checks the verdict itself, not only its
// equality, on the cut the issue names: the peer's FIN in one slice, our
// ACK of it in the next.
func TestPartialCutBetweenFINAndACK(t *testing.T) {
	c := capgen.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	server := netip.MustParseAddrPort("10.0.0.1:8080")
	client := netip.MustParseAddrPort("10.0.0.2:40000")
	k := c.Conn(client, server, capgen.ConnOptions{})
	k.Handshake()
	k.Data(capgen.FromClient, 100)
	k.ACK(capgen.FromServer)
	fin := k.FIN(capgen.FromClient)
	k.Wait(time.Second)
	k.ACK(capgen.FromServer)
	k.Wait(time.Minute)
	k.KeepAlive(capgen.FromServer, 0)
	sc := capgen.Scenario{Name: "fin-ack", Capture: c}
	a, b := cutScenario(t, sc, fin, capgen.Format{})
	opts := pcapstate.Options{Local: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}}
	pa := partialOf(t, opts, input("a.pcap", a))
	pb := partialOf(t, opts, input("b.pcap", b))
	res := readAll(t, opts, input("a.part", pa), input("b.part", pb))
	if len(res.Conns) != 1 {
		t.Fatalf("%d connections, want 1", len(res.Conns))
	}
	cn := res.Conns[0]
	if cn.Verdict != pcapstate.CloseWaitConfirmed || cn.Remote.FIN.String() != "a.pcap: packet 6" || cn.Remote.FINAck.String() != "b.pcap: packet 1" {
		t.Errorf("verdict %v, FIN at %v acknowledged at %v; want confirmed, a.pcap: packet 6, b.pcap: packet 1", cn.Verdict, cn.Remote.FIN, cn.Remote.FINAck)
	}
}

// splitPcap cuts a classic pcap file into files of at most n packets each.
func splitPcap(t testing.TB, b []byte, n int) [][]byte {
	t.Helper()
	files, err := capgen.SplitPcap(b, n)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestPartialRotatedLoad reads a load of interleaved connections, some
// left in CLOSE_WAIT, cut into rotated files of a prime number of packets
// (so the cuts fall anywhere in the connections), through one partial
// state per file, and compares with reading the files themselves; then
// through a tree of merges: the partial states merged three at a time
// (the middle group with a capture among them), those merged into one.
func TestPartialRotatedLoad(t *testing.T) {
	var b bytes.Buffer
	if _, err := capgen.Load(&b, capgen.LoadOptions{Conns: 3000, Open: 300, LeakEvery: 7, HTTP: true, Step: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	files := splitPcap(t, b.Bytes(), 4999)
	if len(files) < 5 {
		t.Fatalf("%d files", len(files))
	}
	opts := pcapstate.Options{Retain: pcapstate.RetainCloseWait}
	var caps, parts []pcapstate.Input
	var partData [][]byte
	var capBytes, partBytes int
	for i, f := range files {
		name := fmt.Sprintf("load.pcap%d", i)
		caps = append(caps, input(name, f))
		p := partialOf(t, opts, input(name, f))
		parts = append(parts, input(name+".part", p))
		partData = append(partData, p)
		capBytes += len(f)
		partBytes += len(p)
	}
	want := readAll(t, opts, caps...)
	got := readAll(t, opts, parts...)
	sameResult(t, "rotated load", got, want)
	var level1 []pcapstate.Input
	for i := 0; i < len(parts); i += 3 {
		var group []pcapstate.Input
		for j := i; j < min(i+3, len(parts)); j++ {
			if j == 4 {
				group = append(group, input(caps[j].Name, files[j]))
			} else {
				group = append(group, input(parts[j].Name, partData[j]))
			}
		}
		level1 = append(level1, input(fmt.Sprintf("level1-%d.part", i/3), partialOf(t, opts, group...)))
	}
	sameResult(t, "rotated load, partial states merged three at a time", readAll(t, opts, level1...), want)
	for i := range level1 {
		level1[i].R.(*bytes.Reader).Seek(0, 0)
	}
	all := partialOf(t, opts, level1...)
	sameResult(t, "rotated load, merged in a tree", readAll(t, opts, input("all.part", all)), want)
	leaked := 0
	for _, c := range want.Conns {
		if c.Verdict == pcapstate.CloseWaitConfirmed {
			leaked++
		}
	}
	if leaked != 3000/7 {
		t.Errorf("%d confirmed CLOSE_WAIT, want %d", leaked, 3000/7)
	}
	t.Logf("%d files, captures %d bytes, partial states %d bytes (1/%.1f)", len(files), capBytes, partBytes, float64(capBytes)/float64(partBytes))
}

// TestPartialSize: the partial state of the reference load's shape (see
// docs/performance.md: a packet every millisecond, 13-packet connections
// with 100-byte payloads, every 20th leaked) is at most a tenth of its
// capture, and long enough (over 16 blocks) that tuples are forgotten and
// their numbers reused, which reading it must follow exactly.
func TestPartialSize(t *testing.T) {
	var b bytes.Buffer
	if _, err := capgen.Load(&b, capgen.LoadOptions{Conns: 50000, Open: 2000, LeakEvery: 20, Step: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	p := partialOf(t, pcapstate.Options{}, input("load.pcap", b.Bytes()))
	opts := pcapstate.Options{Retain: pcapstate.RetainCloseWait}
	sameResult(t, "load", readAll(t, opts, input("load.cwfp", p)), readAll(t, opts, input("load.pcap", b.Bytes())))
	t.Logf("capture %d bytes, partial state %d bytes (1/%.1f)", b.Len(), len(p), float64(b.Len())/float64(len(p)))
	if len(p)*10 > b.Len() {
		t.Errorf("partial state is %d bytes, more than a tenth of the capture's %d", len(p), b.Len())
	}
	// The same load as 8 slices, rotated files (one after the other in
	// time) or the captures of 8 hosts (at the same time, each with its
	// share of the connections), their partial states merged into one:
	// the same result, and the size of the partial state of the 8
	// captures written at once, at most a tenth of the captures. Rotated,
	// that is about the size of its inputs; the hosts' records alternate
	// between files, each file's kept apart in a block (version 2), and
	// the tuples of 8 hosts' connections are numbered together, with
	// larger numbers: a few hundredths more than its inputs.
	for _, split := range []struct {
		name  string
		files [][]byte
	}{
		{"rotated", splitPcap(t, b.Bytes(), 50000*13/8+1)},
		{"hosts", splitByConn(t, b.Bytes(), 8)},
	} {
		var caps, parts []pcapstate.Input
		sum := 0
		for i, f := range split.files {
			name := fmt.Sprintf("%s-%d.pcap", split.name, i)
			caps = append(caps, input(name, f))
			pp := partialOf(t, pcapstate.Options{}, input(name, f))
			parts = append(parts, input(name+".cwfp", pp))
			sum += len(pp)
		}
		merged := partialOf(t, pcapstate.Options{}, parts...)
		sameResult(t, split.name+", merged", readAll(t, opts, input("merged.cwfp", merged)), readAll(t, opts, caps...))
		for i := range caps {
			caps[i].R.(*bytes.Reader).Seek(0, 0)
		}
		once := partialOf(t, pcapstate.Options{}, caps...)
		ratio := float64(len(merged)) / float64(sum)
		t.Logf("%s: %d files, their partial states %d bytes, merged %d bytes (%.3f of theirs, 1/%.1f of the captures); written at once from the captures %d bytes",
			split.name, len(split.files), sum, len(merged), ratio, float64(b.Len())/float64(len(merged)), len(once))
		// The merged header names the partial states: a few bytes per file.
		if d := len(merged) - len(once); d < 0 || d > 64*len(caps) {
			t.Errorf("%s: merged partial state is %d bytes, the captures' written at once %d", split.name, len(merged), len(once))
		}
		bound := 1.0 // of its inputs
		if split.name == "hosts" {
			bound = 1.05
		}
		if len(merged)*10 > b.Len() || ratio > bound {
			t.Errorf("%s: merged partial state is %d bytes, more than a tenth of the captures' %d or %.2f times its inputs' %d", split.name, len(merged), b.Len(), bound, sum)
		}
	}
}

// splitByConn cuts a classic pcap file of plain Ethernet IPv4 frames
// (capgen.Load's) into n files by connection, as n hosts would capture
// their shares of the traffic at the same time: by the client's port
// (the one that is not the server's, 8080).
func splitByConn(t testing.TB, b []byte, n int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for i := range out {
		out[i] = append([]byte(nil), b[:24]...)
	}
	for off := 24; off+16 <= len(b); {
		capLen := int(binary.LittleEndian.Uint32(b[off+8:]))
		rec := b[off : off+16+capLen]
		frame := rec[16:]
		if len(frame) < 14+20+4 || frame[12] != 0x08 || frame[13] != 0 {
			t.Fatalf("record at %d is no Ethernet IPv4 frame", off)
		}
		tcp := frame[14+int(frame[14]&0xf)*4:]
		port := binary.BigEndian.Uint16(tcp)
		if port == 8080 {
			port = binary.BigEndian.Uint16(tcp[2:])
		}
		out[int(port)%n] = append(out[int(port)%n], rec...)
		off += 16 + capLen
	}
	return out
}

// TestPartialFilter: a partial state keeps the filter it was written with,
// and reading it with another is an error that says so.
func TestPartialFilter(t *testing.T) {
	sc := capgen.Scenarios(capgen.Options{})[0]
	a, b := cutScenario(t, sc, 3, capgen.Format{})
	opts := pcapstate.Options{Filter: "tcp port 8080 or tcp port 80"}
	want := readAll(t, opts, input("a.pcap", a), input("b.pcap", b))
	pa := partialOf(t, opts, input("a.pcap", a))
	pb := partialOf(t, opts, input("b.pcap", b))
	sameResult(t, "filtered", readAll(t, opts, input("a.part", pa), input("b.part", pb)), want)
	_, err := pcapstate.Read([]pcapstate.Input{input("a.part", pa)}, pcapstate.Options{})
	if err == nil || !strings.Contains(err.Error(), "a.part: a partial state written with filter") {
		t.Errorf("read with another filter: %v", err)
	}
}

// TestPartialFilterWords: reading a partial state with another filter
// than its own says which filter it was written with and to read it with
// that one, in words for an empty filter, never as filter "".
func TestPartialFilterWords(t *testing.T) {
	sc := capgen.Scenarios(capgen.Options{})[0]
	a, _ := cutScenario(t, sc, 3, capgen.Format{})
	filtered := partialOf(t, pcapstate.Options{Filter: "tcp"}, input("a.pcap", a))
	plain := partialOf(t, pcapstate.Options{}, input("a.pcap", a))
	for _, tc := range []struct {
		part   []byte
		filter string
		want   string
	}{
		{filtered, "", `a.part: a partial state written with filter "tcp" cannot be read without a filter: its packets were filtered when it was written; read it with filter "tcp"`},
		{filtered, "ip", `a.part: a partial state written with filter "tcp" cannot be read with filter "ip": its packets were filtered when it was written; read it with filter "tcp"`},
		{plain, "tcp", `a.part: a partial state written without a filter cannot be read with filter "tcp": `},
	} {
		_, err := pcapstate.Read([]pcapstate.Input{input("a.part", tc.part)}, pcapstate.Options{Filter: tc.filter})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), `filter ""`) {
			t.Errorf("read with filter %q: %v\nwant %s", tc.filter, err, tc.want)
		}
	}
}

// TestPartialMergeFilter: a partial state merged from partial states
// written with a filter keeps it, given again or not (carried over, and
// applied to the captures merged with them); one written with another
// filter, or two with different ones, are an error naming them.
func TestPartialMergeFilter(t *testing.T) {
	var v4, v6 bytes.Buffer
	if _, err := capgen.Load(&v4, capgen.LoadOptions{Conns: 300, Open: 30, LeakEvery: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := capgen.Load(&v6, capgen.LoadOptions{Conns: 300, Open: 30, LeakEvery: 4, IPv6: true}); err != nil {
		t.Fatal(err)
	}
	files := splitPcap(t, v4.Bytes(), 1999)
	a, b, c := files[0], files[1], v6.Bytes()
	filtered := pcapstate.Options{Filter: "ip"}
	want := readAll(t, filtered, input("a.pcap", a), input("b.pcap", b), input("c.pcap", c))
	if want.Filtered != readAll(t, pcapstate.Options{}, input("c.pcap", c)).Packets || want.Filtered == 0 {
		t.Fatalf("%d packets filtered out, want c.pcap's", want.Filtered)
	}
	pa := partialOf(t, filtered, input("a.pcap", a))
	pb := partialOf(t, filtered, input("b.pcap", b))
	for _, tc := range []struct {
		name string
		opts pcapstate.Options
		ins  func() []pcapstate.Input
	}{
		{"the filter given again", filtered, func() []pcapstate.Input {
			return []pcapstate.Input{input("a.part", pa), input("b.part", pb), input("c.pcap", c)}
		}},
		{"the filter carried over", pcapstate.Options{}, func() []pcapstate.Input {
			return []pcapstate.Input{input("a.part", pa), input("b.part", pb), input("c.pcap", c)}
		}},
		{"the filter carried over to a capture merged first", pcapstate.Options{}, func() []pcapstate.Input {
			return []pcapstate.Input{input("a.part", pa), input("bc.part", partialOf(t, pcapstate.Options{}, input("b.part", pb), input("c.pcap", c)))}
		}},
	} {
		merged := partialOf(t, tc.opts, tc.ins()...)
		sameResult(t, tc.name, readAll(t, filtered, input("merged.part", merged)), want)
		_, err := pcapstate.Read([]pcapstate.Input{input("merged.part", merged)}, pcapstate.Options{})
		if err == nil || !strings.Contains(err.Error(), `merged.part: a partial state written with filter "ip"`) {
			t.Errorf("%s: read without the filter: %v", tc.name, err)
		}
	}
	for _, tc := range []struct {
		name string
		opts pcapstate.Options
		ins  []pcapstate.Input
		want string
	}{
		{"another filter", pcapstate.Options{Filter: "tcp"}, []pcapstate.Input{input("a.part", pa)},
			`a.part: a partial state written with filter "ip" cannot be merged with filter "tcp"`},
		{"a filter on an unfiltered partial state", filtered, []pcapstate.Input{input("a.part", pa), input("c.part", partialOf(t, pcapstate.Options{}, input("c.pcap", c)))},
			`c.part: a partial state written without a filter cannot be merged with filter "ip": its packets were filtered when it was written`},
		{"two filters", pcapstate.Options{}, []pcapstate.Input{input("a.part", pa), input("c.part", partialOf(t, pcapstate.Options{}, input("c.pcap", c)))},
			`c.part: a partial state written without a filter cannot be merged with a.part, written with filter "ip": give partial states written with one filter`},
		{"two filters, the unfiltered first", pcapstate.Options{}, []pcapstate.Input{input("c.part", partialOf(t, pcapstate.Options{}, input("c.pcap", c))), input("a.part", pa)},
			`a.part: a partial state written with filter "ip" cannot be merged with c.part, written without a filter: give partial states written with one filter`},
	} {
		_, err := pcapstate.WritePartial(&bytes.Buffer{}, tc.ins, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), `filter ""`) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestPartialDamage: a partial state cut short, or with a byte changed,
// gives the records before the damage and a warning naming the partial
// state; one of another version is an error.
func TestPartialDamage(t *testing.T) {
	var b bytes.Buffer
	if _, err := capgen.Load(&b, capgen.LoadOptions{Conns: 20000, Open: 100, LeakEvery: 5}); err != nil {
		t.Fatal(err)
	}
	opts := pcapstate.Options{}
	p := partialOf(t, opts, input("load.pcap", b.Bytes()))
	full := readAll(t, opts, input("load.part", p))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", p[:len(p)*2/3], "cut short: truncated"},
		{"no trailer", p[:len(p)-10], "truncated"},
		// Cut after a frame's type byte, or inside its length: a cut
		// short file all the same, not a bad length.
		{"cut after a type", p[:frameStarts(t, p)[2]+1], "truncated"},
		{"cut inside a length", p[:frameStarts(t, p)[2]+2], "truncated"},
		{"flipped byte", flip(p, len(p)/2), "fails its checksum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := readAll(t, opts, input("load.part", tc.data))
			if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Msg, "partial state load.part") || !strings.Contains(res.Warnings[0].Msg, tc.want) {
				t.Fatalf("warnings %v, want one naming load.part and %q", res.Warnings, tc.want)
			}
			if !res.Files[0].Truncated || res.Packets == 0 || res.Packets >= full.Packets && tc.name != "no trailer" {
				t.Errorf("truncated %v, %d packets of %d", res.Files[0].Truncated, res.Packets, full.Packets)
			}
		})
	}
	v3 := bytes.Clone(p)
	v3[len("cwforensics partial state\n")] = 3
	if _, err := pcapstate.Read([]pcapstate.Input{input("v3.part", v3)}, opts); err == nil || !strings.Contains(err.Error(), "version 3") {
		t.Errorf("version 3: %v", err)
	}
}

// frameStarts returns where each frame of partial state p begins (the
// header's first), checking that the third is a block whose length takes
// more than one byte.
func frameStarts(t *testing.T, p []byte) []int {
	t.Helper()
	at := len("cwforensics partial state\n") + 1 // the version, one byte
	var starts []int
	for at < len(p) {
		starts = append(starts, at)
		n, k := binary.Uvarint(p[at+1:])
		if k <= 0 {
			t.Fatalf("frame at %d: bad length", at)
		}
		at += 1 + k + int(n) + 4
	}
	if len(starts) < 4 || p[starts[2]] != 'B' || p[starts[2]+1] < 0x80 {
		t.Fatalf("frames at %v: no third frame that is a block with a length of several bytes", starts)
	}
	return starts
}

func flip(b []byte, i int) []byte {
	out := bytes.Clone(b)
	out[i] ^= 0x40
	return out
}

// TestPartialDamagedCapture: a capture cut inside a packet, whose records'
// headers have a timestamp to repair, gives its warnings through its
// partial state as it does read directly, and through that partial state
// merged into another, alone or with a capture.
func TestPartialDamagedCapture(t *testing.T) {
	var b bytes.Buffer
	if _, err := capgen.Load(&b, capgen.LoadOptions{Conns: 200, Open: 20, LeakEvery: 3}); err != nil {
		t.Fatal(err)
	}
	cut := bytes.Clone(b.Bytes()[:b.Len()-30])
	// The first two records' fractions of a second out of range: clamped,
	// with a warning each (a pcap file header is 24 bytes, a record's
	// header 16, its captured length at 8).
	off := 24
	for range 2 {
		binary.LittleEndian.PutUint32(cut[off+4:], 1_500_000)
		off += 16 + int(binary.LittleEndian.Uint32(cut[off+8:]))
	}
	opts := pcapstate.Options{}
	want := readAll(t, opts, input("cut.pcap", cut))
	if len(want.Warnings) != 3 {
		t.Fatalf("warnings %v, want two clamped timestamps and the cut", want.Warnings)
	}
	p := partialOf(t, opts, input("cut.pcap", cut))
	sameResult(t, "damaged capture", readAll(t, opts, input("cut.part", p)), want)
	merged := partialOf(t, opts, input("cut.part", p))
	sameResult(t, "damaged capture, its partial state merged", readAll(t, opts, input("merged.part", merged)), want)
	var other bytes.Buffer
	if _, err := capgen.Load(&other, capgen.LoadOptions{Conns: 100, Open: 10, IPv6: true}); err != nil {
		t.Fatal(err)
	}
	want = readAll(t, opts, input("cut.pcap", cut), input("other.pcap", other.Bytes()))
	merged = partialOf(t, opts, input("cut.part", p), input("other.pcap", other.Bytes()))
	sameResult(t, "damaged capture, its partial state merged with a capture", readAll(t, opts, input("merged.part", merged)), want)
}

// TestPartialTestdata writes the partial states of the public and generated
// captures in testdata, two at a time, and reads them back against the
// captures.
func TestPartialTestdata(t *testing.T) {
	var paths []string
	for _, glob := range []string{"testdata/public/*.pcap*", "testdata/decode/*.pcap*", "testdata/encap/*.pcap*"} {
		m, _ := filepath.Glob(glob)
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		t.Skip("no captures in testdata")
	}
	read := 0
	for i := 0; i+1 < len(paths); i += 2 {
		var ins, parts []pcapstate.Input
		ok := true
		for _, p := range paths[i : i+2] {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			in := input(filepath.Base(p), data)
			var pb bytes.Buffer
			if _, err := pcapstate.WritePartial(&pb, []pcapstate.Input{in}, pcapstate.Options{}); err != nil {
				if errors.Is(err, pcapstate.ErrNotCapture) {
					ok = false
					break
				}
				t.Fatal(err)
			}
			ins = append(ins, input(filepath.Base(p), data))
			parts = append(parts, input(filepath.Base(p)+".part", pb.Bytes()))
		}
		if !ok {
			continue
		}
		want := readAll(t, pcapstate.Options{}, ins...)
		sameResult(t, strings.Join(paths[i:i+2], " + "), readAll(t, pcapstate.Options{}, parts...), want)
		read++
	}
	t.Logf("%d pairs", read)
}

// TestJobsMatchOnePass reads rotated captures (one cut short, some
// gzip-compressed) with their decoding spread over goroutines through
// spooled partial states, and compares with the one producer.
func TestJobsMatchOnePass(t *testing.T) {
	var b bytes.Buffer
	if _, err := capgen.Load(&b, capgen.LoadOptions{Conns: 3000, Open: 300, LeakEvery: 7, Step: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	files := splitPcap(t, b.Bytes(), 3001)
	files[2] = files[2][:len(files[2])-100] // cut inside its last packet
	mk := func() []pcapstate.Input {
		var ins []pcapstate.Input
		for i, f := range files {
			name := fmt.Sprintf("rot%d.pcap", i)
			if i%2 == 1 {
				var z bytes.Buffer
				zw := gzip.NewWriter(&z)
				zw.Write(f)
				zw.Close()
				f, name = z.Bytes(), name+".gz"
			}
			ins = append(ins, input(name, f))
		}
		return ins
	}
	for _, retain := range []pcapstate.Retain{pcapstate.RetainAll, pcapstate.RetainNone} {
		want := readAll(t, pcapstate.Options{Retain: retain}, mk()...)
		if len(want.Warnings) != 1 {
			t.Fatalf("warnings %v, want the cut file's", want.Warnings)
		}
		for _, jobs := range []int{2, 3, 16} {
			got := readAll(t, pcapstate.Options{Retain: retain, Jobs: jobs, SpoolDir: t.TempDir()}, mk()...)
			sameResult(t, fmt.Sprintf("retain %d, %d jobs", retain, jobs), got, want)
		}
	}
}

// TestJobsClosedEarly: a Stream closed before its end stops the goroutines
// writing spools and leaves no file in the spool folder.
func TestJobsClosedEarly(t *testing.T) {
	var b bytes.Buffer
	if _, err := capgen.Load(&b, capgen.LoadOptions{Conns: 20000, Open: 300, Step: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	files := splitPcap(t, b.Bytes(), 20011)
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	var ins []pcapstate.Input
	for i, f := range files {
		ins = append(ins, input(fmt.Sprintf("rot%d.pcap", i), f))
	}
	s, err := pcapstate.NewStream(ins, pcapstate.Options{Jobs: 2, SpoolDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if !s.Next() {
			t.Fatal("the stream ended early")
		}
	}
	s.Close()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left in the spool folder: %v", left)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}

// TestJobsFilterError: a filter that fails on a capture's link type stops
// the reading with the same error whether the captures are read in one
// pass or spooled (a spool's writer failing is no damage of its content).
func TestJobsFilterError(t *testing.T) {
	data, err := os.ReadFile("testdata/public/nflog.pcap")
	if err != nil {
		t.Fatal(err)
	}
	read := func(jobs int) (*pcapstate.Result, error) {
		return pcapstate.Read([]pcapstate.Input{input("a.pcap", data), input("b.pcap", data)}, pcapstate.Options{Filter: "tcp port 80", Jobs: jobs, SpoolDir: t.TempDir()})
	}
	want, werr := read(1)
	got, gerr := read(2)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("spooled: %v; one pass: %v", gerr, werr)
	}
	if werr == nil {
		// A build whose filter reads the link type (libpcap): the same
		// result both ways.
		for i := range got.Files {
			got.Files[i].Via, got.Files[i].Input = "", 0
			want.Files[i].Via, want.Files[i].Input = "", 0
		}
		sameResult(t, "filter", got, want)
	}
}

// TestPartialCaptureTwice: a capture read both through a partial state and
// itself, or through two partial states, is an error naming both.
func TestPartialCaptureTwice(t *testing.T) {
	sc := capgen.Scenarios(capgen.Options{})[0]
	a, _ := cutScenario(t, sc, sc.Capture.Len(), capgen.Format{})
	p := partialOf(t, pcapstate.Options{}, input("a.pcap", a))
	for _, ins := range [][]pcapstate.Input{
		{input("a.part", p), input("a.pcap", a)},
		{input("a.part", p), input("copy.part", p)},
	} {
		_, err := pcapstate.Read(ins, pcapstate.Options{})
		if err == nil || !strings.Contains(err.Error(), "capture a.pcap is read twice (through a.part and ") {
			t.Errorf("%s + %s: %v", ins[0].Name, ins[1].Name, err)
		}
	}
	// Across the levels of a tree: the merge itself refuses a capture it
	// would hold twice, and the read one counted in a merged partial state
	// and beside it.
	_, b := cutScenario(t, capgen.Scenarios(capgen.Options{})[1], 0, capgen.Format{})
	m := partialOf(t, pcapstate.Options{}, input("a.part", p), input("b.pcap", b))
	m2 := partialOf(t, pcapstate.Options{}, input("m.part", m))
	for _, tc := range []struct {
		ins  []pcapstate.Input
		want string
	}{
		{[]pcapstate.Input{input("a.part", p), input("a.pcap", a)}, "capture a.pcap is read twice (through a.part and itself)"},
		{[]pcapstate.Input{input("m.part", m), input("a.part", p)}, "capture a.pcap is read twice (through m.part (merged from a.part) and through a.part)"},
		{[]pcapstate.Input{input("a.pcap", a), input("a.pcap", a)}, "capture a.pcap is read twice (itself and itself)"},
	} {
		_, err := pcapstate.WritePartial(&bytes.Buffer{}, tc.ins, pcapstate.Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("partial of %s + %s: %v, want %q", tc.ins[0].Name, tc.ins[1].Name, err, tc.want)
		}
	}
	_, err := pcapstate.Read([]pcapstate.Input{input("m2.part", m2), input("b.pcap", b)}, pcapstate.Options{})
	if want := "capture b.pcap is read twice (through m2.part (merged from m.part) and itself)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("read of m2.part + b.pcap: %v, want %q", err, want)
	}
	_, err = pcapstate.Read([]pcapstate.Input{input("m2.part", m2), input("a.part", p)}, pcapstate.Options{})
	if want := "capture a.pcap is read twice (through m2.part (merged from m.part, merged from a.part) and through a.part)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("read of m2.part + a.part: %v, want %q", err, want)
	}
}

// TestPartialCaptureTwiceSpelled: a capture written into a partial state
// as "./a.pcap" and given beside it as "a.pcap" (or "x/../a.pcap") is the
// same capture read twice, which reading and merging refuse as they do
// for one spelling, instead of doubling its packets.
func TestPartialCaptureTwiceSpelled(t *testing.T) {
	sc := capgen.Scenarios(capgen.Options{})[0]
	a, _ := cutScenario(t, sc, sc.Capture.Len(), capgen.Format{})
	p := partialOf(t, pcapstate.Options{}, input("./a.pcap", a))
	for _, name := range []string{"a.pcap", "x/../a.pcap"} {
		ins := []pcapstate.Input{input("a.part", p), input(name, a)}
		want := "capture " + name + " is read twice (through a.part and itself)"
		if _, err := pcapstate.Read(ins, pcapstate.Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("read of a.part + %s: %v, want %q", name, err, want)
		}
		ins = []pcapstate.Input{input("a.part", p), input(name, a)}
		if _, err := pcapstate.WritePartial(&bytes.Buffer{}, ins, pcapstate.Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("partial of a.part + %s: %v, want %q", name, err, want)
		}
	}
}

// TestPartialCaptureTwiceByContent: a capture written into a partial
// state by its absolute path ("/x/a.pcap") and given beside it by a
// relative one ("a.pcap", from /x), or under any other name, is found
// read twice by its identity (its size and both of its ends), reading or
// merging; a capture of other bytes under the same ends' sizes, or one
// too small to have an identity (which two hosts' captures holding no
// packet could share), is not.
func TestPartialCaptureTwiceByContent(t *testing.T) {
	var b bytes.Buffer
	if _, err := capgen.Load(&b, capgen.LoadOptions{Conns: 300, Open: 30, LeakEvery: 5}); err != nil {
		t.Fatal(err)
	}
	capture := b.Bytes()
	p := partialOf(t, pcapstate.Options{}, input("/x/a.pcap", capture))
	want := "capture /x/a.pcap (through a.part) and capture a.pcap (itself) are one capture read twice"
	if _, err := pcapstate.Read([]pcapstate.Input{input("a.part", p), input("a.pcap", capture)}, pcapstate.Options{}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("read of a.part + a.pcap: %v, want %q", err, want)
	}
	if _, err := pcapstate.WritePartial(&bytes.Buffer{}, []pcapstate.Input{input("a.part", p), input("a.pcap", capture)}, pcapstate.Options{}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("partial of a.part + a.pcap: %v, want %q", err, want)
	}
	// Through a merge, and two partial states of it.
	m := partialOf(t, pcapstate.Options{}, input("a.part", p))
	q := partialOf(t, pcapstate.Options{}, input("/y/b.pcap", capture))
	want = "capture /x/a.pcap (through m.part (merged from a.part)) and capture /y/b.pcap (through q.part) are one capture read twice"
	if _, err := pcapstate.Read([]pcapstate.Input{input("m.part", m), input("q.part", q)}, pcapstate.Options{}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("read of m.part + q.part: %v, want %q", err, want)
	}
	// Another capture: the same size and start, another end.
	other := bytes.Clone(capture)
	other[len(other)-1] ^= 1
	if _, err := pcapstate.Read([]pcapstate.Input{input("a.part", p), input("a.pcap", other)}, pcapstate.Options{}); err != nil {
		t.Errorf("read of a.part + another capture: %v", err)
	}
	// Too small for an identity: two hosts' captures of one packet-less
	// header are alike.
	empty := capture[:24]
	pe := partialOf(t, pcapstate.Options{}, input("host1/a.pcap", empty))
	if _, err := pcapstate.Read([]pcapstate.Input{input("host1.part", pe), input("host2/a.pcap", empty)}, pcapstate.Options{}); err != nil {
		t.Errorf("read of two packet-less captures: %v", err)
	}
}
