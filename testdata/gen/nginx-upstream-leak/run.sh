#!/usr/bin/env bash
# Makes testdata/cases/nginx-upstream-leak: Debian's nginx (127.0.0.1:18131)
# proxies to catalog-api (catalog_api.py, 127.0.0.1:18132) with upstream
# keep-alive and proxy_read_timeout 2s. catalog-api's export worker died at
# startup, so every GET /export/<id> handler waits forever holding its
# connection; nginx answers the client 504 after 2 s and closes the upstream
# connection: 6 CLOSE_WAIT in catalog-api (held by waiting handler threads),
# nginx's ends orphaned in FIN_WAIT2. GET /items/<id> every second through
# nginx is answered over kept-alive upstream connections (ESTABLISHED).
# nginx is healthy; the upstream leaks.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=nginx-upstream-leak
OUT=$REPO/testdata/cases/$NAME
PORT=18131
UP=18132
NGINX=${NGINX:-/usr/sbin/nginx}
fresh_case_dir "$OUT"

PREFIX=$SCRATCH/nginx
mkdir -p "$PREFIX"
sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@PORT@|$PORT|g" -e "s|@UPSTREAM@|$UP|g" "$HERE/nginx.conf.in" >"$PREFIX/nginx.conf"

start_capture "$OUT/capture.pcap" lo "tcp port $PORT or tcp port $UP"
"$PY" "$HERE/catalog_api.py" --port $UP 2>"$SCRATCH/catalog-api.log" &
API=$!
PIDS+=("$API")
"$NGINX" -p "$PREFIX" -c "$PREFIX/nginx.conf" -g 'daemon off;' &
MASTER=$!
PIDS+=("$MASTER")
wait_listen $UP
wait_listen $PORT
WORKER=$(pgrep -P "$MASTER" | head -1)
STARTED=$(now)

log "healthy traffic: GET /items every second"
(
	i=0
	while :; do
		curl -sS -o /dev/null "http://127.0.0.1:$PORT/items/$i" || true
		i=$((i + 1))
		sleep 1
	done
) &
PIDS+=("$!")
sleep 3
LEAK_STARTED=$(now)
log "4 exports, then 2 more: nginx times out after 2 s (504)"
for i in 1 2 3 4; do
	curl -sS -o /dev/null -w "export $i: %{http_code}\n" "http://127.0.0.1:$PORT/export/orders-$i" >>"$SCRATCH/clients.log" &
done
wait_count close-wait "( sport = :$UP )" 4
sleep 3
for i in 5 6; do
	curl -sS -o /dev/null -w "export $i: %{http_code}\n" "http://127.0.0.1:$PORT/export/audit-$i" >>"$SCRATCH/clients.log" &
done
wait_count close-wait "( sport = :$UP )" 6
log "letting the CLOSE_WAIT sockets age"
sleep 15

log "saving evidence"
save_evidence "$OUT" - $PORT $UP
for p in $API $WORKER $MASTER; do
	echo "lsof -p $p > lsof-p-$p.txt" >>"$OUT/COMMANDS.txt"
	lsof -p "$p" >"$OUT/lsof-p-$p.txt" 2>/dev/null || true
	save_proc "$OUT" "$p" "proc-$p" full
