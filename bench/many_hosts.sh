#!/usr/bin/env bash
# Many polite hosts in one crawl (issue 11's benchmark):
#   bash bench/many_hosts.sh [HOSTS…]          (default: 100 1000)
# N small generated sites (bench/gen_site.py, ARTICLES articles each), each on
# its own loopback address 127.1.x.y (Linux routes all of 127.0.0.0/8 to lo),
# served by one nginx with a `listen` per address that logs $server_addr and
# $msec; one config with a site per host, per_host_concurrency = 1,
# per_host_delay_ms = DELAY_MS (default 2000). Prints wall time, the ideal
# (one host's requests after its first, times the delay), efficiency =
# ideal / wall, requests/s over all hosts, the smallest gap any one host saw
# between two requests, and govsnap's peak RSS; then the same for a recrawl
# of the same store with --full (conditional requests, every URL known). Installs nginx
# if missing. NO_TEMPLATE=1: every site carries its own `allow` (its host)
# and `documents`, as a generated or hand-kept config does, no template.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts_list=("${@:-100 1000}")
[ ${#hosts_list[@]} -eq 1 ] && read -r -a hosts_list <<< "${hosts_list[0]}"
articles=${ARTICLES:-10}
delay_ms=${DELAY_MS:-2000}

. bench/lib.sh   # NGINX, GOVSNAP, $work
port=18081
# a connection per host on both sides: more than the usual 1,024 files
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

site="$work/site"
python3 bench/gen_site.py "$articles" "$site" >/dev/null
chmod -R a+rX "$work"   # nginx's workers run as an unprivileged user
mkdir -p "$work/logs"

addr() { echo "127.1.$(( $1 / 200 )).$(( $1 % 200 + 1 ))"; }

for n in "${hosts_list[@]}"; do
  {
    echo "worker_processes 1; worker_rlimit_nofile 65536; pid $work/nginx.pid; error_log $work/logs/error.log;"
    echo "events { worker_connections 16384; }"
    echo "http { types { text/html html; } sendfile on; keepalive_requests 100000;"
    echo "  log_format gaps '\$server_addr \$msec \$status \$request_uri';"
    echo "  access_log $work/logs/access-$n.log gaps;"
    echo "  server { root $site;"
    for i in $(seq 0 $((n - 1))); do echo "    listen $(addr "$i"):$port;"; done
    echo "  } }"
  } > "$work/nginx.conf"
  kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true; sleep 0.3
  "$NGINX" -c "$work/nginx.conf" -p "$work" || { echo "nginx did not start" >&2; exit 1; }
  sleep 0.3
  {
    echo "[crawl]"
    echo "user_agent = \"govsnap-bench\""
    echo "concurrency = 32"
    echo "per_host_concurrency = 1"
    echo "per_host_delay_ms = $delay_ms"
    if [ -n "${NO_TEMPLATE:-}" ]; then
      for i in $(seq 0 $((n - 1))); do
        printf '[[site]]\nname = "host-%d"\nseeds = ["http://%s:%d/gk/index.html"]\n' "$i" "$(addr "$i")" "$port"
        printf 'allow = ["^http://%s:%d/"]\n' "$(addr "$i" | sed 's/\./\\\\./g')" "$port"
        printf 'documents = ["/t\\\\d{8}_\\\\d+\\\\.html$"]\nmax_depth = 100\n'
      done
    else
      echo "[[template]]"
      echo "name = \"bench\""
      echo "documents = [\"/t\\\\d{8}_\\\\d+\\\\.html\$\"]"
      echo "max_depth = 100"
      for i in $(seq 0 $((n - 1))); do
        printf '[[site]]\nname = "host-%d"\ntemplate = "bench"\nseeds = ["http://%s:%d/gk/index.html"]\n' "$i" "$(addr "$i")" "$port"
      done
    fi
  } > "$work/crawl-$n.toml"
  rm -rf "$work/store"
  for pass in crawl recrawl; do
  : > "$work/logs/access-$n.log"; kill -USR1 "$(cat "$work/nginx.pid")"; sleep 0.2
  # the recrawl revisits every document (--full): they were fetched a minute ago
  full=""; [ "$pass" = recrawl ] && full="--full"
  /usr/bin/time -v -o "$work/time.txt" ${WRAP:-} "$GOVSNAP" crawl --config "$work/crawl-$n.toml" --store "$work/store" --format json $full > "$work/summary.json"
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {split($2,t,":"); s=0; for(i=1;i<=length(t);i++) s=s*60+t[i]; print s}' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  python3 - "$work/logs/access-$n.log" "$wall" "$delay_ms" "$rss" "$n" "$work/summary.json" "$pass" <<'PY'
import sys, json, collections
log, wall, delay_ms, rss, n, summary = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
times = collections.defaultdict(list)
for line in open(log):
    addr, msec, status, uri = line.split()[:4]
    times[addr].append(float(msec))
per_host = [len(t) for t in times.values()]
gaps = [b - a for t in times.values() for a, b in zip(sorted(t), sorted(t)[1:])]
requests = sum(per_host)
most = max(per_host)
ideal = (most - 1) * delay_ms / 1000
sites = [json.loads(l) for l in open(summary)]
stored = sum(s["new_versions"] for s in sites)
unchanged = sum(s["unchanged"] + s["not_modified"] for s in sites)
errors = sum(s["errors"] for s in sites)
unreached = sum(1 for s in sites if s["error"])
print(f"hosts={n} {sys.argv[7]}: {requests} requests ({min(per_host)}-{most} per host), {stored} new versions, {unchanged} unchanged, "
      f"{errors} errors, {unreached} sites unreached; wall {wall:.1f} s, ideal {ideal:.1f} s, "
      f"efficiency {ideal / wall:.2f}, {requests / wall:.0f} requests/s, "
      f"smallest gap {min(gaps):.3f} s ({min(gaps) / (delay_ms / 1000):.3f} x delay), peak RSS {rss // 1024} MB")
PY
  done
done
