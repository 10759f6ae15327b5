#!/usr/bin/env bash
# Makes testdata/cases/go-server-noclose: a Go TCP server (main.go) whose
# handler never closes accepted connections. 20 clients send a request and
# close, leaving 20 server sockets in CLOSE_WAIT held by goroutines blocked in
# main.(*server).waitAudit; 3 more clients stay connected (ESTABLISHED, same
# goroutine stack) and 2 connect without sending (handler in IO wait).
# Captured twice at once: tcpdump (capture.pcap) and dumpcap (capture.pcapng).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=go-server-noclose
OUT=$REPO/testdata/cases/$NAME
PORT=18081
DEBUG=16061
rm -rf "$OUT" && mkdir -p "$OUT"

log "building"
(cd "$REPO" && "$GO" build -o "$SCRATCH/noclose-server" ./testdata/gen/$NAME/main.go)

start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
start_pcapng "$OUT/capture.pcapng" lo "tcp port $PORT" # same traffic, pcapng
GOTRACEBACK=all "$SCRATCH/noclose-server" -addr 127.0.0.1:$PORT -debug 127.0.0.1:$DEBUG 2>"$SCRATCH/stderr.txt" &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT
wait_listen $DEBUG
STARTED=$(now)

log "wave 1: 12 clients send and close"
"$PY" "$GEN_DIR/client.py" --port $PORT --count 12 --read --payload 'GET item-{i}\n'
sleep 4
log "wave 2: 8 clients send and close"
"$PY" "$GEN_DIR/client.py" --port $PORT --count 8 --read --payload 'GET order-{i}\n'
log "3 clients stay connected, 2 connect without sending"
"$PY" "$GEN_DIR/client.py" --port $PORT --count 3 --read --hold 600 --payload 'GET live-{i}\n' &
PIDS+=("$!")
"$PY" "$GEN_DIR/client.py" --port $PORT --count 2 --no-send --hold 600 &
PIDS+=("$!")
wait_count close-wait "( sport = :$PORT )" 20
wait_count established "( sport = :$PORT )" 5
log "letting the CLOSE_WAIT sockets age"
sleep 15

log "saving evidence"
save_evidence "$OUT" "$SRV" $PORT
curl -sS "http://127.0.0.1:$DEBUG/debug/pprof/goroutine?debug=2" >"$OUT/goroutine-debug2.txt"
curl -sS "http://127.0.0.1:$DEBUG/debug/pprof/goroutine?debug=1" >"$OUT/goroutine-debug1.txt"
curl -sS "http://127.0.0.1:$DEBUG/debug/pprof/goroutine?debug=0" >"$OUT/goroutine.pb.gz"
EVIDENCE=$(now)
CW=$(count_state close-wait "( sport = :$PORT )")
stop_capture

log "SIGQUIT"
kill -QUIT "$SRV"
wait "$SRV" || true
cp "$SCRATCH/stderr.txt" "$OUT/sigquit.txt"
versions "$OUT/VERSIONS.txt"

WAITERS=$(grep -c 'main.(\*server).waitAudit' "$OUT/goroutine-debug2.txt")
cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "noclose-server", "pid": $SRV, "runtime": "go"},
  "local": "127.0.0.1:$PORT",
  "captures": {"capture.pcap": "tcpdump -i lo -U -s $SNAPLEN 'tcp port $PORT' (pcap, EN10MB)", "capture.pcapng": "dumpcap -i lo -s $SNAPLEN -f 'tcp port $PORT' (pcapng), the same traffic at the same time"},
  "root_cause": "blocked-holding-socket",
  "summary": "the handler waits forever for an audit acknowledgement that is never sent, so conn.Close is never reached; every connection the client closed stays in CLOSE_WAIT",
  "holder": {"function": "main.(*server).waitAudit", "caller": "main.(*server).handle", "goroutine_state": "chan receive"},
  "counts": {"close_wait": $CW, "established": 5, "goroutines_in_waitAudit": $WAITERS, "goroutines_in_io_wait_read": 2},
  "clients": "20 clients sent one line, read the reply and closed (12, then 8 four seconds later); 3 sent and stayed connected; 2 connected and sent nothing",
  "dumps": {"goroutine-debug2.txt": "pprof goroutine?debug=2", "goroutine-debug1.txt": "pprof goroutine?debug=1", "goroutine.pb.gz": "pprof goroutine?debug=0", "sigquit.txt": "stderr with GOTRACEBACK=all after SIGQUIT (after the capture stopped)"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT, $WAITERS goroutines in waitAudit"
