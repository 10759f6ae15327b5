#!/bin/sh
# Makes the captures in this directory from real TCP traffic between Linux
# network namespaces, and tshark's reading of each (the oracle of
# TestDecodeEncapCaptures). Needs root, iproute2, nft, tcpdump, tshark,
# python3 and Go. From the repository root:
#   sh pcapstate/testdata/encap/make-captures.sh
#
# What the kernel makes itself:
#   vxlan.pcap       TCP over VXLAN (UDP 4789) over IPv4, and over IPv6
#   vxlan-8472.pcap  the same on the Linux default port 8472
#   nflog.pcap       `tcpdump -i nflog:5` with nft `log group 5` rules
#   fragments.pcap   TCP sent without DF (ip_no_pmtu_disc) through a router
#                    namespace whose next link has MTU 600: IPv4 fragments
# What wrap.go makes by wrapping the frames of base.pcap (real TCP over a
# veth, IPv4 and IPv6) in the encapsulations this machine's kernel lacks
# (built without GRE, ERSPAN, Geneve, IPIP, SIT and ip6tnl): see wrap.go.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
ns="cwa cwb cwr"
cleanup() {
	for n in $ns; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
cleanup
tmp=$(mktemp -d)
for n in $ns; do ip netns add "$n"; ip -n "$n" link set lo up; done

# Underlay: cwa (10.99.0.1, fd99::1) <-> cwb (10.99.0.2, fd99::2).
ip link add va netns cwa type veth peer name vb netns cwb
ip -n cwa addr add 10.99.0.1/24 dev va
ip -n cwb addr add 10.99.0.2/24 dev vb
ip -n cwa addr add fd99::1/64 dev va nodad
ip -n cwb addr add fd99::2/64 dev vb nodad
ip -n cwa link set va up
ip -n cwb link set vb up

# tcpdump in the background until its capture is made; then stop it.
capture() { # netns file args...
	n=$1 f=$2
	shift 2
	ip netns exec "$n" tcpdump -q -U -s 0 -w "$f" "$@" 2>/dev/null &
	echo $! >"$tmp/tcpdump.pid"
	sleep 1.5
}
stop() {
	sleep 1
	kill "$(cat "$tmp/tcpdump.pid")"
	wait "$(cat "$tmp/tcpdump.pid")" || true
}
traffic() { # server-ns client-ns addr port
	ip netns exec "$1" python3 "$dir/traffic.py" serve "$3" "$4" &
	sp=$!
	ip netns exec "$2" python3 "$dir/traffic.py" connect "$3" "$4"
	wait $sp
}

# base.pcap: plain TCP over the underlay, the frames wrap.go wraps.
capture cwb "$tmp/base.pcap" -i vb tcp
traffic cwb cwa 10.99.0.2 47920
traffic cwb cwa fd99::2 47921
stop

# VXLAN over IPv4 and over IPv6, on port 4789 and on 8472.
for port in 4789 8472; do
	ip -n cwa link add vx4 type vxlan id 42 local 10.99.0.1 remote 10.99.0.2 dstport $port
	ip -n cwb link add vx4 type vxlan id 42 local 10.99.0.2 remote 10.99.0.1 dstport $port
	ip -n cwa link add vx6 type vxlan id 43 local fd99::1 remote fd99::2 dstport $port
	ip -n cwb link add vx6 type vxlan id 43 local fd99::2 remote fd99::1 dstport $port
	for n in cwa cwb; do
		h=1; [ $n = cwb ] && h=2
		ip -n $n addr add 10.42.0.$h/24 dev vx4
		ip -n $n addr add fd42::$h/64 dev vx6 nodad
		ip -n $n link set vx4 up
		ip -n $n link set vx6 up
	done
	f=vxlan; [ $port = 8472 ] && f=vxlan-8472
	capture cwb "$dir/$f.pcap" -i vb udp port $port
	traffic cwb cwa 10.42.0.2 47922
	traffic cwb cwa fd42::2 47923
	stop
	for n in cwa cwb; do ip -n $n link del vx4; ip -n $n link del vx6; done
done

# NFLOG: netfilter hands the packets of the test ports to group 5.
ip netns exec cwb nft -f - <<'NFT'
table inet cw {
	chain in { type filter hook input priority 0; tcp dport { 47924, 47925 } log group 5; }
	chain out { type filter hook output priority 0; tcp sport { 47924, 47925 } log group 5; }
}
NFT
capture cwb "$dir/nflog.pcap" -i nflog:5
traffic cwb cwa 10.99.0.2 47924
traffic cwb cwa fd99::2 47925
stop

# Fragments: cwa (no PMTU discovery, so no DF) -> cwr (router) -> cwb,
# the router's link to cwb of MTU 600.
ip link add r1 netns cwr type veth peer name a1 netns cwa
ip link add r2 netns cwr type veth peer name b2 netns cwb
ip -n cwa addr add 10.98.1.1/24 dev a1
ip -n cwr addr add 10.98.1.2/24 dev r1
ip -n cwr addr add 10.98.2.2/24 dev r2
ip -n cwb addr add 10.98.2.1/24 dev b2
# Only the router's side is small: cwb's MTU, and so the MSS it offers,
# stay 1500, and the router fragments what cwa sends.
ip -n cwr link set dev r2 mtu 600
for l in "cwa a1" "cwr r1" "cwr r2" "cwb b2"; do set -- $l; ip -n $1 link set dev $2 up; done
ip -n cwa route add 10.98.2.0/24 via 10.98.1.2
ip -n cwb route add 10.98.1.0/24 via 10.98.2.2
ip netns exec cwr sysctl -qw net.ipv4.ip_forward=1
ip netns exec cwa sysctl -qw net.ipv4.ip_no_pmtu_disc=1
capture cwb "$dir/fragments.pcap" -i b2 tcp or '(ip[6:2] & 0x3fff != 0)'
traffic cwb cwa 10.98.2.1 47926
stop

go run "$dir/wrap.go" "$tmp/base.pcap" "$dir"

for f in "$dir"/*.pcap; do
	tshark -r "$f" -o ip.defragment:FALSE -o ipv6.defragment:FALSE \
		-d udp.port==8472,vxlan -T fields -E separator=/t -E header=y \
		-e frame.number -e frame.protocols -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst \
		-e tcp.srcport -e tcp.dstport -e tcp.seq_raw -e tcp.ack_raw \
		-e tcp.flags -e tcp.window_size_value -e tcp.len \
		>"${f%.pcap}.tshark.tsv"
done
