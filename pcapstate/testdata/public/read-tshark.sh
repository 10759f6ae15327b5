#!/bin/sh
# Writes tshark's reading of each public capture in this directory (the
# oracle of TestDecodeEncapCaptures), as make-captures.sh does for ../encap.
# Needs tshark. From the repository root:
#   sh pcapstate/testdata/public/read-tshark.sh
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
for f in "$dir"/*.pcap; do
	tshark -r "$f" -o ip.defragment:FALSE -o ipv6.defragment:FALSE \
		-d udp.port==8472,vxlan -T fields -E separator=/t -E header=y \
		-e frame.number -e frame.protocols -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst \
		-e tcp.srcport -e tcp.dstport -e tcp.seq_raw -e tcp.ack_raw \
		-e tcp.flags -e tcp.window_size_value -e tcp.len \
		>"${f%.pcap}.tshark.tsv"
done
