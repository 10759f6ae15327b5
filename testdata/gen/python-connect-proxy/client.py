"""Clients of the egress proxy: each sends CONNECT (first without
credentials when --auth-retry, answered 407, then with them on the same
connection), then, through the tunnel, one GET over TLS (--tls) or in the
clear; it reads the response by its Content-Length and closes. A client
whose CONNECT is refused (403) closes at once."""
import argparse
import base64
import socket
import ssl
import sys
import time

CREDENTIALS = "Basic " + base64.b64encode(b"svc:egress").decode()


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise EOFError("end of stream in a response head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def connect(sock, target, auth):
    req = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
    if auth:
        req += f"Proxy-Authorization: {CREDENTIALS}\r\n"
    sock.sendall((req + "\r\n").encode())
    head, _ = read_head(sock)
    return int(head.split(" ")[1])


def one(args, i):
    sock = socket.create_connection(("127.0.0.1", args.proxy))
    status = connect(sock, args.target, not args.auth_retry)
    if status == 407:
        status = connect(sock, args.target, True)
    if status != 200:
        sock.close()
        return f"{args.name}-{i}: CONNECT {args.target}: {status}, closed"
    conn = sock
    if args.tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = ctx.wrap_socket(sock, server_hostname="rates.internal")
    conn.sendall(f"GET /v1/rates?n={i} HTTP/1.1\r\nHost: rates.internal\r\n\r\n".encode())
    head, body = read_head(conn)
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk:
            break
        body += chunk
    conn.close()  # the response is complete: no need to wait for the end of the stream
    return f"{args.name}-{i}: CONNECT {args.target}: {status}, {head.splitlines()[0]}, {len(body)} bytes, closed"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", type=int, required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--auth-retry", action="store_true")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--gap", type=float, default=0.3)
    ap.add_argument("--name", default="client")
    args = ap.parse_args()
    for i in range(args.count):
        print(one(args, i), flush=True)
        time.sleep(args.gap)


if __name__ == "__main__":
    sys.exit(main())
