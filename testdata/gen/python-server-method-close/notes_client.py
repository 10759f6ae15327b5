#!/usr/bin/python3
"""A well-behaved client of notes-api: one http.client connection per
request, the response read to its end, then closed."""
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
    plan = []
    for i in range(12):
        plan.append(("POST", "/notes", json.dumps({"text": "note %d" % i}).encode()))
        if i % 2 == 1:
            plan.append(("GET", "/notes/%d" % (i // 2 + 1), None))
    for method, path, body in plan:
        call(a.port, method, path, body)
        time.sleep(0.2)
    print("notes done", flush=True)


if __name__ == "__main__":
    main()
