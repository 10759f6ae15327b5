package pcapstate

import (
	"bytes"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestFragTable feeds fragments in different orders and losses: a
// segment is released once with its datagram's whole payload, at the time
// of the fragment that completed it, or, when a fragment never comes,
// with the payload seen, at its own time, on timeout or at the end.
func TestFragTable(t *testing.T) {
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	// A 3000-byte TCP payload with a 20-byte header in a datagram cut
	// into fragments of 1480, 1480 and 60 bytes.
	first := func(id uint16) Segment {
		return Segment{Src: src, Dst: dst, SrcPort: 1, DstPort: 2, Flags: ACK, Payload: 1460, Fragment: true, frag: fragPos{id, 0, 1480, true}}
	}
	later := func(id uint16, start, end uint32, more bool) Segment {
		return Segment{Src: src, Dst: dst, frag: fragPos{id, start, end, more}}
	}
	type step struct {
		seg Segment
		ts  int64
	}
	for _, tc := range []struct {
		name    string
		steps   []step
		payload uint32
		ts      int64 // when released
		atEnd   bool  // released by flush
	}{
		{"in order", []step{{first(7), 10}, {later(7, 1480, 2960, true), 11}, {later(7, 2960, 3020, false), 12}}, 3000, 12, false},
		{"last first", []step{{later(7, 2960, 3020, false), 10}, {later(7, 1480, 2960, true), 11}, {first(7), 12}}, 3000, 12, false},
		{"middle lost", []step{{first(7), 10}, {later(7, 2960, 3020, false), 12}}, 1460, 10, true},
		{"other datagram's fragments", []step{{first(7), 10}, {later(8, 1480, 2960, true), 11}, {later(8, 2960, 3020, false), 12}}, 1460, 10, true},
		{"timed out", []step{{first(7), 10}, {later(7, 1480, 2960, true), 11}, {later(9, 1480, 2960, true), 10 + fragTimeout + 1}}, 1460, 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ft fragTable
			var got []readyFrag
			for i, s := range tc.steps {
				if ft.add(&s.seg, s.ts, ref{1, uint32(i + 1)}) {
					got = append(got, ft.ready...)
				}
			}
			if tc.atEnd != (len(got) == 0) {
				t.Fatalf("released before the end: %+v", got)
			}
			ft.flush()
			got = append(got, ft.ready...)
			if len(got) != 1 || got[0].seg.Payload != tc.payload || got[0].ts != tc.ts || got[0].seg.frag != (fragPos{}) {
				t.Fatalf("released %+v, want one segment of %d bytes at %d", got, tc.payload, tc.ts)
			}
			if len(ft.pending) != 0 {
				t.Errorf("%d datagrams left pending", len(ft.pending))
			}
		})
	}
}

// TestReadFragments reads real IPv4 fragments (testdata/encap/
// fragments.pcap: TCP sent without DF through a router onto a link of MTU
// 600): each direction's bytes equal what the peer's last ACK says was
// received, from the capture's own sequence numbers (tshark's reading).
func TestReadFragments(t *testing.T) {
	data, err := os.ReadFile("testdata/encap/fragments.pcap")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Read([]Input{{Name: "fragments.pcap", R: bytes.NewReader(data)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// From tshark: each sender's ISN (its SYN's seq) and the highest ack
	// its peer sent, by sender endpoint.
	isn, acked := map[string]uint32{}, map[string]uint32{}
	for _, c := range decTsharkRows(t, "testdata/encap/fragments.pcap") {
		if c[6] == "" {
			continue
		}
		from, to := c[2]+":"+c[6], c[4]+":"+c[7]
		seq, _ := strconv.ParseUint(c[8], 10, 32)
		ack, _ := strconv.ParseUint(c[9], 10, 32)
		flags, _ := strconv.ParseUint(strings.TrimPrefix(c[10], "0x"), 16, 16)
		if Flags(flags).Has(SYN) {
			isn[from] = uint32(seq)
		}
		if Flags(flags).Has(ACK) && uint32(ack) > acked[to] {
			acked[to] = uint32(ack)
		}
	}
	checked := 0
	for _, c := range res.Conns {
		for _, e := range []Side{c.Local, c.Remote} {
			a := e.Addr.String()
			// Received: from the ISN to the last ack, less the SYN and FIN.
			want := uint64(acked[a] - isn[a] - 2)
			if e.Bytes != want {
				t.Errorf("%s sent %d bytes, its peer acknowledged %d", a, e.Bytes, want)
			}
			checked++
		}
	}
	if checked == 0 || res.Files[0].Skipped[0].Kind != "ip-fragment" {
		t.Fatalf("nothing checked: %+v", res)
	}
}
