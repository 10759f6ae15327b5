#!/usr/bin/env bash
# Makes testdata/cases/python-client-error-status: portfolio-sync
# (quote_client.py), a Python http.client program that calls quote-api
# (quote_server.py, http.server with HTTP/1.1 keep-alive) on loopback. Its
# error path returns on a non-200 status without closing the response or
# the connection, which its pool keeps referenced: the 500s (every fourth
# quote, kept alive and closed by quote-api after 2 s idle) leave the
# client's sockets in CLOSE_WAIT. The three 404s come with Connection:
# close, so http.client hands the socket to the response, which is freed
# (and the socket closed) when the exception is dropped: no leak. Two slow
# history requests time out on the client (1 s) and are dropped the same
# way; quote-api closes them after 2.5 s without an answer. The 200s are
# read and closed. A health probe (raw GET /health every 3 s) is healthy
# traffic beside it. Evidence: ss/lsof/netstat//proc, the client's
# faulthandler dump (SIGUSR1) and its log.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=python-client-error-status
OUT=$REPO/testdata/cases/$NAME
PORT=18151
fresh_case_dir "$OUT"

start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
cd "$HERE" # relative paths in the tracebacks, as a deployed program has
"$PY" quote_server.py --port $PORT 2>"$SCRATCH/quote-api.log" &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT
STARTED=$(now)
start_prober $PORT 'GET /health HTTP/1.1\r\nHost: quote-api\r\n\r\n'

log "portfolio-sync: 8 rounds of quotes"
"$PY" quote_client.py --port $PORT >"$SCRATCH/portfolio-sync.log" 2>"$SCRATCH/stderr.txt" &
CLI=$!
PIDS+=("$CLI")
for _ in $(seq 1 300); do
	grep -qs "sync done" "$SCRATCH/portfolio-sync.log" && break
	sleep 0.1
done
ERRS=$(grep -c 'ERROR quote .*: HTTP' "$SCRATCH/portfolio-sync.log")
E500=$(grep -c 'HTTP 500' "$SCRATCH/portfolio-sync.log")
E404=$(grep -c 'HTTP 404' "$SCRATCH/portfolio-sync.log")
TIMEOUTS=$(grep -c 'timed out' "$SCRATCH/portfolio-sync.log")
OK=$(grep -c 'INFO quote ' "$SCRATCH/portfolio-sync.log")
wait_count close-wait "( dport = :$PORT )" $((E500 + TIMEOUTS))
log "letting the CLOSE_WAIT sockets age"
sleep 10

log "saving evidence"
kill -USR1 "$CLI"
sleep 0.5
save_evidence "$OUT" "$CLI" $PORT
EVIDENCE=$(now)
CW=$(count_state close-wait "( dport = :$PORT )")
stop_capture
cp "$SCRATCH/stderr.txt" "$OUT/stderr.txt"
cp "$SCRATCH/portfolio-sync.log" "$OUT/portfolio-sync.log"
cp "$SCRATCH/quote-api.log" "$OUT/quote-api.log"
versions "$OUT/VERSIONS.txt"
echo "kill -USR1 $CLI (faulthandler.register) > stderr.txt; the client's stdout > portfolio-sync.log; the server's stderr > quote-api.log" >>"$OUT/COMMANDS.txt"

cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "python3", "cmdline": "python3 quote_client.py --port $PORT", "pid": $CLI, "runtime": "python"},
  "server": {"name": "python3", "cmdline": "python3 quote_server.py --port $PORT", "pid": $SRV, "note": "healthy: closes every connection it is done with"},
  "local": "127.0.0.1 (outbound to 127.0.0.1:$PORT)",
  "capture_link_type": "EN10MB (tcpdump -i lo)",
  "health_probe": "a raw client sends GET /health every 3 s, reads the answer and closes (clean connections, not part of the leak)",
  "root_cause": "error-handling",
  "summary": "fetch_quote raises QuoteError on a non-200 status without resp.close() or pool.release(conn), and fetch_history returns on a read timeout the same way; the connections stay referenced from Pool.in_flight, so when quote-api closes them they stay in CLOSE_WAIT",
  "groups": [
    {"pid": $CLI, "name": "python3", "category": "error-handling", "last_exchange": "error-status", "close_wait": $E500, "holder_frame": "", "statuses": {"500": $E500}, "leaked_by": "fetch_quote (quote_client.py), the resp.status != 200 branch", "requests": "GET /quote/SYM answered 500, kept alive, closed by quote-api after 2 s idle"},
    {"pid": $CLI, "name": "python3", "category": "error-handling", "last_exchange": "data-from-us", "close_wait": $TIMEOUTS, "holder_frame": "", "leaked_by": "fetch_history (quote_client.py), the except TimeoutError branch", "requests": "GET /history/ACME, the client timed out after 1 s; quote-api closed after 2.5 s without an answer"}
  ],
  "holder": {"function": "none running: Pool.in_flight (quote_client.py) references the connections", "thread": "none: the main thread sleeps in main()"},
  "counts": {"close_wait": $CW, "quotes_ok_closed": $OK, "error_status": $ERRS, "error_500_leaked": $E500, "error_404_freed_by_http_client": $E404, "timeouts": $TIMEOUTS},
  "logs": {"portfolio-sync.log": "the client's log: one ERROR line per error status, one WARNING per timeout", "quote-api.log": "the server's access log", "stderr.txt": "the client's faulthandler dump (SIGUSR1)"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT ($ERRS error statuses: $E500 x 500, $E404 x 404; $TIMEOUTS timeouts; $OK quotes read and closed)"
