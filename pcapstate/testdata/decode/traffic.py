"""Loopback TCP traffic for make-captures.sh: a few connections over IPv4
and IPv6 with data both ways, a normal close, a reset, and one connection
left in CLOSE_WAIT until the end (closed only after a pause)."""
import socket
import threading
import time

PORT4, PORT6 = 47913, 47914


def serve(family, addr, port, ready):
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(8)
    ready.set()
    for i in range(3):
        conn, _ = srv.accept()
        got = b""
        while len(got) < 3000:
            chunk = conn.recv(65536)
            if not chunk:
                break
            got += chunk
        conn.sendall(b"r" * 100)
        if i == 0:  # normal close: wait for the client's FIN, then close
            conn.recv(1)
            conn.close()
        elif i == 1:  # reset
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            conn.close()
        else:  # the client closes first; we stay in CLOSE_WAIT for a while
            conn.recv(1)
            time.sleep(0.5)
            conn.close()
    srv.close()


def client(family, addr, port):
    for i in range(3):
        c = socket.socket(family, socket.SOCK_STREAM)
        c.connect((addr, port))
        c.sendall(bytes(range(256)) * 11 + b"x" * 184)  # 3000 bytes
        c.recv(100)
        if i == 1:
            time.sleep(0.1)
        else:
            c.shutdown(socket.SHUT_WR)
            time.sleep(0.1)
        c.close()
        time.sleep(0.1)


for family, addr, port in ((socket.AF_INET, "127.0.0.1", PORT4), (socket.AF_INET6, "::1", PORT6)):
    ready = threading.Event()
    t = threading.Thread(target=serve, args=(family, addr, port, ready))
    t.start()
    ready.wait()
    client(family, addr, port)
    t.join()
