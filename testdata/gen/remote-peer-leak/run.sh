#!/usr/bin/env bash
# Makes testdata/cases/remote-peer-leak over IPv6 loopback: our client
# (client.py) sends a request to a peer service (line_server.py
# --mode never-close) on [::1]:18085, reads the answer and closes. The peer
# never closes, so its 10 sockets stay in CLOSE_WAIT and ours sit in
# FIN_WAIT2 (orphaned, no process) until tcp_fin_timeout. Seen from our side
# the fault is the remote's; the capture shows our FIN first and no FIN back,
# then the peer's TCP keepalive probes (every 5 s) on its CLOSE_WAIT sockets,
# answered by our orphaned FIN_WAIT2 sockets, until the capture stops.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=remote-peer-leak
OUT=$REPO/testdata/cases/$NAME
PORT=18085
rm -rf "$OUT" && mkdir -p "$OUT"

start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
"$PY" "$GEN_DIR/line_server.py" --host ::1 --port $PORT --mode never-close --keepalive 5 &
PEER=$!
PIDS+=("$PEER")
wait_listen $PORT
STARTED=$(now)
"$PY" "$GEN_DIR/client.py" --host ::1 --port $PORT --count 6 --read --payload 'QUOTE {i}\n'
sleep 3
"$PY" "$GEN_DIR/client.py" --host ::1 --port $PORT --count 4 --read --payload 'QUOTE late-{i}\n'
wait_count close-wait "( sport = :$PORT )" 10
wait_count fin-wait-2 "( dport = :$PORT )" 10
sleep 10

save_evidence "$OUT" "$PEER" $PORT
EVIDENCE=$(now)
CW=$(count_state close-wait "( sport = :$PORT )")
FW2=$(count_state fin-wait-2 "( dport = :$PORT )")
stop_capture
versions "$OUT/VERSIONS.txt"
cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "evidence_taken": "$EVIDENCE",
  "local": "the client side: [::1] ephemeral ports -> [::1]:$PORT (our sockets are orphaned in FIN_WAIT2, no process)",
  "process": {"name": "python3", "cmdline": "python3 line_server.py --mode never-close --keepalive 5", "pid": $PEER, "role": "remote peer (the one holding CLOSE_WAIT)"},
  "root_cause": "remote-peer-leak",
  "summary": "we close first after each answer; the peer never closes its accepted sockets, so they stay in CLOSE_WAIT on its side and ours wait in FIN_WAIT2 for a FIN that never comes (until net.ipv4.tcp_fin_timeout)",
  "holder": {"function": "serve (line_server.py, never-close mode: stored in KEPT)", "side": "remote"},
  "counts": {"close_wait_remote": $CW, "fin_wait2_local": $FW2},
  "note": "the evidence listings (lsof -p, /proc/PID/fd, limits) are of the peer process; ss/netstat/proc-net show both sides"
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT (peer), $FW2 FIN_WAIT2 (ours)"
