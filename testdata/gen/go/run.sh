#!/usr/bin/env bash
# Makes testdata/real/go: goroutine dumps of stuckgo (main.go), built with the
# machine's Go, with goroutines in IO wait on loopback sockets for over a
# minute, chan receive/send, select, sync waits, locked to thread, and
# net/http persistConn readLoop/writeLoop goroutines, and one in a cgo call
# (built with cgo when a C compiler is there). Forms: pprof
# goroutine debug=2 (early, before any wait reaches a minute, and late),
# debug=1, debug=0 (gzipped protobuf), runtime.Stack(buf, true), a SIGQUIT
# traceback with GOTRACEBACK=all, and an unrecovered panic (second instance)
# with GOTRACEBACK=all. Takes about 75 s: waits need a minute to be printed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

OUT=$REPO/testdata/real/go
rm -rf "$OUT" && mkdir -p "$OUT"
CGO=0
command -v cc >/dev/null && CGO=1
(cd "$REPO" && CGO_ENABLED=$CGO "$GO" build -o "$SCRATCH/stuckgo" ./testdata/gen/go)

GOTRACEBACK=all "$SCRATCH/stuckgo" 2>"$SCRATCH/stderr.txt" &
MAIN=$!
PIDS+=("$MAIN")
GOTRACEBACK=all "$SCRATCH/stuckgo" -blackhole 127.0.0.1:18063 -closing 127.0.0.1:18064 \
	-http 127.0.0.1:18065 -debug 127.0.0.1:16065 -panic-after 68s 2>"$SCRATCH/panic.txt" &
PANICKER=$!
PIDS+=("$PANICKER")
wait_listen 16060
wait_listen 16065
wait_count close-wait "( dport = :18061 )" 2
T0=$(date +%s)
sleep 5
curl -sS "http://127.0.0.1:16060/debug/pprof/goroutine?debug=2" >"$OUT/goroutine-debug2-early.txt"
log "waiting for the waits to pass a minute"
sleep $((68 - $(date +%s) + T0))
curl -sS "http://127.0.0.1:16060/debug/pprof/goroutine?debug=2" >"$OUT/goroutine-debug2.txt"
curl -sS "http://127.0.0.1:16060/debug/pprof/goroutine?debug=1" >"$OUT/goroutine-debug1.txt"
curl -sS "http://127.0.0.1:16060/debug/pprof/goroutine?debug=0" >"$OUT/goroutine.pb.gz"
curl -sS "http://127.0.0.1:16060/stack" >"$OUT/runtime-stack.txt"
ss -tanp "( sport >= :18060 and sport <= :18062 ) or ( dport >= :18060 and dport <= :18062 )" >"$OUT/ss-tanp.txt"
kill -QUIT "$MAIN"
wait "$MAIN" || true
cp "$SCRATCH/stderr.txt" "$OUT/sigquit.txt"
wait "$PANICKER" || true
cp "$SCRATCH/panic.txt" "$OUT/panic.txt"
{
	echo "main instance pid $MAIN: blackhole 127.0.0.1:18060, closing peer 127.0.0.1:18061, http 127.0.0.1:18062, pprof 127.0.0.1:16060"
	echo "curl 'http://127.0.0.1:16060/debug/pprof/goroutine?debug=2' > goroutine-debug2-early.txt  (5 s after start)"
	echo "curl 'http://127.0.0.1:16060/debug/pprof/goroutine?debug=2' > goroutine-debug2.txt  (68 s after start)"
	echo "curl 'http://127.0.0.1:16060/debug/pprof/goroutine?debug=1' > goroutine-debug1.txt"
	echo "curl 'http://127.0.0.1:16060/debug/pprof/goroutine?debug=0' > goroutine.pb.gz"
	echo "curl http://127.0.0.1:16060/stack > runtime-stack.txt  (runtime.Stack(buf, true))"
	echo "ss -tanp '( ports 18060-18062 )' > ss-tanp.txt"
	echo "GOTRACEBACK=all, kill -QUIT $MAIN: stderr (log lines, then the traceback) > sigquit.txt"
	echo "second instance pid $PANICKER, GOTRACEBACK=all -panic-after 68s: stderr > panic.txt"
} >"$OUT/COMMANDS.txt"
versions "$OUT/VERSIONS.txt"
log "done"
