#!/usr/bin/python3
"""ledger-api: a small HTTP/1.1 server on raw sockets whose error path
skips close().

GET /health answers 200 and closes. GET /ledger/ID answers 200 with the account's balance and closes the
connection (Connection: close). An unknown account gets 404, a POST whose
body is not JSON 400, and every fifth lookup of a known account 500 (its
store "times out"): the error responses go out through send_error, after
which the handler returns without conn.close(). The socket also stays in
OPEN (the table of connected clients the stats page reads), so it is
never garbage collected: once the client, done with the error response,
closes its end, the server's socket sits in CLOSE_WAIT for good.
"""
import argparse
import json
import logging
import socket
import threading

log = logging.getLogger("ledger-api")
OPEN = {}  # peer address -> socket, for the connected-clients stats
ACCOUNTS = {"1001": 250.00, "1002": 13.40, "1003": 9120.75, "1004": 0.0}
lock = threading.Lock()
lookups = 0


class BadRequest(Exception):
    pass


class NotFound(Exception):
    pass


class StoreTimeout(Exception):
    pass


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    n = int(headers.get("content-length", "0"))
    while len(body) < n:
        body += conn.recv(4096)
    return method, path, body


def respond(conn, status, reason, obj, close):
    body = (json.dumps(obj) + "\n").encode()
    head = "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (status, reason, len(body))
    if close:
        head += "Connection: close\r\n"
    conn.sendall(head.encode() + b"\r\n" + body)


def send_error(conn, status, reason, msg):
    respond(conn, status, reason, {"error": msg}, close=False)


def handle(conn, peer):
    global lookups
    try:
        method, path, body = read_request(conn)
        if path == "/health":
            respond(conn, 200, "OK", {"status": "up"}, close=True)
            conn.close()
            OPEN.pop(peer, None)
            return
        parts = path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "ledger":
            raise NotFound(path)
        acct = parts[1]
        if acct not in ACCOUNTS:
            raise NotFound(acct)
        if method == "POST":
            try:
                ACCOUNTS[acct] += float(json.loads(body)["amount"])
            except (ValueError, KeyError) as e:
                raise BadRequest(str(e))
        with lock:
            lookups += 1
            n = lookups
        if method == "GET" and n % 5 == 0:
            raise StoreTimeout(acct)
        respond(conn, 200, "OK", {"account": acct, "balance": ACCOUNTS[acct]}, close=True)
    except NotFound as e:
        log.error("%s:%d: no account %s", peer[0], peer[1], e)
        send_error(conn, 404, "Not Found", "no such account")
        return  # BUG: missing conn.close() (and OPEN.pop(peer))
    except BadRequest as e:
        log.error("%s:%d: bad entry: %s", peer[0], peer[1], e)
        send_error(conn, 400, "Bad Request", "bad entry")
        return  # BUG: the same
    except StoreTimeout as e:
        log.error("%s:%d: store timed out for %s", peer[0], peer[1], e)
        send_error(conn, 500, "Internal Server Error", "store unavailable")
        return  # BUG: the same
    except ConnectionError:
        pass
    conn.close()
    OPEN.pop(peer, None)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(128)
    log.info("listening on %s:%d", a.host, a.port)
    while True:
        conn, peer = ls.accept()
        OPEN[peer] = conn
        threading.Thread(target=handle, args=(conn, peer), daemon=True).start()


if __name__ == "__main__":
    main()
