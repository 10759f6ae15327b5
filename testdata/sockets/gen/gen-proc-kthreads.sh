#!/usr/bin/env bash
# Makes real-proc-cmdline-kthreads.txt: tail -n +1 of the cmdlines of a
# process, two kernel threads (kthreadd, pid 2, and the first other child
# of it), and the process again's parent, as this machine's /proc gives
# them. A kernel thread's cmdline is empty, so tail prints nothing under
# its header and the next header follows at once: no cmdline of the pid
# before it.
# Run as any user: testdata/sockets/gen/gen-proc-kthreads.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sleep 30 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
# Kernel threads are seen only in the host's pid namespace: in a container
# pid 2 is a process of its own, with a cmdline, and kthreadd has no child.
if [ "$(cat /proc/2/comm 2>/dev/null)" != kthreadd ]; then
	echo "gen-proc-kthreads.sh: pid 2 is not kthreadd here (a container's pid namespace?): run it on the host" >&2
	exit 1
fi
KW=$(awk '$4 == 2 { print $1; exit }' /proc/[0-9]*/stat)
[ -n "$KW" ] || { echo "gen-proc-kthreads.sh: no child of kthreadd in /proc" >&2; exit 1; }
tail -n +1 /proc/$PID/cmdline /proc/2/cmdline /proc/"$KW"/cmdline /proc/$$/cmdline > real-proc-cmdline-kthreads.txt
echo "generated in $(pwd) (pid $PID, kernel threads 2 and $KW, parent $$)"
