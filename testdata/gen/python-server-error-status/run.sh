#!/usr/bin/env bash
# Makes testdata/cases/python-server-error-status: ledger-api
# (ledger_server.py), a Python HTTP/1.1 server on raw sockets whose error
# path skips close(): a 200 is sent with Connection: close and the
# connection closed, while a 404 (unknown account), a 400 (a POST whose
# body is not JSON) or a 500 (every fifth lookup: the store "times out")
# goes out through send_error and the handler returns, the socket still in
# the server's table of open clients. ledger_client.py, a well-behaved
# http.client program, reads every response and closes: after each error
# response the server's socket sits in CLOSE_WAIT. A health probe (raw
# GET /health every 3 s, answered 200 and closed) runs beside it.
# Captured on lo. Evidence: ss/lsof/netstat//proc and the server's log.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=python-server-error-status
OUT=$REPO/testdata/cases/$NAME
PORT=18171
fresh_case_dir "$OUT"

start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
cd "$HERE"
"$PY" ledger_server.py --port $PORT 2>"$SCRATCH/ledger-api.log" &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT
STARTED=$(now)
start_prober $PORT 'GET /health HTTP/1.1\r\nHost: ledger-api\r\n\r\n'

log "ledger client: 19 requests"
"$PY" ledger_client.py --port $PORT >"$SCRATCH/ledger-client.log"
wait_count close-wait "( sport = :$PORT )" 5
log "letting the CLOSE_WAIT sockets age"
sleep 12

log "saving evidence"
save_evidence "$OUT" "$SRV" $PORT
EVIDENCE=$(now)
CW=$(count_state close-wait "( sport = :$PORT )")
stop_capture
cp "$SCRATCH/ledger-api.log" "$OUT/ledger-api.log"
cp "$SCRATCH/ledger-client.log" "$OUT/ledger-client.log"
versions "$OUT/VERSIONS.txt"

cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "python3", "cmdline": "python3 ledger_server.py --port $PORT", "pid": $SRV, "runtime": "python"},
  "local": "127.0.0.1:$PORT",
  "capture_link_type": "EN10MB (tcpdump -i lo)",
  "health_probe": "a separate client sends GET /health every 3 s, reads the 200 and closes; the server closes it too (clean connections, not part of the leak)",
  "root_cause": "error-handling",
  "summary": "handle() sends 404, 400 and 500 responses through send_error and returns without conn.close(); the socket stays referenced from OPEN, so every connection that got an error status stays in CLOSE_WAIT once the client closes, while the 200s are sent with Connection: close and closed by the server",
  "holder": {"function": "handle (ledger_server.py, the except branches)", "thread": "none: the handler thread has exited; the socket is only referenced from the OPEN dict"},
  "counts": {"close_wait": $CW, "success_closed_by_server": 14, "error_statuses": 5},
  "logs": {"ledger-api.log": "server stderr: one ERROR line per leaked connection", "ledger-client.log": "the client's line per request: method, path, status, body"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT"
