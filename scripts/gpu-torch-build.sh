#!/usr/bin/env bash
# gpu-torch-build.sh - build the torch layer against this machine's PyTorch.
#
# On the GPU machine (by scripts/gpu-check.sh), and rehearsed here: configures
# cmake/KitTorch.cmake with the core carried in .gpu (scripts/gpu-pack.sh)
# and the LibTorch inside the PyTorch of $PYTHON (default python3), then
# builds nos-train, nos-bench, nos-torch-tests and, where the interpreter
# has its headers, the Python binding into $NOS_KIT_BUILD
# (default /tmp/nos-gpu-torch). $NOS_KIT_LIBS names the folders the carried
# Debian libraries were unpacked into, for the linker. The carried core
# uses libstdc++'s C++11 ABI: a PyTorch built with the old one is refused
# here, before anything compiles.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
build=${NOS_KIT_BUILD:-/tmp/nos-gpu-torch}
core=$PWD/.gpu
# The carried headers unpack beside the build; .gpu stays as it came.
mkdir -p "$build.include"
tar -C "$build.include" -xJf .gpu/kit/include.tar.xz
read -r version abi prefix < <("$python" -c 'import torch
print(torch.__version__, int(torch._C._GLIBCXX_USE_CXX11_ABI),
      torch.utils.cmake_prefix_path)')
echo "gpu-torch-build: PyTorch $version ($python), C++11 ABI $abi"
if [ "$abi" != 1 ]; then
  echo "gpu-torch-build: this PyTorch uses the old C++ ABI; the carried core" \
    "was built with the C++11 one, so the torch layer cannot link to it" >&2
  exit 1
fi
link=""
libs=${NOS_KIT_LIBS:-}
for dir in ${libs//:/ }; do
  link+=" -Wl,-rpath-link,$dir"
done
generator="Unix Makefiles"
command -v ninja >/dev/null && generator=Ninja
cmake -S . -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
  -DNOS_CORE_PREFIX="$core" -DNOS_TORCH_PREFIX="$prefix" \
  -DNOS_KIT_INCLUDE="$build.include" -DPython_EXECUTABLE="$(command -v "$python")" \
  -DCMAKE_EXE_LINKER_FLAGS="$link" -DCMAKE_SHARED_LINKER_FLAGS="$link" \
  >"$build.configure.log" 2>&1 || {
  tail -30 "$build.configure.log" >&2
  exit 1
}
cmake --build "$build" -j "$(nproc)" --target nos-train nos-bench \
  nos-torch-tests
if grep -q '^NOS_PYTHON:INTERNAL=.\+' "$build/CMakeCache.txt"; then
  cmake --build "$build" -j "$(nproc)" --target _nos
  echo "gpu-torch-build: the Python binding is in $build/python"
else
  echo "gpu-torch-build: no Python binding: $(grep -o 'the Python binding is not built.*' "$build.configure.log" | head -1)"
fi
