#!/usr/bin/env bash
# Makes testdata/cases/node-unconsumed: report-poller (client.js), a Node.js
# client that fetches 12 reports from a local HTTP service (server.py, 128
# KiB answers, then close) and never reads the body of 9 of them. Those
# sockets stop reading once Node's buffers are full; the server's FIN waits
# in the kernel behind the unread bytes and the client's sockets sit in
# CLOSE_WAIT. Evidence: the diagnostic report (`node --report-on-signal`,
# SIGUSR2), the client's log (stdout and, with --trace-warnings, the stack of
# where each request whose body it skips was issued, on stderr),
# ss/lsof/netstat//proc of the client.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=node-unconsumed
OUT=$REPO/testdata/cases/$NAME
PORT=18094
NODE=${NODE:-node}
rm -rf "$OUT" && mkdir -p "$OUT" "$SCRATCH/reports"

# Headers only (-s 160): the bodies would make the capture megabytes.
start_capture "$OUT/capture.pcap" lo "tcp port $PORT" -s 160
"$PY" "$HERE/server.py" $PORT &
PIDS+=("$!")
wait_listen $PORT
STARTED=$(now)
cd "$HERE"
"$NODE" --report-on-signal --trace-warnings --report-directory="$SCRATCH/reports" client.js $PORT 12 >"$SCRATCH/client.log" 2>&1 &
CLI=$!
PIDS+=("$CLI")
sleep 3
log "letting the CLOSE_WAIT sockets age"
sleep 5

log "saving evidence"
kill -USR2 "$CLI"
sleep 1
save_evidence "$OUT" "$CLI" $PORT
EVIDENCE=$(now)
CW=$(count_state close-wait "( dport = :$PORT )")
stop_capture
scrub_node_report "$SCRATCH"/reports/report.*.json "$OUT/node-report.json"
cp "$SCRATCH/client.log" "$OUT/client.log"
versions "$OUT/VERSIONS.txt"
echo "node: $("$NODE" --version)" >>"$OUT/VERSIONS.txt"
echo "kill -USR2 $CLI (node --report-on-signal) > node-report.json; the client's stdout and stderr > client.log" >>"$OUT/COMMANDS.txt"

cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "node", "cmdline": "node --report-on-signal --trace-warnings client.js $PORT 12", "pid": $CLI, "runtime": "node"},
  "local": "127.0.0.1 (ephemeral ports to 127.0.0.1:$PORT)",
  "capture_link_type": "EN10MB (tcpdump -i lo)",
  "root_cause": "pool-leak",
  "summary": "poll() keeps responses it does not need without reading them (no res.resume()); their sockets stop reading, never see the server's FIN and sit in CLOSE_WAIT; the report lists their libuv tcp handles with fd and endpoints, not active (paused)",
  "holder": {"function": "poll (client.js), the response callback's skip branch", "thread": "the event loop: no thread blocks, the sockets are paused"},
  "counts": {"close_wait": $CW, "bodies_skipped": 9},
  "logs": {"node-report.json": "diagnostic report (SIGUSR2)", "client.log": "one line per response; for each skipped body, the UnconsumedBodyWarning with the stack of where poll issued the request"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT"
