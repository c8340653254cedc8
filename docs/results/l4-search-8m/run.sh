#!/bin/bash
# Issue 23, item 4: does a search that chooses by L4 choose better? The
# lion variant with --copy-members rescore (docs/results/copy-members-8m)
# again on seeds 6-8, 8 minutes on one core each, two runs side by side,
# with --levels 3: L3's best go on to L4 (L3's tasks at 6 seeds of their
# own) and the run's chosen rule is its best at the highest level with a
# joined result (NOS_CHOOSE_LEVEL=best). copy-members-8m's rescore runs
# of the same seeds are linked in, so one final table and one summary hold
# both: the pairs differ by --levels alone. Rerun to resume.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-/work/exp/l4-search-8m}
CM=${2:-/work/exp/copy-members-8m}
mkdir -p "$OUT/final"
[ -e "$OUT/final/final.jsonl" ] ||
  cp "$CM/final/final.jsonl" "$OUT/final/final.jsonl"
for seed in 6 7 8; do
  [ -e "$OUT/rescore-$seed" ] || ln -s "$CM/rescore-$seed" "$OUT/rescore-$seed"
  touch "$OUT/rescore-$seed.done"
done
LION="--warm-start 'm v x sqrt div ; o1 1 x x mul' --restart-after 150"
NOS_CHOOSE_LEVEL=best NOS_FLAGS_rescore="$LION" \
  NOS_FLAGS_l4="$LION --levels 3" \
  bash scripts/equal-compute.sh "$OUT" 8 no-optimizers \
  "rescore=evolution l4=evolution" "6 7 8"
