#!/usr/bin/env bash
# Makes testdata/cases/python-skip-close: a Python server (server.py) whose
# error path returns without conn.close(). 10 clients send good requests
# (answered and closed by the server), 14 send malformed ones and close,
# leaving 14 server sockets in CLOSE_WAIT. Captured with `tcpdump -i any`
# (Linux cooked capture, LINUX_SLL2) to have one case in that link type.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=python-skip-close
OUT=$REPO/testdata/cases/$NAME
PORT=18083
rm -rf "$OUT" && mkdir -p "$OUT"

start_capture "$OUT/capture.pcap" any "tcp port $PORT"
"$PY" "$HERE/server.py" --port $PORT 2>"$SCRATCH/server.log" &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT
STARTED=$(now)
start_prober $PORT '{"order": "health"}\n'

log "5 good requests, 8 bad ones, 5 good, 6 bad"
"$PY" "$GEN_DIR/client.py" --port $PORT --count 5 --read --payload '{"order": "A-{i}"}\n'
"$PY" "$GEN_DIR/client.py" --port $PORT --count 8 --payload 'ORDER B-{i}\n'
sleep 3
"$PY" "$GEN_DIR/client.py" --port $PORT --count 5 --read --payload '{"order": "C-{i}"}\n'
"$PY" "$GEN_DIR/client.py" --port $PORT --count 6 --payload '{"order": "D-{i}"\n'
wait_count close-wait "( sport = :$PORT )" 14
log "letting the CLOSE_WAIT sockets age"
sleep 12

log "saving evidence"
save_evidence "$OUT" "$SRV" $PORT
EVIDENCE=$(now)
CW=$(count_state close-wait "( sport = :$PORT )")
stop_capture
cp "$SCRATCH/server.log" "$OUT/server.log"
versions "$OUT/VERSIONS.txt"

cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "python3", "cmdline": "python3 server.py --port $PORT", "pid": $SRV, "runtime": "python"},
  "local": "127.0.0.1:$PORT",
  "capture_link_type": "LINUX_SLL2 (tcpdump -i any)",
  "health_probe": "a separate client sends one good request every 3 s, reads the answer and closes (clean connections, not part of the leak)",
  "root_cause": "missing-close",
  "summary": "handle_client logs a parse error and returns without conn.close(); the socket stays referenced from ACTIVE, so every connection that sent a malformed request stays in CLOSE_WAIT after the client closes",
  "holder": {"function": "handle_client (server.py, except branch)", "thread": "none: the handler thread has exited; the socket is only referenced from the ACTIVE dict"},
  "counts": {"close_wait": $CW, "good_requests_closed_by_server": 10, "bad_requests": 14},
  "logs": {"server.log": "server stderr: one ERROR line per leaked connection"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT"
