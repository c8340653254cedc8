#!/bin/bash
# Issue 23: every final table under docs/results again, with the lr grid
# tried past its ends (nos-search final --lr-extend, default 3). Each table
# continues from a copy of its own final.jsonl with the same rules (its
# found rules as --rule, the references as always), so only the points past
# the grid and the test runs at a lr that moved train. Then summary.py
# compares the tables, and each table's final.txt and the lines it added
# (past.jsonl) are kept here. Rerun to resume.
# Usage: NOS_SEARCH=<build>/nos-search run.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-/work/exp/reext}
BIN=${NOS_SEARCH:-build/bin/nos-search}
HERE=docs/results/past-grid
export OMP_NUM_THREADS=1 NOS_CACHE_DIR="$OUT/cache"
for f in docs/results/*/final.json; do
  src=$(dirname "$f")
  name=$(basename "$src")
  [ "$name" = past-grid ] && continue
  out="$OUT/$name"
  if [ ! -e "$out/final.txt" ]; then
    mkdir -p "$out"
    [ -e "$out/final.jsonl" ] || cp "$src/final.jsonl" "$out/"
    args=$(python3 - "$f" <<'PY'
import json, shlex, sys
j = json.load(open(sys.argv[1]))
rows = next(iter(j['tasks'].values()))['rows']
found = [r['canonical'] for r in rows if not r['reference']]
print('--tasks', ','.join(j['tasks']),
      ' '.join('--rule ' + shlex.quote(c) for c in found))
PY
    )
    eval "nice -n 5 $BIN final $out --top 0 $args --workers 1" >"$out/log" 2>&1
  fi
  mkdir -p "$HERE/$name"
  cp "$out/final.txt" "$HERE/$name/final.txt"
  grep -vxF -f "$src/final.jsonl" "$out/final.jsonl" >"$HERE/$name/past.jsonl" || true
done
python3 "$HERE/summary.py" "$OUT" | tee "$HERE/summary.txt"
