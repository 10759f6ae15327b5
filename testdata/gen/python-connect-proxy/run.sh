#!/usr/bin/env bash
# Makes testdata/cases/python-connect-proxy: egress-proxy (proxy.py), a
# Python forward proxy whose CONNECT relay never closes a tunnel: when
# either direction reaches the end of its stream, its thread returns and
# neither socket is closed nor the FIN passed on. Two origins (origin.py,
# HTTP/1.0: one response, then the origin closes) sit behind it, one over
# TLS, one in the clear. Clients (client.py) send CONNECT, then one GET
# through the tunnel, read the response by its Content-Length and close:
# 10 over TLS (5 first answered 407 and retrying with credentials on the
# same connection), 4 in the clear (a plain HTTP request and response
# inside the tunnel), and 3 whose CONNECT to a port not allowed is refused
# (403, closed by the proxy). Each of the 14 tunnels leaves two of the
# proxy's sockets in CLOSE_WAIT: the client's (its FIN after the relayed
# response) and the origin's (its FIN after its response). Evidence:
# ss/lsof/netstat//proc of the proxy, its log, the clients' log.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"
need "apt-get install openssl" openssl

NAME=python-connect-proxy
OUT=$REPO/testdata/cases/$NAME
PORT=18211 # the proxy
TLS=18212  # the origin over TLS
PLAIN=18213 # the origin in the clear
rm -rf "$OUT" && mkdir -p "$OUT"

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=rates.internal -days 2 \
	-keyout "$SCRATCH/key.pem" -out "$SCRATCH/cert.pem" 2>/dev/null

start_capture "$OUT/capture.pcap" lo "tcp port $PORT or tcp port $TLS or tcp port $PLAIN"
STARTED=$(now)
"$PY" "$HERE/origin.py" --port $TLS --cert "$SCRATCH/cert.pem" --key "$SCRATCH/key.pem" &
PIDS+=("$!")
"$PY" "$HERE/origin.py" --port $PLAIN &
PIDS+=("$!")
cd "$HERE"
"$PY" proxy.py --port $PORT --allow $TLS --allow $PLAIN 2>"$SCRATCH/proxy.log" &
PROXY=$!
PIDS+=("$PROXY")
wait_listen $TLS
wait_listen $PLAIN
wait_listen $PORT

log "5 TLS clients, 3 refused, 5 TLS clients answered 407 first, 4 in the clear"
"$PY" client.py --proxy $PORT --target 127.0.0.1:$TLS --tls --count 5 --name tls >>"$SCRATCH/clients.log" 2>&1
"$PY" client.py --proxy $PORT --target 127.0.0.1:25 --count 3 --name refused >>"$SCRATCH/clients.log" 2>&1
"$PY" client.py --proxy $PORT --target 127.0.0.1:$TLS --tls --auth-retry --count 5 --name retry >>"$SCRATCH/clients.log" 2>&1
"$PY" client.py --proxy $PORT --target 127.0.0.1:$PLAIN --count 4 --name plain >>"$SCRATCH/clients.log" 2>&1
wait_count close-wait "( sport = :$PORT )" 14
wait_count close-wait "( dport = :$TLS or dport = :$PLAIN )" 14
log "letting the CLOSE_WAIT sockets age"
sleep 4

log "saving evidence"
save_evidence "$OUT" "$PROXY" $PORT $TLS $PLAIN
EVIDENCE=$(now)
CW=$(count_state close-wait "( sport = :$PORT )")
CWUP=$(count_state close-wait "( dport = :$TLS or dport = :$PLAIN )")
CWTLS=$(count_state close-wait "( dport = :$TLS )")
CWPLAIN=$(count_state close-wait "( dport = :$PLAIN )")
stop_capture
cp "$SCRATCH/proxy.log" "$OUT/proxy.log"
cp "$SCRATCH/clients.log" "$OUT/clients.log"
versions "$OUT/VERSIONS.txt"
echo "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=rates.internal (the TLS origin's certificate, not kept); the proxy's stderr > proxy.log; the clients' stdout > clients.log" >>"$OUT/COMMANDS.txt"

cat >"$OUT/case.json" <<JSON
{
  "name": "$NAME",
  "script": "testdata/gen/$NAME/run.sh",
  "started": "$STARTED",
  "evidence_taken": "$EVIDENCE",
  "process": {"name": "python3", "cmdline": "python3 proxy.py --port $PORT --allow $TLS --allow $PLAIN", "pid": $PROXY, "runtime": "python"},
  "local": "127.0.0.1:$PORT",
  "capture_link_type": "EN10MB (tcpdump -i lo)",
  "root_cause": "missing-close",
  "summary": "the proxy's CONNECT relay (pump) returns at the end of either direction's stream without closing the tunnel's sockets or passing the FIN on; the tunnels stay referenced from TUNNELS, so each origin's close and then each client's close leave a socket in CLOSE_WAIT; CONNECTs refused with 403 are closed",
  "holder": {"function": "pump (proxy.py) returns at the end of the stream without closing", "thread": "none: the relay threads have exited; the sockets are only referenced from the TUNNELS dict"},
  "counts": {"close_wait": $CW, "close_wait_upstream": $CWUP, "tunnels_tls": 10, "tunnels_answered_407_first": 5, "tunnels_plain": 4, "refused_403": 3},
  "groups": [
    {"pid": $PROXY, "name": "python3", "category": "missing-close", "close_wait": $CW, "holder_frame": "", "last_exchange": "data-from-us", "upgrade": "connect", "note": "the clients' sockets on :$PORT: the last data before each client's FIN was the origin's response the proxy relayed through the tunnel its 200 to CONNECT opened (TLS, or a plain GET and 200 that are not the proxy's own exchange)"},
    {"pid": $PROXY, "name": "python3", "category": "missing-close", "close_wait": $CWTLS, "holder_frame": "", "last_exchange": "data-from-peer", "note": "the proxy's sockets to the TLS origin (:$TLS): its response, then its FIN; no HTTP seen in the TLS"},
    {"pid": $PROXY, "name": "python3", "category": "missing-close", "close_wait": $CWPLAIN, "holder_frame": "", "last_exchange": "success-status", "note": "the proxy's sockets to the plain origin (:$PLAIN): the client's GET relayed, the origin's 200, then its FIN"}
  ],
  "logs": {"proxy.log": "the proxy's stderr: 407s, 403s, one line per tunnel opened and per direction ended", "clients.log": "one line per client: the CONNECT's status, the response through the tunnel"}
}
JSON
check_capture "$OUT/capture.pcap"
log "done: $CW CLOSE_WAIT on the client side, $CWUP on the upstream side"
