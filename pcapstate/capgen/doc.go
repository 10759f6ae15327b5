// Package capgen builds synthetic packet captures of TCP conversations for
// the tests of the state engine: real frames with correct lengths and
// checksums, written as pcap, pcapng or gzip, byte-identical every time.
//
// A Capture collects packets with explicit capture timestamps (a start time
// and explicit steps, never the wall clock) on one or more Interfaces, each
// with its Framing (Ethernet, 802.1Q, QinQ, MPLS, PPPoE, Linux SLL and
// SLL2, raw IP, BSD loopback; GTP-U and Teredo tunnels) and snaplen. A Conn
// scripts one TCP connection, keeping both sides' sequence numbers so that
// every segment is consistent, with raw control (Next, Send) for odd cases.
//
// Scenarios returns every situation the engine must judge exactly
// (confirmed CLOSE_WAIT, one-way capture, unacknowledged, retransmitted,
// out-of-order FIN, FIN on data, keep-alives, zero window, port reuse,
// mid-connection start, snaplen cuts, sequence wrap-around, RST after FIN,
// normal, simultaneous and local-first close, rotated and parallel files),
// each with its expected verdict as plain data (states, since, CLOSE_WAIT
// verdict, counts, markers and evidence packets per endpoint), so engine
// tests can table-drive over them for every framing in Variants:
//
//	for _, v := range capgen.Variants() {
//		for _, s := range capgen.Scenarios(v.Options) {
//			data, _ := s.Capture.Bytes(capgen.Format{Pcapng: true})
//			// run the engine on data with --local s.Local, compare with s.Conns
//		}
//	}
//
// Capture.Noise adds frames the engine must count or warn about (ARP, UDP,
// ICMP, GRE, fragments, corrupt headers).
//
// Load streams a large interleaved capture for benchmarks without holding
// it in memory; Flood streams a SYN flood (SYNs from distinct sources to
// one port, never answered).
//
// gopacket 1.1.19 keeps link types in a uint8: pcapgo reports SLL2 (276)
// as 20, and its pcapng reader skips packets of interfaces whose link type
// differs from the first one's unless WantMixedLinkType is set.
package capgen
