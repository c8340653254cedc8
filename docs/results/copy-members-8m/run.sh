#!/bin/bash
# Issue 23: what evolution does with a copy the funnel rewarded, over three
# new seeds (6-8). lion (evolution warm-started from m / sqrt(v), restarts
# after 150 members with no new best) with --copy-members rescore (the
# default since d4748d1: a rewarded copy rescores its member, no place, no
# try) against join (before: it joins the population as a try), 8 minutes
# on one core each, two runs side by side (scripts/equal-compute.sh), then
# one final table of each run's L3 leader. The final table is seeded with
# lion-100m's, so rules already in it are not trained again. Rerun to
# resume.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-/work/exp/copy-members-8m}
mkdir -p "$OUT/final"
[ -e "$OUT/final/final.jsonl" ] ||
  cp docs/results/lion-100m/final.jsonl "$OUT/final/final.jsonl"
LION="--warm-start 'm v x sqrt div ; o1 1 x x mul' --restart-after 150"
NOS_FLAGS_rescore="$LION --copy-members rescore" \
  NOS_FLAGS_join="$LION --copy-members join" \
  bash scripts/equal-compute.sh "$OUT" 8 no-optimizers \
  "rescore=evolution join=evolution" "6 7 8"
