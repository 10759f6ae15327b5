#!/usr/bin/env bash
# Makes testdata/cases/python-faulthandler: quote-service (service.py), a
# threaded Python TCP service. 6 clients ask for quotes: each handler thread
# blocks in http.client reading the status line of an upstream (upstream.py)
# that never answers; the clients give up after 1 s and close, leaving 6
# server sockets in CLOSE_WAIT held by blocked threads. 5 clients send a bad
# request: the handler returns without close() and CPython prints a
# ResourceWarning (with the tracemalloc traceback) when it frees the socket.
# 3 clients reset their connection before sending: the service logs
# "Connection reset by peer". Evidence: the faulthandler dump (SIGUSR1) and
# the warnings on stderr, the service's log, ss/lsof/netstat//proc.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=python-faulthandler
OUT=$REPO/testdata/cases/$NAME
PORT=18092
UPORT=18093
rm -rf "$OUT" && mkdir -p "$OUT"

start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
"$PY" "$HERE/upstream.py" $UPORT &
PIDS+=("$!")
wait_listen $UPORT
cd "$HERE" # relative paths in the tracebacks, as a deployed service has
"$PY" -X tracemalloc=5 -W always::ResourceWarning service.py --port $PORT --upstream $UPORT --log "$SCRATCH/app.log" 2>"$SCRATCH/stderr.txt" &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT
STARTED=$(now)

log "6 quotes that block on the upstream, 5 bad requests, 3 resets"
"$PY" - $PORT <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
for i in range(6):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"QUOTE SYM%d\n" % i)
    s.settimeout(1)
    try:
        s.recv(100)
    except socket.timeout:
        pass
    s.close()  # the client gives up: the server side goes to CLOSE_WAIT
for i in range(5):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"PRICE? %d\n" % i)
    time.sleep(0.2)
    s.close()
for i in range(3):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.1)
    s.close()  # RST: the handler's read fails with ECONNRESET
    time.sleep(0.1)
PY
wait_count close-wait "( sport = :$PORT )" 6
log "letting the CLOSE_WAIT sockets age"
sleep 5

log "saving evidence"
kill -USR1 "$SRV"
sleep 0.5
save_evidence "$OUT" "$SRV" $PORT
EVIDENCE=$(now)
CW=$(count_state close-wait "( sport = :$PORT )")
stop_capture
cp "$SCRATCH/stderr.txt" "$OUT/stderr.txt"
cp "$SCRATCH/app.log" "$OUT/app.log"
versions "$OUT/VERSIONS.txt"
echo "kill -USR1 $SRV (faulthandler.register) > stderr.txt; the service's logging file > app.log" >>"$OUT/COMMANDS.txt"

cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "python3", "cmdline": "python3 -X tracemalloc=5 -W always::ResourceWarning service.py --port $PORT --upstream $UPORT", "pid": $SRV, "runtime": "python"},
  "local": "127.0.0.1:$PORT",
  "capture_link_type": "EN10MB (tcpdump -i lo)",
  "root_cause": "blocked-holding-socket",
  "summary": "each QUOTE handler thread blocks in http.client (socket.readinto under _read_status) on an upstream that never answers, holding the client's socket; the clients give up and close, so 6 server sockets sit in CLOSE_WAIT held by 6 blocked threads",
  "holder": {"function": "service.handle (service.py) -> http.client getresponse -> socket.readinto", "thread": "handler-1 .. handler-6, in the faulthandler dump in stderr.txt"},
  "counts": {"close_wait": $CW, "blocked_threads": 6, "resource_warnings": 5, "resets_logged": 3},
  "logs": {"stderr.txt": "faulthandler dump (SIGUSR1) and 5 ResourceWarnings with tracemalloc tracebacks", "app.log": "the service's log: bad requests and Connection reset by peer"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT"
