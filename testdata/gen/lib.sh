# shellcheck shell=bash
# Shared helpers for the fixture generators under testdata/gen/. Sourced by
# each run.sh, which must already have `set -euo pipefail`.
#
# Everything here talks to 127.0.0.1 or ::1 only, and writes only below the
# repository's testdata/ directory (build products go to a scratch directory
# below testdata/gen/ that is removed on exit).

GEN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the run.sh scripts that source this file
REPO=$(cd "$GEN_DIR/../.." && pwd)
PY=${PY:-/usr/bin/python3}
GO=${GO:-/usr/local/go/bin/go}
JDK17=${JDK17:-/usr/lib/jvm/java-17-openjdk-amd64}
# A JDK >= 21 is optional: Debian 12 ships only 17. Temurin 25 is used when it
# is installed, for `jcmd Thread.dump_to_file -format=json` and virtual threads.
JDK25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
SNAPLEN=262144

[ "$(id -u)" = 0 ] || { echo "run as root (tcpdump, lsof -p and /proc/PID/fd need it)" >&2; exit 1; }

PIDS=()
SCRATCH=$(mktemp -d "$GEN_DIR/.scratch.XXXXXX")

# cleanup stops, by pid, every process this script started, then removes the
# scratch directory. Installed as the EXIT trap.
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# need HINT TOOL... fails at once when a TOOL is not installed, saying
# what to install (HINT), rather than half-way through a run.
need() {
	local hint=$1 tool
	shift
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "$(basename "$(dirname "$0")")/$(basename "$0"): $tool is missing ($hint)" >&2; exit 1; }
	done
}

now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
log() { echo "[$(date -u +%T)] $*" >&2; }

# wait_listen PORT waits until something listens on TCP PORT.
wait_listen() {
	local _
	for _ in $(seq 1 100); do
		if [ -n "$(ss -Htln "( sport = :$1 )")" ]; then return 0; fi
		sleep 0.1
	done
	echo "nothing listens on port $1" >&2
	return 1
}

# count_state STATE FILTER counts TCP sockets in STATE that match the ss FILTER.
count_state() {
	ss -Htan state "$1" "$2" | wc -l
}

# wait_count STATE FILTER N waits (up to 20 s) until exactly N sockets match.
wait_count() {
	local _ n
	for _ in $(seq 1 200); do
		n=$(count_state "$1" "$2")
		if [ "$n" -eq "$3" ]; then return 0; fi
		sleep 0.1
	done
	echo "expected $3 sockets in $1 for $2, have $n" >&2
	ss -tan "$2" >&2
	return 1
}

# start_capture FILE IFACE BPF [TCPDUMP-ARGS...] starts tcpdump writing FILE
# (pcap); sets CAP_PID.
start_capture() {
	tcpdump -i "$2" -U -s "$SNAPLEN" -Z root "${@:4}" -w "$1" "$3" 2>"$SCRATCH/tcpdump.err" &
	CAP_PID=$!
	PIDS+=("$CAP_PID")
	local _
	for _ in $(seq 1 50); do
		grep -q 'listening on' "$SCRATCH/tcpdump.err" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$SCRATCH/tcpdump.err" >&2
	return 1
}

# start_pcapng FILE IFACE BPF starts dumpcap (Wireshark's capture engine)
# writing FILE in pcapng alongside tcpdump; sets PCAPNG_PID. Optional: does
# nothing when dumpcap is not installed.
PCAPNG_PID=
start_pcapng() {
	command -v dumpcap >/dev/null || { log "no dumpcap: no pcapng capture"; return 0; }
	dumpcap -q -i "$2" -s "$SNAPLEN" -f "$3" -w "$1" 2>"$SCRATCH/dumpcap.err" &
	PCAPNG_PID=$!
	PIDS+=("$PCAPNG_PID")
	local _
	for _ in $(seq 1 50); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	cat "$SCRATCH/dumpcap.err" >&2
	return 1
}

