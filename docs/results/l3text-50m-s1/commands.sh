#!/bin/bash
# Issue 23: the second seed of docs/results/l3text-60m (the text task added
# to L3, meta-validation on the noisy quadratic), 50 minutes, build of
# 838f94c (the PPO log-ratio cap), then the final table of its three L3
# leaders beside seed 0's rule and its ablation. final.jsonl was first seeded
# with l3text-60m's rows (same tasks, lrs and seeds), so only new rules
# trained.
set -x
nos-search run RUN --strategy ppo --seed 1 --minutes 50 \
  --l3-tasks fmnist-mlp,logistic,charlm-s --meta-tasks noisy-quadratic
nos-search report RUN --top 8 > report.txt
cp ../l3text-60m/final.jsonl OUT/final.jsonl
nos-search final OUT --runs RUN --level L3 --top 3 --rule signsgd-sqrt-ld \
  --rule 'adam * sqrt(ld)' --tasks fmnist-mlp,logistic,charlm-s --workers 2
