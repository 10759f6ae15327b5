"""egress-proxy: a small forward proxy for the services of one host.

CONNECT host:port opens a tunnel to an allowed port once the client has
authenticated (Proxy-Authorization, 407 until it does, on the same
connection); other ports are refused with 403. Each tunnel is relayed by
two threads, one a direction, and kept in TUNNELS for /stats.

The relay is the bug this case is about: when one direction reaches the end
of its stream, pump returns and nothing closes either socket, nor passes
the FIN on. The origin's close leaves the upstream socket in CLOSE_WAIT;
the client, which read its response by Content-Length, then closes too and
leaves the client's socket in CLOSE_WAIT. Both stay referenced by TUNNELS.
"""
import argparse
import base64
import socket
import sys
import threading
import time

TUNNELS = {}  # id -> (client socket, upstream socket, target)
LOCK = threading.Lock()
CREDENTIALS = "Basic " + base64.b64encode(b"svc:egress").decode()


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, file=sys.stderr, flush=True)


def read_head(sock):
    """Reads a request head, up to the blank line; b'' at end of stream."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return b""
        data += chunk
    return data


def pump(src, dst, tid, direction):
    while True:
        try:
            data = src.recv(65536)
        except OSError:
            return
        if not data:
            log(f"tunnel {tid}: {direction} ended")
            return  # the bug: neither socket is closed, the FIN not passed on
        try:
            dst.sendall(data)
        except OSError:
            return


def handle(client, addr, allowed, tid):
    while True:
        head = read_head(client)
        if not head:
            client.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = (lines[0].split(" ") + ["", ""])[:3]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if method != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            client.close()
            return
        if headers.get("proxy-authorization") != CREDENTIALS:
            log(f"{addr[1]}: CONNECT {target}: 407")
            client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                           b"Proxy-Authenticate: Basic realm=\"egress\"\r\nContent-Length: 0\r\n\r\n")
            continue  # the client may retry with credentials on this connection
        host, _, port = target.rpartition(":")
        if not port.isdigit() or int(port) not in allowed:
            log(f"{addr[1]}: CONNECT {target}: 403")
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            client.close()
            return
        try:
            upstream = socket.create_connection((host, int(port)), timeout=5)
            upstream.settimeout(None)
        except OSError as e:
            log(f"{addr[1]}: CONNECT {target}: 502 ({e})")
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            client.close()
            return
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        with LOCK:
            TUNNELS[tid] = (client, upstream, target)
        log(f"tunnel {tid}: {addr[1]} -> {target}")
        threading.Thread(target=pump, args=(client, upstream, tid, "client->upstream"), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client, tid, "upstream->client"), daemon=True).start()
        return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--allow", type=int, action="append", required=True, help="a port CONNECT may reach")
    args = ap.parse_args()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(128)
    log(f"listening on {args.port}, CONNECT to ports {args.allow}")
    n = 0
    while True:
        client, addr = srv.accept()
        n += 1
        threading.Thread(target=handle, args=(client, addr, set(args.allow), n), daemon=True).start()


if __name__ == "__main__":
    main()
