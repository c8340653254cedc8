#!/bin/bash
# Issue 23, item 4: a search that chooses by L4 once the references' level
# trainings are served from the level-results cache. l4-search-8m found
# that with --levels 3 the references' trainings took 97% of an 8-minute
# one-core run and no rule reached L3. Here a references-only run fills a
# cache with their L2, L3 and L4 trainings first; then the Lion recipe
# (--recipe lion) with --levels 3, seeds 6-8, 8 minutes on one core each,
# two side by side (scripts/equal-compute.sh), each run's chosen rule
# being its leader at the highest level with a joined result
# (NOS_CHOOSE_LEVEL=best). Compare with level-cache-8m's warm runs (the
# same recipe and seeds, choosing at L3). Rerun to resume.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-/work/exp/l4-warm-8m}
BIN=${NOS_SEARCH:-build/bin/nos-search}
mkdir -p "$OUT/final"
[ -e "$OUT/final/final.jsonl" ] ||
  cp "${NOS_FINAL_SEED:-docs/results/copy-members-8m/final.jsonl}" \
    "$OUT/final/final.jsonl"
bash scripts/warm-level-cache.sh "$OUT/levels.db" --recipe lion --levels 3
NOS_CHOOSE_LEVEL=best NOS_FLAGS_l4="--recipe lion --levels 3 --level-cache '$OUT/levels.db'" \
  bash scripts/equal-compute.sh "$OUT" 8 no-optimizers "l4=evolution" "6 7 8"
