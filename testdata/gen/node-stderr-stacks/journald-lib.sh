# shellcheck shell=bash
# Sourced by journal.sh and two-journal.sh, which run in a private mount
# namespace (unshare -m) with `set -euo pipefail`.
#
# start_journal DIR FILE:TEMPLATE... mounts tmpfs over /run/systemd and
# /run/log (the machine's own /run is untouched), starts rsyslogd (imuxsock
# on journald's syslog socket) writing every message to DIR/FILE in each
# rsyslog TEMPLATE, then systemd-journald (volatile, ForwardToSyslog, no
# rate limit), and waits for both sockets. Appends their pids to PIDS and
# stops every pid in PIDS on exit.
# journalctl names months and weekdays (-o short, short-precise,
# short-full) in LC_TIME's language ("Dez 03", "Do 2026-12-03"): the
# fixtures are C's, which applog reads, whatever this machine's locale.
export LC_ALL=C
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

start_journal() {
	local dir=$1 ft _
	shift
	mount -t tmpfs tmpfs /run/systemd
	mkdir -p /run/log && mount -t tmpfs tmpfs /run/log
	mkdir -p /run/systemd/journal
	printf '[Journal]\nStorage=volatile\nForwardToSyslog=yes\nRateLimitBurst=0\n' >"$dir/journald.conf"
	mount --bind "$dir/journald.conf" /etc/systemd/journald.conf
	echo 'module(load="imuxsock" SysSock.Name="/run/systemd/journal/syslog")' >"$dir/rsyslog.conf"
	for ft in "$@"; do
		echo "*.* action(type=\"omfile\" file=\"$dir/${ft%%:*}\" template=\"${ft#*:}\")" >>"$dir/rsyslog.conf"
	done
	rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" &
	PIDS+=("$!")
	for _ in $(seq 50); do [ -S /run/systemd/journal/syslog ] && break; sleep 0.1; done
	/lib/systemd/systemd-journald &
	PIDS+=("$!")
	for _ in $(seq 50); do [ -S /run/systemd/journal/stdout ] && break; sleep 0.1; done
}
