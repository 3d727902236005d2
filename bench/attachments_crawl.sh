#!/usr/bin/env bash
# Crawl throughput with attachments (issue 30): a generated site (bench/
# gen_site.py, nginx on loopback) whose every article links its own PDF of
# about 1 MB (a 300-page text report made by reportlab, each copy's bytes
# made distinct in its header comment), crawled at full speed into a new
# store; prints pages/s, files/s, MB/s and the crawl's peak RSS
# (/usr/bin/time -v).
#
#   bash bench/attachments_crawl.sh [ARTICLES]   (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
. bench/lib.sh   # NGINX, GOVSNAP, $work, serve_site, bench_config
port=18099
command -v /usr/bin/time >/dev/null || apt-get install -y -q time >/dev/null
python3 -m venv "$work/venv" && "$work/venv/bin/pip" install -q reportlab
python3 bench/gen_site.py "$n" "$work/site" >/dev/null
"$work/venv/bin/python" - "$work/site" <<'PY'
import glob, os, sys
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
site = sys.argv[1]
path = os.path.join(site, "report.pdf")
c = canvas.Canvas(path, pagesize=A4, pageCompression=0)
for page in range(300):
    y = 800
    for row in range(50):
        c.drawString(40, y, f"{page}.{row} Gross regional product {1000 + page * 7 + row} million yuan, up {row % 9}.{page % 10} percent on the year before.")
        y -= 15
    c.showPage()
c.save()
data = open(path, "rb").read()
marker = b"ReportLab Generated PDF document"
articles = sorted(glob.glob(os.path.join(site, "**", "t*.html"), recursive=True))
for i, article in enumerate(articles):
    name = f"P{i:08d}.pdf"
    unique = f"govsnap bench copy {i:013d}".encode().ljust(len(marker))[: len(marker)]
    open(os.path.join(os.path.dirname(article), name), "wb").write(data.replace(marker, unique, 1))
    html = open(article, encoding="utf-8").read()
    html = html.replace("</body>", f'<p>附件：<a href="{name}">统计公报.pdf</a></p></body>', 1)
    open(article, "w", encoding="utf-8").write(html)
print(f"{len(articles)} articles, each linking a {len(data)/1e6:.2f} MB PDF")
PY
rm -f "$work/site/report.pdf"
serve_site "$port"
cat > "$work/c.toml" <<CONF
store = "$work/store"
$(bench_config "$port")
CONF
mb=$(du -sm --apparent-size "$work/site" | cut -f1)
t0=$(date +%s.%N)
/usr/bin/time -v "$GOVSNAP" crawl --config "$work/c.toml" --format json > "$work/summary.json" 2> "$work/time.txt"
t1=$(date +%s.%N)
python3 - "$work/summary.json" "$work/time.txt" "$t0" "$t1" "$mb" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1]))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(sys.argv[2]).read()).group(1))
secs = float(sys.argv[4]) - float(sys.argv[3])
print(f"crawl: {secs:.1f} s, {s['fetched']} responses ({s['fetched']/secs:.0f}/s), "
      f"{s['new_versions']} documents, {s['attachments']} attachments ({s['attachments']/secs:.1f} files/s), "
      f"{s['attachments_skipped']} skipped, site {sys.argv[5]} MB ({int(sys.argv[5])/secs:.1f} MB/s), peak RSS {rss/1024:.0f} MB")
PY
"$GOVSNAP" stats --store "$work/store" | head -5
