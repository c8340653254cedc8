#!/bin/bash
# Issue 23: what evolution's restarts count, side by side. The lion variant
# of docs/results/eq4-8m (evolution in the no-optimizers space, warm start
# from m / sqrt(v), restart after 150 members without a new best), seed 2,
# 8 minutes on one core each, two builds at once on one machine: OLD counts
# every member with a reward towards the plateau, the funnel's rewards for
# copies included, and lets those copies into the population; NEW (the
# build of 63640d4, whose evolution is later builds' default
# `--copy-members rescore`; `join` is OLD's) counts evaluated members only
# and lets a copy's reward rescore its rule instead. Then one report and the final table of
# both runs' L3 leaders (final.jsonl seeded from lion-100m's).
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-/work/exp/restart-ab}
OLD=${NOS_SEARCH_OLD:?the build of 20bde0e}
NEW=${NOS_SEARCH_NEW:?the build with evaluated-only restarts}
SEED=${2:-2}
export OMP_NUM_THREADS=1
mkdir -p "$OUT/final"
[ -e "$OUT/final/final.jsonl" ] ||
  cp docs/results/lion-100m/final.jsonl "$OUT/final/final.jsonl"
run() { # label binary
  local dir="$OUT/$1-$SEED"
  [ -e "$dir.done" ] && return
  rm -rf "$dir" "$dir.cache"
  NOS_CACHE_DIR="$dir.cache" "$2" run "$dir" --strategy evolution \
    --space no-optimizers --seed "$SEED" --minutes 8 --workers 1 \
    --torch-threads 1 --quiet --restart-after 150 \
    --warm-start 'm v x sqrt div ; o1 1 x x mul' > /dev/null
  touch "$dir.done"
}
run old "$OLD" &
run new "$NEW" &
wait
runs=("$OUT/old-$SEED" "$OUT/new-$SEED")
"$NEW" report "${runs[@]}" --top 5 > "$OUT/report.txt"
"$NEW" final "$OUT/final" --runs "${runs[@]}" --level L3 --top 1 \
  --tasks fmnist-mlp,logistic,charlm-s --workers 2 > /dev/null
python3 scripts/equal_compute_summary.py "$OUT" "${runs[@]}" |
  tee "$OUT/summary.txt"
