#!/usr/bin/env bash
# Two govsnap builds crawling the same generated site (nginx on loopback),
# alternately, ROUNDS times each, each into a new store: seconds, pages/s,
# the store on disk and its raw bytes (`govsnap stats`). For a change that
# must not cost crawl speed (issue 16's targets).
#
#   bash bench/crawl_ab.sh BIN_A BIN_B [ARTICLES] [ROUNDS] [--heavy] [--varied]
#   (default 10000 3; --heavy: a real site's 28 KB template, bench/gen_site.py)
#   e.g. git worktree add /tmp/base main && (cd /tmp/base && cargo build --release)
#        bash bench/crawl_ab.sh /tmp/base/target/release/govsnap target/release/govsnap
set -euo pipefail
a=$(realpath "$1"); b=$(realpath "$2")
cd "$(dirname "$0")/.."
n=${3:-10000}; rounds=${4:-3}
. bench/lib.sh   # NGINX, $work, serve_site, bench_config
port=18099
generated_site "$n" "$port" "$work/ab.toml" "${@:5}"
for r in $(seq "$rounds"); do
  for bin in "$a" "$b"; do
    rm -rf "$work/store"
    t0=$(date +%s.%N)
    "$bin" crawl --config "$work/ab.toml" --format json >/dev/null
    t1=$(date +%s.%N)
    read -r disk raw <<<"$("$bin" stats --store "$work/store" --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["disk_bytes"], sum(t["value_bytes"] for t in d["trees"] if t["tree"] == "raw"))')"
    t2=$(date +%s.%N)
    "$bin" crawl --config "$work/ab.toml" --full --format json >/dev/null
    t3=$(date +%s.%N)
    printf '%s round %s: %.2f s, %.0f pages/s, store %.1f MB, raw %.1f MB; recrawl %.0f pages/s\n' "$bin" "$r" \
      "$(echo "$t1 - $t0" | bc -l)" "$(echo "$n / ($t1 - $t0)" | bc -l)" \
      "$(echo "$disk / 1000000" | bc -l)" "$(echo "$raw / 1000000" | bc -l)" \
      "$(echo "$n / ($t3 - $t2)" | bc -l)"
  done
done
