#!/usr/bin/python3
"""Loopback TCP client for the fixture generators.

Opens COUNT connections to HOST:PORT, sends PAYLOAD on each (unless
--no-send), optionally reads one reply, and then either closes each
connection (the default: the peer sees our FIN) or holds them all open
for --hold seconds (or until killed) so that they stay ESTABLISHED.
"""
import argparse
import signal
import socket
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--payload", default="hello\\n", help="backslash escapes allowed; {i} is the connection number")
    p.add_argument("--no-send", action="store_true")
    p.add_argument("--read", action="store_true", help="read one reply before closing")
    p.add_argument("--hold", type=float, default=0, help="keep the connections open this long")
    p.add_argument("--gap", type=float, default=0.05, help="seconds between connections")
    a = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    held = []
    for i in range(a.count):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.connect((a.host, a.port))
        if not a.no_send:
            s.sendall(a.payload.replace("{i}", str(i)).encode().decode("unicode_escape").encode("latin-1"))
        if a.read:
            s.settimeout(5)
            try:
                s.recv(4096)
            except OSError as e:
                print(f"client {i}: {e}", file=sys.stderr)
        if a.hold:
            held.append(s)
        else:
            s.close()
        time.sleep(a.gap)
    if held:
        time.sleep(a.hold)
        for s in held:
            s.close()


if __name__ == "__main__":
    main()
