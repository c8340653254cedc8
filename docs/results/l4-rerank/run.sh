#!/bin/bash
# Issue 23, item 4: would more seeds for L3's best have chosen better?
# lion-100m's run (docs/results/lion-100m) chose its L3 leader among
# margins inside their noise. Its top 8 at L3 go through one final table
# (test splits, seeds 3-7, lr on validation with seeds 1-2); then
# `nos-search levels` trains them and the six references at L4 (L3's
# tasks and lrs at 6 seeds of their own, 8-13, validation only) and gives
# each rule's margin at every level beside its final mean rank. The rule
# L4 would choose is the one with the best L4 margin: chosen on
# validation, then read off the final table. Needs the 100-minute run's
# folder (RUN); the final table is seeded with the stored one, so its rules
# are not trained again. Rerun to resume.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-/work/exp/rerank}
RUN=${2:-/work/exp/lion-100m/run}
BIN=${NOS_SEARCH:-build/bin/nos-search}
export OMP_NUM_THREADS=1 NOS_CACHE_DIR="$OUT/cache"
mkdir -p "$OUT/final"
[ -e "$OUT/final/final.jsonl" ] ||
  cp docs/results/l4-rerank/final.jsonl "$OUT/final/final.jsonl"
$BIN final "$OUT/final" --runs "$RUN" --level L3 --top 8 \
  --tasks fmnist-mlp,logistic,charlm-s --workers 2 > /dev/null
$BIN levels "$OUT/levels" --runs "$RUN" --top 8 --rules-from L3 \
  --final "$OUT/final" --level 'L4=fmnist-mlp+logistic:6@8' --workers 2
