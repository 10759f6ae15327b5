#!/usr/bin/python3
"""A well-behaved HTTP/1.1 client for the fixture generators: one
http.client connection per request, the response read to its end, then
closed, whatever the status; one line per request on stdout.

    http_client.py --port PORT [--gap SECONDS] REQUEST...

Each REQUEST is "METHOD PATH" or "METHOD PATH BODY" (the body sent as
application/json, whatever it holds).
"""
import argparse
import http.client
import time


def call(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        resp = conn.getresponse()
        data = resp.read()
        print("%s %s -> %d %s" % (method, path, resp.status, data.decode().strip()), flush=True)
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--gap", type=float, default=0.2, help="seconds between requests")
    p.add_argument("requests", nargs="+", metavar="REQUEST")
    a = p.parse_args()
    for r in a.requests:
        method, path, *body = r.split(" ", 2)
        call(a.port, method, path, body[0].encode() if body else None)
        time.sleep(a.gap)
    print("done", flush=True)


if __name__ == "__main__":
    main()
