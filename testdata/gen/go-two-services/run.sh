#!/usr/bin/env bash
# Makes testdata/cases/go-two-services: two Go services of one runtime
# (Go 1.26) talk to the same journal service (journal.py) on 127.0.0.1:18111.
# ledger-sync leaks: its 9 fetchBatch goroutines block sending to a stuck
# applier while holding connections the journal already closed (CLOSE_WAIT,
# unread lines in Recv-Q). quote-cache is healthy: it refreshes every second
# and closes, and keeps two WATCH connections open (ESTABLISHED); ledger-sync
# keeps one. One goroutine dump (debug=2 and debug=1) per process, named
# goroutines-a* and goroutines-b*: the names do not say whose they are, the
# content does (each binary's own module path and functions in the frames).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=go-two-services
OUT=$REPO/testdata/cases/$NAME
PORT=18111
fresh_case_dir "$OUT"

# Each service is its own module, as it would be in production; -trimpath
# makes the frames read example.com/<service>/main.go.
for svc in ledger-sync quote-cache; do
	mkdir -p "$SCRATCH/$svc"
	cp "$HERE/$svc/main.go" "$SCRATCH/$svc/"
	printf 'module example.com/%s\n\ngo 1.26\n' "$svc" >"$SCRATCH/$svc/go.mod"
	log "building $svc"
	(cd "$SCRATCH/$svc" && "$GO" build -trimpath -o "$SCRATCH/bin/$svc" .)
done

start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
"$PY" "$HERE/journal.py" --port $PORT 2>"$SCRATCH/journal.log" &
JOURNAL=$!
PIDS+=("$JOURNAL")
wait_listen $PORT
STARTED=$(now)
"$SCRATCH/bin/quote-cache" -journal 127.0.0.1:$PORT -debug 127.0.0.1:16111 2>"$SCRATCH/quote-cache.log" &
QUOTE=$!
PIDS+=("$QUOTE")
wait_listen 16111
sleep 2
LEAK_STARTED=$(now)
"$SCRATCH/bin/ledger-sync" -journal 127.0.0.1:$PORT -debug 127.0.0.1:16112 -batches 9 2>"$SCRATCH/ledger-sync.log" &
LEDGER=$!
PIDS+=("$LEDGER")
wait_listen 16112
wait_count close-wait "( dport = :$PORT )" 9
log "letting the CLOSE_WAIT sockets age"
sleep 12

log "saving evidence"
save_evidence "$OUT" - $PORT
for p in $LEDGER $QUOTE; do
	echo "lsof -p $p > lsof-p-$p.txt" >>"$OUT/COMMANDS.txt"
	lsof -p "$p" >"$OUT/lsof-p-$p.txt" 2>/dev/null || true
	save_proc "$OUT" "$p" "proc-$p" full
