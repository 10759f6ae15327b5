#!/usr/bin/python3
"""quote-service: a threaded TCP service with two connection bugs.

Each client sends one line. "QUOTE <sym>" makes the handler ask an upstream
price server over HTTP (http.client, no timeout) and answer with its reply;
the upstream accepts but never answers, so the handler thread blocks in
http.client's status-line read for ever while it holds the client's socket.
When the client gives up and closes, that socket sits in CLOSE_WAIT, held by
a thread blocked on a socket read: the faulthandler dump (SIGUSR1) shows it.

Any other line is an error: the handler logs it and returns without
conn.close(). CPython frees the socket when the handler's frame goes away
and prints "ResourceWarning: unclosed <socket.socket ...>" with the
tracemalloc traceback of where it was made (-X tracemalloc, -W always).
"""
import argparse
import faulthandler
import http.client
import logging
import signal
import socket
import sys
import threading

log = logging.getLogger("quote-service")


def handle(conn, upstream_port):
    f = conn.makefile("rb")
    try:
        line = f.readline().decode(errors="replace").strip()
    except OSError as e:
        log.error("read request: %s", e)
        return  # bug: no conn.close()
    if not line.startswith("QUOTE "):
        log.error("bad request %r from %s:%d", line[:40], *conn.getpeername()[:2])
        return  # bug: no conn.close()
    up = http.client.HTTPConnection("127.0.0.1", upstream_port)  # bug: no timeout
    up.request("GET", "/price/" + line[6:])
    resp = up.getresponse()  # blocks: the upstream never answers
    conn.sendall(resp.read())
    conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", type=int, required=True)
    p.add_argument("--log", required=True)
    a = p.parse_args()
    logging.basicConfig(filename=a.log, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", a.port))
    srv.listen(128)
    log.info("listening on 127.0.0.1:%d", a.port)
    n = 0
    while True:
        conn, _ = srv.accept()
        n += 1
        threading.Thread(target=handle, args=(conn, a.upstream), name=f"handler-{n}", daemon=True).start()


if __name__ == "__main__":
    main()
