#!/usr/bin/env bash
# Server time of the browse pages (issue 13) with ARTICLES documents in the
# store: a generated site crawled into a new store, one article changed and
# ingested again (so that it has a diff), then each page fetched ROUNDS times
# from a running `govsnap serve` with curl; prints the median and the
# slowest time to the last byte, per page.
#
#   bash bench/browse_pages.sh [ARTICLES] [ROUNDS]   (default 100000 20)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}; rounds=${2:-20}
. bench/lib.sh   # NGINX, GOVSNAP, $work, serve_site, bench_config, start_serve
port=18095; api=18796

generated_site "$n" "$port" "$work/browse.toml"
start=$(date +%s.%N)
"$GOVSNAP" crawl --config "$work/browse.toml" >/dev/null
printf 'crawled %s articles in %.0f s; store %s\n' "$n" "$(echo "$(date +%s.%N) - $start" | bc -l)" "$(du -sh "$work/store" | cut -f1)"

# one article changed, for a diff
article=$(cd "$work/site" && find gk -name 't*.html' | sort | sed -n 50p)
url="http://127.0.0.1:$port/$article"
sed 's/各单位要高度重视/各单位务必高度重视/' "$work/site/$article" > "$work/changed.html"
"$GOVSNAP" ingest --config "$work/browse.toml" --url "$url" "$work/changed.html" >/dev/null

start_serve "$work/browse.toml" "$api"
pid=$SERVE_PID
base="http://127.0.0.1:$api"
enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$url")
before=$(curl -sf "$base/api/v1/changes?limit=1000" | python3 -c 'import json, sys; print(json.load(sys.stdin)["changes"][500]["cursor"])')

measure() {  # $1: name, $2: path
  local times
  times=$(for _ in $(seq "$rounds"); do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$base$2"
  done)
  if echo "$times" | grep -qv '^200 '; then echo "$1: not 200: $(echo "$times" | sort -u | head -3)" >&2; exit 1; fi
  echo "$times" | awk '{ print $2 * 1000 }' | sort -n | awk -v name="$1" '{ t[NR] = $1 } END {
    printf "%-38s median %7.1f ms   slowest %7.1f ms\n", name, t[int((NR + 1) / 2)], t[NR] }'
}

echo "browse pages, $n documents, $rounds fetches each (curl, loopback):"
measure "/ (sites)" "/"
measure "/site/bench (newest 50)" "/site/bench"
measure "/site/bench?before= (an older page)" "/site/bench?before=$before"
measure "/site/bench?q= (filter on the URL)" "/site/bench?q=t2024"
measure "/site/bench?q= (filter, no match)" "/site/bench?q=%E6%B2%A1%E6%9C%89"
measure "/changes" "/changes"
measure "/page (a document)" "/page?url=$enc"
measure "/diff (its two versions)" "/diff?url=$enc&from=1&to=2"
kill -TERM "$pid"; wait "$pid"
