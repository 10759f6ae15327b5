#!/usr/bin/env bash
# Regenerate the real socket listings in testdata/sockets/ from this
# machine's own tools, over loopback only: closewait.py holds sockets in
# CLOSE_WAIT, then ss, lsof, netstat and /proc are saved as a user would.
# Listings are filtered to the test port so nothing else on the machine
# leaks in. Run as root (for -p): testdata/sockets/gen/gen.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-47123}
HEXPORT=$(printf '%04X' "$PORT")

out=$(mktemp)
python3 gen/closewait.py "$PORT" > "$out" &
PID=$! CHILD=
trap 'kill $PID $CHILD 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 50); do grep -q ready "$out" && break; sleep 0.1; done
read -r _ _ CHILD < "$out"

filt="( sport = :$PORT or dport = :$PORT )"
ss -tanp "$filt"                        > real-ss-tanp.txt
ss -tan state close-wait "$filt"        > real-ss-state-close-wait.txt
ss -tanoie "$filt"                      > real-ss-tanoie.txt
ss -s                                   > real-ss-s.txt
lsof -nP -iTCP:"$PORT" -sTCP:CLOSE_WAIT > real-lsof-close-wait.txt
lsof -iTCP:"$PORT"                      > real-lsof-i-resolved.txt
lsof -nP -iTCP:"$PORT" -FpcfnPTtL       > real-lsof-fields.txt
lsof -nP -p "$PID" -a -i -F0pcfnPTt     > real-lsof-fields0.txt
netstat -antp | awk -v p=":$PORT" 'NR <= 2 || index($0, p)'  > real-netstat-antp.txt
netstat -aeeop | awk -v p=":$PORT" 'NR <= 2 || index($0, p)' > real-netstat-aeeop.txt
{ cat /proc/net/tcp; cat /proc/net/tcp6; } | awk -v p=":$HEXPORT" 'NR == 1 || /local_address/ || index($0, p)' > real-proc-net-tcp.txt
{ echo "\$ ls -l /proc/$PID/fd"; ls -l "/proc/$PID/fd"; } > real-proc-fd.txt
{ echo "\$ cat /proc/$PID/limits"; cat "/proc/$PID/limits"; } > real-proc-limits.txt
{ echo "\$ ulimit -n"; ulimit -n; echo "\$ ulimit -Hn"; ulimit -Hn; } > real-ulimit.txt
{ echo "\$ bash -c 'ulimit -a'"; bash -c 'ulimit -a'; echo "\$ dash -c 'ulimit -a'"; dash -c 'ulimit -a'; } > real-ulimit-a.txt
# Three snapshots, as `while sleep 1; do date; ss ...; done` saves them,
# pasted with the prompt.
{ echo "\$ while sleep 1; do date -u; ss -tan state close-wait '$filt'; done"
  for _ in 1 2 3; do LC_ALL=C date -u; ss -tan state close-wait "$filt"; sleep 1; done; } > real-ss-loop.txt
echo "generated in $(pwd) (pid $PID, child $CHILD, port $PORT)"
