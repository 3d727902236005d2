#!/usr/bin/env bash
# Memory of large attachments (issue 30, SPEC §11 "never held whole in
# memory"): a generated site (bench/gen_site.py, nginx on loopback) of 20
# articles, each linking its own file of SIZE_MB (default 180: over the
# 64 MiB a file's text is read from, so it is streamed to disk, compressed
# from there into the packs, and stored whole) and one 40 MB PDF-headed
# file whose text is read. Prints the crawl's time, MB/s and peak RSS
# (/usr/bin/time -v), and checks that every file was stored.
#
#   bash bench/attachments_large.sh [SIZE_MB]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-180}
. bench/lib.sh   # NGINX, GOVSNAP, $work, serve_site, bench_config
port=18098
command -v /usr/bin/time >/dev/null || apt-get install -y -q time >/dev/null
python3 bench/gen_site.py 20 "$work/site" >/dev/null
python3 - "$work/site" "$size" <<'PY'
import glob, os, sys
site, size = sys.argv[1], int(sys.argv[2]) * 1_000_000
# noise and text, as a scanned report is: about 2:1 under zstd
block = os.urandom(1 << 20) + "第一章 总则 统计数据 ".encode() * 20000
articles = sorted(glob.glob(os.path.join(site, "**", "t*.html"), recursive=True))
for i, article in enumerate(articles):
    n = size if i else 40_000_000
    name = f"P{i:08d}.pdf"
    with open(os.path.join(os.path.dirname(article), name), "wb") as f:
        f.write(f"%PDF-1.5\n% govsnap bench copy {i}\n".encode())
        left = n
        while left > 0:
            f.write(block[: min(left, len(block))])
            left -= len(block)
    html = open(article, encoding="utf-8").read()
    html = html.replace("</body>", f'<p>附件：<a href="{name}">统计年鉴（扫描件）.pdf</a></p></body>', 1)
    open(article, "w", encoding="utf-8").write(html)
print(f"{len(articles)} articles: one links a 40 MB file, each other a {size/1e6:.0f} MB file")
PY
serve_site "$port"
cat > "$work/c.toml" <<CONF
store = "$work/store"
$(bench_config "$port" | sed 's/^concurrency = 32/concurrency = 8/; s/^per_host_concurrency = 32/per_host_concurrency = 8/')
CONF
mb=$(du -sm --apparent-size "$work/site" | cut -f1)
t0=$(date +%s.%N)
/usr/bin/time -v "$GOVSNAP" crawl --config "$work/c.toml" --format json > "$work/summary.json" 2> "$work/time.txt"
t1=$(date +%s.%N)
python3 - "$work/summary.json" "$work/time.txt" "$t0" "$t1" "$mb" "$(du -sm "$work/store" | cut -f1)" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1]))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(sys.argv[2]).read()).group(1))
secs = float(sys.argv[4]) - float(sys.argv[3])
print(f"crawl: {secs:.1f} s, {s['attachments']} attachments of {sys.argv[5]} MB served "
      f"({int(sys.argv[5]) / secs:.0f} MB/s), store {sys.argv[6]} MB, peak RSS {rss / 1024:.0f} MB")
assert s["attachments"] == 20, s
PY
