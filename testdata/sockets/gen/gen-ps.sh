#!/usr/bin/env bash
# Makes the real process listings of ReadPS: real-ps-*.txt, real-proc-*.txt.
# It starts a process whose argv[0] is longer than the kernel's 15-byte
# command name and whose arguments hold a space (python3 sleeping under the
# name ./server/repository-sync), lets it run a few seconds, then saves this
# machine's ps (procps-ng) and /proc output about it and its parent, each
# filtered to those two processes:
#   real-ps-eo.txt          date -u, then ps -eo pid,ppid,lstart,etimes,args
#   real-ps-aux.txt         ps aux
#   real-ps-ef.txt          ps -ef
#   real-proc-PID-cmdline.txt   cat /proc/PID/cmdline (NUL-separated, no header: the pid is in the name)
#   real-proc-cmdline-tail.txt  tail -n +1 /proc/PID/cmdline /proc/PPID/cmdline (==> headers)
#   real-proc-stat.txt      tail -n +1 /proc/PID/stat /proc/PPID/stat /proc/stat (btime)
# Run as any user: testdata/sockets/gen/gen-ps.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f real-proc-*-cmdline.txt
bash -c 'exec -a ./server/repository-sync /usr/bin/python3 -c "import time; time.sleep(120)" --listen 127.0.0.1:18080 --label "two words"' &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
sleep 3
PPID_=$(awk '{print $4}' /proc/$PID/stat)
keep() { awk -v a="$1" -v b="$2" -v col="$3" 'NR==1 || $col==a || $col==b'; }
{ date -u; echo "$ ps -eo pid,ppid,lstart,etimes,args"; TZ=UTC ps -eo pid,ppid,lstart,etimes,args | keep "$PID" "$PPID_" 1; } > real-ps-eo.txt
ps aux | keep "$PID" "$PPID_" 2 > real-ps-aux.txt
ps -ef | keep "$PID" "$PPID_" 2 > real-ps-ef.txt
cat /proc/$PID/cmdline > "real-proc-$PID-cmdline.txt"
tail -n +1 /proc/$PID/cmdline /proc/"$PPID_"/cmdline > real-proc-cmdline-tail.txt
tail -n +1 /proc/$PID/stat /proc/"$PPID_"/stat /proc/stat > real-proc-stat.txt
echo "generated in $(pwd) (pid $PID, parent $PPID_)"
