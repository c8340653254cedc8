#!/bin/bash
# Issue 23: what the level-results cache buys an 8-minute search. The
# Lion-style evolution of copy-members-8m (no-optimizers space, warm start
# from m / sqrt(v), restarts after 150 members with no new best, rescore),
# seeds 6-8, 8 minutes on one core each, two runs side by side
# (scripts/equal-compute.sh): "cold" with its own empty level cache (as
# every run before), "warm" sharing a cache that a references-only run
# filled first, so no warm run trains the references. The same seed gives
# the same candidates in the same order; what differs is how far each run
# gets in its minutes. Then one final table of each run's L3 leader,
# seeded with copy-members-8m's. Rerun to resume.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-/work/exp/level-cache-8m}
BIN=${NOS_SEARCH:-build/bin/nos-search}
mkdir -p "$OUT/final"
[ -e "$OUT/final/final.jsonl" ] ||
  cp docs/results/copy-members-8m/final.jsonl "$OUT/final/final.jsonl"
bash scripts/warm-level-cache.sh "$OUT/levels.db" --strategy random \
  --space no-optimizers
LION="--warm-start 'm v x sqrt div ; o1 1 x x mul' --restart-after 150"
NOS_FLAGS_cold="$LION" \
  NOS_FLAGS_warm="$LION --level-cache '$OUT/levels.db'" \
  bash scripts/equal-compute.sh "$OUT" 8 no-optimizers \
  "cold=evolution warm=evolution" "6 7 8"
