"""portfolio-sync: refreshes a portfolio's quotes from quote-api with
http.client, one request per connection, through a small pool that tracks
the connections it has handed out.

The bug: fetch_quote returns on an error status (raises QuoteError) without
resp.close() or pool.release(conn), and fetch_history returns on a read
timeout the same way. The connection stays referenced from
pool.in_flight, so it is never garbage-collected and never closed: when
quote-api closes its side, the socket stays in CLOSE_WAIT, with the unread
error body in its receive queue. Successful quotes are read and released
(closed), as they should be.

SIGUSR1 prints every thread's stack (faulthandler) to stderr.
"""
import argparse
import faulthandler
import http.client
import json
import logging
import signal
import sys
import time

log = logging.getLogger("portfolio-sync")


class QuoteError(Exception):
    def __init__(self, symbol, status):
        super().__init__("quote %s: HTTP %d" % (symbol, status))
        self.symbol, self.status = symbol, status


class Pool:
    """Hands out HTTP connections to one host and keeps the ones in use."""

    def __init__(self, host, port, timeout):
        self.host, self.port, self.timeout = host, port, timeout
        self.in_flight = {}

    def acquire(self):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.in_flight[id(conn)] = conn
        return conn

    def release(self, conn):
        self.in_flight.pop(id(conn), None)
        conn.close()


def fetch_quote(pool, symbol):
    conn = pool.acquire()
    conn.request("GET", "/quote/" + symbol)
    resp = conn.getresponse()
    if resp.status != 200:
        raise QuoteError(symbol, resp.status)  # BUG: resp and conn are never closed
    body = resp.read()
    pool.release(conn)
    return json.loads(body)


def fetch_history(pool, symbol):
    conn = pool.acquire()
    try:
        conn.request("GET", "/history/" + symbol)
        resp = conn.getresponse()
    except TimeoutError:
        log.warning("history %s: timed out, skipping", symbol)
        return None  # BUG: conn is never closed
    body = resp.read()
    pool.release(conn)
    return body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rounds", type=int, default=8)
    args = ap.parse_args()
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
    pool = Pool("127.0.0.1", args.port, timeout=1.0)
    portfolio = ["ACME", "GLOBX", "INITECH", "UMBRL", "HOOLI", "ACME", "GLOBX"]
    for r in range(args.rounds):
        for symbol in portfolio + (["WAYNE"] if r % 3 == 1 else []):
            try:
                q = fetch_quote(pool, symbol)
                log.info("quote %s %.2f", symbol, q["price"])
            except QuoteError as e:
                log.error("%s, skipping", e)
            time.sleep(0.1)
        if r % 4 == 3:
            fetch_history(pool, "ACME")
        log.info("round %d done, %d connections in flight", r, len(pool.in_flight))
        sys.stdout.flush()
    log.info("sync done; idle until the next schedule")
    sys.stdout.flush()
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
