#!/usr/bin/env bash
# Reads while a crawl runs (issue 12): p50/p99 latency of `history`,
# `record` and `changes` from a running `govsnap serve` while it crawls a
# generated site at full speed (nginx on loopback, no delay), and the
# crawl's pages/s with and without a reader sending a steady 100 requests/s.
#
#   bash bench/serve_latency.sh [ROUNDS] [ARTICLES] [RATE]   (default 3 20000 100)
#
# Each round crawls into a new store twice, alternating: once with nobody
# reading, once with bench/serve_load.py reading at RATE/s. pages/s is the
# site's documents over the crawl's own start and end (its crawl record).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; n=${2:-20000}; rate=${3:-100}
. bench/lib.sh   # NGINX, GOVSNAP, $work, serve_site, bench_config, start_serve
port=18090; api=18791

generated_site "$n" "$port" "$work/serve.toml"

# one crawl through the service; writes "SECONDS DOCUMENTS" to $work/result
crawl_once() {  # $1: with readers (1) or not (0)
  rm -rf "$work/store" "$work/stop"
  start_serve "$work/serve.toml" "$api"
  local pid=$SERVE_PID
  curl -sf -X POST -H "Authorization: Bearer $(cat "$work/store/serve.token")" \
    "http://127.0.0.1:$api/api/v1/sites/bench/crawl" >/dev/null
  if [ "$1" = 1 ]; then
    # its CPU is on the same cores as the crawl's: counted, and reported
    /usr/bin/time -f "    the reader itself: %U s user + %S s system CPU" -a -o "$work/load.txt" \
      python3 bench/serve_load.py "http://127.0.0.1:$api" "$rate" "$work/stop" > "$work/load.txt" &
    loader=$!
  fi
  until curl -sf "http://127.0.0.1:$api/api/v1/sites" | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]
sys.exit(0 if not s["crawling"] and s["last_crawl"] and s["last_crawl"]["finished"] else 1)'; do sleep 0.2; done
  touch "$work/stop"
  if [ "$1" = 1 ]; then wait "$loader"; fi
  curl -sf "http://127.0.0.1:$api/api/v1/sites" | python3 -c '
import json, sys, datetime
s = json.load(sys.stdin)[0]; c = s["last_crawl"]
t = lambda x: datetime.datetime.fromisoformat(x.replace("Z", "+00:00"))
secs = (t(c["finished"]) - t(c["started"])).total_seconds()
docs = c["summary"]["documents"]
print(f"{secs:.2f} {docs}")' > "$work/result"
  kill -TERM "$pid"; wait "$pid"
}

echo "govsnap serve: $n articles, crawl at full speed, readers at $rate requests/s"
for r in $(seq "$rounds"); do
  crawl_once 0; read -r s0 d0 < "$work/result"
  crawl_once 1; read -r s1 d1 < "$work/result"
  printf 'round %d: alone %6.2f s %6.0f pages/s | with readers %6.2f s %6.0f pages/s (%+.1f %%)\n' \
    "$r" "$s0" "$(echo "$d0 / $s0" | bc -l)" "$s1" "$(echo "$d1 / $s1" | bc -l)" \
    "$(echo "($d1 / $s1) / ($d0 / $s0) * 100 - 100" | bc -l)"
  sed 's/^/    /' "$work/load.txt"
done
