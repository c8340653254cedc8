#!/usr/bin/env bash
# run.sh - install what is missing, build, and run the main job: a search.
#
# The main job is a short PPO search (the paper's controller) on the
# default proxy, a Fashion-MNIST MLP trained for one epoch on 12,000 images
# pooled to 14x14 with successive halving over a four-point lr grid, after
# scoring the six reference rules through the same pipeline; then the report: top rules against the references, and
# the plot. NOS_MAIN_MINUTES sets the budget (default 4, about 5 minutes in
# all with the build cached); each run gets a fresh folder under out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh nos-search
dir=out/main-job-$(date +%Y%m%d-%H%M%S)
echo "== nos-search run $dir --minutes ${NOS_MAIN_MINUTES:-4}"
build/bin/nos-search run "$dir" --strategy ppo --minutes "${NOS_MAIN_MINUTES:-4}"
echo "== nos-search report $dir"
build/bin/nos-search report "$dir" --top 8
echo "== resume with: build/bin/nos-search resume $dir --minutes M"
