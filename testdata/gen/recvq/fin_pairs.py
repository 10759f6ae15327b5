#!/usr/bin/env python3
"""Hold loopback connections in CLOSE_WAIT whose receive queues are known.

Listens on 127.0.0.1:PORT and [::1]:PORT; for each case below connects a
client, has it send its bytes and close (the peer's FIN), and on the
accepted end either reads nothing or reads to the end of the stream (recv
returns b""), then keeps the socket open, so that it sits in CLOSE_WAIT.
Linux counts Recv-Q as rcv_nxt - copied_seq, where the FIN takes one
sequence number, so the expected queue is len(data) + 1 when unread and 0
when read. Writes one line per case to EXPECTED (local port, remote port,
expected Recv-Q, what), prints "ready" and sleeps until killed.
"""
import socket
import sys
import time

port, expected = int(sys.argv[1]), sys.argv[2]
CASES = [  # family, data the peer sends before its FIN, read to the end?
    (socket.AF_INET, b"", False),  # the FIN alone, unread: 1
    (socket.AF_INET, b"hello\n", False),  # data, then the FIN, unread: 7
    (socket.AF_INET, b"hello\n", True),  # read to the end: 0
    (socket.AF_INET, b"", True),  # the FIN alone, read: 0
    (socket.AF_INET6, b"hello\n", False),  # 7
    (socket.AF_INET6, b"", False),  # 1
    (socket.AF_INET6, b"hello\n", True),  # 0
]
listeners = {}
for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    listeners[fam] = (addr, s)

held, lines = [], []
for fam, data, read in CASES:
    addr, srv = listeners[fam]
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.connect((addr, port))
    conn, peer = srv.accept()
    if data:
        c.sendall(data)
    c.close()
    time.sleep(0.2)  # the data and the FIN are in the receive queue
    if read:
        conn.settimeout(5)
        while conn.recv(4096):
            pass
    held.append(conn)
    want = 0 if read else len(data) + 1
    what = ("read to the end" if read else "unread") + (", %d bytes then the FIN" % len(data) if data else ", the FIN alone")
    lines.append("%s %d %d %d %s" % (addr, port, peer[1], want, what))

with open(expected, "w") as f:
    f.write("# local-addr local-port remote-port expected-Recv-Q what\n")
    f.write("\n".join(lines) + "\n")
print("ready", flush=True)
time.sleep(3600)
