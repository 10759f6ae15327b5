#!/usr/bin/env bash
# Makes testdata/cases/java-two-mechanisms: one JVM (BillingServer.java,
# OpenJDK 17) with two leaks on the same port, 127.0.0.1:18121. 7 INVOICE
# requests with a malformed amount take the error path, which answers ERR
# and returns without closing: those sockets are referred to only by the
# connection registry, by no thread. 5 EXPORT requests block their
# billing-worker threads on the export journal's monitor, which
# export-flusher holds while parked forever; their clients get no answer
# and close after 1 s, so those sockets are in CLOSE_WAIT held by BLOCKED
# threads. PINGs every 3 s and 4 good INVOICEs are answered and closed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=java-two-mechanisms
OUT=$REPO/testdata/cases/$NAME
PORT=18121
JDK=$JDK17
fresh_case_dir "$OUT"
"$JDK/bin/javac" -d "$SCRATCH/classes" "$HERE/BillingServer.java"

start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
"$JDK/bin/java" -Xmx64m -cp "$SCRATCH/classes" BillingServer $PORT >"$SCRATCH/server.log" 2>&1 &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT
STARTED=$(now)
start_prober $PORT 'PING\n'
"$PY" "$GEN_DIR/client.py" --port $PORT --count 2 --read --payload 'INVOICE inv-{i} 120.50\n'
LEAK_STARTED=$(now)
"$PY" "$GEN_DIR/client.py" --port $PORT --count 4 --read --payload 'INVOICE inv-bad-{i} 12O.00\n'
"$PY" "$GEN_DIR/client.py" --port $PORT --count 3 --gap 0.1 --hold 1 --payload 'EXPORT ledger-{i}\n'
sleep 3
"$PY" "$GEN_DIR/client.py" --port $PORT --count 2 --read --payload 'INVOICE inv-late-{i} 99.95\n'
"$PY" "$GEN_DIR/client.py" --port $PORT --count 3 --read --payload 'INVOICE inv-bad-late-{i} 7,50\n'
"$PY" "$GEN_DIR/client.py" --port $PORT --count 2 --gap 0.1 --hold 1 --payload 'EXPORT audit-{i}\n'
wait_count close-wait "( sport = :$PORT )" 12
log "letting the CLOSE_WAIT sockets age"
sleep 15

log "saving evidence"
save_evidence "$OUT" "$SRV" $PORT
"$JDK/bin/jcmd" "$SRV" Thread.print -l >"$OUT/jcmd-thread-print-l.txt"
"$JDK/bin/jstack" -l "$SRV" >"$OUT/jstack-l.txt"
echo "jcmd $SRV Thread.print -l > jcmd-thread-print-l.txt" >>"$OUT/COMMANDS.txt"
echo "jstack -l $SRV > jstack-l.txt" >>"$OUT/COMMANDS.txt"
EVIDENCE=$(now)
CW=$(count_state close-wait "( sport = :$PORT )")
stop_capture
cp "$SCRATCH/server.log" "$OUT/server.log"
versions "$OUT/VERSIONS.txt"
BLOCKED=$(grep -c 'at BillingServer.writeExport' "$OUT/jstack-l.txt")
REJECTED=$(grep -c 'rejecting invoice' "$OUT/server.log")
[ "$CW" = 12 ] && [ "$BLOCKED" = 5 ] && [ "$REJECTED" = 7 ] || { echo "want 12 CLOSE_WAIT, 5 blocked, 7 rejected: $CW $BLOCKED $REJECTED" >&2; exit 1; }
cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "leak_started": "$LEAK_STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "java", "main_class": "BillingServer", "pid": $SRV, "runtime": "java", "java": "$("$JDK/bin/java" -version 2>&1 | sed -n 2p)"},
  "local": "127.0.0.1:$PORT",
  "root_cause": "error-handling",
  "summary": "two mechanisms in one JVM on one port. (1) BillingServer.handle's NumberFormatException branch answers ERR and returns without close(id, s): 7 sockets stay open, referred to only by the static OPEN registry (no thread), and sit in CLOSE_WAIT once the client closes. (2) BillingServer.writeExport synchronizes on EXPORT_JOURNAL, which export-flusher holds while parked forever (LockSupport.park in flushExports): 5 billing-worker threads are BLOCKED there, each holding its socket; their clients got no answer and closed after 1 s",
  "holder": {"leaked_by": "BillingServer.handle (catch NumberFormatException: no close)", "blocked_in": "BillingServer.writeExport", "lock_owner": "export-flusher in BillingServer.flushExports"},
  "groups": [
    {"pid": $SRV, "name": "java", "category": "error-handling", "mechanism": "missing close on the error path", "close_wait": 7, "holder_frame": "", "leaked_by": "BillingServer.handle", "requests": "INVOICE with a malformed amount, answered ERR"},
    {"pid": $SRV, "name": "java", "category": "blocked-holding-socket", "close_wait": 5, "holder_frame": "BillingServer.writeExport", "threads": "5 billing-worker-N BLOCKED on the EXPORT_JOURNAL monitor held by export-flusher", "requests": "EXPORT, never answered"}
  ],
  "counts": {"close_wait": $CW, "close_wait_error_path": 7, "close_wait_blocked": 5, "threads_blocked_in_writeExport": $BLOCKED, "rejected_log_lines": $REJECTED},
  "dumps": {"jcmd-thread-print-l.txt": "jcmd PID Thread.print -l", "jstack-l.txt": "jstack -l PID"},
  "logs": {"server.log": "the server's stdout and stderr: one 'rejecting invoice' line per leaked socket"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT: 7 from the error path, $BLOCKED held by blocked threads"
