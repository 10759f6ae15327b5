#!/usr/bin/env python3
"""Hold TCP sockets in CLOSE_WAIT on loopback, for gen.sh.

A server listens on 127.0.0.1:PORT and [::1]:PORT, accepts connections and
never closes them; the clients close theirs, so the server side of each
connection sits in CLOSE_WAIT. One accepted socket is dup()ed (two fds of
one process) and one is inherited by a forked child (two processes), as
real leaks look. Prints "ready PID" and sleeps until killed.
"""
import os
import socket
import sys
import time

port = int(sys.argv[1])
servers = []
for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    servers.append((fam, addr, s))

held = []
for fam, addr, srv in servers:
    for _ in range(2):
        c = socket.socket(fam, socket.SOCK_STREAM)
        c.connect((addr, port))
        conn, _ = srv.accept()
        c.send(b"bye")  # unread data: a Recv-Q of 3 on the CLOSE_WAIT side
        c.close()
        held.append(conn)

held.append(os.dup(held[0].fileno()))  # same socket, second fd
# an established pair too, for contrast
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("127.0.0.1", port))
conn, _ = servers[0][2].accept()
held += [c, conn]

child = os.fork()
if child == 0:  # inherits every fd: the sockets now have two owners
    time.sleep(3600)
    os._exit(0)
print("ready", os.getpid(), child, flush=True)
time.sleep(3600)
