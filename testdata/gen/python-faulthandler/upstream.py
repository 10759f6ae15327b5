#!/usr/bin/python3
"""A price server that accepts connections, reads the request and never
answers: the stalled upstream of quote-service."""
import socket
import sys
import threading
import time

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(128)
held = []
while True:
    c, _ = srv.accept()
    held.append(c)  # kept open, never answered
