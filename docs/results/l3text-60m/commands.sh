#!/bin/bash
# Issue 23: a default search with the text task added to L3 (meta-validation
# moved to noisy-quadratic, since a rewarded task cannot be held out), then
# its final table with the ablations of its chosen rule. Build of 68799d8.
set -x
nos-search run RUN --strategy ppo --minutes 60 \
  --l3-tasks fmnist-mlp,logistic,charlm-s --meta-tasks noisy-quadratic
nos-search report RUN --top 8 > report.txt
# RSS of the search process, every 30 s (rss.txt: unix time, KiB).
# final.jsonl was first seeded with the rows of eq-paper-8m, eq-nov-8m and
# noopt-20m-s1 (the references, dropsign-cd and dropsign-gm at the same
# tasks, lrs and seeds; every row eq-paper-8m shares with the other two,
# 450 and 600, is identical, though different builds made them), so only the
# new rules were trained.
nos-search final OUT --runs RUN --level L3 --top 3 --rule dropsign-gm \
  --rule dropsign-cd --rule 'sign(g)' --rule 'adam * sqrt(ld)' \
  --tasks fmnist-mlp,logistic,charlm-s --workers 2
