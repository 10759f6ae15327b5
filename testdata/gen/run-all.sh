#!/usr/bin/env bash
# Regenerates every real fixture (testdata/real/*, testdata/cases/*) on this
# machine, one generator after another: `make fixtures`. Needs root, tcpdump,
# lsof, net-tools, iproute2, python3, Go, a JDK 17 (and optionally 25) and
# Debian's libhttpclient-java and libcommons-pool2-java. Loopback only; about
# 5 minutes. The outputs differ on every run (pids, ports, times): commit them
# once and make the goldens from the committed files.
set -euo pipefail
cd "$(dirname "$0")"
for g in sockets jvm go go-server-noclose java-pool-leak python-skip-close \
	go-client-pool-leak remote-peer-leak transient hostile-names; do
	echo "== $g" >&2
	bash "$g/run.sh"
done
