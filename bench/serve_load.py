#!/usr/bin/env python3
"""Read a running `govsnap serve` at a steady rate and report latencies.

  python3 bench/serve_load.py BASE RATE STOPFILE

Sends RATE requests per second in total, on a fixed schedule (open loop:
a slow answer does not slow the schedule down, the next request goes out
on time from another thread), cycling through the reads a downstream tool
makes while following the archive: `changes` from its last cursor, then
`history` and `record` of a page the feed announced. Runs until STOPFILE
exists, then prints one line per endpoint: count, p50, p99, max (ms) and
how many answers were not 200 (404s of a page not yet known count there).
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

base, rate, stopfile = sys.argv[1], float(sys.argv[2]), sys.argv[3]
host = urllib.parse.urlsplit(base).netloc
THREADS = 8
lock = threading.Lock()
urls = []            # pages the feed announced
cursor = [None]      # the feed's next cursor
lat = {"changes": [], "history": [], "record": []}
bad = {k: 0 for k in lat}
start = time.monotonic()
seq = [0]


def next_slot():
    with lock:
        i = seq[0]
        seq[0] += 1
    return i, start + i / rate


def worker():
    conn = http.client.HTTPConnection(host, timeout=30)
    import os
    while not os.path.exists(stopfile):
        i, at = next_slot()
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        kind = ("changes", "history", "record")[i % 3]
        with lock:
            url = urls[i % len(urls)] if urls else None
            since = cursor[0]
        if kind == "changes":
            path = "/api/v1/changes?limit=100" + (f"&since={since}" if since else "")
        elif url is None:
            continue
        else:
            path = f"/api/v1/{kind}?url=" + urllib.parse.quote(url, safe="")
        t0 = time.monotonic()
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, timeout=30)
            bad[kind] += 1
            continue
        ms = (time.monotonic() - t0) * 1000
        with lock:
            lat[kind].append(ms)
            if resp.status != 200:
                bad[kind] += 1
            elif kind == "changes":
                answer = json.loads(body)
                cursor[0] = answer.get("next_cursor") or cursor[0]
                urls.extend(c["url"] for c in answer["changes"][-10:])
                del urls[:-500]


threads = [threading.Thread(target=worker) for _ in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - start
for kind, xs in lat.items():
    xs.sort()
    if not xs:
        print(f"{kind:8} no answers")
        continue
    p = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))]
    print(f"{kind:8} n={len(xs):6d} ({len(xs) / elapsed:5.1f}/s)  p50 {p(0.5):6.2f} ms  "
          f"p99 {p(0.99):6.2f} ms  max {xs[-1]:7.2f} ms  not-200 {bad[kind]}")
