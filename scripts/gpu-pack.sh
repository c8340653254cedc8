#!/usr/bin/env bash
# gpu-pack.sh - prepare .gpu/ for the GPU machine (run here, not there).
#
# The GPU machine has the driver, CUDA and its own PyTorch but not LLVM/MLIR
# 19, and no package registry; the LibTorch this build links (inside .venv's
# torch wheel, gigabytes) cannot be carried there. So: build without
# torch into build-gpu/, copy the stripped binaries that need no torch into
# .gpu/bin, and download (not install) the Debian packages of the shared
# libraries they load into .gpu/debs. scripts/gpu-check.sh unpacks them
# there. .gpu/ is git-ignored; carry it to the device run.
set -euo pipefail
cd "$(dirname "$0")/.."
NOS_BUILD_DIR=build-gpu NOS_CMAKE_ARGS="-DNOS_ENABLE_TORCH=OFF" \
  scripts/build.sh nosc nos-unit-tests nos-bench
rm -rf .gpu && mkdir -p .gpu/bin .gpu/lib .gpu/debs
for tool in nosc nos-unit-tests nos-bench; do
  strip -o ".gpu/bin/$tool" "build-gpu/bin/$tool"
done
# The nos libraries they load, found through their run path $ORIGIN/../lib.
for lib in build-gpu/lib/libNOS*.so; do
  strip -o ".gpu/lib/$(basename "$lib")" "$lib"
done
# What `ldd` lists beyond a base system for these binaries.
(cd .gpu/debs && apt-get download libllvm19 libmlir-19 libfmt9 libz3-4 \
  libxml2 libicu72 libffi8 libedit2 libbsd0 libmd0 >/dev/null)
du -sh .gpu/bin .gpu/lib .gpu/debs
