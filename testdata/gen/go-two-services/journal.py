#!/usr/bin/python3
"""Journal service: the peer both Go services of go-two-services talk to.

Line protocol over TCP. `TAIL N` answers N journal lines and closes the
connection (the server closes first). `WATCH` keeps the connection open and
sends a heartbeat line every 2 s. One thread per connection.
"""
import argparse
import socket
import sys
import threading
import time

SEQ = [0]
LOCK = threading.Lock()


def serve(conn, peer):
    try:
        f = conn.makefile("rb")
        req = f.readline().decode().split()
        if req[:1] == ["TAIL"]:
            n = int(req[1])
            with LOCK:
                first = SEQ[0]
                SEQ[0] += n
            for i in range(first, first + n):
                conn.sendall(f"{i} debit acct-{i % 7} {(i * 37) % 1000}.00\n".encode())
            print(f"{time.strftime('%H:%M:%S')} TAIL {n} for {peer[0]}:{peer[1]}", file=sys.stderr, flush=True)
        elif req[:1] == ["WATCH"]:
            while True:
                conn.sendall(f"heartbeat {time.time():.0f}\n".encode())
                time.sleep(2)
    except OSError as e:
        print(f"{peer[0]}:{peer[1]}: {e}", file=sys.stderr, flush=True)
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.port))
    ls.listen(128)
    while True:
        conn, peer = ls.accept()
        threading.Thread(target=serve, args=(conn, peer), daemon=True).start()


if __name__ == "__main__":
    main()
