#!/usr/bin/python3
"""A well-behaved client of ledger-api making only a handful of requests:
one http.client connection per request, the response read to its end, then
closed, whatever the status. Two lookups succeed, three fail."""
import argparse
import http.client
import time


def call(port, method, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        data = resp.read()
        print("%s %s -> %d %s" % (method, path, resp.status, data.decode().strip()), flush=True)
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    for path in ["/ledger/1001", "/ledger/2001", "/ledger/1002", "/ledger/3001", "/ledger/4001"]:
        call(a.port, "GET", path)
        time.sleep(0.2)
    print("ledger done", flush=True)


if __name__ == "__main__":
    main()
