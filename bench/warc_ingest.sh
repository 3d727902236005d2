#!/usr/bin/env bash
# WARC in and out (issue 14): `govsnap ingest` of the WARC that `wget
# --warc-file` writes of a generated site, then `govsnap export --format
# warc` of the store that made; records/s, MB/s of WARC, peak RSS; and
# `warcio index` reading each file, for scale (warcio in a virtualenv under
# the work directory).
#
#   bash bench/warc_ingest.sh [ARTICLES] [ROUNDS]   (default 5000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5000}; rounds=${2:-3}
. bench/lib.sh   # NGINX, GOVSNAP, $work, serve_site, bench_site
command -v wget >/dev/null || apt-get install -y -q wget >/dev/null
port=18097

python3 bench/gen_site.py "$n" "$work/site" >/dev/null
serve_site "$port"
cat > "$work/warc.toml" <<CONF
$(bench_config "$port")
CONF
(cd "$work" && wget -q -r -l inf -np -P mirror --warc-file=site "http://127.0.0.1:$port/gk/index.html" || true)
warc="$work/site.warc.gz"
mb=$(echo "$(stat -c %s "$warc") / 1000000" | bc -l)
records=$(python3 -c 'import gzip, sys; print(sum(1 for l in gzip.open(sys.argv[1]) if l.startswith(b"WARC-Type:")))' "$warc")
printf 'wget WARC of %s articles: %.1f MB, %s records\n' "$n" "$mb" "$records"

python3 -m venv "$work/venv" && "$work/venv/bin/pip" install -q warcio
for r in $(seq "$rounds"); do
  rm -rf "$work/store"
  /usr/bin/time -f '%e %M' -o "$work/time.txt" \
    "$GOVSNAP" ingest --config "$work/warc.toml" --store "$work/store" --format json "$warc" > "$work/summary.json"
  read -r secs rss < "$work/time.txt"
  start=$(date +%s.%N)
  "$work/venv/bin/warcio" index "$warc" > /dev/null
  w=$(echo "$(date +%s.%N) - $start" | bc -l)
  printf 'round %d: govsnap ingest %.2f s (%.0f records/s, %.1f MB/s, peak RSS %d MB; %s)  warcio index %.2f s\n' \
    "$r" "$secs" "$(echo "$records / $secs" | bc -l)" "$(echo "$mb / $secs" | bc -l)" "$((rss / 1024))" \
    "$(cut -c1-90 "$work/summary.json")" "$w"
  rm -f "$work/out.warc.gz"
  /usr/bin/time -f '%e %M' -o "$work/time.txt" \
    "$GOVSNAP" export --config "$work/warc.toml" --store "$work/store" --format warc -o "$work/out.warc.gz" 2>/dev/null
  read -r secs rss < "$work/time.txt"
  out_mb=$(echo "$(stat -c %s "$work/out.warc.gz") / 1000000" | bc -l)
  out_records=$(python3 -c 'import gzip, sys; print(sum(1 for l in gzip.open(sys.argv[1]) if l.startswith(b"WARC-Type:")))' "$work/out.warc.gz")
  start=$(date +%s.%N)
  "$work/venv/bin/warcio" index "$work/out.warc.gz" > /dev/null
  w=$(echo "$(date +%s.%N) - $start" | bc -l)
  printf '         govsnap export %.2f s (%s records, %.1f MB: %.0f records/s, %.1f MB/s, peak RSS %d MB)  warcio index %.2f s\n' \
    "$secs" "$out_records" "$out_mb" "$(echo "$out_records / $secs" | bc -l)" "$(echo "$out_mb / $secs" | bc -l)" "$((rss / 1024))" "$w"
done
