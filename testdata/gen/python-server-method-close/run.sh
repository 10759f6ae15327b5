#!/usr/bin/env bash
# Makes testdata/cases/python-server-method-close: notes-api
# (notes_server.py), a Python HTTP/1.1 server on raw sockets that closes
# after a POST (201, Connection: close) and keeps a GET's connection alive
# for the next request, but returns without close() when the client closes
# it instead: the socket stays in the server's table of connected clients.
# ../http_client.py, a well-behaved http.client program, makes one
# connection per request and closes it after reading the response: every
# GET leaves the server's socket in CLOSE_WAIT, every POST is closed by the
# server. Every status is a success: the close follows the method. No
# health probe, so that every GET is the client's.
# Captured on lo. Evidence: ss/lsof/netstat//proc and the server's log.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=python-server-method-close
OUT=$REPO/testdata/cases/$NAME
PORT=18191
fresh_case_dir "$OUT"

start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
cd "$HERE"
"$PY" notes_server.py --port $PORT 2>"$SCRATCH/notes-api.log" &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT
STARTED=$(now)

log "client: 12 POSTs, a GET after every second one"
plan=()
for i in $(seq 0 11); do
	plan+=("POST /notes {\"text\": \"note $i\"}")
	if [ $((i % 2)) = 1 ]; then plan+=("GET /notes/$((i / 2 + 1))"); fi
done
"$PY" "$HERE/../http_client.py" --port $PORT "${plan[@]}" >"$SCRATCH/notes-client.log"
wait_count close-wait "( sport = :$PORT )" 6
log "letting the CLOSE_WAIT sockets age"
sleep 12

log "saving evidence"
save_evidence "$OUT" "$SRV" $PORT
EVIDENCE=$(now)
CW=$(count_state close-wait "( sport = :$PORT )")
stop_capture
cp "$SCRATCH/notes-api.log" "$OUT/notes-api.log"
cp "$SCRATCH/notes-client.log" "$OUT/notes-client.log"
versions "$OUT/VERSIONS.txt"

cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "python3", "cmdline": "python3 notes_server.py --port $PORT", "pid": $SRV, "runtime": "python"},
  "local": "127.0.0.1:$PORT",
  "capture_link_type": "EN10MB (tcpdump -i lo)",
  "root_cause": "missing-close",
  "summary": "handle() closes the connection after answering a POST (201, Connection: close), keeps a GET's connection alive for the next request, and returns without conn.close() when the client closes it instead (recv returns b''); the socket stays referenced from CLIENTS, so every GET leaves the server's socket in CLOSE_WAIT once the client closes. Every status is a success: the close follows the request's method, not an error path",
  "holder": {"function": "handle (notes_server.py, the 'client went away' branch)", "thread": "none: the handler thread has exited; the socket is only referenced from the CLIENTS dict"},
  "counts": {"close_wait": $CW, "post_closed_by_server": 12, "get_left_open": 6},
  "logs": {"notes-api.log": "server stderr: one INFO line per client that went away", "notes-client.log": "the client's line per request: method, path, status, body"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT"
