"""TCP traffic for make-captures.sh between two network namespaces: run as
`traffic.py serve ADDR PORT` in one and `traffic.py connect ADDR PORT` in
the other. Two connections: one with 6000 bytes each way closed by both
sides, and one the client closes while the server keeps its end open for
half a second (CLOSE_WAIT), then closes."""
import socket
import sys
import time


def serve(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(4)
    for i in range(2):
        conn, _ = srv.accept()
        got = b""
        while len(got) < 6000:
            chunk = conn.recv(65536)
            if not chunk:
                break
            got += chunk
        conn.sendall(b"r" * 6000)
        conn.recv(1)  # the client's FIN
        if i == 1:
            time.sleep(0.5)  # CLOSE_WAIT
        conn.close()
    srv.close()


def connect(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    for _ in range(2):
        for attempt in range(50):
            c = socket.socket(fam, socket.SOCK_STREAM)
            try:
                c.connect((addr, port))
                break
            except OSError:
                c.close()
                time.sleep(0.1)
        c.sendall(bytes(range(256)) * 23 + b"x" * 112)  # 6000 bytes
        got = b""
        while len(got) < 6000:
            chunk = c.recv(65536)
            if not chunk:
                break
            got += chunk
        c.shutdown(socket.SHUT_WR)
        c.recv(1)  # the server's FIN
        c.close()


if __name__ == "__main__":
    {"serve": serve, "connect": connect}[sys.argv[1]](sys.argv[2], int(sys.argv[3]))