# stop_capture stops tcpdump (and dumpcap) and prints the counts to stderr.
stop_capture() {
	sleep 0.3
	kill -INT "$CAP_PID"
	wait "$CAP_PID" || true
	cat "$SCRATCH/tcpdump.err" >&2
	if [ -n "$PCAPNG_PID" ]; then
		kill -INT "$PCAPNG_PID"
		wait "$PCAPNG_PID" || true
	fi
}

# start_prober PORT PAYLOAD [HOST] starts a health probe that sends one
# well-formed request every 3 s, reads the answer and closes: ordinary,
# correctly closed traffic that also keeps packets coming until the capture
# stops, so the capture's own clock shows how long the stuck sockets sat.
start_prober() {
	"$PY" "$GEN_DIR/client.py" --host "${3:-127.0.0.1}" --port "$1" --count 100 --gap 3 --read --payload "$2" &
	PIDS+=("$!")
}

# versions FILE records the versions of every tool that made the fixtures.
versions() {
	{
		echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "uname -r: $(uname -r)"
		echo "uname -m: $(uname -m)"
		echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
		echo "ss -V: $(ss -V)"
		echo "lsof -v: $(lsof -v 2>&1 | sed -n 's/^ *revision: *//p' | head -1)"
		echo "netstat -V: $(netstat -V | head -1)"
		echo "tcpdump: $(tcpdump --version 2>&1 | head -1)"
		echo "libpcap: $(tcpdump --version 2>&1 | sed -n 2p)"
		echo "python3: $($PY --version 2>&1)"
		echo "go version: $($GO version)"
		echo "java 17: $("$JDK17/bin/java" -version 2>&1 | sed -n 2p)"
		if [ -x "$JDK25/bin/java" ]; then
			echo "java 25: $("$JDK25/bin/java" -version 2>&1 | sed -n 2p)"
		fi
		local pkg
		for pkg in iproute2 lsof net-tools tcpdump libhttpclient-java libhttpcore-java libcommons-pool2-java; do
			echo "dpkg $pkg: $(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || echo none)"
		done
		echo "net.ipv4.tcp_fin_timeout: $(cat /proc/sys/net/ipv4/tcp_fin_timeout)"
	} >"$1"
}

# keep_ports PORT... filters `netstat`/`/proc/net/tcp` output on stdin to its
# header and the lines that mention one of the ports, so that only this
# script's own loopback sockets are kept (the machine runs other things too).
keep_ports() {
	local re="" hex="" p
	for p in "$@"; do
		re="$re|[:.]$p( |\$)"
		hex="$hex|:$(printf '%04X' "$p") "
	done
	awk -v re="${re#|}" -v hex="${hex#|}" \
		'NR==1 || /^(Proto|Active)/ || $0 ~ re || $0 ~ hex'
}

# port_filter PORT... prints an ss filter expression matching those ports.
port_filter() {
	local f="" p
	for p in "$@"; do
		f="$f or sport = :$p or dport = :$p"
	done
	echo "( ${f# or } )"
}