done
L=$(wc -c <"$SCRATCH/catalog-api.log")
kill -USR1 "$API"
sleep 1
tail -c +$((L + 1)) "$SCRATCH/catalog-api.log" >"$OUT/py-threads.txt"
echo "kill -USR1 $API  (catalog-api's faulthandler writes every thread's stack to stderr) > py-threads.txt" >>"$OUT/COMMANDS.txt"
EVIDENCE=$(now)
CW=$(ss -Htanp state close-wait "( sport = :$UP )" | grep -c "pid=$API," || true)
CW_ALL=$(count_state close-wait "( sport = :$PORT or dport = :$PORT or sport = :$UP or dport = :$UP )")
FW2=$(count_state fin-wait-2 "( dport = :$UP )")
EST=$(ss -Htanp state established "( dport = :$UP )" | grep -c "pid=$WORKER," || true)
stop_capture
cp "$SCRATCH/catalog-api.log" "$OUT/catalog-api.log"
cp "$PREFIX/error.log" "$OUT/nginx-error.log"
cp "$PREFIX/access.log" "$OUT/nginx-access.log"
cp "$PREFIX/nginx.conf" "$OUT/nginx.conf"
versions "$OUT/VERSIONS.txt"
echo "nginx: $("$NGINX" -v 2>&1) (dpkg $(dpkg-query -W -f='${Package} ${Version}' nginx-light 2>/dev/null || dpkg-query -W -f='${Package} ${Version}' nginx))" >>"$OUT/VERSIONS.txt"
WAITERS=$(grep -c 'in wait_for_export' "$OUT/py-threads.txt" || true)
TIMEOUTS=$(grep -c 'upstream timed out' "$OUT/nginx-error.log" || true)
[ "$CW" = 6 ] && [ "$CW_ALL" = 6 ] && [ "$WAITERS" = 6 ] || { echo "want 6 CLOSE_WAIT in catalog-api and 6 waiters: $CW $CW_ALL $WAITERS" >&2; exit 1; }
cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "leak_started": "$LEAK_STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "python3", "cmdline": "python3 catalog_api.py --port $UP", "pid": $API, "runtime": "python"},
  "proxy": {"name": "nginx", "master_pid": $MASTER, "worker_pid": $WORKER, "listen": "127.0.0.1:$PORT", "upstream_keepalive_established": $EST, "fin_wait2_to_upstream": $FW2, "upstream_timeouts_logged": $TIMEOUTS, "note": "healthy: it closed the upstream connections it gave up on; its ends are orphaned FIN_WAIT2"},
  "local": "127.0.0.1:$UP (catalog-api, behind nginx on 127.0.0.1:$PORT)",
  "root_cause": "blocked-holding-socket",
  "summary": "catalog-api's export worker died at startup (int('64k')), so every GET /export handler waits forever in CatalogHandler.wait_for_export (queue.get without a timeout) holding its connection. nginx gives up after proxy_read_timeout 2s, answers 504 and closes the upstream connection, which stays in CLOSE_WAIT in catalog-api. nginx is not at fault: its sockets are ESTABLISHED (keep-alive to the upstream, idle) or orphaned FIN_WAIT2",
  "holder": {"function": "CatalogHandler.wait_for_export (catalog_api.py; queue.Queue.get)", "threads": "6 handler threads (Thread-N (process_request_thread))", "dump": "py-threads.txt (faulthandler)"},
  "groups": [
    {"pid": $API, "name": "python3", "category": "blocked-holding-socket", "close_wait": $CW, "holder_frame": "", "python_frame": "wait_for_export", "note": "the holding frame is in py-threads.txt (faulthandler), which the tool does not read"}
  ],
  "not_leaking": [{"pid": $WORKER, "name": "nginx", "close_wait": 0, "established_to_upstream": $EST}],
  "counts": {"close_wait": $CW, "threads_in_wait_for_export": $WAITERS, "fin_wait2_nginx": $FW2, "established_nginx_upstream": $EST, "nginx_upstream_timeouts": $TIMEOUTS},
  "dumps": {"py-threads.txt": "faulthandler.dump_traceback(all_threads=True) on SIGUSR1"},
  "logs": {"catalog-api.log": "catalog-api stderr (access log, the worker's death, then the thread dump)", "nginx-error.log": "nginx error_log (info): upstream timed out", "nginx-access.log": "nginx access_log: 200s and 504s", "nginx.conf": "the configuration nginx ran with"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT in catalog-api ($WAITERS waiting threads), nginx: $EST keep-alive, $FW2 FIN_WAIT2"
