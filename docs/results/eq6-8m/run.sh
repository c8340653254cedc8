#!/bin/bash
# Issue 23: three more seeds (3-5) of lion (evolution warm-started from
# m / sqrt(v), restarts from the best after 150 members) and random, the
# protocol of docs/results/eq4-8m on the same machine right after it (the
# build of 169af24, whose evolution behaves as 5f97398's). Seeds 0-2 are
# eq4-8m's runs, linked into OUT, so the summary covers six seeds.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-/work/exp/eq6-8m}
EQ4=${2:-/work/exp/eq4-8m}
mkdir -p "$OUT/final"
[ -e "$OUT/final/final.jsonl" ] ||
  cp docs/results/eq4-8m/final.jsonl "$OUT/final/final.jsonl"
for seed in 0 1 2; do
  for label in random lion; do
    [ -e "$OUT/$label-$seed" ] || ln -s "$EQ4/$label-$seed" "$OUT/$label-$seed"
    touch "$OUT/$label-$seed.done"
  done
done
NOS_FLAGS_lion="--warm-start 'm v x sqrt div ; o1 1 x x mul' --restart-after 150" \
  bash scripts/equal-compute.sh "$OUT" 8 no-optimizers "random lion=evolution" \
  "0 1 2 3 4 5"
