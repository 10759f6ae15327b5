#!/bin/sh
# Makes the real loopback captures in this directory and the tshark readings
# that decode_test.go compares the decoder with. Needs root on Linux,
# tcpdump with libpcap >= 1.10 (for LINUX_SLL2), tshark and python3.
# From the repository root: sh pcapstate/testdata/decode/make-captures.sh
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
filter='tcp port 47913 or tcp port 47914'
tcpdump -q -i any -y LINUX_SLL2 -s 0 -w "$dir/any-sll2.pcap" "$filter" & p1=$!
tcpdump -q -i any -y LINUX_SLL -s 0 -w "$dir/any-sll.pcap" "$filter" & p2=$!
# 60 bytes: IPv4 segments with timestamps are cut inside the TCP options,
# IPv6 segments before the TCP flags.
tcpdump -q -i lo -s 60 -w "$dir/lo-snaplen60.pcap" "$filter" & p3=$!
sleep 2
python3 "$dir/traffic.py"
sleep 2
kill "$p1" "$p2" "$p3"
wait "$p1" "$p2" "$p3" || true
for f in any-sll2 any-sll lo-snaplen60; do
	tshark -r "$dir/$f.pcap" -T fields -E separator=/t -E header=y \
		-e frame.number -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst \
		-e tcp.srcport -e tcp.dstport -e tcp.seq_raw -e tcp.ack_raw \
		-e tcp.flags -e tcp.window_size_value -e tcp.len \
		>"$dir/$f.tshark.tsv"
done
