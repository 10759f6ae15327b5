#!/usr/bin/env bash
# Run by two.sh in a private mount namespace (unshare -m), as journal.sh is:
# starts rsyslogd (three files: RSYSLOG_FileFormat,
# RSYSLOG_TraditionalFileFormat, RSYSLOG_SyslogProtocol23Format) and
# systemd-journald on tmpfs copies of /run/systemd and /run/log, runs two
# line-loggers (linelog.js) at once under systemd-cat -t line-logger, and
# writes the journal as journalctl -o short, -o short-monotonic,
# -o short-precise, -o short-unix and -o short-full (--utc) print it and
# rsyslog's files to DIR.
# Usage: two-journal.sh DIR NODE PORT1 PORT2
set -euo pipefail
DIR=$1
NODE=$2
P1=$3
P2=$4
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/journald-lib.sh
. "$HERE/journald-lib.sh"
start_journal "$DIR" rsyslog.log:RSYSLOG_FileFormat rsyslog-traditional.log:RSYSLOG_TraditionalFileFormat \
	rsyslog-5424.log:RSYSLOG_SyslogProtocol23Format
# Both write their stacks from the same moment on, a line every 7 ms.
START=$(($(date +%s%3N) + 1500))
systemd-cat -t line-logger "$NODE" "$HERE/linelog.js" "$P1" a "$START" &
N1=$!
PIDS+=("$N1")
systemd-cat -t line-logger "$NODE" "$HERE/linelog.js" "$P2" b "$START" &
N2=$!
PIDS+=("$N2")
sleep 3
kill "$N1" "$N2"
wait "$N1" "$N2" 2>/dev/null || true
sleep 0.5
journalctl --no-pager -o short SYSLOG_IDENTIFIER=line-logger >"$DIR/journal-two-short.log"
journalctl --no-pager -o short-monotonic SYSLOG_IDENTIFIER=line-logger >"$DIR/journal-two-short-monotonic.log"
journalctl --no-pager -o short-precise SYSLOG_IDENTIFIER=line-logger >"$DIR/journal-two-short-precise.log"
journalctl --no-pager -o short-unix SYSLOG_IDENTIFIER=line-logger >"$DIR/journal-two-short-unix.log"
# short-full names the zone of its times: UTC whatever this machine's is.
journalctl --no-pager --utc -o short-full SYSLOG_IDENTIFIER=line-logger >"$DIR/journal-two-short-full.log"
# The kernel's own lines, if this journald reads /dev/kmsg, as -o
# short-monotonic prints them ("host kernel: ..."), for the record only.
journalctl --no-pager -o short-monotonic _TRANSPORT=kernel -n 5 >"$DIR/journal-kernel-short-monotonic.log" 2>&1 || true
sleep 0.5
grep -h line-logger "$DIR/rsyslog.log" >"$DIR/rsyslog-two.log" || true
grep -h line-logger "$DIR/rsyslog-traditional.log" >"$DIR/rsyslog-two-traditional.log" || true
grep -h line-logger "$DIR/rsyslog-5424.log" >"$DIR/rsyslog-two-5424.log" || true
