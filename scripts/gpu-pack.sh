#!/usr/bin/env bash
# gpu-pack.sh - prepare .gpu/ for the GPU machine (run here, not there).
#
# The GPU machine has the driver, CUDA, CMake, a C++ compiler and its own
# PyTorch but not LLVM/MLIR 19, and no package registry; the LibTorch this
# build links (inside .venv's torch wheel, gigabytes) cannot be carried
# there. So: build without torch into build-gpu/; install the core
# (frontend, runtime, compiler, their headers and CMake package) into .gpu
# with the stripped binaries that need no torch and the header-only
# libraries the torch layer includes, so that scripts/gpu-torch-build.sh
# can build the torch layer there against that machine's PyTorch; and
# download (not install) the Debian packages of the
# shared libraries they load into .gpu/debs. scripts/gpu-check.sh unpacks
# them there. Before anything is carried it checks that the binaries were
# built with the CUDA headers, that every shared library resolves from the
# carried ones, and that .gpu/ is under the carry limit with room to spare.
# .gpu/ is git-ignored; carry it to the device run.
set -euo pipefail
cd "$(dirname "$0")/.."
limit_mib=${NOS_CARRY_LIMIT_MIB:-64}
NOS_BUILD_DIR=build-gpu NOS_CMAKE_ARGS="-DNOS_ENABLE_TORCH=OFF" \
  scripts/build.sh nosc nos-unit-tests nos-bench NOSCompiler
rm -rf .gpu && mkdir -p .gpu/debs
# The core as an install (.gpu/bin, lib, include, lib/cmake/nos): the torch
# layer's build there takes it as NOS_CORE_PREFIX=.gpu. Then the stripped
# binaries over it, and the tools the install leaves out.
cmake --install build-gpu --prefix .gpu --component Unspecified >/dev/null
for tool in nosc nos-unit-tests nos-bench; do
  strip -o ".gpu/bin/$tool" "build-gpu/bin/$tool"
done
for lib in build-gpu/lib/libNOS*.so; do
  strip -o ".gpu/lib/$(basename "$lib")" "$lib"
done
# The header-only libraries the torch layer includes, zlib's header and
# pybind11 (the venv's, for the Python binding), compressed (3.6 MiB of
# text; scripts/gpu-torch-build.sh unpacks them).
mkdir -p .gpu/kit
site=$(.venv/bin/python -c 'import pybind11, os; print(os.path.dirname(os.path.dirname(pybind11.__file__)))')
tar -cJf .gpu/kit/include.tar.xz -C /usr/include fmt nlohmann CLI catch2 \
  zlib.h zconf.h -C "$site" pybind11/include pybind11/share
# What `ldd` lists beyond a base system for these binaries.
(cd .gpu/debs && apt-get download libllvm19 libmlir-19 libfmt9 libz3-4 \
  libxml2 libicu72 libffi8 libedit2 libbsd0 libmd0 >/dev/null)
python3 scripts/gpu_pack_check.py .gpu build-gpu --limit-mib "$limit_mib"
