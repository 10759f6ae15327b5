#!/usr/bin/env bash
# Makes testdata/real/recvq: Linux listings of CLOSE_WAIT sockets whose
# receive queues are known (fin_pairs.py: the peer's FIN unread, alone or
# behind data, and read to the end), as ss, net-tools netstat, busybox
# netstat and lsof -T print them, so that the parsers' dialect (dumps.OS)
# and the report's reading of Linux netstat's and lsof's Recv-Q are tested
# on real output. EXPECTED.txt has the queue each socket must show
# (len(data) + 1 unread, 0 read); the command behind each file is in
# COMMANDS.txt. Needs: net-tools, lsof, busybox (apt-get install -y
# net-tools lsof busybox). Run as root: testdata/gen/recvq/run.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"
need "apt-get install -y net-tools lsof busybox" netstat lsof busybox ss

OUT=$REPO/testdata/real/recvq
PORT=18140
rm -rf "$OUT" && mkdir -p "$OUT"

"$PY" "$HERE/fin_pairs.py" $PORT "$OUT/EXPECTED.txt" >"$SCRATCH/server.out" 2>&1 &
SRV=$!
PIDS+=("$SRV")
for _ in $(seq 1 100); do
	grep -q ready "$SCRATCH/server.out" && break
	sleep 0.1
done
grep -q ready "$SCRATCH/server.out" || { cat "$SCRATCH/server.out" >&2; exit 1; }
wait_count close-wait "( sport = :$PORT )" 7

cmd() { # cmd FILE COMMAND...: run a command line, save its output, record it
	echo "$2 > $1" >>"$OUT/COMMANDS.txt"
	bash -c "$2" >"$OUT/$1" 2>&1 || true
}
echo "# taken on $(now) (UTC); server pid $SRV (fin_pairs.py, port $PORT)" >"$OUT/COMMANDS.txt"
export -f keep_ports
cmd ss-tanp.txt "ss -tanp '( sport = :$PORT or dport = :$PORT )'"
cmd netstat-tanp.txt "netstat -tanp | keep_ports $PORT"
cmd netstat-grep-close-wait.txt "netstat -tan | grep CLOSE_WAIT | grep $PORT"
cmd busybox-netstat-tan.txt "busybox netstat -tan | keep_ports $PORT"
cmd lsof-Tqs.txt "lsof -nP -iTCP:$PORT -Tqs"
cmd lsof-F-Tqs.txt "lsof -nP -iTCP:$PORT -F pcfdtnT"
cmd lsof-F-no-device.txt "lsof -nP -iTCP:$PORT -F pcftnT"
versions "$OUT/VERSIONS.txt"
echo "busybox: $(busybox 2>&1 | head -1)" >>"$OUT/VERSIONS.txt"
log "done: $(count_state close-wait "( sport = :$PORT )") CLOSE_WAIT"
