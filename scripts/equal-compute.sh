#!/usr/bin/env bash
# equal-compute.sh OUT [MINUTES] [SPACE] [STRATEGIES] [SEEDS] - strategies at
# equal compute through the funnel (issue 23, docs/search.md).
#
# Every strategy runs with every seed for MINUTES (default 8) of wall time on
# one core (one worker, one torch thread), two runs side by side, in token
# space SPACE (default no-optimizers). Then one report over all runs, one
# final table of each run's L3 leader (nos-search final --level L3 --top 1:
# the rule the run itself would choose, on test splits, lr tuned on
# validation) and a per-strategy summary of those tables
# (scripts/equal_compute_summary.py). Every step resumes: rerun the script
# to finish what an interruption left. NOS_EXTRA_FLAGS adds nos-search run
# flags to every run of the call, shell-quoted, e.g.
#   NOS_EXTRA_FLAGS="--warm-start 'm v x sqrt div ; o1 1 x x mul'"
# NOS_CHOOSE_LEVEL (default L3) is the funnel level whose leader is a run's
# chosen rule (nos-search final --level): best takes the highest level with
# a joined result, for runs with L4 (--levels 3).
# A STRATEGIES entry LABEL=STRATEGY is a variant: its runs are LABEL-SEED,
# its flags come from NOS_FLAGS_LABEL (shell-quoted), so one call can set
# one strategy's options against another's, e.g.
#   NOS_FLAGS_lion="--warm-start 'm v x sqrt div' --restart-after 150" \
#     equal-compute.sh OUT 8 no-optimizers "random evolution lion=evolution"
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: equal-compute.sh OUT [MINUTES] [SPACE] [STRATEGIES] [SEEDS]}
MINUTES=${2:-8}
SPACE=${3:-no-optimizers}
read -r -a STRATEGIES <<< "${4:-ppo random evolution}"
read -r -a SEEDS <<< "${5:-0 1 2}"
BIN=${NOS_SEARCH:-build/bin/nos-search}
export OMP_NUM_THREADS=1
eval "EXTRA=(${NOS_EXTRA_FLAGS:-})"
# A run is done once DIR.done exists; only runs not done are paired, so
# strategies added to an earlier call still run two at a time.
run() { # entry seed
  local label=${1%%=*} strategy=${1#*=} flags
  local dir="$OUT/$label-$2"
  flags="NOS_FLAGS_$label"
  eval "local variant=(${!flags:-})"
  # Each run has its own kernel cache, empty at its start: no run compiles
  # for another.
  export NOS_CACHE_DIR="$dir.cache"
  if [ -e "$dir/search.db" ]; then
    # A spent run refuses to resume without a budget: it is done too.
    $BIN resume "$dir" --workers 1 --torch-threads 1 --quiet || true
  else
    $BIN run "$dir" --strategy "$strategy" --seed "$2" --space "$SPACE" \
      --minutes "$MINUTES" --workers 1 --torch-threads 1 --quiet \
      "${EXTRA[@]}" "${variant[@]}"
  fi
  touch "$dir.done"
}
runs=()
pending=()
for seed in "${SEEDS[@]}"; do
  for s in "${STRATEGIES[@]}"; do
    label=${s%%=*}
    [[ $label =~ ^[A-Za-z0-9_]+$ ]] || {
      echo "equal-compute.sh: '$label' is not a label" \
        "(letters, digits and _ only)" >&2
      exit 2
    }
    runs+=("$OUT/$label-$seed")
    [ -e "$OUT/$label-$seed.done" ] || pending+=("$s $seed")
  done
done
mkdir -p "$OUT"
for ((k = 0; k < ${#pending[@]}; k += 2)); do
  read -r s1 seed1 <<< "${pending[k]}"
  run "$s1" "$seed1" > /dev/null &
  if ((k + 1 < ${#pending[@]})); then
    read -r s2 seed2 <<< "${pending[k + 1]}"
    run "$s2" "$seed2" > /dev/null &
  fi
  wait
done
$BIN report "${runs[@]}" -o "$OUT/report.svg" --top 5 > "$OUT/report.txt"
export NOS_CHOOSE_LEVEL=${NOS_CHOOSE_LEVEL:-L3}
$BIN final "$OUT/final" --runs "${runs[@]}" --level "$NOS_CHOOSE_LEVEL" --top 1 \
  --tasks fmnist-mlp,logistic,charlm-s --workers 2 > /dev/null
python3 scripts/equal_compute_summary.py "$OUT" "${runs[@]}" \
  | tee "$OUT/summary.txt"
