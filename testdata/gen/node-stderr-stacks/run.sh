#!/usr/bin/env bash
# Makes the Node.js stderr and journal fixtures of dumps/applog/testdata/:
# line-relay (relay.js, Node.js 20 with --trace-warnings) leaks the
# sockets of a half-open server and prints the stacks of the event
# callbacks it leaks them in (a MaxListenersExceededWarning under
# TCP.onStreamRead, an UpstreamWarning under emitErrorNT, a connect error
# under TCPConnectWrap.afterConnect). Two runs:
#   - plain, its stderr to node-stderr-two-warnings.log (two
#     --trace-warnings blocks and one error: a file too short for a log's
#     usual line count);
#   - under systemd-cat, with a real systemd-journald (ForwardToSyslog) and
#     rsyslogd (imuxsock, RSYSLOG_FileFormat) started in a private mount
#     namespace (tmpfs over /run/systemd and /run/log, so that the
#     machine's own /run is untouched), read back with journalctl -o short,
#     -o short-iso and -o cat, and rsyslog's file.
# two.sh, beside it, makes the fixtures of two processes whose stacks
# interleave in the journal, in rsyslog's other formats too.
# Needs root, node, systemd (journald, journalctl, systemd-cat), rsyslog,
# unshare (util-linux).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

OUT=$REPO/dumps/applog/testdata
NODE=${NODE:-node}
# rsyslog is not on a bare Debian.
need "apt-get install nodejs systemd rsyslog util-linux" "$NODE" systemd-cat journalctl /lib/systemd/systemd-journald rsyslogd unshare
PORT=18197   # line-relay
DOWN=18198   # its upstream: nothing listens
ARGS=(--trace-warnings --stack-trace-limit=20 relay.js $PORT $DOWN 12)

cd "$HERE"
log "plain run: stderr"
"$NODE" "${ARGS[@]}" >"$SCRATCH/stdout.txt" 2>"$SCRATCH/stderr.txt" &
PIDS+=("$!")
wait_listen $PORT
sleep 2
kill "${PIDS[-1]}"
cp "$SCRATCH/stderr.txt" "$OUT/node-stderr-two-warnings.log"

log "journald and rsyslog run"
unshare -m --propagation private bash "$HERE/journal.sh" "$SCRATCH" "$NODE" "${ARGS[@]}"
cp "$SCRATCH/journal-short.log" "$OUT/node-journal-short.log"
cp "$SCRATCH/journal-short-iso.log" "$OUT/node-journal-short-iso.log"
cp "$SCRATCH/journal-cat.log" "$OUT/node-journal-cat.log"
cp "$SCRATCH/rsyslog.log" "$OUT/node-rsyslog.log"
{
	echo "node: $("$NODE" --version)"
	journalctl --version | head -1
	rsyslogd -v | head -1
} >"$SCRATCH/versions.txt"
log "done: $(tr '\n' ';' <"$SCRATCH/versions.txt")"
