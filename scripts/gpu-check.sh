#!/usr/bin/env bash
# gpu-check.sh - every GPU check in one run, on the machine with the GPU.
#
# Expects .gpu/ from scripts/gpu-pack.sh. Unpacks the carried libraries
# into a private folder (never over /), prints one preflight line (OS,
# glibc, driver, GPU, PyTorch, its CUDA and C++ ABI), then the figures
# first: the kernel benchmark (bench/gpu.sh: bandwidth against a device
# copy, Adam and PowerSign against torch), the torch layer built against
# this machine's PyTorch (scripts/gpu-torch-build.sh), nos's Adam step on
# the GPU against torch::optim::Adam, nos.Optimizer against AdamW(fused)
# and torch.compile (bench/python_step.py, where the binding built), and
# one short child run on the GPU
# against the CPU; then the long correctness tests (the CUDA runtime tests,
# the GPU differential tests, `nosc --check --gpu`, the torch tests on
# CUDA). Each step has its own time limit (STEP_LIMIT seconds, default 240)
# and its output is written to $OUT as it comes.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/nos-gpu-out}
limit=${STEP_LIMIT:-240}
mkdir -p "$out"
libs=/tmp/nos-gpu-libs
mkdir -p "$libs"
for deb in .gpu/debs/*.deb; do dpkg -x "$deb" "$libs"; done
carried="$libs/usr/lib/x86_64-linux-gnu:$libs/usr/lib/llvm-19/lib:$libs/lib/x86_64-linux-gnu"
export LD_LIBRARY_PATH="$carried${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export NOS_CACHE_DIR=/tmp/nos-gpu-cache
export NOS_REQUIRE_CUDA=1 # a GPU test must not pass by skipping here
bin=.gpu/bin
kit=${NOS_KIT_BUILD:-/tmp/nos-gpu-torch}
status=0
step() { # step NAME COMMAND...: its output in $out/NAME.log and the log
  local name=$1
  shift
  echo "== $name: $*" | tee -a "$out/log"
  timeout "${STEP_TIMEOUT:-$limit}" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  tail -20 "$out/$name.log" | tee -a "$out/log"
  echo "== $name exit $rc" | tee -a "$out/log"
  [ "$rc" = 0 ] || status=1
  return "$rc"
}
preflight() {
  local os glibc gpu torch
  os=$(. /etc/os-release && echo "$PRETTY_NAME")
  glibc=$(ldd --version | head -1 | awk '{print $NF}')
  gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
  torch=$(python3 -c 'import torch; print("torch", torch.__version__, "cuda",
    torch.version.cuda, "cxx11abi", int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>&1 | tail -1)
  echo "preflight: $os; glibc $glibc; GPU $gpu; $torch" | tee -a "$out/log"
}
preflight
if ldd "$bin/nos-unit-tests" | grep 'not found' | tee -a "$out/log"; then
  echo "missing shared libraries: add their packages to scripts/gpu-pack.sh" | tee -a "$out/log"
  exit 1
fi
# The figures first.
step kernel-bench env OUT="$out/bench" bench/gpu.sh "$bin/nos-bench"
# Compiling torch's headers takes minutes even on many cores.
if STEP_TIMEOUT=$((2 * limit)) step torch-build env NOS_KIT_LIBS="$carried" NOS_KIT_BUILD="$kit" \
  scripts/gpu-torch-build.sh; then
  step train-step-gpu "$kit/bin/nos-bench" train --device cuda
  step train-step-cpu "$kit/bin/nos-bench" train --device cpu --reps 5
  [ -d "$kit/python/nos" ] && STEP_TIMEOUT=$((2 * limit)) step python-step \
    env PYTHONPATH="$kit/python" python3 bench/python_step.py --device cuda --json
  for device in cuda cpu; do
    step "child-$device" "$kit/bin/nos-train" --task logistic --rule adam \
      --lr 0.01 --device "$device" --out "$out/child-$device"
  done
fi
# Then the long correctness tests.
step unit-gpu "$bin/nos-unit-tests" "[cuda],[gpu]"
n=0
for rule in 'adam' 'exp(sign(g) * sign(m)) * g' 'drop(g, 0.3) * exp(noise) + anoise'; do
  step "nosc-check-$((n += 1))" "$bin/nosc" "$rule" --check --gpu --check-n 1000003
done
[ -x "$kit/bin/nos-torch-tests" ] && step torch-cuda "$kit/bin/nos-torch-tests" "[cuda]"
exit $status
