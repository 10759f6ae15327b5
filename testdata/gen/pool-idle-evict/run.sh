#!/usr/bin/env bash
# Makes testdata/cases/pool-idle-evict: a transient CLOSE_WAIT on the client
# side. RateSync.java (OpenJDK 17, Apache HttpClient 4.5 from Debian) asks
# idle_http_server.py (127.0.0.1:18141, closes idle keep-alive connections
# after 2 s) for 8 rates at once through its connection pool and goes idle;
# the server closes the 8 pooled connections after 2 s, and they sit in
# CLOSE_WAIT in the pool until HttpClient's IdleConnectionEvictor, waking
# every 15 s, closes them. The listings are taken about 2 s into the
# CLOSE_WAIT; `ss-close-wait-loop.txt` shows them go; `ss-tanp-after.txt` is
# taken once they are gone; the capture runs until then, so the client's
# FINs are in it. A health probe every 3 s closes cleanly.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=pool-idle-evict
OUT=$REPO/testdata/cases/$NAME
PORT=18141
JDK=$JDK17
CP=/usr/share/java/httpclient.jar:/usr/share/java/httpcore.jar:/usr/share/java/commons-logging.jar:/usr/share/java/commons-codec.jar
fresh_case_dir "$OUT"
"$JDK/bin/javac" -cp "$CP" -d "$SCRATCH/classes" "$HERE/RateSync.java"

start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
"$PY" "$GEN_DIR/idle_http_server.py" --port $PORT --idle 2 &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT
STARTED=$(now)
start_prober $PORT 'GET /health HTTP/1.1\r\nHost: rates\r\nConnection: close\r\n\r\n'
sleep 1
"$JDK/bin/java" -cp "$SCRATCH/classes:$CP" RateSync "http://127.0.0.1:$PORT" 8 >"$SCRATCH/client.log" 2>&1 &
CLI=$!
PIDS+=("$CLI")
wait_count close-wait "( dport = :$PORT )" 8
LEAK_STARTED=$(now)
sleep 2
log "saving evidence"
save_evidence "$OUT" "$CLI" $PORT
EVIDENCE=$(now)
CW=$(grep -c "CLOSE_WAIT" "$OUT/lsof-close-wait.txt" || true)
"$JDK/bin/jstack" -l "$CLI" >"$OUT/jstack-l.txt"
echo "jstack -l $CLI > jstack-l.txt" >>"$OUT/COMMANDS.txt"
[ "$(count_state close-wait "( dport = :$PORT )")" = "$CW" ] || { echo "the evictor ran while the evidence was taken" >&2; exit 1; }
for _ in $(seq 1 12); do
	date -u
	ss -tanp state close-wait "( dport = :$PORT )"
	sleep 1
done >"$OUT/ss-close-wait-loop.txt"
echo "for i in \$(seq 1 12); do date -u; ss -tanp state close-wait '( dport = :$PORT )'; sleep 1; done > ss-close-wait-loop.txt" >>"$OUT/COMMANDS.txt"
wait_count close-wait "( dport = :$PORT )" 0
ss -tanp "( sport = :$PORT or dport = :$PORT )" >"$OUT/ss-tanp-after.txt"
echo "ss -tanp '( sport = :$PORT or dport = :$PORT )' > ss-tanp-after.txt  (after the evictor closed them)" >>"$OUT/COMMANDS.txt"
END=$(now)
sleep 1
stop_capture
cp "$SCRATCH/client.log" "$OUT/client.log"
versions "$OUT/VERSIONS.txt"
[ "$CW" = 8 ] || { echo "want 8 CLOSE_WAIT at the snapshot: $CW" >&2; exit 1; }
cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "leak_started": "$LEAK_STARTED",
  "evidence_taken": "$EVIDENCE",
  "ended": "$END",
  "process": {"name": "java", "main_class": "RateSync", "pid": $CLI, "runtime": "java", "java": "$("$JDK/bin/java" -version 2>&1 | sed -n 2p)"},
  "peer": {"name": "python3 idle_http_server.py --idle 2", "pid": $SRV, "addr": "127.0.0.1:$PORT"},
  "local": "127.0.0.1:ephemeral -> 127.0.0.1:$PORT (the client's pooled connections)",
  "root_cause": "normal-churn",
  "summary": "8 kept-alive connections idle in RateSync's PoolingHttpClientConnectionManager are closed by the server after 2 s and sit in CLOSE_WAIT until org.apache.http.impl.client.IdleConnectionEvictor, every 15 s, closes them: $CW at the snapshot, 0 at the end, every client FIN in the capture. No thread holds them; the pool does, and lets go. Not a leak",
  "holder": {"pool": "PoolingHttpClientConnectionManager (available, not leased)", "closed_by": "IdleConnectionEvictor (thread 'Connection evictor')"},
  "groups": [
    {"pid": $CLI, "name": "java", "category": "normal-churn", "close_wait": $CW, "holder_frame": ""}
  ],
  "counts": {"close_wait_at_evidence": $CW, "close_wait_at_end": 0},
  "dumps": {"jstack-l.txt": "jstack -l PID at the snapshot"},
  "logs": {"client.log": "RateSync stdout: the 8 fetches, then pool stats every second (available 8, then 0)"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT at the snapshot, 0 at the end"
