package pcapstate

import (
	"bytes"
	"encoding/binary"
	"os"
	"slices"
	"testing"
	"time"
)

// decPcap is a classic pcap file (little-endian, micro- or nanosecond) of
// link type link holding the given records: seconds, fraction, frame.
func decPcap(link uint32, nanos bool, recs ...pcapRec) []byte {
	magic := uint32(magicPcapMicro)
	if nanos {
		magic = magicPcapNano
	}
	b := binary.LittleEndian.AppendUint32(nil, magic)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = binary.LittleEndian.AppendUint32(b, 65535)
	b = binary.LittleEndian.AppendUint32(b, link)
	for _, r := range recs {
		b = binary.LittleEndian.AppendUint32(b, r.sec)
		b = binary.LittleEndian.AppendUint32(b, r.frac)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(r.data)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(r.data)))
		b = append(b, r.data...)
	}
	return b
}

type pcapRec struct {
	sec, frac uint32
	data      []byte
}

// TestFileStatsIgnored checks that a capture that gave no TCP segment
// says why, and that one that gave some does not.
func TestFileStatsIgnored(t *testing.T) {
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	syn := decEth(0x0800, decIP4TCP(t, decV4Src, decV4Dst, false, false))
	for _, tc := range []struct {
		name        string
		data        []byte
		ignored     string
		unsupported []uint32
	}{
		// tcpdump's test capture of link type USER2 (149), private to a site.
		{"LINKTYPE_USER2_PKTAP.pcap", read("testdata/public/LINKTYPE_USER2_PKTAP.pcap"), "unsupported link type 149", []uint32{149}},
		{"user0.pcap", decPcap(147, false, pcapRec{1, 0, syn}, pcapRec{2, 0, syn}), "unsupported link type 147", []uint32{147}},
		{"nflog-dns.pcap", read("testdata/public/nflog.pcap"), "no TCP segment in 4 packets (udp 4)", nil},
		{"empty.pcap", decPcap(1, false), "no packets", nil},
		{"gre.pcap", read("testdata/encap/gre.pcap"), "", nil},
	} {
		res, err := Read([]Input{{Name: tc.name, R: bytes.NewReader(tc.data)}}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		f := res.Files[0]
		if f.Ignored != tc.ignored || !slices.Equal(f.UnsupportedLinkTypes, tc.unsupported) {
			t.Errorf("%s: ignored %q, unsupported link types %v; want %q, %v", tc.name, f.Ignored, f.UnsupportedLinkTypes, tc.ignored, tc.unsupported)
		}
		var skipped uint64
		for _, s := range f.Skipped {
			skipped += s.Packets
		}
		if f.Segments+skipped+f.Filtered != f.Packets || f.Segments != res.Segments {
			t.Errorf("%s: %d segments, %d skipped, %d filtered of %d packets (result: %d segments)", tc.name, f.Segments, skipped, f.Filtered, f.Packets, res.Segments)
		}
	}
}

// TestFileStatsPerFile reads two captures together: each file's counts are
// its own.
func TestFileStatsPerFile(t *testing.T) {
	gre, err := os.ReadFile("testdata/encap/gre.pcap")
	if err != nil {
		t.Fatal(err)
	}
	syn := decEth(0x0800, decIP4TCP(t, decV4Src, decV4Dst, false, false))
	res, err := Read([]Input{
		{Name: "gre.pcap", R: bytes.NewReader(gre)},
		{Name: "user0.pcap", R: bytes.NewReader(decPcap(147, false, pcapRec{1, 0, syn}))},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files[0].Ignored != "" || res.Files[0].Segments == 0 || res.Files[1].Ignored != "unsupported link type 147" || res.Files[1].Segments != 0 {
		t.Errorf("files: %+v", res.Files)
	}
}

// TestClampedTimestamp reads a record whose fraction of a second is out
// of range: it is clamped to the second's last tick with a warning giving
// its position, and the records after it are read.
func TestClampedTimestamp(t *testing.T) {
	syn := decEth(0x0800, decIP4TCP(t, decV4Src, decV4Dst, false, false))
	for _, nanos := range []bool{false, true} {
		bad, last := uint32(1_000_000), time.Duration(999_999)*time.Microsecond
		if nanos {
			bad, last = 1_500_000_000, 999_999_999
		}
		data := decPcap(1, nanos, pcapRec{99, 0, syn}, pcapRec{100, bad, syn}, pcapRec{100, 0, syn})
		res, err := Read([]Input{{Name: "bad-ts.pcap", R: bytes.NewReader(data)}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Packets != 3 || len(res.Warnings) != 1 || res.Files[0].Truncated {
			t.Fatalf("nanos %v: %d packets, warnings %v", nanos, res.Packets, res.Warnings)
		}
		w := res.Warnings[0]
		if w.Pos.Packet != 2 || w.Offset != int64(24+16+len(syn)) {
			t.Errorf("nanos %v: warning at %+v offset %d, want packet 2 at offset %d: %s", nanos, w.Pos, w.Offset, 24+16+len(syn), w.Msg)
		}
		if want := time.Unix(100, 0).Add(last).UTC(); !res.End.Equal(want) || res.Segments != 3 {
			t.Errorf("nanos %v: end %v, %d segments; want %v (packet 2), 3", nanos, res.End, res.Segments, want)
		}
	}
	// Many such records: ten warnings, the last saying so.
	var recs []pcapRec
	for i := range 50 {
		recs = append(recs, pcapRec{uint32(100 + i), 2_000_000, syn})
	}
	res, err := Read([]Input{{Name: "bad-ts.pcap", R: bytes.NewReader(decPcap(1, false, recs...))}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Packets != 50 || len(res.Warnings) != maxClampWarnings {
		t.Errorf("%d packets, %d warnings; want 50, %d", res.Packets, len(res.Warnings), maxClampWarnings)
	}
}
