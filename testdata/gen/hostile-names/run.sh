#!/usr/bin/env bash
# Makes testdata/cases/hostile-names: a leaky Java server (Hostile.java) whose
# handler threads are named with HTML, Markdown, control characters, a
# newline and non-ASCII text, started through a symlink named '<b>api|*x*`'
# so that the process name (comm) is hostile too. 6 clients (3, then 3 more
# 10 s later) send a line and close; the 6 server sockets stay in CLOSE_WAIT, each held by a handler
# thread in Object.wait. For testing that every report format escapes
# evidence, with real tool output.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

NAME=hostile-names
OUT=$REPO/testdata/cases/$NAME
PORT=18087
JDK=$JDK25
[ -x "$JDK/bin/java" ] || JDK=$JDK17
COMM='<b>api|*x*`'
rm -rf "$OUT" && mkdir -p "$OUT"
"$JDK/bin/javac" -encoding UTF-8 -d "$SCRATCH/classes" "$HERE/Hostile.java"
ln -s "$JDK/bin/java" "$SCRATCH/$COMM"

start_capture "$OUT/capture.pcap" lo "tcp port $PORT"
"$SCRATCH/$COMM" -cp "$SCRATCH/classes" Hostile $PORT >"$SCRATCH/stdout.log" 2>&1 &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT
STARTED=$(now)
"$PY" "$GEN_DIR/client.py" --port $PORT --count 3 --payload 'HELLO {i}\n'
sleep 10 # a second wave later, so the first wave's age shows in capture time
"$PY" "$GEN_DIR/client.py" --port $PORT --count 3 --payload 'HELLO again {i}\n'
wait_count close-wait "( sport = :$PORT )" 6
sleep 5

save_evidence "$OUT" "$SRV" $PORT
"$JDK/bin/jstack" -l "$SRV" >"$OUT/jstack-l.txt"
"$JDK/bin/jcmd" "$SRV" Thread.print >"$OUT/jcmd-thread-print.txt"
if "$JDK/bin/java" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])'; then
	# jcmd's own answer is kept: on JDK 25 the JSON writer stops at the thread
	# name with control characters, leaving threads.json truncated.
	"$JDK/bin/jcmd" "$SRV" Thread.dump_to_file -format=json "$OUT/threads.json" >"$OUT/jcmd-dump-to-file.out" 2>&1 || true
fi
echo "jstack -l PID > jstack-l.txt; jcmd PID Thread.print > jcmd-thread-print.txt; jcmd PID Thread.dump_to_file -format=json threads.json > jcmd-dump-to-file.out" >>"$OUT/COMMANDS.txt"
JSON_OK=false
if [ -e "$OUT/threads.json" ] && jq empty "$OUT/threads.json" 2>/dev/null; then JSON_OK=true; fi
EVIDENCE=$(now)
CW=$(count_state close-wait "( sport = :$PORT )")
stop_capture
versions "$OUT/VERSIONS.txt"
WAITING=$(grep -c 'at Hostile.handle' "$OUT/jstack-l.txt")
cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": $(jq -Rn --arg c "$COMM" '$c'), "pid": $SRV, "runtime": "java", "note": "comm comes from the symlink the JVM was started through; lsof prints it escaped"},
  "local": "127.0.0.1:$PORT",
  "root_cause": "blocked-holding-socket",
  "summary": "each handler reads one line and then waits forever on a monitor without closing its socket; the 6 sockets the clients closed stay in CLOSE_WAIT",
  "holder": {"function": "Hostile.handle", "thread_state": "WAITING (on object monitor)", "thread_names": $(jq -n '["<script>alert(\"cw\")</script>", "| col | **bold** _em_ [link](http://127.0.0.1/) `code`", "esc\u001b[31mred\u001b[0m bell\u0007 tab\there", "two\nlines \"Thread.State: RUNNABLE\"", "&amp; &lt;b&gt; '"'"'single'"'"' \"double\" </td></tr>", "Ünïcødé-线程-🙂"]')},
  "counts": {"close_wait": $CW, "threads_in_Hostile_handle": $WAITING},
  "threads_json_valid": $JSON_OK,
  "threads_json_note": "as written by the JVM; when threads_json_valid is false the JDK's JSON writer stopped partway (it does not survive the control characters in a thread name), so the file is truncated: a real input that must give a clear error, not a panic"
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT, $WAITING handler threads"
