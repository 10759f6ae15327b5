#!/usr/bin/python3
"""The remote host's services in netns-remote-leak (run in their own network
namespace, as another machine would).

--port P (collector): reads one batch of metric lines, answers `OK <n>` and
  keeps the connection in its session list, never closing it: when the
  sender closes, the socket stays in CLOSE_WAIT on this host.
--config-port C: answers each request with a config blob and closes
  (healthy traffic; the client closes after reading the answer).
"""
import argparse
import socket
import sys
import threading
import time

SESSIONS = []


def collector(ls):
    while True:
        conn, peer = ls.accept()
        data = conn.recv(65536)
        n = data.count(b"\n")
        conn.sendall(f"OK {n}\n".encode())
        SESSIONS.append((conn, peer))  # kept for "acknowledgement replay", never closed
        print(f"{time.strftime('%H:%M:%S')} batch of {n} from {peer[0]}:{peer[1]}", file=sys.stderr, flush=True)


def config(ls):
    while True:
        conn, peer = ls.accept()
        conn.recv(1024)
        conn.sendall(b"interval=1s\nbatch=64\n")
        conn.close()


def listener(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(128)
    return ls


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--config-port", type=int, required=True)
    a = p.parse_args()
    threading.Thread(target=config, args=(listener(a.config_port),), daemon=True).start()
    collector(listener(a.port))


if __name__ == "__main__":
    main()
