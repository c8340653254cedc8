#!/usr/bin/env bash
# run.sh - install what is missing, build, and run the main job.
#
# Until the search lands (issue 3/search), the main job compiles the paper's
# PowerSign and AddSign with nosc, shows their canonical form and layout, and
# checks the JIT kernels against the reference interpreter on random data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh nosc
for rule in 'exp(sign(g) * sign(m)) * g' '(1 + sign(g) * sign(m)) * g'; do
  echo "== nosc '$rule' --check"
  build/bin/nosc "$rule" --check --steps 3 --check-n 1000003
done
