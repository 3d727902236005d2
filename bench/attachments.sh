#!/usr/bin/env bash
# Attachment text (issue 30): PDF text extraction against poppler's
# pdftotext (the reference archives use) on the same files, side by side in
# one run: pages/s, MB/s, and the character F1 of govsnap's text against
# pdftotext's; then the other formats' extraction time. Each file is read
# ROUNDS times by one process (govsnap extract takes many files), so that a
# process start is not what is measured.
#
#   bash bench/attachments.sh [ROUNDS]   (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-50}
command -v pdftotext >/dev/null || apt-get install -y -q poppler-utils >/dev/null
cargo build -q --release
GOVSNAP=$PWD/target/release/govsnap
dir=tests/fixtures/attachments
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pdfs=(notice-embedded.pdf notice-stsong.pdf table.pdf report.pdf)
printf '%-22s %6s %8s | %12s %12s | %12s %12s | %6s\n' file pages KB govsnap_p/s govsnap_MB/s pdftotext_p/s pdftotext_MB/s F1
for f in "${pdfs[@]}"; do
  path=$dir/$f
  pages=$(pdfinfo "$path" 2>/dev/null | awk '/^Pages:/ {print $2}')
  bytes=$(stat -c %s "$path")
  args=(); for _ in $(seq "$rounds"); do args+=("$path"); done
  t0=$(date +%s.%N); "$GOVSNAP" extract "${args[@]}" >/dev/null; t1=$(date +%s.%N)
  t2=$(date +%s.%N); for _ in $(seq "$rounds"); do pdftotext -enc UTF-8 "$path" - >/dev/null; done; t3=$(date +%s.%N)
  "$GOVSNAP" extract "$path" | python3 -c 'import json,sys; print(json.load(sys.stdin)["text"])' > "$work/ours.txt"
  pdftotext -enc UTF-8 "$path" "$work/ref.txt"
  f1=$(python3 - "$work/ours.txt" "$work/ref.txt" <<'PY'
import sys
from collections import Counter
# the cell separators govsnap writes between a table's cells are not text
a = Counter(c for c in open(sys.argv[1]).read().replace(" | ", " ") if not c.isspace())
b = Counter(c for c in open(sys.argv[2]).read() if not c.isspace())
inter = sum((a & b).values())
p = inter / max(sum(a.values()), 1); r = inter / max(sum(b.values()), 1)
print(f"{(2 * p * r / (p + r)) if p + r else 0:.4f}")
PY
)
  python3 - "$f" "$pages" "$bytes" "$rounds" "$t0" "$t1" "$t2" "$t3" "$f1" <<'PY'
import sys
f, pages, size, rounds, t0, t1, t2, t3, f1 = sys.argv[1:]
pages, size, rounds = int(pages), int(size), int(rounds)
ours, ref = float(t1) - float(t0), float(t3) - float(t2)
mb = size * rounds / 1e6
print(f"{f:<22} {pages:>6} {size/1000:>8.1f} | {pages*rounds/ours:>12.0f} {mb/ours:>12.2f} | {pages*rounds/ref:>12.0f} {mb/ref:>12.2f} | {f1:>6}")
PY
done

echo
printf '%-20s %10s\n' file ms_per_file
for f in budget.docx budget.doc budget.xlsx legacy.xls notice.odt notice.ofd notice.rtf bundle.zip; do
  args=(); for _ in $(seq "$rounds"); do args+=("$dir/$f"); done
  t0=$(date +%s.%N); "$GOVSNAP" extract "${args[@]}" >/dev/null; t1=$(date +%s.%N)
  python3 -c "import sys; print(f'{sys.argv[1]:<20} {1000*(float(sys.argv[3])-float(sys.argv[2]))/int(sys.argv[4]):>10.2f}')" "$f" "$t0" "$t1" "$rounds"
done
