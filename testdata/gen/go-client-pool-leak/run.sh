#!/usr/bin/env bash
# Makes testdata/cases/go-client-pool-leak: a Go net/http client (main.go,
# "pricefeed") that never closes response bodies, against
# idle_http_server.py which closes idle keep-alive connections after 2 s.
# Each of the 12 requests dials a new connection; all 12 end in CLOSE_WAIT on
# the client, each with a net/http.(*persistConn).readLoop and writeLoop
# goroutine. Dumps via net/http/pprof and SIGQUIT (GOTRACEBACK=all).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=go-client-pool-leak
OUT=$REPO/testdata/cases/$NAME
PORT=18084
DEBUG=16064
rm -rf "$OUT" && mkdir -p "$OUT"
(cd "$REPO" && "$GO" build -o "$SCRATCH/pricefeed" ./testdata/gen/$NAME/main.go)

start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
"$PY" "$GEN_DIR/idle_http_server.py" --port $PORT --idle 2 2>"$OUT/server.log" &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT
STARTED=$(now)
start_prober $PORT 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
GOTRACEBACK=all "$SCRATCH/pricefeed" -upstream "http://127.0.0.1:$PORT" -debug 127.0.0.1:$DEBUG -n 12 2>"$SCRATCH/stderr.txt" &
CLI=$!
PIDS+=("$CLI")
wait_count close-wait "( dport = :$PORT )" 12
log "12 leaked connections in CLOSE_WAIT; letting them age"
sleep 12

save_evidence "$OUT" "$CLI" $PORT
curl -sS "http://127.0.0.1:$DEBUG/debug/pprof/goroutine?debug=2" >"$OUT/goroutine-debug2.txt"
curl -sS "http://127.0.0.1:$DEBUG/debug/pprof/goroutine?debug=1" >"$OUT/goroutine-debug1.txt"
curl -sS "http://127.0.0.1:$DEBUG/debug/pprof/goroutine?debug=0" >"$OUT/goroutine.pb.gz"
EVIDENCE=$(now)
CW=$(count_state close-wait "( dport = :$PORT )")
stop_capture
kill -QUIT "$CLI"
wait "$CLI" || true
cp "$SCRATCH/stderr.txt" "$OUT/sigquit.txt"
versions "$OUT/VERSIONS.txt"

READLOOPS=$(grep -c 'net/http.(\*persistConn).readLoop(' "$OUT/goroutine-debug2.txt")
cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "pricefeed", "pid": $CLI, "runtime": "go"},
  "peer": {"name": "python3 idle_http_server.py", "pid": $SRV, "addr": "127.0.0.1:$PORT", "idle_timeout_s": 2},
  "health_probe": "a separate client sends one good request every 3 s, reads the answer and closes (clean connections, not part of the leak)",
  "root_cause": "pool-leak",
  "summary": "main.fetchPrice returns without closing resp.Body, so no connection goes back to the transport's pool; each request dials a new one, the server closes them after 2 s idle and the client's sockets stay in CLOSE_WAIT with their persistConn goroutines",
  "holder": {"function": "net/http.(*persistConn).readLoop", "leaking_function": "main.fetchPrice"},
  "counts": {"close_wait": $CW, "persistConn_readLoop_goroutines": $READLOOPS},
  "dumps": {"goroutine-debug2.txt": "pprof goroutine?debug=2", "goroutine-debug1.txt": "pprof goroutine?debug=1", "goroutine.pb.gz": "pprof goroutine?debug=0", "sigquit.txt": "stderr with GOTRACEBACK=all after SIGQUIT (after the capture stopped)"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT, $READLOOPS readLoop goroutines"
