#!/usr/bin/python3
"""Writes the real Python stack dumps the parser tests read
(dumps/python/testdata/real-*.txt), from threads blocked on loopback
sockets: a faulthandler dump_traceback_later timeout dump followed by a
second dump of the same threads (two dumps in one file), and the
sys._current_frames() + traceback.print_stack recipe.

    python3 testdata/gen/python-faulthandler/dumps.py dumps/python/testdata
"""
import faulthandler
import os
import socket
import sys
import threading
import time
import traceback

out = sys.argv[1]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
port = srv.getsockname()[1]


def reader(n):
    c = socket.create_connection(("127.0.0.1", port))
    c.recv(100)  # the server never answers


def server():
    held = []
    while True:
        conn, _ = srv.accept()
        held.append(conn)


threading.Thread(target=server, name="acceptor", daemon=True).start()
for i in range(2):
    threading.Thread(target=reader, args=(i,), name=f"reader-{i}", daemon=True).start()
time.sleep(0.3)

with open(os.path.join(out, "real-timeout-twice.txt"), "w") as f:
    faulthandler.dump_traceback_later(0.2, file=f)
    time.sleep(0.5)
    faulthandler.dump_traceback(file=f, all_threads=True)

with open(os.path.join(out, "real-current-frames.txt"), "w") as f:
    names = {t.ident: t.name for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        print(f"\n# Thread: {names.get(ident, '?')}({ident})", file=f)
        traceback.print_stack(frame, file=f)
