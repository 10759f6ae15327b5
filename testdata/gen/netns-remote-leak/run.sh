#!/usr/bin/env bash
# Makes testdata/cases/netns-remote-leak: two hosts made of two network
# namespaces joined by a veth pair (10.88.0.1/24 "ours", 10.88.0.2/24
# "theirs"; the addresses exist only inside the namespaces). Ours runs
# metrics-shipper (main.go), which sends 10 batches to the remote collector
# (collector.py, port 18114) and closes each connection after the
# acknowledgement; the collector never closes, so its sockets sit in
# CLOSE_WAIT on the remote host and ours, orphaned, in FIN_WAIT2. The
# shipper also fetches its configuration from the remote host (port 18115)
# every 3 s, which closes cleanly. Everything is captured and listed on our
# host only (inside namespace "ours"): the CLOSE_WAIT sockets are not in the
# evidence, only our FIN_WAIT2 ends and the capture.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=netns-remote-leak
OUT=$REPO/testdata/cases/$NAME
PORT=18114
CONFIG=18115
OURS=cwf-ours
THEIRS=cwf-theirs
fresh_case_dir "$OUT"

netns_cleanup() {
	cleanup
	ip netns del $OURS 2>/dev/null || true
	ip netns del $THEIRS 2>/dev/null || true
}
trap netns_cleanup EXIT

log "building"
(cd "$REPO" && "$GO" build -trimpath -o "$SCRATCH/metrics-shipper" ./testdata/gen/$NAME/main.go)

log "two hosts: namespaces $OURS and $THEIRS"
ip netns del $OURS 2>/dev/null || true
ip netns del $THEIRS 2>/dev/null || true
ip netns add $OURS
ip netns add $THEIRS
ip link add cwf-o0 netns $OURS type veth peer name cwf-t0 netns $THEIRS
ip -n $OURS addr add 10.88.0.1/24 dev cwf-o0
ip -n $THEIRS addr add 10.88.0.2/24 dev cwf-t0
for ns in $OURS $THEIRS; do
	ip -n $ns link set lo up
done
ip -n $OURS link set cwf-o0 up
ip -n $THEIRS link set cwf-t0 up
ours() { ip netns exec $OURS "$@"; }
theirs() { ip netns exec $THEIRS "$@"; }

# tcpdump runs in our namespace, on our end of the link. Background
# programs are started with `ip netns exec` itself (it execs them, so $! is
# their pid), not through the shell functions.
ip netns exec $OURS tcpdump -i cwf-o0 -U -s "$SNAPLEN" -Z root -w "$OUT/capture.pcap" "tcp port $PORT or tcp port $CONFIG" 2>"$SCRATCH/tcpdump.err" &
CAP_PID=$!
PIDS+=("$CAP_PID")
for _ in $(seq 1 50); do
	grep -q 'listening on' "$SCRATCH/tcpdump.err" 2>/dev/null && break
	sleep 0.1
done

ip netns exec $THEIRS "$PY" "$HERE/collector.py" --port $PORT --config-port $CONFIG 2>"$SCRATCH/collector.log" &
REMOTE=$!
PIDS+=("$REMOTE")
for _ in $(seq 1 100); do
	[ -n "$(theirs ss -Htln "( sport = :$CONFIG )")" ] && break
	sleep 0.1
done
STARTED=$(now)
ip netns exec $OURS "$SCRATCH/metrics-shipper" -collector 10.88.0.2:$PORT -config 10.88.0.2:$CONFIG -batches 10 2>"$SCRATCH/shipper.log" &
SHIPPER=$!
PIDS+=("$SHIPPER")
LEAK_STARTED=$STARTED
for _ in $(seq 1 300); do
	[ "$(theirs ss -Htan state close-wait "( sport = :$PORT )" | wc -l)" -eq 10 ] && break
	sleep 0.1
done
log "letting the sockets age"
sleep 12

log "saving evidence on our host"
ours bash -c ". '$GEN_DIR/lib.sh'; save_evidence '$OUT' $SHIPPER $PORT $CONFIG"
echo "# every command above ran in our host's namespace: ip netns exec $OURS ..." >>"$OUT/COMMANDS.txt"
EVIDENCE=$(now)
FW2=$(ours ss -Htan state fin-wait-2 "( dport = :$PORT )" | wc -l)
CW_REMOTE=$(theirs ss -Htan state close-wait "( sport = :$PORT )" | wc -l)
CW_OURS=$(ours ss -Htan state close-wait | wc -l)
sleep 3.3
kill -INT "$CAP_PID"
wait "$CAP_PID" || true
cat "$SCRATCH/tcpdump.err" >&2
cp "$SCRATCH/shipper.log" "$OUT/shipper.log"
versions "$OUT/VERSIONS.txt"
echo "net.ipv4.tcp_fin_timeout in $OURS: $(ours cat /proc/sys/net/ipv4/tcp_fin_timeout)" >>"$OUT/VERSIONS.txt"
[ "$FW2" = 10 ] && [ "$CW_REMOTE" = 10 ] && [ "$CW_OURS" = 0 ] || { echo "want 10 FIN_WAIT2 here, 10 CLOSE_WAIT there, 0 here: $FW2 $CW_REMOTE $CW_OURS" >&2; exit 1; }
cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "leak_started": "$LEAK_STARTED",
  "evidence_taken": "$EVIDENCE",
  "hosts": {"ours": "network namespace $OURS, 10.88.0.1/24 on cwf-o0", "theirs": "network namespace $THEIRS, 10.88.0.2/24 on cwf-t0 (no evidence taken there)"},
  "local": "10.88.0.1 (ours) -> 10.88.0.2:$PORT (collector) and 10.88.0.2:$CONFIG (config)",
  "process": {"name": "", "pid": 0, "role": "the CLOSE_WAIT sockets belong to a process on the remote host 10.88.0.2, which the evidence cannot name"},
  "remote": {"name": "python3", "cmdline": "python3 collector.py --port $PORT --config-port $CONFIG", "pid": $REMOTE, "addr": "10.88.0.2:$PORT", "note": "pid in its own namespace's host: not in the evidence"},
  "local_client": {"name": "metrics-shipper", "pid": $SHIPPER, "runtime": "go", "note": "closed every connection: its ends are orphaned (no process) in FIN_WAIT2"},
  "capture_link_type": "EN10MB (tcpdump -i cwf-o0 inside $OURS)",
  "root_cause": "remote-peer-leak",
  "summary": "we close first after each acknowledgement; the collector on 10.88.0.2 keeps every accepted socket in a list and never closes it, so they stay in CLOSE_WAIT on that host and our ends wait in FIN_WAIT2 (orphaned, until net.ipv4.tcp_fin_timeout) for a FIN that never comes. The fault is the remote's; nothing on our host holds a socket in CLOSE_WAIT. The config connections to the same host close normally",
  "holder": {"side": "remote", "leaked_by": "collector() in collector.py: SESSIONS.append(conn), never closed"},
  "groups": [
    {"pid": 0, "name": "", "category": "remote-peer-leak", "close_wait": $FW2, "holder_frame": "", "peer": "10.88.0.2:$PORT", "note": "counted by our FIN_WAIT2 ends: $CW_REMOTE CLOSE_WAIT on the remote host"}
  ],
  "counts": {"close_wait_remote": $CW_REMOTE, "fin_wait2_local": $FW2, "close_wait_local": $CW_OURS},
  "logs": {"shipper.log": "metrics-shipper stderr: one OK per batch"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $FW2 FIN_WAIT2 here, $CW_REMOTE CLOSE_WAIT on the remote host"
