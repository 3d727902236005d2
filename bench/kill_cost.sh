#!/usr/bin/env bash
# What a kill -9 costs a polite crawl (issue 11, "stored in time"):
#   bash bench/kill_cost.sh [SECONDS] [DELAY_MS]     (default: 10 s, 200 ms = 5 pages/s)
# Crawls a generated site served by nginx on loopback at one request per
# DELAY_MS, kills govsnap with SIGKILL after SECONDS, and prints how many
# articles the server had sent, how many the store kept, and how many
# seconds of fetching that loss is. Installs nginx if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
delay_ms=${2:-200}
. bench/lib.sh   # NGINX, GOVSNAP, $work, serve_site
port=18082
python3 bench/gen_site.py 2000 "$work/site" >/dev/null
serve_site "$port"
cat > "$work/crawl.toml" <<CONF
[crawl]
user_agent = "govsnap-bench"
per_host_concurrency = 1
per_host_delay_ms = $delay_ms
$(bench_site "$port")
CONF
"$GOVSNAP" crawl --config "$work/crawl.toml" --store "$work/store" >/dev/null 2>&1 &
pid=$!
sleep "$seconds"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
sent=$(grep -c '/t[0-9]\{8\}_[0-9]*\.html' "$work/logs/access.log" || true)
kept=$("$GOVSNAP" pages --store "$work/store" --format json | wc -l)
lost=$((sent - kept))
echo "killed after ${seconds} s at one request per ${delay_ms} ms: ${sent} articles sent, ${kept} kept, ${lost} lost ($(echo "$lost * $delay_ms / 1000" | bc -l | cut -c1-4) s of fetching)"
