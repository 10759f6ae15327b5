#!/usr/bin/env bash
# Makes testdata/cases/transient: a slow server (line_server.py
# --mode slow-close) whose clients give up after 0.5 s and close; its 8
# sockets sit in CLOSE_WAIT for 7 to 10.5 s and are then closed by the
# application one after another (LAST_ACK, then gone). Not a leak: the
# capture shows every server FIN, and the snapshots show the count fall to 0.
# Captured with `tcpdump -i any -y LINUX_SLL` (Linux cooked capture v1).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=transient
OUT=$REPO/testdata/cases/$NAME
PORT=18086
rm -rf "$OUT" && mkdir -p "$OUT"

start_capture "$OUT/capture.pcap" any "tcp port $PORT" -y LINUX_SLL
"$PY" "$GEN_DIR/line_server.py" --port $PORT --mode slow-close --delay 7 2>"$SCRATCH/server.log" &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT
STARTED=$(now)
"$PY" "$GEN_DIR/client.py" --port $PORT --count 8 --gap 0 --payload 'REPORT {i}\n' --hold 0.5
wait_count close-wait "( sport = :$PORT )" 8
sleep 1
CW=$(count_state close-wait "( sport = :$PORT )")
save_evidence "$OUT" "$SRV" $PORT
EVIDENCE=$(now)
CW_AFTER=$(count_state close-wait "( sport = :$PORT )")
if [ "$CW" != 8 ] || [ "$CW_AFTER" != 8 ]; then
	echo "the app closed sockets while the evidence was saved ($CW, $CW_AFTER)" >&2
	exit 1
fi
for _ in $(seq 1 12); do
	date
	ss -tanp state close-wait "( sport = :$PORT )"
	sleep 1
done >"$OUT/ss-close-wait-loop.txt"
echo "for i in \$(seq 1 12); do date; ss -tanp state close-wait '( sport = :$PORT )'; sleep 1; done > ss-close-wait-loop.txt" >>"$OUT/COMMANDS.txt"
wait_count close-wait "( sport = :$PORT )" 0
ss -tanp "( sport = :$PORT or dport = :$PORT )" >"$OUT/ss-tanp-after.txt"
echo "ss -tanp '( sport = :$PORT or dport = :$PORT )' > ss-tanp-after.txt  (after the app closed them)" >>"$OUT/COMMANDS.txt"
END=$(now)
stop_capture
cp "$SCRATCH/server.log" "$OUT/server.log"
versions "$OUT/VERSIONS.txt"
cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "evidence_taken": "$EVIDENCE",
  "ended": "$END",
  "process": {"name": "python3", "cmdline": "python3 line_server.py --mode slow-close", "pid": $SRV, "runtime": "python"},
  "local": "127.0.0.1:$PORT",
  "capture_link_type": "LINUX_SLL (tcpdump -i any -y LINUX_SLL)",
  "root_cause": "normal-churn",
  "summary": "clients time out after 0.5 s and close; the server finishes its work 7-10.5 s later and closes each socket. CLOSE_WAIT is transient: $CW at the snapshot, 0 at the end of the capture, every server FIN is in the capture",
  "holder": {"function": "serve (line_server.py, slow-close mode: time.sleep before conn.close)"},
  "counts": {"close_wait_at_evidence": $CW, "close_wait_at_end": 0}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT at the snapshot, 0 at the end"
