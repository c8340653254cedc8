#!/bin/bash
# Issue 21's side by side: the build of 3ad1f86 (when the issue was filed) and of fbd6104 (default --novelty-target 0.5), one after the other.
set -x
cd /work/runs/ab21
NOS_CACHE_DIR=$PWD/old.cache /work/exp/old21/build/bin/nos-search run old --minutes 4 --quiet > old.log 2>&1
NOS_CACHE_DIR=$PWD/new.cache /work/exp/nov2/bin/nos-search run new --minutes 4 --quiet > new.log 2>&1
cp -r old old.copy
/work/exp/nov2/bin/nos-search report old.copy > old.report 2>&1
/work/exp/nov2/bin/nos-search report new > new.report 2>&1
/work/exp/old21/build/bin/nos-search report old > old.oldreport 2>&1
echo done > done
