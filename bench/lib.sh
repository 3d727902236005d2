# Shared set-up for the bench scripts: source it from the repository root.
# Sets NGINX (installing Debian's nginx if missing) and GOVSNAP (a release
# build of this checkout, unless GOVSNAP names a binary: another build to
# compare).
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  apt-get install -y -q nginx >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ -z "${GOVSNAP:-}" ]; then
  cargo build -q --release
  GOVSNAP=$PWD/target/release/govsnap
fi

# A work directory, removed (and its nginx stopped) at exit.
work=$(mktemp -d)
trap 'kill $(cat "$work/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT

# serve_site PORT: serve $work/site on 127.0.0.1:PORT with nginx, logging
# "$msec $request_uri" per request to $work/logs/access.log.
serve_site() {
  chmod -R a+rX "$work"   # nginx's workers run as an unprivileged user
  mkdir -p "$work/logs"
  cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 1024; }
http {
  types { text/html html; }
  log_format t '\$msec \$request_uri';
  access_log $work/logs/access.log t;
  server { listen 127.0.0.1:$1; root $work/site; }
}
CONF
  "$NGINX" -c "$work/nginx.conf" -p "$work"
  sleep 0.3
}

# bench_site PORT: the [[site]] table of a generated site (bench/gen_site.py)
# served on 127.0.0.1:PORT, for a config's heredoc.
bench_site() {
  cat <<CONF
[[site]]
name = "bench"
seeds = ["http://127.0.0.1:$1/gk/index.html"]
documents = ["/t\\\\d{8}_\\\\d+\\\\.html\$"]
max_depth = 100000
CONF
}

# bench_config PORT: a full-speed [crawl] (32 at once, no delay, no
# robots.txt) and the generated site's [[site]] on 127.0.0.1:PORT.
bench_config() {
  cat <<CONF
[crawl]
user_agent = "govsnap-bench"
concurrency = 32
per_host_concurrency = 32
per_host_delay_ms = 0
respect_robots = false
$(bench_site "$1")
CONF
}

# start_serve CONFIG PORT: govsnap serve on 127.0.0.1:PORT, its log in
# $work/serve.log; sets SERVE_PID and returns once serve.json is written
# (the store is the config's, which must be $work/store).
start_serve() {
  "$GOVSNAP" serve --config "$1" --listen "127.0.0.1:$2" >/dev/null 2>"$work/serve.log" &
  SERVE_PID=$!
  until [ -s "$work/store/serve.json" ]; do
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
    sleep 0.05
  done
}

# generated_site ARTICLES PORT CONFIG [GEN_FLAGS…]: a generated site
# (bench/gen_site.py, with GEN_FLAGS such as --heavy) of ARTICLES articles
# in $work/site, served on 127.0.0.1:PORT, and CONFIG: a full-speed crawl of
# it into $work/store.
generated_site() {
  python3 bench/gen_site.py "$1" "$work/site" "${@:4}" >/dev/null
  serve_site "$2"
  cat > "$3" <<CONF
store = "$work/store"
$(bench_config "$2")
CONF
}
