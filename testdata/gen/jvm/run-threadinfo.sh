#!/usr/bin/env bash
# Makes testdata/dumps/jmx-threadinfo-log-jdk17.txt: the stdout log of
# ThreadInfoLog.java, which runs the Stuck.java scenario (threads blocked in
# socket reads over loopback, a thread BLOCKED on a monitor another holds,
# deadlocks, threads parked in a commons-pool2 borrow) plus an idle fixed
# thread pool, and logs ThreadMXBean.dumpAllThreads(true, true) as
# ThreadInfo.toString() twice, 2 s apart, between ordinary log lines.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

CP=/usr/share/java/commons-pool2.jar
[ -r "$CP" ] || { echo "missing $CP: apt-get install libcommons-pool2-java" >&2; exit 1; }
"$JDK17/bin/javac" --release 17 -cp "$CP" -d "$SCRATCH/classes" "$HERE/Stuck.java" "$HERE/ThreadInfoLog.java"
"$JDK17/bin/java" -cp "$SCRATCH/classes:$CP" ThreadInfoLog 18074 18075 5000 >"$SCRATCH/stdout.log" 2>&1 &
PIDS+=("$!")
wait "$!"
cp "$SCRATCH/stdout.log" "$REPO/testdata/dumps/jmx-threadinfo-log-jdk17.txt"
log "done: java $("$JDK17/bin/java" -version 2>&1 | sed -n 2p)"