done
# The process listing with start times, as collect saves it (TZ=UTC: lstart
# has no zone), kept to the three processes of the case; /proc/PID/stat and
# /proc/stat's btime date them to the clock tick.
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%S.%NZ)"
	echo "$ ps -eo pid,ppid,lstart,etimes,args"
	TZ=UTC ps -eo pid,ppid,lstart,etimes,args | awk -v a="$LEDGER" -v b="$QUOTE" -v c="$JOURNAL" 'NR==1 || $1==a || $1==b || $1==c'
} >"$OUT/ps-eo.txt"
tail -n +1 "/proc/$LEDGER/stat" "/proc/$QUOTE/stat" /proc/stat >"$OUT/proc-stat.txt"
{
	echo "TZ=UTC ps -eo pid,ppid,lstart,etimes,args | (header and the case's three pids) > ps-eo.txt, after date"
	echo "tail -n +1 /proc/$LEDGER/stat /proc/$QUOTE/stat /proc/stat > proc-stat.txt"
} >>"$OUT/COMMANDS.txt"
curl -sS "http://127.0.0.1:16111/debug/pprof/goroutine?debug=2" >"$OUT/goroutines-a.txt"
curl -sS "http://127.0.0.1:16111/debug/pprof/goroutine?debug=1" >"$OUT/goroutines-a-debug1.txt"
curl -sS "http://127.0.0.1:16112/debug/pprof/goroutine?debug=2" >"$OUT/goroutines-b.txt"
curl -sS "http://127.0.0.1:16112/debug/pprof/goroutine?debug=1" >"$OUT/goroutines-b-debug1.txt"
{
	echo "curl http://127.0.0.1:16111/debug/pprof/goroutine?debug=2 > goroutines-a.txt"
	echo "curl http://127.0.0.1:16111/debug/pprof/goroutine?debug=1 > goroutines-a-debug1.txt"
	echo "curl http://127.0.0.1:16112/debug/pprof/goroutine?debug=2 > goroutines-b.txt"
	echo "curl http://127.0.0.1:16112/debug/pprof/goroutine?debug=1 > goroutines-b-debug1.txt"
	echo "# 16111 is quote-cache's pprof port, 16112 ledger-sync's"
} >>"$OUT/COMMANDS.txt"
EVIDENCE=$(now)
CW=$(ss -Htanp state close-wait "( dport = :$PORT )" | grep -c "pid=$LEDGER," || true)
CW_ALL=$(count_state close-wait "( dport = :$PORT )")
EST_QUOTE=$(ss -Htanp state established "( dport = :$PORT )" | grep -c "pid=$QUOTE," || true)
EST_LEDGER=$(ss -Htanp state established "( dport = :$PORT )" | grep -c "pid=$LEDGER," || true)
FW2=$(count_state fin-wait-2 "( sport = :$PORT )")
stop_capture
cp "$SCRATCH/ledger-sync.log" "$OUT/ledger-sync.log"
cp "$SCRATCH/quote-cache.log" "$OUT/quote-cache.log"
cp "$SCRATCH/journal.log" "$OUT/journal.log"
versions "$OUT/VERSIONS.txt"
HOLDERS=$(grep -c '^main.(\*syncer).fetchBatch' "$OUT/goroutines-b.txt")
[ "$CW" = 9 ] && [ "$CW_ALL" = 9 ] && [ "$HOLDERS" = 9 ] || { echo "want 9 CLOSE_WAIT and holders: $CW, $CW_ALL, $HOLDERS" >&2; exit 1; }
cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "leak_started": "$LEAK_STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "ledger-sync", "pid": $LEDGER, "runtime": "go", "cmdline": "ledger-sync -journal 127.0.0.1:$PORT -debug 127.0.0.1:16112 -batches 9", "dump": "goroutines-b.txt"},
  "healthy": {"name": "quote-cache", "pid": $QUOTE, "runtime": "go", "dump": "goroutines-a.txt", "established": $EST_QUOTE},
  "peer": {"name": "python3 journal.py", "pid": $JOURNAL, "addr": "127.0.0.1:$PORT", "fin_wait2": $FW2},
  "root_cause": "blocked-holding-socket",
  "summary": "ledger-sync's fetchBatch goroutines block on an unbuffered channel send to an applier stuck on the ledger mutex, which compact holds while waiting forever for a snapshot acknowledgement; each holds a connection the journal closed (deferred conn.Close never runs). quote-cache talks to the same journal, closes what it opens, and has only ESTABLISHED WATCH connections. The dump file names do not say whose they are: goroutines-b.txt is ledger-sync's (frames in example.com/ledger-sync/main.go), goroutines-a.txt quote-cache's",
  "holder": {"function": "main.(*syncer).fetchBatch", "goroutine_state": "chan send", "dump": "goroutines-b.txt"},
  "groups": [
    {"pid": $LEDGER, "name": "ledger-sync", "category": "blocked-holding-socket", "close_wait": $CW, "holder_frame": "main.(*syncer).fetchBatch", "holder_goroutines": $HOLDERS, "dump": "goroutines-b.txt"}
  ],
  "not_leaking": [{"pid": $QUOTE, "name": "quote-cache", "close_wait": 0, "established": $EST_QUOTE, "dump": "goroutines-a.txt"}],
  "counts": {"close_wait": $CW, "goroutines_in_fetchBatch": $HOLDERS, "established_ledger_sync": $EST_LEDGER, "established_quote_cache": $EST_QUOTE, "fin_wait2_journal": $FW2},
  "dumps": {"goroutines-a.txt": "quote-cache: pprof goroutine?debug=2", "goroutines-a-debug1.txt": "quote-cache: pprof goroutine?debug=1", "goroutines-b.txt": "ledger-sync: pprof goroutine?debug=2", "goroutines-b-debug1.txt": "ledger-sync: pprof goroutine?debug=1"},
  "logs": {"ledger-sync.log": "ledger-sync stderr", "quote-cache.log": "quote-cache stderr", "journal.log": "the journal service's stderr"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT in ledger-sync ($HOLDERS holders), quote-cache $EST_QUOTE ESTABLISHED"
