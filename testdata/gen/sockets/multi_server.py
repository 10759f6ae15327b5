#!/usr/bin/python3
"""A leaky server for the socket-listing fixtures (testdata/real/sockets).

Listens on 127.0.0.1 and ::1 (TCP) and binds a UDP socket on each, in one
process whose name (comm) is set with prctl to --name, which may contain a
space. Like python-skip-close/server.py, a request that is not JSON is
logged and its socket is never closed, so it ends in CLOSE_WAIT once the
client closes. On SIGUSR1 the process duplicates the first three leaked
sockets (a second fd on the same socket) and forks a child that keeps every
inherited fd open, so listings show several pids and fds on one socket.
"""
import argparse
import ctypes
import json
import os
import select
import signal
import socket
import sys
import time

LEAKED = []
CHILDREN = []


def set_comm(name):
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_NAME = 15
    libc.prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)


def on_usr1(signum, frame):
    for s in LEAKED[:3]:
        LEAKED.append(socket.socket(fileno=os.dup(s.fileno())))
    pid = os.fork()
    if pid == 0:
        set_comm("leaky-child")
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        while True:
            time.sleep(3600)
    CHILDREN.append(pid)
    print(f"forked child {pid}, {len(LEAKED)} leaked fds", file=sys.stderr, flush=True)


def on_term(signum, frame):
    for pid in CHILDREN:
        os.kill(pid, signal.SIGTERM)
    sys.exit(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--udp-port", type=int, required=True)
    p.add_argument("--name", default="order gateway")
    a = p.parse_args()
    set_comm(a.name)
    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, on_term)

    listeners = []
    udps = []
    for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((host, a.port))
        ls.listen(128)
        listeners.append(ls)
        us = socket.socket(fam, socket.SOCK_DGRAM)
        us.bind((host, a.udp_port))
        udps.append(us)
    print(f"listening on {a.port} (tcp) and {a.udp_port} (udp)", file=sys.stderr, flush=True)

    while True:
        try:
            ready, _, _ = select.select(listeners, [], [])
        except InterruptedError:
            continue
        for ls in ready:
            conn, peer = ls.accept()
            data = conn.recv(1024)
            try:
                req = json.loads(data)
                conn.sendall((json.dumps({"order": req["order"], "status": "accepted"}) + "\n").encode())
            except Exception as e:
                print(f"bad request from {peer[0]} port {peer[1]}: {e}", file=sys.stderr, flush=True)
                LEAKED.append(conn)  # BUG: never closed
                continue
            conn.close()


if __name__ == "__main__":
    main()
