#!/usr/bin/env bash
# Store economy (issue 16): what a store costs against the HTML it holds.
# Crawls a generated site (nginx on loopback) into a new store, then
# recrawls it unchanged ROUNDS times; after each crawl prints `govsnap
# stats` (where the bytes go, tree by tree) and the store's size against
# the site's HTML and against gzip of each page on its own (what a
# WARC.gz of the raw pages costs).
#
#   bash bench/store_size.sh [ARTICLES] [ROUNDS] [--heavy] [--varied]
#   (default 2000 2; --heavy: pages with a real site's 28 KB template;
#   --varied: bodies of 2,000 characters that do not repeat, see
#   bench/gen_site.py; GOVSNAP=BIN measures another build)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}; rounds=${2:-2}
. bench/lib.sh   # NGINX, GOVSNAP, $work, serve_site, bench_config
port=18098

generated_site "$n" "$port" "$work/size.toml" "${@:3}"
read -r html gz pages <<<"$(python3 - "$work/site" <<'PY'
import gzip, os, sys
html = gz = pages = 0
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        if f.endswith('.html'):
            b = open(os.path.join(root, f), 'rb').read()
            html += len(b); gz += len(gzip.compress(b, 6)); pages += 1
print(html, gz, pages)
PY
)"
printf 'site: %s pages, %.1f MB of HTML, gzip per page %.1f MB (%.3fx)\n' \
  "$pages" "$(echo "$html/1000000" | bc -l)" "$(echo "$gz/1000000" | bc -l)" "$(echo "$gz/$html" | bc -l)"

size() { "$GOVSNAP" stats --store "$work/store" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["disk_bytes"])'; }
# the archive alone: the search index is rebuilt from it (govsnap reindex)
archive() { "$GOVSNAP" stats --store "$work/store" --format json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["disk_bytes"] - s.get("index_bytes", 0))'; }
t0=$(date +%s.%N)
"$GOVSNAP" crawl --config "$work/size.toml" --format json >/dev/null
t1=$(date +%s.%N)
printf 'first crawl: %.2f s, %.0f pages/s\n' "$(echo "$t1 - $t0" | bc -l)" "$(echo "$pages / ($t1 - $t0)" | bc -l)"
first=$(size)
printf 'first crawl: store %.1f MB = %.3fx the HTML\n' "$(echo "$first/1000000" | bc -l)" "$(echo "$first/$html" | bc -l)"
kept=$(archive)
printf 'first crawl: archive without the search index %.1f MB = %.3fx the HTML\n' "$(echo "$kept/1000000" | bc -l)" "$(echo "$kept/$html" | bc -l)"
"$GOVSNAP" stats --store "$work/store"
before=$first
for r in $(seq "$rounds"); do
  "$GOVSNAP" crawl --config "$work/size.toml" --full --format json >/dev/null
  after=$(size)
  printf 'unchanged recrawl %s: +%s bytes = %.1f bytes per page\n' "$r" "$((after - before))" "$(echo "($after - $before)/$pages" | bc -l)"
  before=$after
done
"$GOVSNAP" stats --store "$work/store"
