#!/usr/bin/env bash
# Makes testdata/cases/node-websocket-noclose: chat-hub (server.js), a
# Node.js WebSocket hub whose upgrade handler never listens for 'end'.
# Node's HTTP server hands an upgraded socket over half-open, so each of the
# 8 members (client.py) that leave by closing their TCP connection without a
# close frame leaves the hub's socket in CLOSE_WAIT; the 6 that send a close
# frame are answered and closed, and 2 stay connected. Evidence: the
# diagnostic report (`node --report-on-signal`, SIGUSR2), the hub's log,
# ss/lsof/netstat//proc of the hub.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"
NODE=${NODE:-node}
need "apt-get install nodejs" "$NODE"

NAME=node-websocket-noclose
OUT=$REPO/testdata/cases/$NAME
PORT=18201
rm -rf "$OUT" && mkdir -p "$OUT" "$SCRATCH/reports"

start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
STARTED=$(now)
cd "$HERE"
"$NODE" --report-on-signal --report-directory="$SCRATCH/reports" server.js $PORT >"$SCRATCH/hub.log" 2>&1 &
HUB=$!
PIDS+=("$HUB")
wait_listen $PORT
"$PY" client.py --port $PORT --leave stay --count 2 --name idle >>"$SCRATCH/members.log" 2>&1 &
PIDS+=("$!")
"$PY" client.py --port $PORT --leave close --count 6 --gap 1.5 --name polite >>"$SCRATCH/members.log" 2>&1 &
POLITE=$!
PIDS+=("$POLITE")
sleep 0.5
"$PY" client.py --port $PORT --leave drop --count 8 --gap 0.2 --name gone >>"$SCRATCH/members.log" 2>&1
wait "$POLITE"
wait_count close-wait "( sport = :$PORT )" 8
log "letting the CLOSE_WAIT sockets age"
sleep 4

log "saving evidence"
kill -USR2 "$HUB"
sleep 1
save_evidence "$OUT" "$HUB" $PORT
EVIDENCE=$(now)
CW=$(count_state close-wait "( sport = :$PORT )")
stop_capture
scrub_node_report "$SCRATCH"/reports/report.*.json "$OUT/node-report.json"
cp "$SCRATCH/hub.log" "$OUT/hub.log"
cp "$SCRATCH/members.log" "$OUT/members.log"
versions "$OUT/VERSIONS.txt"
echo "node: $("$NODE" --version)" >>"$OUT/VERSIONS.txt"
echo "kill -USR2 $HUB (node --report-on-signal) > node-report.json; the hub's stdout and stderr > hub.log; the members' > members.log" >>"$OUT/COMMANDS.txt"

cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "node", "cmdline": "node --report-on-signal server.js $PORT", "pid": $HUB, "runtime": "node"},
  "local": "127.0.0.1:$PORT",
  "capture_link_type": "EN10MB (tcpdump -i lo)",
  "root_cause": "missing-close",
  "summary": "the hub's upgrade handler never listens for 'end': a member that leaves without a WebSocket close frame leaves the hub's half-open socket in CLOSE_WAIT (and in its members set); members that send a close frame are answered and closed",
  "holder": {"function": "the 'upgrade' handler (server.js) registers no 'end' listener", "thread": "the event loop: no thread blocks"},
  "counts": {"close_wait": $CW, "left_with_close_frame": 6, "left_without": 8, "connected": 2},
  "groups": [
    {"pid": $HUB, "name": "node", "category": "missing-close", "close_wait": $CW, "holder_frame": "", "last_exchange": "data-from-us", "note": "the last data before each member's FIN was the hub's echo frame, after the 101 that switched the connection to WebSocket"}
  ],
  "logs": {"node-report.json": "diagnostic report (SIGUSR2)", "hub.log": "one line per member joined or left with a close frame", "members.log": "one line per member: the upgrade's status, the echo, how it left"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT"
