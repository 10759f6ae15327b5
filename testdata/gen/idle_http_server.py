#!/usr/bin/python3
"""HTTP/1.1 keep-alive server that closes idle connections.

Serves GET /<anything> with a small JSON body (Content-Length set, so the
connection is kept alive) and closes any connection that sends nothing for
--idle seconds, as production servers and load balancers do. Each
connection gets its own thread. Used by the pool-leak fixtures: a client
that never releases its pooled connections is left with them in CLOSE_WAIT.
"""
import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stock-service/1.0"

    def do_GET(self):
        body = json.dumps({"path": self.path, "stock": 42, "pad": "x" * 512}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--idle", type=float, default=2.0)
    a = p.parse_args()
    Handler.timeout = a.idle
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
