#!/usr/bin/env bash
# strategies.sh OUT [MINUTES] - the strategy comparison of docs/search.md.
#
# PPO, REINFORCE, random and evolution, seeds 0 and 1, each MINUTES
# (default 15) of wall time on one core, two runs side by side; then one
# report over all eight, the funnel (top 3 distinct rules of every run and
# the six references over 5 fresh seeds at full fidelity on the proxy) and
# the transfer (the best rules against the references on the full task and
# the ConvNet, 3 seeds, lr tuned per rule). Every step resumes: rerun the
# script to finish what an interruption left.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: strategies.sh OUT [MINUTES]}
MINUTES=${2:-15}
BIN=build/bin/nos-search
run() { # strategy seed
  local dir=$OUT/$1-$2
  if [ -e "$dir/search.db" ]; then
    $BIN resume "$dir" --workers 1 --torch-threads 1 --quiet || true
  else
    $BIN run "$dir" --strategy "$1" --seed "$2" --minutes "$MINUTES" \
      --workers 1 --torch-threads 1 --quiet
  fi
}
for seed in 0 1; do
  run ppo $seed & run random $seed & wait
  run reinforce $seed & run evolution $seed & wait
done
runs=()
for s in ppo reinforce random evolution; do
  runs+=("$OUT/$s-0" "$OUT/$s-1")
done
$BIN report "${runs[@]}" -o "$OUT/report.svg" --top 5 > "$OUT/report.txt"
$BIN compare "$OUT/funnel" --runs "${runs[@]}" --top 3 \
  --proxies 12k-pool --seeds 5 > /dev/null
$BIN compare "$OUT/transfer" --runs "${runs[@]}" --top 1 \
  --proxies full,convnet --seeds 3 > /dev/null
cat "$OUT/report.txt" "$OUT/funnel/report.txt" "$OUT/transfer/report.txt"
