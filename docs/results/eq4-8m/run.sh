#!/bin/bash
# Issue 23, item 3: the four strategies at equal compute on one machine,
# and evolution's variants (docs/search.md, "All four strategies and
# evolution's variants at equal compute"). Every run: 8 minutes on one
# core (one worker, one torch thread), the no-optimizers space, seeds 0-2,
# two runs side by side, each with its own empty kernel cache; then one
# final table of every run's L3 leader (final.jsonl seeded from
# eq-lion-8m's, whose references and shared rules train once).
#
# Two batches, one after the other on one machine: the first with the
# build of 5f97398 (PPO, REINFORCE, random, evolution, and `lion`:
# evolution warm-started from m / sqrt(v) with every restart from the
# best), the second with the build of e1db33b (`evowarm`: the warm start
# only; `lion2`: the warm start and restarts that begin afresh when the
# best has not moved). The second call lists every label, so its report,
# final table and summary cover all 21 runs.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-/work/exp/eq4-8m}
OLD=${NOS_SEARCH_OLD:?the build of 5f97398}
NEW=${NOS_SEARCH_NEW:?the build of e1db33b}
W="--warm-start 'm v x sqrt div ; o1 1 x x mul'"
mkdir -p "$OUT/final"
[ -e "$OUT/final/final.jsonl" ] ||
  cp docs/results/eq-lion-8m/final.jsonl "$OUT/final/final.jsonl"
NOS_SEARCH=$OLD NOS_FLAGS_lion="$W --restart-after 150" \
  bash scripts/equal-compute.sh "$OUT" 8 no-optimizers \
  "ppo reinforce random evolution lion=evolution" "0 1 2"
NOS_SEARCH=$NEW NOS_FLAGS_lion="$W --restart-after 150" \
  NOS_FLAGS_evowarm="$W" NOS_FLAGS_lion2="$W --restart-after 150" \
  bash scripts/equal-compute.sh "$OUT" 8 no-optimizers \
  "ppo reinforce random evolution lion=evolution evowarm=evolution lion2=evolution" \
  "0 1 2"
