#!/usr/bin/python3
"""order-gateway: a JSON-lines TCP server whose error path skips close().

Each connection carries one JSON request. A good request is answered and
the connection closed. A request that fails to parse is logged and the
handler returns without conn.close(); the socket also stays registered in
ACTIVE (the table of connected clients), so it is never garbage collected,
and once the client closes its end the socket sits in CLOSE_WAIT forever.
This is the "missing close() in the except branch" bug from
shared/BACKGROUND.md.
"""
import argparse
import json
import logging
import socket
import threading

log = logging.getLogger("order-gateway")
ACTIVE = {}  # peer address -> socket, for the connected-clients stats


def handle_client(conn, peer):
    try:
        data = conn.recv(1024)
        req = json.loads(data)
        reply = json.dumps({"order": req["order"], "status": "accepted"}) + "\n"
        conn.sendall(reply.encode())
    except Exception as e:
        log.error("bad request from %s:%d: %s", peer[0], peer[1], e)
        return  # BUG: missing conn.close() (and ACTIVE.pop(peer))
    conn.close()
    ACTIVE.pop(peer, None)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(128)
    log.info("listening on %s:%d", a.host, a.port)
    while True:
        conn, peer = ls.accept()
        ACTIVE[peer] = conn
        threading.Thread(target=handle_client, args=(conn, peer), daemon=True).start()


if __name__ == "__main__":
    main()
