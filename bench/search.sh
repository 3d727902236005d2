#!/usr/bin/env bash
# Search at scale (issue 32): a store of N generated disclosure documents
# (examples/search_corpus.rs, the search tests' documents), then
#   1. `govsnap reindex`: documents indexed per second, the index's size
#      against the bytes of the text it indexes (title, metadata, text);
#   2. `govsnap serve` on that store while it crawls a generated site
#      (nginx on loopback, bench/gen_site.py): 1,000 sampled queries through
#      /api/v1/search from 4 clients at once (p50/p99), how long a stored
#      version takes to become searchable, and the service's peak RSS;
#   3. with BASE (a govsnap build without search), the crawl's pages/s with
#      and without the index following it (bench/crawl_ab.sh's method).
#
#   bash bench/search.sh [N] [BASE]      (default N = 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
base=${2:-}
[ -n "$base" ] && base=$(realpath "$base")
. bench/lib.sh   # NGINX, GOVSNAP, $work, serve_site, bench_config
cargo build -q --release --example search_corpus
store=$work/store

echo "== a store of $n documents"
corpus=$(target/release/examples/search_corpus "$n" "$store" "$work/queries.txt")
echo "$corpus"
text_bytes=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["text_bytes"])' "$corpus")

echo "== govsnap reindex"
/usr/bin/time -f '%e s, peak RSS %M KB' "$GOVSNAP" reindex --store "$store" 2>"$work/reindex.log"
cat "$work/reindex.log"
read -r versions secs < <(sed -n 's/.*indexed \([0-9]*\) versions in \([0-9.]*\) s.*/\1 \2/p' "$work/reindex.log")
index_bytes=$(du -sb "$store/index" | cut -f1)
python3 - "$versions" "$secs" "$index_bytes" "$text_bytes" <<'PY'
import sys
v, s, i, t = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(f"indexing: {v / s:,.0f} documents/s; index {i / 1e6:.1f} MB for {t / 1e6:.1f} MB of text: {i / t:.2f}x")
PY

echo "== queries through serve while it crawls (4 clients)"
port=18131
generated_site 20000 "$port" "$work/crawl.toml"
{ echo "store = \"$store\""; bench_config "$port"; echo 'schedule = "every 1h"'; } > "$work/serve.toml"
start_serve "$work/serve.toml" 18132
api=http://127.0.0.1:18132
until curl -sf "$api/api/v1/sites" | grep -q '"crawling":true'; do sleep 0.1; done
python3 bench/search_load.py "$api" "$work/queries.txt" 4 | tee "$work/load.json"
curl -sf "$api/api/v1/sites" | grep -q '"crawling":true' && echo "(the crawl was still running at the end)"
# freshness: how long after the changes feed announces a version a search
# finds it (the version's URL-unique title, quoted)
python3 - "$api" <<'PY'
import json, sys, time, urllib.parse, urllib.request
api = sys.argv[1]
get = lambda p: json.load(urllib.request.urlopen(api + p, timeout=60))
delays = []
def newest():
    last = get("/api/v1/changes?limit=1000")
    while len(last["changes"]) == 1000:
        last = get("/api/v1/changes?limit=1000&since=" + last["next_cursor"])
    return last["next_cursor"]
for _ in range(20):
    # the next version stored from now on (the feed runs ahead of a reader
    # that follows it one by one)
    feed = get(f"/api/v1/changes?wait=30&limit=1&since={newest()}")
    seen = time.perf_counter()
    if not feed["changes"]:
        break
    change = feed["changes"][0]
    if not change.get("title") or change["kind"] != "version":
        continue
    q = urllib.parse.quote('"' + change["title"] + '"')
    while not any(h["url"] == change["url"] for h in get(f"/api/v1/search?versions=all&limit=100&q={q}")["hits"]):
        time.sleep(0.02)
    delays.append(time.perf_counter() - seen)
delays.sort()
if delays:
    print(f"freshness: a stored version searchable after {delays[len(delays)//2]:.2f} s (median of {len(delays)}), {delays[-1]:.2f} s at most")
PY
awk '/VmHWM|RssAnon|RssFile/ {printf "%s %d MB  ", $1, $2 / 1024} END {print "(serve: index open, crawling, 4 clients; RssFile: the binary and the index files it maps, its term dictionaries and columns)"}' /proc/"$SERVE_PID"/status
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || true

if [ -n "$base" ]; then
  echo "== crawl pages/s: $base (no index) vs $GOVSNAP (index following)"
  bash bench/crawl_ab.sh "$base" "$GOVSNAP" 10000 3
fi
