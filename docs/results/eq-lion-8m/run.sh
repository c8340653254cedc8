#!/bin/bash
# Issue 23, item 1: evolution with Lion's warm start and restarts against
# random sampling, at the budget of docs/results/eq-nov-8m (8 minutes on one
# core per run, the no-optimizers space, seeds 0-2; each seed's two runs side
# by side), then the final table of each run's L3 leader and the
# per-strategy summary (scripts/equal-compute.sh does those once every run
# is done). The warm start is Adam without its bias correction and epsilon,
# m / sqrt(v), in the space's tokens (the space has no adam operand, so this
# is what Lion's AdamW start becomes here); a restart from the best rule
# follows 150 members without a new best (about a quarter of a run's
# members). final.jsonl is seeded with eq-nov-8m's rows (the references and
# any rule both tables share train once).
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-/work/exp/eq-lion-8m}
BIN=${NOS_SEARCH:-build/bin/nos-search}
export OMP_NUM_THREADS=1
mkdir -p "$OUT/final"
[ -e "$OUT/final/final.jsonl" ] ||
  cp docs/results/eq-nov-8m/final.jsonl "$OUT/final/final.jsonl"
common=(--space no-optimizers --minutes 8 --workers 1 --torch-threads 1 --quiet)
for seed in 0 1 2; do
  [ -e "$OUT/evolution-$seed.done" ] || {
    $BIN run "$OUT/evolution-$seed" --strategy evolution --seed "$seed" \
      "${common[@]}" --warm-start 'm v x sqrt div ; o1 1 x x mul' \
      --restart-after 150 > /dev/null && touch "$OUT/evolution-$seed.done"
  } &
  [ -e "$OUT/random-$seed.done" ] || {
    $BIN run "$OUT/random-$seed" --strategy random --seed "$seed" \
      "${common[@]}" > /dev/null && touch "$OUT/random-$seed.done"
  } &
  wait
done
bash scripts/equal-compute.sh "$OUT" 8 no-optimizers "evolution random" "0 1 2"
