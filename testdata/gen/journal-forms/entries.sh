#!/usr/bin/env bash
# Prints journal entries in journald's export format (the fields journald
# records: a stream's _PID and SYSLOG_IDENTIFIER, the kernel's without a
# pid, an entry forwarded without one) for run.sh, with _HOSTNAME HOST.
# Usage: entries.sh HOST [months]
#   default: a relay's run on 2026-12-03 09:12:01 UTC: a listening line,
#   the kernel's SYN-flood line, an ECONNRESET error and its stack frame,
#   EMFILE, a pid-less pgbouncer line, EPIPE
#   months: one relay line on the 3rd of each month of 2026, 09:12:01 UTC
set -euo pipefail
HOST=$1
BOOT=0123456789abcdef0123456789abcdef
n=0
# entry REALTIME_US PID|- IDENT MESSAGE
entry() {
	n=$((n + 1))
	printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\n_HOSTNAME=%s\n' "$1" $((29834361633 + n * 7000)) "$BOOT" "$HOST"
	if [ "$2" = - ]; then
		[ "$3" = kernel ] && printf '_TRANSPORT=kernel\n'
	else
		printf '_PID=%s\n_TRANSPORT=stdout\n' "$2"
	fi
	printf 'SYSLOG_IDENTIFIER=%s\nMESSAGE=%s\n\n' "$3" "$4"
}
if [ "${2:-}" = months ]; then
	for m in $(seq 1 12); do
		entry "$(date -u -d "2026-$m-03 09:12:01.823026" +%s%6N)" 4242 relay "poll $m ok"
	done
	exit 0
fi
T=$(date -u -d "2026-12-03 09:12:01" +%s)000000
entry $((T + 729353)) 4242 relay "listening on 127.0.0.1:18401"
entry $((T + 801122)) - kernel "TCP: request_sock_TCP: Possible SYN flooding on port 18401. Sending cookies."
entry $((T + 943063)) 4242 relay "Error: read ECONNRESET"
entry $((T + 943193)) 4242 relay "    at TCP.onStreamRead (node:internal/stream_base_commons:217:20)"
entry $((T + 1149876)) 4242 relay "accept4: too many open files; retrying in 5ms"
entry $((T + 1250003)) - pgbouncer "C-0x55d0: app/app@10.0.0.7:51234 closing because: client unexpected eof (age=0s)"
entry $((T + 1364585)) 4242 relay "write EPIPE to 10.0.0.7:5432"
