#!/usr/bin/env bash
# run.sh - install what is missing, build, and run the main job: a search.
#
# The main job is a short PPO search (the paper's controller) on the
# default proxy, a Fashion-MNIST MLP trained for one epoch on 12,000 images
# pooled to 14x14 with successive halving over a four-point lr grid, after
# scoring the six reference rules through the same pipeline. Inside it the
# funnel promotes the best rules to two costlier levels (the references go
# through them first) and trains each new best on a held-out text task.
# Then the report: top rules against the references, each level's
# leaderboard, meta-validation, and the plots. NOS_MAIN_MINUTES sets the
# budget (default 4, about 5 minutes in all with the build cached); each
# run gets a fresh folder under out/.
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
