#!/usr/bin/env bash
# Archives in and out (issue 31): a generated site (bench/gen_site.py,
# nginx on loopback) crawled by `wget --warc-file`; the same captures as an
# ARC (each WARC response written as an ARC v1 record, gzip per record);
# `govsnap ingest` of each, records/s and MB/s beside `warcio index` of the
# same file; `govsnap export --format wacz` of the store; and `govsnap
# ingest --cdx` of the site's captures from pywb (its CDX API and replay,
# delay 0): requests/s and peak RSS. Python tools pinned as the tests pin
# them (scripts/test-requirements.txt), in a virtualenv under the work dir.
#
#   bash bench/archives.sh [ARTICLES]   (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
. bench/lib.sh   # NGINX, GOVSNAP, $work, serve_site, bench_config
command -v wget >/dev/null || apt-get install -y -q wget >/dev/null
command -v /usr/bin/time >/dev/null || apt-get install -y -q time >/dev/null
port=18096
python3 bench/gen_site.py "$n" "$work/site" >/dev/null
serve_site "$port"
(cd "$work" && wget -q -r -l inf -np -P mirror --warc-file=site "http://127.0.0.1:$port/gk/index.html" || true)
warc="$work/site.warc.gz"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check -r scripts/test-requirements.txt

# the same captures as an ARC v1 file, gzip per record
"$work/venv/bin/python" - "$warc" "$work/site.arc.gz" <<'PY'
import gzip, sys
from warcio.archiveiterator import ArchiveIterator
out = open(sys.argv[2], "wb")
desc = b"1 0 govsnap-bench\nURL IP-address Archive-date Content-type Archive-length\n"
def record(url, date, ctype, block):
    head = b"%s 127.0.0.1 %s %s %d\n" % (url, date, ctype, len(block))
    out.write(gzip.compress(head + block + b"\n"))
record(b"filedesc://site.arc", b"20240101000000", b"text/plain", desc)
for r in ArchiveIterator(open(sys.argv[1], "rb")):
    if r.rec_type != "response":
        continue
    block = r.content_stream().read()
    head = r.http_headers.to_bytes() if r.http_headers else b""
    date = r.rec_headers.get_header("WARC-Date")[:19].replace("-", "").replace("T", "").replace(":", "").encode()
    ctype = (r.http_headers.get_header("Content-Type") or "text/html").split(";")[0].encode()
    record(r.rec_headers.get_header("WARC-Target-URI").encode(), date, ctype, head + block)
PY

count() { "$work/venv/bin/warcio" index "$1" | grep -c '"warc-type": "response"' || true; }
for file in "$warc" "$work/site.arc.gz"; do
  mb=$(echo "$(stat -c %s "$file") / 1000000" | bc -l)
  records=$(count "$file")
  rm -rf "$work/store"
  /usr/bin/time -f '%e %M' -o "$work/time.txt" \
    "$GOVSNAP" ingest --store "$work/store" --format json "$file" > "$work/summary.json"
  read -r secs rss < "$work/time.txt"
  start=$(date +%s.%N)
  "$work/venv/bin/warcio" index "$file" > /dev/null
  w=$(echo "$(date +%s.%N) - $start" | bc -l)
  printf '%s: %.1f MB, %s captures: govsnap ingest %.2f s (%.0f records/s, %.1f MB/s, peak RSS %d MB; %s)  warcio index %.2f s (%.0f records/s)\n' \
    "$(basename "$file")" "$mb" "$records" "$secs" "$(echo "$records / $secs" | bc -l)" "$(echo "$mb / $secs" | bc -l)" \
    "$((rss / 1024))" "$(cut -c1-100 "$work/summary.json")" "$w" "$(echo "$records / $w" | bc -l)"
done

/usr/bin/time -f '%e %M' -o "$work/time.txt" \
  "$GOVSNAP" export --store "$work/store" --format wacz -o "$work/site.wacz" 2>/dev/null
read -r secs rss < "$work/time.txt"
printf 'export --format wacz: %.2f s, %.1f MB, peak RSS %d MB\n' \
  "$secs" "$(echo "$(stat -c %s "$work/site.wacz") / 1000000" | bc -l)" "$((rss / 1024))"
"$work/venv/bin/wacz" validate -f "$work/site.wacz" >/dev/null && echo "  wacz validate: valid"

# the site's past from pywb
mkdir -p "$work/pywb" && cd "$work/pywb"
"$work/venv/bin/wb-manager" init bench >/dev/null 2>&1
"$work/venv/bin/wb-manager" add bench "$warc" >/dev/null 2>&1
wbport=18095
"$work/venv/bin/wayback" -p "$wbport" -b 127.0.0.1 >/dev/null 2>&1 &
wb=$!
trap 'kill $wb 2>/dev/null; kill $(cat "$work/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
until curl -s -o /dev/null "http://127.0.0.1:$wbport/"; do sleep 0.2; done
printf 'store = "%s"\n[wayback]\ndelay_ms = 0\n' "$work/cdx-store" > "$work/cdx.toml"
/usr/bin/time -f '%e %M' -o "$work/time.txt" \
  "$GOVSNAP" ingest --config "$work/cdx.toml" --format json --cdx "http://127.0.0.1:$port/gk/" \
  --cdx-server "http://127.0.0.1:$wbport/bench/cdx" --replay "http://127.0.0.1:$wbport/bench/" > "$work/cdx.json" 2>/dev/null
read -r secs rss < "$work/time.txt"
read_pages=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pages_read"])' "$work/cdx.json")
printf 'ingest --cdx from pywb (delay 0): %s captures in %.1f s (%.0f requests/s), peak RSS %d MB; %s\n' \
  "$read_pages" "$secs" "$(echo "($read_pages + 1) / $secs" | bc -l)" "$((rss / 1024))" "$(cat "$work/cdx.json")"
