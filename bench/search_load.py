#!/usr/bin/env python3
"""Ask a running govsnap serve the queries of a file, from several clients at
once, and print the latency of each answer's round trip.

  python3 bench/search_load.py BASE QUERIES [CLIENTS]

Each client keeps one HTTP connection and asks its share of the queries in
turn. Prints one JSON line: queries, errors, p50/p90/p99/max in ms, and the
hits found in all.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

base, path = sys.argv[1], sys.argv[2]
clients = int(sys.argv[3]) if len(sys.argv) > 3 else 4
queries = [q.strip() for q in open(path, encoding="utf-8") if q.strip()]
host = urllib.parse.urlparse(base).netloc
latencies, errors, hits = [], [0], [0]
lock = threading.Lock()


def client(share):
    conn = http.client.HTTPConnection(host, timeout=60)
    for q in share:
        url = "/api/v1/search?limit=20&q=" + urllib.parse.quote(q)
        t0 = time.perf_counter()
        conn.request("GET", url)
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - t0) * 1000
        with lock:
            latencies.append(elapsed)
            if response.status != 200:
                errors[0] += 1
            else:
                hits[0] += json.loads(body)["total"]


threads = [threading.Thread(target=client, args=(queries[i::clients],)) for i in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
latencies.sort()
pct = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p))]
print(json.dumps({
    "queries": len(latencies), "errors": errors[0], "clients": clients,
    "p50_ms": round(pct(0.50), 1), "p90_ms": round(pct(0.90), 1),
    "p99_ms": round(pct(0.99), 1), "max_ms": round(latencies[-1], 1),
    "total_hits": hits[0],
}))
