#!/usr/bin/env bash
# Makes real-ss-command-header.txt: a `state` filtered ss listing (no State
# column) saved by a collection script that writes the command above its
# output as "COMMAND: ...", the form ReadSS takes the state from. Same set-up
# as gen.sh (closewait.py over loopback, filtered to the test port).
# Run as root: testdata/sockets/gen/gen-command-header.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-47124}

out=$(mktemp)
python3 gen/closewait.py "$PORT" > "$out" &
PID=$! CHILD=
trap 'kill $PID $CHILD 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 50); do grep -q ready "$out" && break; sleep 0.1; done
read -r _ _ CHILD < "$out"

filt="( sport = :$PORT or dport = :$PORT )"
{ echo "COMMAND: ss -tanp state close-wait '$filt'"; ss -tanp state close-wait "$filt"; } > real-ss-command-header.txt
echo "generated in $(pwd) (pid $PID, child $CHILD, port $PORT)"
