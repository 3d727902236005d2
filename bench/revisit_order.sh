#!/usr/bin/env bash
# New documents first, and time-boxed revisits (issue 17's figures):
#   bash bench/revisit_order.sh [ARTICLES] [DELAY_MS] [BOX]     (default: 10000 10 12s)
# A generated site (bench/gen_site.py, lists newest first) served by nginx on
# loopback is crawled once in full; then 20 articles are published and the
# site is crawled again at one request per DELAY_MS with max_crawl_time =
# BOX, every known document due (revisit_min = 1s), crawl after crawl until
# a crawl ends by itself. Prints when the last new article was fetched
# (seconds and requests after the first request of the recrawl), and how
# many crawls the full revisit took. Installs nginx if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
articles=${1:-10000}
delay_ms=${2:-10}
box=${3:-12s}
. bench/lib.sh   # NGINX, GOVSNAP, $work, serve_site
port=18083
python3 bench/gen_site.py "$articles" "$work/site" --newest-first >/dev/null
serve_site "$port"
site() {
  cat <<CONF
[crawl]
user_agent = "govsnap-bench"
concurrency = 32
per_host_concurrency = $1
per_host_delay_ms = $2
respect_robots = false
$(bench_site "$port")
revisit_min = "1s"
$3
CONF
}
site 32 0 "" > "$work/first.toml"
"$GOVSNAP" crawl --config "$work/first.toml" --store "$work/store" --format json > "$work/first.json"
echo "first crawl: $(cut -c1-160 "$work/first.json")"
# 20 new articles, on the first list page
python3 bench/gen_site.py $((articles + 20)) "$work/site" --newest-first >/dev/null
chmod -R a+rX "$work/site"
sleep 1   # every document due (revisit_min = 1s)
: > "$work/logs/access.log"
site 1 "$delay_ms" "max_crawl_time = \"$box\"" > "$work/boxed.toml"
crawls=0
while :; do
  crawls=$((crawls + 1))
  "$GOVSNAP" crawl --config "$work/boxed.toml" --store "$work/store" --format json > "$work/boxed.json"
  [ "$crawls" -eq 1 ] && cp "$work/logs/access.log" "$work/logs/first-boxed.log"
  grep -q '"stopped":null' "$work/boxed.json" && break
  [ "$crawls" -ge 100 ] && { echo "no end after 100 crawls" >&2; exit 1; }
done
python3 - "$work/logs/first-boxed.log" "$articles" "$crawls" "$delay_ms" "$box" <<'PY'
import sys
log, articles, crawls, delay_ms, box = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rows = [line.split() for line in open(log)]
t0 = float(rows[0][0])
new = {f"_{100000 + i}.html" for i in range(articles, articles + 20)}
hits = [(n, float(t) - t0) for n, (t, uri) in enumerate(rows, 1) if any(uri.endswith(s) for s in new)]
lists = sum(1 for _, uri in rows if "/index" in uri)
print(f"{articles} articles, 20 new, one request per {delay_ms} ms, max_crawl_time {box}: "
      f"{len(hits)} new articles fetched by the first time-boxed crawl, the last at request {hits[-1][0]} "
      f"({hits[-1][1]:.2f} s after the crawl's first request; {lists} list pages fetched in that crawl); "
      f"the full revisit took {crawls} crawls")
PY
