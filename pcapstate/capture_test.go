package pcapstate

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

func traceFiles(t testing.TB) []string {
	t.Helper()
	traces, err := filepath.Glob(filepath.Join(zeekDir, "traces", "*"))
	if err != nil || len(traces) == 0 {
		t.Fatalf("no traces: %v", err)
	}
	return traces
}

type refPacket struct {
	data []byte
	ci   gopacket.CaptureInfo
	link layers.LinkType
}

// readWithPcapgo reads a capture with gopacket's pcapgo, the reference.
func readWithPcapgo(t *testing.T, data []byte) []refPacket {
	t.Helper()
	var out []refPacket
	if binary := data[:4]; bytes.Equal(binary, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			t.Fatal(err)
		}
		for {
			d, ci, err := r.ReadPacketData()
			if err != nil {
				break
			}
			out = append(out, refPacket{d, ci, ci.AncillaryData[0].(layers.LinkType)})
		}
		return out
	}
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for {
		d, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		out = append(out, refPacket{d, ci, r.LinkType()})
	}
	return out
}

// TestReaderMatchesPcapgo reads every conformance capture with our reader
// and with pcapgo and compares every packet: bytes, lengths, time, link type.
func TestReaderMatchesPcapgo(t *testing.T) {
	for _, path := range traceFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := readWithPcapgo(t, data)
			pr, err := openCapture(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			var rec record
			i := 0
			for ; ; i++ {
				err := pr.next(&rec)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("packet %d: %v", i+1, err)
				}
				if i >= len(want) {
					t.Fatalf("more packets than pcapgo (%d)", len(want))
				}
				w := want[i]
				if !bytes.Equal(rec.data, w.data) || rec.origLen != w.ci.Length || rec.ts != w.ci.Timestamp.UnixNano() || rec.link != w.link {
					t.Fatalf("packet %d differs: len %d/%d orig %d/%d ts %d/%d link %v/%v", i+1,
						len(rec.data), len(w.data), rec.origLen, w.ci.Length, rec.ts, w.ci.Timestamp.UnixNano(), rec.link, w.link)
				}
			}
			if i != len(want) {
				t.Errorf("read %d packets, pcapgo %d", i, len(want))
			}
		})
	}
}

