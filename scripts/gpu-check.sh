#!/usr/bin/env bash
# gpu-check.sh - every GPU check in one run, on the machine with the GPU.
#
# Expects .gpu/ from scripts/gpu-pack.sh. Unpacks the carried libraries
# into a private folder (never over /), then runs: the CUDA runtime tests,
# the GPU differential tests (primitives, 1,000 random rules, one launch
# over odd tensors vs the CPU JIT), `nosc --check --gpu` on the paper's
# rules, and the benchmark (bench/gpu.sh). Logs go to $OUT when set.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/nos-gpu-out}
mkdir -p "$out"
libs=/tmp/nos-gpu-libs
mkdir -p "$libs"
for deb in .gpu/debs/*.deb; do dpkg -x "$deb" "$libs"; done
export LD_LIBRARY_PATH="$libs/usr/lib/x86_64-linux-gnu:$libs/usr/lib/llvm-19/lib:$libs/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export NOS_CACHE_DIR=/tmp/nos-gpu-cache
export NOS_REQUIRE_CUDA=1 # a GPU test must not pass by skipping here
bin=.gpu/bin
status=0
step() {
  echo "== $*" | tee -a "$out/log"
  "$@" 2>&1 | tee -a "$out/log" | tail -20
  local rc=${PIPESTATUS[0]}
  echo "== exit $rc" | tee -a "$out/log"
  [ "$rc" = 0 ] || status=1
}
nvidia-smi -L | tee -a "$out/log"
if ldd "$bin/nos-unit-tests" | grep 'not found' | tee -a "$out/log"; then
  echo "missing shared libraries: add their packages to scripts/gpu-pack.sh" | tee -a "$out/log"
  exit 1
fi
step "$bin/nos-unit-tests" "[cuda],[gpu]"
for rule in 'adam' 'exp(sign(g) * sign(m)) * g' 'drop(g, 0.3) * exp(noise) + anoise'; do
  step "$bin/nosc" "$rule" --check --gpu --check-n 1000003
done
step env OUT="$out/bench" bench/gpu.sh "$bin/nos-bench"
exit $status
