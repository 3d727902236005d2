#!/usr/bin/env bash
# Instruction counts of full extraction against parse-only over the fixture
# corpus, with valgrind's callgrind: unlike wall-clock time on a shared
# machine, the counts repeat exactly. Each stage runs 1 and 1+N rounds; the
# difference divided by N is the cost of one pass, start-up excluded.
#   bash bench/instructions.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
cargo build -q --release --example corpus_loop
bin=target/release/examples/corpus_loop
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 | awk '/refs:/ {gsub(",", "", $NF); print $NF}'; }
pages=$(python3 -c 'import json;print(len(json.load(open("tests/fixtures/cases.json"))))')
for stage in parse extract; do
  one=$(count "$stage" 1); many=$(count "$stage" $((n + 1)))
  per=$(( (many - one) / n ))
  printf '%-8s %12d instructions per corpus pass (%d pages), %d per page\n' "$stage" "$per" "$pages" $((per / pages))
  eval "$stage=$per"
done
awk -v e="$extract" -v p="$parse" 'BEGIN { printf "extract / parse-only = %.2f\n", e / p }'
