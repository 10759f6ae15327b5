"""quote-api: a small HTTP/1.1 quote service (http.server, keep-alive).

GET /quote/SYM answers 200 with a JSON quote for a known symbol, 404 for an
unknown one (send_error: Connection: close), and 500 for every fourth
request to a known symbol (its pricing backend "times out"), kept alive.
GET /history/SYM is slow: after 2.5 s the service gives up on its backend
and closes the connection without an answer. An idle keep-alive connection
is closed after 2 s (the handler's socket timeout), as servers do.

Well-behaved: it closes every connection it is done with.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KNOWN = {"ACME": 101.25, "GLOBX": 48.10, "INITECH": 12.75, "UMBRL": 230.00, "HOOLI": 77.40}
lock = threading.Lock()
served = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 2  # idle keep-alive connections are closed after 2 s

    def log_message(self, fmt, *args):
        sys.stderr.write("%s quote-api %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), fmt % args))

    def reply(self, code, body):
        # Head and body in one write, so that they leave in one segment.
        data = json.dumps(body).encode()
        self.log_request(code)
        head = "HTTP/1.1 %d %s\r\nServer: quote-api\r\nDate: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (
            code, self.responses[code][0], self.date_time_string(), len(data))
        self.wfile.write(head.encode() + data)

    def do_GET(self):
        global served
        if self.path == "/health":
            self.reply(200, {"status": "ok"})
            return
        parts = self.path.strip("/").split("/")
        if len(parts) != 2:
            self.send_error(404, "no such route")
            return
        kind, sym = parts
        if kind == "history":
            time.sleep(2.5)
            self.log_message("history %s: backend deadline exceeded, closing", sym)
            self.close_connection = True
            return
        if sym not in KNOWN:
            self.send_error(404, "unknown symbol %s" % sym)
            return
        with lock:
            served += 1
            n = served
        if n % 4 == 0:
            self.reply(500, {"error": "pricing backend timeout", "symbol": sym})
            return
        self.reply(200, {"symbol": sym, "price": KNOWN[sym], "seq": n})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
