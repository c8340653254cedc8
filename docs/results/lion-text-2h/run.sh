#!/bin/bash
# Issue 23, item 4: lion-2h with the text task judged beside the other two.
# lion-2h (and lion-100m, and the 2-hour PPO search) chose momentum plus a
# clipped step, which L3's and L4's Fashion-MNIST and logistic regression
# reward and the character LSTM punishes; with charlm-s at L3 PPO chose a
# decaying signSGD instead (l3text-60m). Here the Lion recipe with L4 for
# 110 minutes on both cores judges every promoted rule on all three tasks
# of the final table at L3 and L4 (their validation splits; the table
# scores test splits at other seeds), so meta-validation, which may not
# see a rewarded task, moves to the noisy quadratic. Rerun to resume.
set -euo pipefail
cd "$(dirname "$0")/../../.."
TASKS=fmnist-mlp,logistic,charlm-s
NOS_LEVELS="--l3-tasks $TASKS --l4-tasks $TASKS --meta-tasks noisy-quadratic" \
  bash docs/results/lion-2h/run.sh "${1:-/work/exp/lion-text-2h}" "${2:-6}"
