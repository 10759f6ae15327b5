#!/usr/bin/python3
"""catalog-api: the upstream service behind nginx in nginx-upstream-leak.

HTTP/1.1 keep-alive server, one thread per connection (ThreadingHTTPServer).
GET /items/<id> answers at once. GET /export/<id> hands the job to the
export worker and waits for its result without a timeout; the worker
thread died at startup (a bad configuration value), so every export
handler waits forever, holding its connection. nginx gives up after its
proxy_read_timeout and closes the upstream connection: the socket stays in
CLOSE_WAIT here, held by the waiting handler thread.

SIGUSR1 writes every thread's stack to stderr (faulthandler).
"""
import argparse
import faulthandler
import json
import queue
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JOBS = queue.Queue()


def export_worker(batch_size):
    size = int(batch_size)  # "64k" is not an int: the worker dies here
    while True:
        job, done = JOBS.get()
        done.put({"job": job, "rows": size})


def start_export_worker():
    def run():
        try:
            export_worker("64k")
        except ValueError as e:
            print(f"{time.strftime('%H:%M:%S')} export worker died: {e}", file=sys.stderr, flush=True)
    threading.Thread(target=run, name="export-worker", daemon=True).start()


class CatalogHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "catalog-api/2.3"

    def log_message(self, fmt, *args):
        print(f"{time.strftime('%H:%M:%S')} {self.client_address[0]}:{self.client_address[1]} {fmt % args}", file=sys.stderr, flush=True)

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def wait_for_export(self, job):
        done = queue.Queue()
        JOBS.put((job, done))
        return done.get()  # no timeout: waits forever once the worker is gone

    def do_GET(self):
        if self.path.startswith("/items/"):
            self.reply(200, {"id": self.path[7:], "name": "widget", "stock": 12})
        elif self.path.startswith("/export/"):
            self.reply(200, self.wait_for_export(self.path[8:]))
        else:
            self.reply(404, {"error": "not found"})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    start_export_worker()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), CatalogHandler)
    srv.daemon_threads = True
    print(f"{time.strftime('%H:%M:%S')} catalog-api listening on 127.0.0.1:{a.port}", file=sys.stderr, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
