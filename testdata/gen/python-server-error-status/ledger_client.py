#!/usr/bin/python3
"""A well-behaved client of ledger-api: one http.client connection per
request, the response read to its end, then closed, whatever the status."""
import argparse
import http.client
import json
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
    a = p.parse_args()
    plan = [("GET", "/ledger/1001", None)] * 4 + [("GET", "/ledger/2001", None)] + \
        [("GET", "/ledger/1002", None)] * 5 + [("POST", "/ledger/1003", b"{amount: 5}")] + \
        [("GET", "/ledger/1003", None)] * 5 + [("GET", "/ledger/3001", None)] + \
        [("POST", "/ledger/1004", json.dumps({"amount": 12.5}).encode())] * 2
    for method, path, body in plan:
        call(a.port, method, path, body)
        time.sleep(0.2)
    print("ledger done", flush=True)


if __name__ == "__main__":
    main()
