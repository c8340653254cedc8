#!/bin/bash
# Issue 21, like for like: the build of 3ad1f86 (the baseline, no
# funnel), this build's default main job, and this build with the funnel and
# meta-validation off (--levels 0 --no-meta-validation: the work the baseline
# did), one after the other, 4 minutes each, seed S, each with its own empty
# kernel cache; all reported by this build.
set -x
cd /work/runs/ab21b
OLD=/work/exp/old21/build/bin/nos-search
NEW=/work/exp/b0/bin/nos-search
for s in $SEEDS; do
  NOS_CACHE_DIR=$PWD/old$s.cache $OLD run old$s --strategy ppo --seed $s --minutes 4 --quiet > old$s.log 2>&1
  NOS_CACHE_DIR=$PWD/new$s.cache $NEW run new$s --strategy ppo --seed $s --minutes 4 --quiet > new$s.log 2>&1
  NOS_CACHE_DIR=$PWD/lv0$s.cache $NEW run lv0$s --strategy ppo --seed $s --minutes 4 --levels 0 --no-meta-validation --quiet > lv0$s.log 2>&1
  cp -r old$s old$s.copy
  for r in old$s.copy new$s lv0$s; do $NEW report $r > $r.report 2>&1; done
done
echo done > done