# save_evidence DIR PID PORT... saves the socket evidence for PID and the
# given ports into DIR, one file per command (PID `-`: only the listings of
# every process, none of one process's own files; see save_proc). Listings that cannot be limited
# to the ports by the tool itself are filtered with keep_ports, and the
# command lines are recorded in DIR/COMMANDS.txt.
save_evidence() {
	local dir=$1 pid=$2
	shift 2
	local f
	f=$(port_filter "$@")
	local lsofports
	lsofports=$(printf ',%s' "$@")
	lsofports=${lsofports#,}
	{
		echo "# taken at $(now) (UTC), pid $pid, ports $*"
		echo "ss -tanpoei '$f' > ss-tanpoei.txt"
		echo "ss -tan state close-wait '$f' > ss-close-wait.txt"
		echo "ss -s > ss-s.txt"
		echo "lsof -nP -iTCP:$lsofports > lsof-iTCP.txt"
		echo "lsof -nP -iTCP:$lsofports -sTCP:CLOSE_WAIT > lsof-close-wait.txt"
		echo "netstat -antp | keep_ports $* > netstat-antp.txt"
		echo "cat /proc/net/tcp | keep_ports $* > proc-net-tcp.txt"
		echo "cat /proc/net/tcp6 | keep_ports $* > proc-net-tcp6.txt"
	} >"$dir/COMMANDS.txt"
	ss -tanpoei "$f" >"$dir/ss-tanpoei.txt"
	ss -tan state close-wait "$f" >"$dir/ss-close-wait.txt"
	ss -s >"$dir/ss-s.txt"
	lsof -nP -iTCP:"$lsofports" >"$dir/lsof-iTCP.txt" || true
	lsof -nP -iTCP:"$lsofports" -sTCP:CLOSE_WAIT >"$dir/lsof-close-wait.txt" || true
	netstat -antp 2>/dev/null | keep_ports "$@" >"$dir/netstat-antp.txt"
	keep_ports "$@" </proc/net/tcp >"$dir/proc-net-tcp.txt"
	keep_ports "$@" </proc/net/tcp6 >"$dir/proc-net-tcp6.txt"
	if [ "$pid" != - ]; then
		echo "lsof -p $pid > lsof-p.txt" >>"$dir/COMMANDS.txt"
		lsof -p "$pid" >"$dir/lsof-p.txt" 2>/dev/null || true
		save_proc "$dir" "$pid" proc full
	fi
}

# save_proc DIR PID PREFIX [full] saves `ls -l /proc/PID/fd` and
# /proc/PID/limits as DIR/PREFIX-fd.txt and DIR/PREFIX-limits.txt and, with
# `full`, /proc/PID/cmdline (NULs shown as spaces) and /proc/PID/status as
# PREFIX-cmdline.txt and PREFIX-status.txt; appends the commands to
# DIR/COMMANDS.txt.
save_proc() {
	local dir=$1 pid=$2 pre=$3
	{
		echo "ls -l /proc/$pid/fd > $pre-fd.txt"
		echo "cat /proc/$pid/limits > $pre-limits.txt"
		if [ "${4:-}" = full ]; then
			echo "tr '\\0' ' ' < /proc/$pid/cmdline > $pre-cmdline.txt"
			echo "cat /proc/$pid/status > $pre-status.txt"
		fi
	} >>"$dir/COMMANDS.txt"
	ls -l "/proc/$pid/fd" >"$dir/$pre-fd.txt"
	cat "/proc/$pid/limits" >"$dir/$pre-limits.txt"
	if [ "${4:-}" = full ]; then
		tr '\0' ' ' <"/proc/$pid/cmdline" >"$dir/$pre-cmdline.txt"
		echo >>"$dir/$pre-cmdline.txt"
		cat "/proc/$pid/status" >"$dir/$pre-status.txt"
	fi
}

# check_capture FILE prints a short summary of a capture to stderr and fails
# when it is empty or larger than 1 MB.
check_capture() {
	local size
	size=$(stat -c %s "$1")
	log "$1: $size bytes"
	[ "$size" -gt 24 ] && [ "$size" -lt 1048576 ]
	tcpdump -nr "$1" 2>/dev/null | tail -3 >&2
}

# fresh_case_dir DIR empties (or makes) the output directory DIR of a case
# but keeps its hand-written EXPECTED.md, whose numbers then need review
# against the new case.json.
fresh_case_dir() {
	mkdir -p "$1"
	find "$1" -mindepth 1 -maxdepth 1 ! -name EXPECTED.md -exec rm -rf {} +
}

# scrub_node_report SRC DST copies the Node.js diagnostic report SRC to DST
# without the machine's environment, network interfaces and host name, which
# stay out of the repository (Node 20 has no --report-exclude-env); the
# environment says which script removed it.
scrub_node_report() {
	"$PY" - "$1" "$2" "testdata/gen/$(basename "$(dirname "$0")")/$(basename "$0")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["environmentVariables"] = {"REMOVED": "by " + sys.argv[3]}
r["header"]["networkInterfaces"] = []
r["header"]["host"] = "REMOVED"
json.dump(r, open(sys.argv[2], "w"), indent=2)
PY
}
