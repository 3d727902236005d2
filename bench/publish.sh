#!/usr/bin/env bash
# What publishing to NATS JetStream costs (SPEC §14, issue 34), against a
# local nats-server -js (Debian's) and a generated site on nginx:
#
# 1. throughput: a store of ARTICLES documents (one version each, plus the
#    list pages') crawled without [publish], then `govsnap serve` with
#    [publish] on it: changes/s from its start until the lag is 0;
# 2. the crawl's pages/s with [publish] and without, alternately, ROUNDS
#    times each, CRAWL articles, each into a new store (the time includes
#    the publishing left at the end);
# 3. the lag under a full-speed crawl: `serve` crawling CRAWL articles,
#    govsnap_publish_lag sampled every 100 ms: its mean, its peak, and how
#    long after the crawl's end it reaches 0.
#
#   bash bench/publish.sh [ARTICLES] [CRAWL] [ROUNDS]    (default 20000 10000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}; crawl_n=${2:-10000}; rounds=${3:-3}
. bench/lib.sh   # NGINX, GOVSNAP, $work, serve_site, bench_config, start_serve
if ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then
  apt-get install -y -q nats-server >/dev/null
fi
NATS=$(command -v nats-server || echo /usr/sbin/nats-server)
site_port=18097; nats_port=14222; serve_port=18787

mkdir -p "$work/nats"
"$NATS" -a 127.0.0.1 -p $nats_port -js -sd "$work/nats" -l "$work/nats.log" &
nats_pid=$!
trap 'kill $nats_pid 2>/dev/null || true; kill $(cat "$work/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
until grep -q "Server is ready" "$work/nats.log" 2>/dev/null; do sleep 0.05; done

publish="[publish]
nats = \"nats://127.0.0.1:$nats_port\""
python3 bench/gen_site.py "$n" "$work/site" >/dev/null
serve_site $site_port
config() {   # config FILE STORE [PUBLISH]
  { echo "store = \"$2\""; bench_config $site_port; echo "${3:-}"; } > "$1"
}
metric() { curl -s "http://127.0.0.1:$serve_port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
now() { date +%s.%N; }

# 1. throughput from a stored archive
config "$work/plain.toml" "$work/store"
"$GOVSNAP" crawl --config "$work/plain.toml" --format json >/dev/null
changes=$("$GOVSNAP" stats --store "$work/store" --format json | python3 -c 'import json,sys; print(next(t["entries"] for t in json.load(sys.stdin)["trees"] if t["tree"] == "changes"))')
config "$work/publish.toml" "$work/store" "$publish"
t0=$(now)
start_serve "$work/publish.toml" $serve_port
until [ "$(metric govsnap_publish_lag)" = "0" ]; do sleep 0.02; done
t1=$(now)
rss=$(awk '/VmHWM/ { print $2 / 1024 }' "/proc/$SERVE_PID/status")
kill "$SERVE_PID"; wait "$SERVE_PID" || true
printf 'throughput: %s changes in %.2f s = %.0f changes/s (serve start included), serve peak RSS %.0f MB\n' \
  "$changes" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$changes / ($t1 - $t0)" | bc -l)" "$rss"

# 2. crawl speed with and without publishing
rm -rf "$work/site"; python3 bench/gen_site.py "$crawl_n" "$work/site" >/dev/null
chmod -R a+rX "$work/site"
config "$work/off.toml" "$work/ab-store"
config "$work/on.toml" "$work/ab-store" "$publish"
for r in $(seq "$rounds"); do
  for mode in off on; do
    rm -rf "$work/ab-store"
    t0=$(now)
    "$GOVSNAP" crawl --config "$work/$mode.toml" --format json >/dev/null
    t1=$(now)
    printf 'round %s, publishing %-3s: %.2f s, %.0f pages/s\n' "$r" "$mode" \
      "$(echo "$t1 - $t0" | bc -l)" "$(echo "$crawl_n / ($t1 - $t0)" | bc -l)"
  done
done

# 3. the lag while serve crawls at full speed
rm -rf "$work/store"
config "$work/lag.toml" "$work/store" "$publish"
start_serve "$work/lag.toml" $serve_port
curl -s -o /dev/null -X POST "http://127.0.0.1:$serve_port/api/v1/sites/bench/crawl" \
  -H "Authorization: Bearer $(cat "$work/store/serve.token")"
samples=(); crawling=1
while [ $crawling = 1 ]; do
  samples+=("$(metric govsnap_publish_lag)")
  [ "$(metric 'govsnap_crawling{site="bench"}')" = "0" ] && crawling=0
  sleep 0.1
done
ended=$(now)
until [ "$(metric govsnap_publish_lag)" = "0" ]; do sleep 0.02; done
caught=$(now)
kill "$SERVE_PID"; wait "$SERVE_PID" || true
printf '%s\n' "${samples[@]}" | awk -v tail="$(echo "$caught - $ended" | bc -l)" '
  { s += $1; if ($1 > m) m = $1; n++ }
  END { printf "lag during the crawl: mean %.0f changes, peak %d (%d samples); 0 again %.2f s after the crawl ended\n", s / n, m, n, tail }'
