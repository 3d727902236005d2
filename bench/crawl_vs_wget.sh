#!/usr/bin/env bash
# Crawl throughput against wget -r, in the same run, on a generated
# government site served by nginx on loopback (issue 4's benchmark):
#   bash bench/crawl_vs_wget.sh [ROUNDS] [SIZES…]     (default: 3 rounds, 5000 20000)
# Prints pages/s for govsnap (no delay, concurrency 32; it also decodes,
# cleans, structures and stores every page) and for wget (fetch and save
# only), their ratio, and govsnap's peak RSS. Installs nginx if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; shift || true
sizes=("${@:-5000 20000}")
[ ${#sizes[@]} -eq 1 ] && read -r -a sizes <<< "${sizes[0]}"

. bench/lib.sh   # NGINX, GOVSNAP, $work
command -v wget >/dev/null || apt-get install -y -q wget >/dev/null
port=18080

for n in "${sizes[@]}"; do
  site="$work/site-$n"
  python3 bench/gen_site.py "$n" "$site" >/dev/null
  chmod -R a+rX "$work"   # nginx's workers run as an unprivileged user
  mkdir -p "$work/nginx-logs"
  cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 100000;
  types { text/html html; }
  server { listen 127.0.0.1:$port; root $site; }
}
CONF
  kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true; sleep 0.3
  "$NGINX" -c "$work/nginx.conf" -p "$work" || { echo "nginx did not start (is port $port in use?)" >&2; exit 1; }
  sleep 0.3
  cat > "$work/crawl.toml" <<CONF
$(bench_config "$port")
allow = ["^http://127\\\\.0\\\\.0\\\\.1:$port/gk/"]
CONF
  pages=$(( n + (n + 19) / 20 ))
  g_total=0; w_total=0; rss_max=0; cpu_total=0
  for r in $(seq "$rounds"); do
    rm -rf "$work/store" "$work/wget"
    /usr/bin/time -v -o "$work/time.txt" "$GOVSNAP" crawl --config "$work/crawl.toml" --store "$work/store" --format json > "$work/summary.json"
    g=$(awk -F': ' '/Elapsed \(wall clock\)/ {split($2,t,":"); s=0; for(i=1;i<=length(t);i++) s=s*60+t[i]; print s}' "$work/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
    # CPU seconds (user + system): steadier than wall clock on a shared VM
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$work/time.txt")
    cpu_total=$(echo "$cpu_total + $cpu" | bc -l)
    start=$(date +%s.%N)
    wget -q -r -l inf -np -nH -P "$work/wget" "http://127.0.0.1:$port/gk/index.html" || true
    w=$(echo "$(date +%s.%N) - $start" | bc -l)
    printf 'n=%-6s round %d: govsnap %6.2f s (CPU %.2f s; %s)  wget %6.2f s  govsnap peak RSS %s KB\n' "$n" "$r" "$g" "$cpu" "$(tr -d '\n' < "$work/summary.json" | cut -c1-100)" "$w" "$rss"
    g_total=$(echo "$g_total + $g" | bc -l); w_total=$(echo "$w_total + $w" | bc -l)
    [ "$rss" -gt "$rss_max" ] && rss_max=$rss
  done
  echo "n=$n: $pages pages; govsnap $(echo "$pages * $rounds / $g_total" | bc -l | cut -c1-7) pages/s, wget $(echo "$pages * $rounds / $w_total" | bc -l | cut -c1-7) pages/s, ratio $(echo "$w_total / $g_total" | bc -l | cut -c1-5), govsnap peak RSS $((rss_max / 1024)) MB, govsnap CPU $(echo "1000 * $cpu_total / ($pages * $rounds)" | bc -l | cut -c1-5) ms/page"
done
