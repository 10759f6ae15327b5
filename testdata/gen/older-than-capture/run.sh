#!/usr/bin/env bash
# Makes testdata/cases/older-than-capture: the python-skip-close server
# (server.py) leaks 6 sockets into CLOSE_WAIT BEFORE tcpdump starts, then 6
# more while it runs. The kernel's listings show 12 CLOSE_WAIT; the capture
# saw only the last 6 open and close. Correlation must report the first 6 as
# older than the capture (present in the listings, never seen closing).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=older-than-capture
OUT=$REPO/testdata/cases/$NAME
PORT=18088
rm -rf "$OUT" && mkdir -p "$OUT"

"$PY" "$GEN_DIR/python-skip-close/server.py" --port $PORT 2>"$SCRATCH/server.log" &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT
STARTED=$(now)
log "6 bad requests before the capture"
"$PY" "$GEN_DIR/client.py" --port $PORT --count 6 --payload 'EARLY {i}\n'
wait_count close-wait "( sport = :$PORT )" 6
sleep 5
ss -tan state close-wait "( sport = :$PORT )" >"$OUT/ss-close-wait-before-capture.txt"
CAPTURE_STARTED=$(now)
start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
start_prober $PORT '{"order": "health"}\n'
sleep 2
log "6 more during the capture"
"$PY" "$GEN_DIR/client.py" --port $PORT --count 6 --payload 'LATE {i}\n'
wait_count close-wait "( sport = :$PORT )" 12
sleep 10

save_evidence "$OUT" "$SRV" $PORT
echo "ss -tan state close-wait '( sport = :$PORT )' > ss-close-wait-before-capture.txt  (at $CAPTURE_STARTED, just before tcpdump started)" >>"$OUT/COMMANDS.txt"
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
  "capture_started": "$CAPTURE_STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "python3", "cmdline": "python3 python-skip-close/server.py --port $PORT", "pid": $SRV, "runtime": "python"},
  "local": "127.0.0.1:$PORT",
  "health_probe": "a separate client sends one good request every 3 s, reads the answer and closes (clean connections, not part of the leak)",
  "root_cause": "missing-close",
  "summary": "handle_client's except branch skips conn.close(); 6 sockets were already in CLOSE_WAIT when the capture started (listed in ss-close-wait-before-capture.txt, absent from the capture) and 6 more leaked during it",
  "holder": {"function": "handle_client (python-skip-close/server.py, except branch)"},
  "counts": {"close_wait": $CW, "close_wait_before_capture": 6, "close_wait_seen_in_capture": 6}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT, 6 older than the capture"
