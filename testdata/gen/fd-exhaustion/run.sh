#!/usr/bin/env bash
# Makes testdata/cases/fd-exhaustion: a Go HTTP server (main.go, `wsrelay`)
# started under `ulimit -n 64` whose upgraded /relay sessions are never
# closed when the client goes away (pump returns on EOF without drop). The
# script counts the server's free descriptors and sends exactly that many
# relay clients, so the table is full; the next 3 relay clients and 4 health
# checks are completed by the kernel but never accepted (accept4 fails with
# EMFILE, net/http logs "too many open files; retrying"): they wait in the
# listen queue, the 3 relay clients give up after 5 s and close, leaving 3
# more CLOSE_WAIT sockets that belong to no process yet. Health checks
# before the leak are answered and closed cleanly.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=fd-exhaustion
OUT=$REPO/testdata/cases/$NAME
PORT=18105
LIMIT=64
fresh_case_dir "$OUT"

log "building"
(cd "$REPO" && "$GO" build -trimpath -o "$SCRATCH/wsrelay" ./testdata/gen/$NAME/main.go)

RELAY='GET /relay HTTP/1.1\r\nHost: relay\r\nUpgrade: relay\r\nConnection: Upgrade\r\n\r\nframe {i}\n'
HEALTH='GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n'

start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
# The server gets only stdin, stdout and stderr (no descriptor inherited
# from whatever runs this script), under the low limit.
(
	for fd in $(ls "/proc/$BASHPID/fd"); do
		if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
	done
	ulimit -n $LIMIT
	exec "$SCRATCH/wsrelay" -addr 127.0.0.1:$PORT
) 2>"$SCRATCH/server.log" &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT
STARTED=$(now)

log "healthy traffic"
"$PY" "$GEN_DIR/client.py" --port $PORT --count 4 --gap 0.3 --read --payload "$HEALTH"
# RLIMIT_NOFILE bounds the descriptor numbers: free = unused numbers < limit.
FREE=$((LIMIT - $(ls "/proc/$SRV/fd" | awk -v l=$LIMIT '$1 < l' | wc -l)))
log "$FREE descriptors free: sending that many relay clients"
LEAK_STARTED=$(now)
WAVE1=$((FREE / 2))
"$PY" "$GEN_DIR/client.py" --port $PORT --count $WAVE1 --gap 0.05 --read --payload "$RELAY"
"$PY" "$GEN_DIR/client.py" --port $PORT --count 2 --gap 0.3 --read --payload "$HEALTH"
sleep 2
"$PY" "$GEN_DIR/client.py" --port $PORT --count $((FREE - WAVE1)) --gap 0.05 --read --payload "$RELAY"
wait_count close-wait "( sport = :$PORT )" "$FREE"
log "descriptor table full; 3 more relay clients and 4 health checks queue up"
for i in 1 2 3; do
	"$PY" "$GEN_DIR/client.py" --port $PORT --count 1 --read --payload "$RELAY" 2>>"$SCRATCH/clients.err" &
	PIDS+=("$!")
done
"$PY" "$GEN_DIR/client.py" --port $PORT --count 4 --gap 0.2 --hold 600 --payload "$HEALTH" &
PIDS+=("$!")
wait_count close-wait "( sport = :$PORT )" $((FREE + 3))
sleep 12

log "saving evidence"
save_evidence "$OUT" "$SRV" $PORT
ss -tlnp "( sport = :$PORT )" >"$OUT/ss-tlnp.txt"
echo "ss -tlnp '( sport = :$PORT )' > ss-tlnp.txt  (listen queue: Recv-Q = connections waiting to be accepted)" >>"$OUT/COMMANDS.txt"
EVIDENCE=$(now)
CW=$(count_state close-wait "( sport = :$PORT )")
OWNED=$(ss -Htanp state close-wait "( sport = :$PORT )" | grep -c "pid=$SRV," || true)
QUEUED=$(ss -Htln "( sport = :$PORT )" | awk '{print $2}')
FDS=$(ls "/proc/$SRV/fd" | wc -l)
L=$(wc -c <"$SCRATCH/server.log")
kill -USR1 "$SRV"
sleep 1
tail -c +$((L + 1)) "$SCRATCH/server.log" >"$OUT/goroutine-debug2.txt"
L=$(wc -c <"$SCRATCH/server.log")
kill -USR2 "$SRV"
sleep 1
tail -c +$((L + 1)) "$SCRATCH/server.log" >"$OUT/goroutine-debug1.txt"
echo "kill -USR1 $SRV  (the server writes pprof goroutine debug=2 to stderr) > goroutine-debug2.txt" >>"$OUT/COMMANDS.txt"
echo "kill -USR2 $SRV  (the server writes pprof goroutine debug=1 to stderr) > goroutine-debug1.txt" >>"$OUT/COMMANDS.txt"
stop_capture
cp "$SCRATCH/server.log" "$OUT/server.log"
versions "$OUT/VERSIONS.txt"
EMFILE=$(grep -c 'too many open files' "$OUT/server.log" || true)
[ "$EMFILE" -gt 0 ] || { echo "no EMFILE in the server log" >&2; exit 1; }
cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "leak_started": "$LEAK_STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "wsrelay", "pid": $SRV, "runtime": "go", "cmdline": "wsrelay -addr 127.0.0.1:$PORT", "nofile_limit": $LIMIT},
  "local": "127.0.0.1:$PORT",
  "root_cause": "fd-exhaustion",
  "mechanism": "missing-close",
  "summary": "main.(*relay).pump returns on EOF without relay.drop, so every upgraded /relay connection whose client went away stays registered (the session map keeps the net.Conn reachable, so no finalizer closes it) and open in CLOSE_WAIT; no goroutine refers to them. With ulimit -n $LIMIT the $OWNED leaked sockets fill the descriptor table ($FDS of $LIMIT open), accept4 fails with EMFILE (net/http: 'Accept error: ... too many open files; retrying'), and new connections wait in the listen queue ($QUEUED at the snapshot): 3 of them, whose clients gave up, are in CLOSE_WAIT with no process",
  "holder": {"leaked_by": "main.(*relay).pump (returns on io.EOF without r.drop)", "held_by": "the relay.sessions map: no goroutine refers to the sockets", "goroutines_holding": 0},
  "groups": [
    {"pid": $SRV, "name": "wsrelay", "category": "fd-exhaustion", "mechanism": "missing-close", "close_wait": $OWNED, "holder_frame": "", "leaked_by": "main.(*relay).pump"},
    {"pid": 0, "name": "", "category": "fd-exhaustion", "close_wait": 3, "holder_frame": "", "note": "completed by the kernel but never accepted (listen queue of 127.0.0.1:$PORT, owned by wsrelay's listening socket); the clients gave up after 5 s"}
  ],
  "counts": {"close_wait": $OWNED, "close_wait_total": $CW, "close_wait_unaccepted": 3, "listen_queue": $QUEUED, "open_fds": $FDS, "nofile_limit": $LIMIT, "emfile_log_lines": $EMFILE},
  "dumps": {"goroutine-debug2.txt": "pprof goroutine debug=2 written to stderr on SIGUSR1", "goroutine-debug1.txt": "pprof goroutine debug=1 written to stderr on SIGUSR2"},
  "logs": {"server.log": "the server's stderr: sessions that went away, the EMFILE accept errors, then the two dumps"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $OWNED owned + 3 unaccepted CLOSE_WAIT, listen queue $QUEUED, $FDS fds, $EMFILE EMFILE lines"