func gz(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

func readBytes(t testing.TB, name string, data []byte) (*Result, error) {
	t.Helper()
	return Read([]Input{{Name: name, R: bytes.NewReader(data)}}, Options{})
}

// TestGzipSameAsPlain checks that a gzip-compressed capture gives the same
// result as the plain one.
func TestGzipSameAsPlain(t *testing.T) {
	for _, path := range traceFiles(t) {
		data, _ := os.ReadFile(path)
		plain, err := readBytes(t, "x", data)
		if err != nil {
			t.Fatal(err)
		}
		zipped, err := readBytes(t, "x", gz(t, data))
		if err != nil {
			t.Fatal(err)
		}
		if plain.Packets != zipped.Packets || len(plain.Conns) != len(zipped.Conns) || plain.End != zipped.End {
			t.Errorf("%s: plain %d packets %d conns, gzip %d packets %d conns", path, plain.Packets, len(plain.Conns), zipped.Packets, len(zipped.Conns))
		}
	}
}

// TestTruncatedEverywhere cuts captures at every byte offset: the reader
// never panics, keeps the packets before the cut and says where it was.
func TestTruncatedEverywhere(t *testing.T) {
	for _, name := range []string{"http_get.pcap", "tcp_http-on-irc-port-missing-syn.pcapng"} {
		data, err := os.ReadFile(filepath.Join(zeekDir, "traces", name))
		if err != nil {
			t.Fatal(err)
		}
		full, err := readBytes(t, name, data)
		if err != nil {
			t.Fatal(err)
		}
		for cut := 4; cut < len(data); cut++ {
			if cut > 3000 && cut%11 != 0 {
				continue // every offset of the first packets, a sample of the rest
			}
			res, err := readBytes(t, name, data[:cut])
			if err != nil {
				if !errors.Is(err, ErrNotCapture) {
					t.Fatalf("cut at %d: %v", cut, err)
				}
				continue // cut inside the file header
			}
			if res.Packets > full.Packets {
				t.Fatalf("cut at %d: %d packets, more than the whole file's %d", cut, res.Packets, full.Packets)
			}
			if len(res.Warnings) > 0 {
				w := res.Warnings[0]
				if w.Pos.File != name || w.Pos.Packet != res.Packets+1 || w.Offset <= 0 || w.Offset > int64(cut) {
					t.Fatalf("cut at %d: warning %v after %d packets", cut, w, res.Packets)
				}
			}
		}
	}
}

func TestTruncatedGzip(t *testing.T) {
	data, _ := os.ReadFile(filepath.Join(zeekDir, "traces", "wikipedia.pcap"))
	z := gz(t, data)
	res, err := readBytes(t, "w.pcap.gz", z[:len(z)/2])
	if err != nil {
		t.Fatal(err)
	}
	if res.Packets == 0 || len(res.Warnings) != 1 || !res.Files[0].Truncated {
		t.Fatalf("half a gzip capture: %d packets, warnings %v", res.Packets, res.Warnings)
	}
	if !strings.Contains(res.Warnings[0].String(), "w.pcap.gz: packet ") {
		t.Errorf("warning does not name file and packet: %s", res.Warnings[0])
	}
}

func TestNotACapture(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"ss.txt", "State  Recv-Q Send-Q Local Address:Port Peer Address:Port\n"},
		{"empty.pcap", ""},
		{"short.pcap", "\xd4\xc3"},
		{"header-only.pcap", "\xd4\xc3\xb2\xa1\x02\x00"},
		{"text.gz", string(gz(t, []byte("hello, this is not a capture\n")))},
	} {
		_, err := readBytes(t, tc.name, []byte(tc.data))
		if !errors.Is(err, ErrNotCapture) || !strings.HasPrefix(err.Error(), tc.name+": ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q, want a one-line ErrNotCapture naming the file", tc.name, err)
		}
	}
}

// TestMergeRotated splits a capture in three overlapping-free parts, as
// tcpdump -C does, and checks that reading the parts together (in any
// order) gives the same connections as the whole.
func TestMergeRotated(t *testing.T) {
	data, _ := os.ReadFile(filepath.Join(zeekDir, "traces", "wikipedia.pcap"))
	pkts := readWithPcapgo(t, data)
	parts := make([]bytes.Buffer, 3)
	for i := range parts {
		w := pcapgo.NewWriter(&parts[i])
		w.WriteFileHeader(65535, layers.LinkTypeEthernet)
		for j := i * len(pkts) / 3; j < (i+1)*len(pkts)/3; j++ {
			w.WritePacket(pkts[j].ci, pkts[j].data)
		}
	}
	whole, err := readBytes(t, "whole", data)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Read([]Input{
		{Name: "c", R: bytes.NewReader(parts[2].Bytes())},
		{Name: "a", R: bytes.NewReader(parts[0].Bytes())},
		{Name: "b", R: bytes.NewReader(parts[1].Bytes())},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Packets != whole.Packets || len(res.Conns) != len(whole.Conns) {
		t.Fatalf("merged: %d packets %d conns; whole: %d packets %d conns", res.Packets, len(res.Conns), whole.Packets, len(whole.Conns))
	}
	for i := range res.Conns {
		a, b := res.Conns[i], whole.Conns[i]
		if a.Local.Addr != b.Local.Addr || a.Remote.Addr != b.Remote.Addr || a.Local.State != b.Local.State || a.Remote.State != b.Remote.State || !a.First.Equal(b.First) {
			t.Errorf("conn %d: merged %v %v %v, whole %v %v %v", i, a.Local.Addr, a.Remote.Addr, a.Local.State, b.Local.Addr, b.Remote.Addr, b.Local.State)
		}
	}
}
