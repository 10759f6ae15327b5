#!/usr/bin/env bash
# Regenerates every real fixture (testdata/real/*, testdata/cases/*) on this
# machine: `make fixtures`. Needs root, tcpdump, dumpcap (optional), lsof,
# net-tools, busybox, iproute2 (with network namespaces: `ip netns add`), python3,
# curl, openssl, Go, a JDK 17 (and optionally 25), Debian's libhttpclient-java and
# libcommons-pool2-java, nginx (nginx-light), Node.js (nodejs), systemd
# (journald, systemd-cat) and rsyslog.
# Loopback, or network namespaces the scripts make and delete; about 15
# minutes. The outputs
# differ on every run (pids, ports, times): commit them
# once and make the goldens from the committed files.
#
# go/run.sh spends over a minute waiting for goroutine waits to pass a minute,
# so it runs alongside the others (its ports, 18060-18065 and 16060/16065,
# are its own); the rest run one after another.
set -euo pipefail
cd "$(dirname "$0")"
bash go/run.sh &
GOGEN=$!
trap 'kill $GOGEN 2>/dev/null || true' EXIT
for g in sockets recvq jvm go-server-noclose java-pool-leak python-skip-close \
	go-client-pool-leak remote-peer-leak transient hostile-names \
	older-than-capture gotest fd-exhaustion \
	go-two-services netns-remote-leak java-two-mechanisms \
	nginx-upstream-leak pool-idle-evict python-faulthandler node-unconsumed \
	python-client-error-status python-server-error-status python-server-method-close \
	python-server-error-few node-websocket-noclose python-connect-proxy \
	node-reports node-stderr-stacks; do
	echo "== $g" >&2
	bash "$g/run.sh"
done
# node-stderr-stacks' second script: the interleaved journal and syslog
# fixtures of two processes (node-two-*.log).
echo "== node-stderr-stacks/two.sh" >&2
bash node-stderr-stacks/two.sh
wait $GOGEN
trap - EXIT
