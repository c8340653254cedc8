#!/usr/bin/env bash
# warm-level-cache.sh CACHE [FLAGS...] - fill a level-results cache with the
# references' level trainings before the searches that share it.
#
# A one-candidate search (seed 0) on both cores, one torch thread per worker
# as the studies' runs train (the threads are part of the cache's key), with
# the nos-search run FLAGS given (those that set the levels: --levels,
# --level, --recipe), writes every reference's training at every level into
# CACHE (a SQLite file, nos-search run --level-cache). Its run folder is
# CACHE.warmup; once that run has ended (CACHE.warmup.done) the script does
# nothing, and an interrupted one is resumed, so a study that calls it
# resumes. What it cost is that folder's report.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${1:?usage: warm-level-cache.sh CACHE [nos-search run flags]}
shift
BIN=${NOS_SEARCH:-build/bin/nos-search}
[ -e "$CACHE.warmup.done" ] && exit 0
mkdir -p "$(dirname "$CACHE")"
export OMP_NUM_THREADS=1 NOS_CACHE_DIR="$CACHE.warmup.cache"
if [ -e "$CACHE.warmup/search.db" ]; then
  # One that ended before it could be marked refuses to resume: its
  # trainings are in the cache, and the studies train any that are not.
  $BIN resume "$CACHE.warmup" --workers 2 --torch-threads 1 --quiet \
    --level-cache "$CACHE" || true
else
  $BIN run "$CACHE.warmup" --seed 0 --candidates 1 --workers 2 \
    --torch-threads 1 --quiet --level-cache "$CACHE" "$@"
fi
touch "$CACHE.warmup.done"
