#!/usr/bin/python3
"""A well-behaved client of ledger-api: one http.client connection per
request, the response read to its end, then closed, whatever the status."""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from http_client import call  # noqa: E402  (testdata/gen/http_client.py)


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
