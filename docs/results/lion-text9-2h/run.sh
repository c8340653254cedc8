#!/bin/bash
# Issue 23, item 4: lion-text-2h with level grids that reach past the
# momentum family's best lr. lion-text-2h judged text at L3 and L4 on
# lrs 1e-3 .. 1, where every rule but Adam and RMSProp chose 1, the top
# (the final table, tuned past its grid, puts that family's best at 9),
# and its L2 leaders chose L2's top lr, 1, too. Here L2 reaches 3 and L3
# and L4 reach 9; everything else as lion-text-2h (seed 6, 110 minutes on
# both cores, text at L3 and L4, meta-validation on the noisy quadratic).
# Rerun to resume.
set -euo pipefail
cd "$(dirname "$0")/../../.."
TASKS=fmnist-mlp,logistic,charlm-s
GRID=0.001,0.003,0.01,0.03,0.1,0.3,1,3
NOS_LEVELS="--l2-lrs $GRID --l3-tasks $TASKS --l3-lrs $GRID,9 \
  --l4-tasks $TASKS --l4-lrs $GRID,9 --meta-tasks noisy-quadratic" \
  bash docs/results/lion-2h/run.sh "${1:-/work/exp/lion-text9-2h}" "${2:-6}"
