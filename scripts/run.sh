#!/usr/bin/env bash
# run.sh - install what is missing, build, and run the main job.
#
# Until the search lands, the main job compiles the paper's PowerSign and
# AddSign with nosc and checks the JIT kernels against the reference
# interpreter on random data, then trains them against SGD and Adam on a
# Fashion-MNIST subset with nos-train.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh nosc nos-train
for rule in 'exp(sign(g) * sign(m)) * g' '(1 + sign(g) * sign(m)) * g'; do
  echo "== nosc '$rule' --check"
  build/bin/nosc "$rule" --check --steps 3 --check-n 1000003
done
echo "== nos-train on Fashion-MNIST (10000 training images, 1 epoch)"
build/bin/nos-train --compare sgd,adam,powersign,addsign --lrs 0.01,0.1 \
  --seeds 1 --train-size 10000 --validation-size 2000 --out out/main-job
