#!/usr/bin/env bash
# Makes testdata/real/sockets: what this machine's ss, lsof, netstat and
# /proc print while a leaky server (multi_server.py, named "order gateway"
# with a space) holds CLOSE_WAIT sockets on 127.0.0.1 and ::1, some of them
# shared with a forked child ("leaky-child") and one fd duplicated, so that
# users:(...) lists several pids and fds. One file per command form; the
# command behind each file is in COMMANDS.txt. Listings are limited to this
# script's ports (the machine runs other things too): by the tool's own
# filter where it has one, otherwise with keep_ports from lib.sh.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

OUT=$REPO/testdata/real/sockets
PORT=18090
UPORT=18091
rm -rf "$OUT" && mkdir -p "$OUT"

"$PY" "$HERE/multi_server.py" --port $PORT --udp-port $UPORT 2>"$SCRATCH/server.log" &
SRV=$!
PIDS+=("$SRV")
wait_listen $PORT

C="$GEN_DIR/client.py"
"$PY" "$C" --port $PORT --count 4 --read --payload '{"order": "A-{i}"}\n'
"$PY" "$C" --port $PORT --count 8 --payload 'GARBAGE {i}\n'
"$PY" "$C" --host ::1 --port $PORT --count 4 --payload 'GARBAGE v6-{i}\n'
"$PY" "$C" --host ::1 --port $PORT --count 2 --read --payload '{"order": "B-{i}"}\n'
"$PY" "$C" --port $PORT --count 2 --hold 600 --payload 'HELD {i}\n' &
PIDS+=("$!")
"$PY" "$C" --host ::1 --port $PORT --count 1 --hold 600 --payload 'HELD v6\n' &
PIDS+=("$!")
wait_count close-wait "( sport = :$PORT )" 12
kill -USR1 "$SRV"
sleep 1
CHILD=$(pgrep -P "$SRV" | head -1)
[ -n "$CHILD" ] || { echo "no forked child" >&2; exit 1; }
log "server $SRV, child $CHILD; letting the sockets age"
sleep 5

F="( sport = :$PORT or dport = :$PORT )"
cmd() { # cmd FILE COMMAND...: run a command line, save its output, record it
	echo "$2 > $1" >>"$OUT/COMMANDS.txt"
	bash -c "$2" >"$OUT/$1" 2>&1 || true
}
echo "# taken on $(now) (UTC); server pid $SRV (comm 'order gateway'), forked child pid $CHILD" >"$OUT/COMMANDS.txt"
export -f keep_ports
cmd ss-tanp.txt "ss -tanp '$F'"
cmd ss-tan.txt "ss -tan '$F'"
cmd ss-tan-state-close-wait.txt "ss -tan state close-wait '( sport = :$PORT )'"
cmd ss-tanp-state-close-wait.txt "ss -tanp state close-wait '( sport = :$PORT )'"
cmd ss-Htanp-state-close-wait.txt "ss -Htanp state close-wait '( sport = :$PORT )'"
cmd ss-antp-grep-close-wait.txt "ss -antp '$F' | grep -i close-wait"
cmd ss-tanpeio.txt "ss -tanpeio '$F'"
cmd ss-ta-resolved.txt "ss -tap '$F'"
cmd ss-tulnp.txt "ss -tulnp '( sport = :$PORT or sport = :$UPORT )'"
cmd ss-s.txt "ss -s"
cmd lsof-close-wait.txt "lsof -nP -iTCP:$PORT -sTCP:CLOSE_WAIT"
cmd lsof-c0-close-wait.txt "lsof +c 0 -nP -iTCP:$PORT -sTCP:CLOSE_WAIT"
cmd lsof-i.txt "lsof -i :$PORT -i :$UPORT"
cmd lsof-p.txt "lsof -nP -p $SRV"
cmd lsof-F.txt "lsof -nP -iTCP:$PORT -F pcfnTt"
cmd netstat-antp.txt "netstat -antp | keep_ports $PORT"
cmd netstat-aeep.txt "netstat -aeep --tcp --udp | keep_ports $PORT $UPORT"
cmd netstat-antpe.txt "netstat -antpe | keep_ports $PORT"
cmd netstat-close-wait-grep.txt "netstat -antp | grep CLOSE_WAIT | grep $PORT"
cmd proc-net-tcp.txt "keep_ports $PORT </proc/net/tcp"
cmd proc-net-tcp6.txt "keep_ports $PORT </proc/net/tcp6"
cmd proc-net-udp.txt "keep_ports $UPORT </proc/net/udp"
cmd proc-fd.txt "ls -l /proc/$SRV/fd"
cmd proc-child-fd.txt "ls -l /proc/$CHILD/fd"
cmd proc-limits.txt "cat /proc/$SRV/limits"
cmd ulimit-n.txt "ulimit -n"

log "snapshots while the leak goes on"
"$PY" "$C" --port $PORT --count 6 --gap 0.5 --payload 'LATE {i}\n' &
PIDS+=("$!")
cmd ss-close-wait-loop.txt "for i in 1 2 3; do date; ss -tan state close-wait '( sport = :$PORT )'; sleep 1; done"
"$PY" "$C" --port $PORT --count 4 --gap 0.5 --payload 'LATER {i}\n' &
PIDS+=("$!")
cmd ss-s-loop.txt "for i in 1 2 3; do date -u; ss -s; echo; sleep 1; done"

log "a ticket paste"
PROMPT="root@$(hostname -s):~# "
{
	for c in "ss -s" \
		"ss -tanp state close-wait '( sport = :$PORT )' | head -8" \
		"ss -tan state close-wait '( sport = :$PORT )' | wc -l" \
		"lsof -nP -iTCP:$PORT -sTCP:CLOSE_WAIT | head -5" \
		"netstat -antp | grep CLOSE_WAIT | grep $PORT | head -3" \
		"ulimit -n" \
		"grep 'open files' /proc/$SRV/limits"; do
		echo "$PROMPT$c"
		bash -c "$c" 2>&1 || true
	done
	echo "$PROMPT"
} >"$OUT/ticket-paste.txt"
echo "ticket-paste.txt: the commands inside it, each after a shell prompt" >>"$OUT/COMMANDS.txt"
cp "$SCRATCH/server.log" "$OUT/server.log"
versions "$OUT/VERSIONS.txt"
log "done: $(count_state close-wait "( sport = :$PORT )") CLOSE_WAIT now"
