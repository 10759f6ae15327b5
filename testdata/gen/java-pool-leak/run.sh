#!/usr/bin/env bash
# Makes testdata/cases/java-pool-leak: a Java client (PoolLeak.java, Apache
# HttpClient 4 from Debian's libhttpclient-java, pool of 4) that never
# releases its responses, against idle_http_server.py which closes idle
# keep-alive connections after 2 s. The client's 4 leased sockets end in
# CLOSE_WAIT and its 6 worker threads park in
# AbstractConnPool.getPoolEntryBlocking waiting for a free connection.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=java-pool-leak
OUT=$REPO/testdata/cases/$NAME
PORT=18082
JDK=$JDK25
[ -x "$JDK/bin/java" ] || JDK=$JDK17 # no JSON thread dump then
CP=/usr/share/java/httpclient.jar:/usr/share/java/httpcore.jar:/usr/share/java/commons-logging.jar:/usr/share/java/commons-codec.jar
for j in ${CP//:/ }; do [ -r "$j" ] || { echo "missing $j: apt-get install libhttpclient-java" >&2; exit 1; }; done
rm -rf "$OUT" && mkdir -p "$OUT"

log "compiling with $JDK"
"$JDK/bin/javac" -cp "$CP" -d "$SCRATCH/classes" "$HERE/PoolLeak.java"

start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
"$PY" "$GEN_DIR/idle_http_server.py" --port $PORT --idle 2 2>"$OUT/server.log" &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT
STARTED=$(now)
start_prober $PORT 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
"$JDK/bin/java" -cp "$SCRATCH/classes:$CP" PoolLeak "http://127.0.0.1:$PORT" >"$SCRATCH/client.log" 2>&1 &
CLI=$!
PIDS+=("$CLI")
wait_count close-wait "( dport = :$PORT )" 4
log "4 leaked connections in CLOSE_WAIT; letting them age"
sleep 12

log "saving evidence"
save_evidence "$OUT" "$CLI" $PORT
"$JDK/bin/jstack" "$CLI" >"$OUT/jstack.txt"
"$JDK/bin/jstack" -l "$CLI" >"$OUT/jstack-l.txt"
"$JDK/bin/jcmd" "$CLI" Thread.print >"$OUT/jcmd-thread-print.txt"
if "$JDK/bin/java" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])'; then
	"$JDK/bin/jcmd" "$CLI" Thread.dump_to_file -format=json "$OUT/threads.json" >"$SCRATCH/jcmd.out"
	"$JDK/bin/jcmd" "$CLI" Thread.dump_to_file "$OUT/thread-dump-to-file.txt" >>"$SCRATCH/jcmd.out"
fi
log "a series of 3 dumps, 3 s apart"
for i in 1 2 3; do
	"$JDK/bin/jstack" -l "$CLI" >>"$OUT/jstack-series.txt"
	[ "$i" = 3 ] || sleep 3
done
EVIDENCE=$(now)
CW=$(count_state close-wait "( dport = :$PORT )")
stop_capture
cp "$SCRATCH/client.log" "$OUT/client.log"
versions "$OUT/VERSIONS.txt"

BLOCKED=$(grep -c 'AbstractConnPool.getPoolEntryBlocking' "$OUT/jstack.txt")
cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "java", "main_class": "PoolLeak", "pid": $CLI, "runtime": "java", "java": "$("$JDK/bin/java" -version 2>&1 | sed -n 2p)"},
  "peer": {"name": "python3 idle_http_server.py", "pid": $SRV, "addr": "127.0.0.1:$PORT", "idle_timeout_s": 2},
  "health_probe": "a separate client sends one good request every 3 s, reads the answer and closes (clean connections, not part of the leak)",
  "root_cause": "pool-leak",
  "summary": "PoolLeak\$InventoryClient.fetchStock never consumes or closes the CloseableHttpResponse, so each of the 4 pooled connections stays leased; the server closed them after 2 s idle, leaving them in CLOSE_WAIT, and the other requests wait forever for a connection",
  "holder": {"function": "PoolLeak\$InventoryClient.fetchStock", "blocked_in": "org.apache.http.pool.AbstractConnPool.getPoolEntryBlocking", "threads": "inventory-worker-1..6"},
  "counts": {"close_wait": $CW, "pool_max": 4, "threads_in_getPoolEntryBlocking": $BLOCKED},
  "dumps": {"jstack.txt": "jstack PID", "jstack-l.txt": "jstack -l PID", "jcmd-thread-print.txt": "jcmd PID Thread.print", "jstack-series.txt": "jstack -l PID three times, 3 s apart, appended", "threads.json": "jcmd PID Thread.dump_to_file -format=json", "thread-dump-to-file.txt": "jcmd PID Thread.dump_to_file (plain text)"},
  "logs": {"client.log": "client stdout: pool stats every second (leased/pending/available/max)", "server.log": "server access log"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT, $BLOCKED threads in getPoolEntryBlocking"
