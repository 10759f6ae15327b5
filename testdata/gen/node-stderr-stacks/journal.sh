#!/usr/bin/env bash
# Run by run.sh in a private mount namespace (unshare -m): starts
# rsyslogd and systemd-journald on tmpfs copies of /run/systemd and
# /run/log, runs node under systemd-cat -t line-relay, and writes the
# journal as journalctl prints it and rsyslog's file to DIR.
# Usage: journal.sh DIR NODE ARGS...
set -euo pipefail
DIR=$1
NODE=$2
shift 2
PORT=$4 # ARGS: --trace-warnings --stack-trace-limit=20 relay.js PORT ...
# shellcheck source=SCRIPTDIR/journald-lib.sh
. "$(dirname "$0")/journald-lib.sh"
start_journal "$DIR" rsyslog.log:RSYSLOG_FileFormat
systemd-cat -t line-relay "$NODE" "$@" &
NODEPID=$!
PIDS+=("$NODEPID")
for _ in $(seq 50); do ss -Htln "sport = :$PORT" | grep -q . && break; sleep 0.1; done
sleep 2
kill "$NODEPID"
wait "$NODEPID" 2>/dev/null || true
sleep 0.5
journalctl --no-pager -o short _PID="$NODEPID" >"$DIR/journal-short.log"
journalctl --no-pager -o short-iso _PID="$NODEPID" >"$DIR/journal-short-iso.log"
journalctl --no-pager -o cat _PID="$NODEPID" >"$DIR/journal-cat.log"
sleep 0.5
