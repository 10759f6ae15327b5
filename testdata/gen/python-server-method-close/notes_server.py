#!/usr/bin/python3
"""notes-api: a small HTTP/1.1 server on raw sockets whose keep-alive path
skips close() when the client goes away.

POST /notes stores a note, answers 201 with Connection: close and closes
the connection. GET /notes/ID answers 200 and keeps the connection alive
for the client's next request: the handler waits for it with recv(), and
when the client closes instead (recv returns b""), it returns without
conn.close(). The socket stays in CLIENTS (the table of connected clients
the stats page reads), so it is never garbage collected: every GET whose
client closes after its answer leaves the server's socket in CLOSE_WAIT.
Every status is a success; what decides the close is the method.
"""
import argparse
import json
import logging
import socket
import threading

log = logging.getLogger("notes-api")
CLIENTS = {}  # peer address -> socket, for the connected-clients stats
NOTES = {"1": "buy milk", "2": "call the vet", "3": "renew the certificate"}
lock = threading.Lock()


def read_request(conn, pending):
    data = pending
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = conn.recv(4096)
        if not chunk:
            return None, b""
        rest += chunk
    return (method, path, rest[:n]), rest[n:]


def respond(conn, status, reason, obj, close):
    body = (json.dumps(obj) + "\n").encode()
    head = "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (status, reason, len(body))
    head += "Connection: close\r\n" if close else "Connection: keep-alive\r\n"
    conn.sendall(head.encode() + b"\r\n" + body)


def handle(conn, peer):
    pending = b""
    while True:
        req, pending = read_request(conn, pending)
        if req is None:
            # The client closed its keep-alive connection.
            log.info("%s:%d: client went away", peer[0], peer[1])
            return  # BUG: missing conn.close() (and CLIENTS.pop(peer))
        method, path, body = req
        if method == "POST" and path == "/notes":
            with lock:
                nid = str(len(NOTES) + 1)
                NOTES[nid] = json.loads(body)["text"]
            respond(conn, 201, "Created", {"id": nid}, close=True)
            conn.close()
            CLIENTS.pop(peer, None)
            return
        nid = path.rsplit("/", 1)[-1]
        with lock:
            text = NOTES.get(nid, "")
        respond(conn, 200, "OK", {"id": nid, "text": text}, close=False)


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
        CLIENTS[peer] = conn
        threading.Thread(target=handle, args=(conn, peer), daemon=True).start()


if __name__ == "__main__":
    main()
