#!/usr/bin/env bash
# Makes the interleaved journal and syslog fixtures of dumps/applog/testdata/:
# two line-loggers (linelog.js, Node.js 20) started together under
# systemd-cat -t line-logger, with a real systemd-journald (ForwardToSyslog)
# and rsyslogd (imuxsock) in a private mount namespace (two-journal.sh, as
# journal.sh does for run.sh). Each logs the stack of an error made in its
# 'data' handler (under TCP.onStreamRead) a line at a time, 7 ms apart,
# from the same moment, so that the lines of the two stacks interleave:
#   node-two-journal-short.log            journalctl -o short
#   node-two-journal-short-monotonic.log  journalctl -o short-monotonic
#   node-two-journal-short-precise.log    journalctl -o short-precise
#   node-two-journal-short-unix.log       journalctl -o short-unix
#   node-two-journal-short-full.log       journalctl --utc -o short-full
#   node-two-rsyslog.log                  RSYSLOG_FileFormat
#   node-two-rsyslog-traditional.log      RSYSLOG_TraditionalFileFormat
#   node-two-rsyslog-5424.log             RSYSLOG_SyslogProtocol23Format (RFC 5424)
# The run is refused unless the two stacks' lines interleave in the journal.
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

log "journald and rsyslog run, two line-loggers"
unshare -m --propagation private bash "$HERE/two-journal.sh" "$SCRATCH" "$NODE" 18301 18302
# Interleaved: a frame of one pid between two frames of the other.
awk '/     at / { match($0, /\[[0-9]+\]/); p = substr($0, RSTART, RLENGTH); if (prev != "" && p != prev) switches++; prev = p }
	END { exit !(switches >= 2) }' "$SCRATCH/journal-two-short.log" ||
	{ echo "two.sh: the two stacks did not interleave; run again" >&2; exit 1; }
cp "$SCRATCH/journal-two-short.log" "$OUT/node-two-journal-short.log"
cp "$SCRATCH/journal-two-short-monotonic.log" "$OUT/node-two-journal-short-monotonic.log"
cp "$SCRATCH/journal-two-short-precise.log" "$OUT/node-two-journal-short-precise.log"
cp "$SCRATCH/journal-two-short-unix.log" "$OUT/node-two-journal-short-unix.log"
cp "$SCRATCH/journal-two-short-full.log" "$OUT/node-two-journal-short-full.log"
cp "$SCRATCH/rsyslog-two.log" "$OUT/node-two-rsyslog.log"
cp "$SCRATCH/rsyslog-two-traditional.log" "$OUT/node-two-rsyslog-traditional.log"
cp "$SCRATCH/rsyslog-two-5424.log" "$OUT/node-two-rsyslog-5424.log"
log "kernel lines under -o short-monotonic: $(head -3 "$SCRATCH/journal-kernel-short-monotonic.log" | tr '\n' ';')"
{
	echo "node: $("$NODE" --version)"
	journalctl --version | head -1
	rsyslogd -v | head -1
} >"$SCRATCH/versions.txt"
log "done: $(tr '\n' ';' <"$SCRATCH/versions.txt")"
