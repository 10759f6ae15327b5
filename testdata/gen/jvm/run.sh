#!/usr/bin/env bash
# Makes testdata/real/jvm/jdk17 (and jdk25 when a JDK 25 is installed): thread
# dumps of Stuck.java, a JVM with threads blocked in socket reads without a
# timeout, a thread BLOCKED on a monitor while holding CLOSE_WAIT sockets, two
# Java-level deadlocks (monitors and ReentrantLocks), threads parked in a
# commons-pool2 borrow, and (JDK 21+) virtual threads. Dumped with jstack,
# jstack -l, jcmd Thread.print, a series of 3 jcmd dumps 2 s apart, the
# JSON and text Thread.dump_to_file (JDK 21+), and a SIGQUIT dump inside the
# program's own stdout log.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

CP=/usr/share/java/commons-pool2.jar
[ -r "$CP" ] || { echo "missing $CP: apt-get install libcommons-pool2-java" >&2; exit 1; }
"$JDK17/bin/javac" --release 17 -cp "$CP" -d "$SCRATCH/classes" "$HERE/Stuck.java"

dump() { # dump JDK OUT BLACKHOLE_PORT CLOSING_PORT
	local jdk=$1 out=$2 p1=$3 p2=$4 pid i
	rm -rf "$out" && mkdir -p "$out"
	"$jdk/bin/java" -cp "$SCRATCH/classes:$CP" Stuck "$p1" "$p2" >"$SCRATCH/stdout.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	for i in $(seq 1 100); do
		grep -q 'all stuck' "$SCRATCH/stdout.log" && break
		sleep 0.1
	done
	grep -q 'all stuck' "$SCRATCH/stdout.log" || { cat "$SCRATCH/stdout.log" >&2; return 1; }
	wait_count close-wait "( dport = :$p2 )" 3
	sleep 3
	log "dumping pid $pid ($jdk)"
	"$jdk/bin/jstack" "$pid" >"$out/jstack.txt"
	"$jdk/bin/jstack" -l "$pid" >"$out/jstack-l.txt"
	"$jdk/bin/jcmd" "$pid" Thread.print >"$out/jcmd-thread-print.txt"
	"$jdk/bin/jcmd" "$pid" Thread.print -l >"$out/jcmd-thread-print-l.txt"
	for i in 1 2 3; do
		"$jdk/bin/jcmd" "$pid" Thread.print >>"$out/jcmd-series.txt"
		[ "$i" = 3 ] || sleep 2
	done
	if "$jdk/bin/java" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])'; then
		"$jdk/bin/jcmd" "$pid" Thread.dump_to_file -format=json "$out/threads.json" >/dev/null
		"$jdk/bin/jcmd" "$pid" Thread.dump_to_file "$out/thread-dump-to-file.txt" >/dev/null
	fi
	ss -tanp "( sport = :$p1 or dport = :$p1 or sport = :$p2 or dport = :$p2 )" >"$out/ss-tanp.txt"
	kill -QUIT "$pid"
	sleep 2
	cp "$SCRATCH/stdout.log" "$out/app-log-with-sigquit.txt"
	kill "$pid"
	wait "$pid" || true
	{
		echo "pid $pid, java $("$jdk/bin/java" -version 2>&1 | sed -n 2p)"
		echo "blackhole server 127.0.0.1:$p1 (never writes), closing server 127.0.0.1:$p2 (closes at once)"
		echo "jstack PID > jstack.txt"
		echo "jstack -l PID > jstack-l.txt"
		echo "jcmd PID Thread.print > jcmd-thread-print.txt"
		echo "jcmd PID Thread.print -l > jcmd-thread-print-l.txt"
		echo "for i in 1 2 3; do jcmd PID Thread.print; sleep 2; done > jcmd-series.txt"
		[ ! -e "$out/threads.json" ] || echo "jcmd PID Thread.dump_to_file -format=json threads.json"
		[ ! -e "$out/thread-dump-to-file.txt" ] || echo "jcmd PID Thread.dump_to_file thread-dump-to-file.txt"
		echo "ss -tanp '( ports )' > ss-tanp.txt"
		echo "kill -QUIT PID: the JVM printed its dump into its stdout log > app-log-with-sigquit.txt"
	} >"$out/COMMANDS.txt"
	versions "$out/VERSIONS.txt"
}

dump "$JDK17" "$REPO/testdata/real/jvm/jdk17" 18070 18071
if [ -x "$JDK25/bin/java" ]; then
	dump "$JDK25" "$REPO/testdata/real/jvm/jdk25" 18072 18073
else
	log "no JDK 25 at $JDK25: skipping the JDK 21+ dumps"
fi
log "done"
