#!/usr/bin/python3
"""Line-protocol TCP server with two behaviours, for the fixture generators.

--mode never-close: answer each request line and keep the connection open
  forever (stored in a list, never closed): a peer that leaks, as seen from
  its clients (remote-peer-leak).
--mode slow-close: read the request, work for --delay seconds (plus 0.5 s
  per connection, so they finish one after another), then close without
  answering: its sockets sit in CLOSE_WAIT for a few seconds when the client
  gives up first, and are then closed (transient).
--keepalive N turns on TCP keepalive on accepted sockets, first probe after
N s idle and then every N s (as Go servers do by default, with 15 s).
"""
import argparse
import socket
import sys
import threading
import time

KEPT = []


def serve(conn, peer, mode, delay):
    data = conn.recv(1024)
    if mode == "never-close":
        conn.sendall(b"OK " + data.strip().upper() + b"\n")
        KEPT.append(conn)  # never closed
        return
    time.sleep(delay)
    print(f"{time.strftime('%H:%M:%S')} closing {peer[0]} port {peer[1]} after {delay:.1f}s", file=sys.stderr, flush=True)
    conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=["never-close", "slow-close"], required=True)
    p.add_argument("--delay", type=float, default=5.0)
    p.add_argument("--keepalive", type=int, default=0)
    a = p.parse_args()
    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(128)
    n = 0
    while True:
        conn, peer = ls.accept()
        if a.keepalive:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, a.keepalive)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, a.keepalive)
        threading.Thread(target=serve, args=(conn, peer, a.mode, a.delay + 0.5 * n), daemon=True).start()
        n += 1


if __name__ == "__main__":
    main()
