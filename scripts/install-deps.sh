#!/usr/bin/env bash
# install-deps.sh - install every Debian package nos needs to build, test and run.
#
# A fresh Debian 12 machine has none of LLVM/MLIR 19 or Catch2; this script is
# the only place that knows the package list, so the README commands and CI
# stay in step. PyTorch is not among them: Debian's is 1.13, so PyPI's 2.x
# goes into the project's venv (scripts/venv.sh, run last). Safe to run
# repeatedly: apt and the venv skip what is present.
set -euo pipefail

PACKAGES=(
  cmake ninja-build ccache g++ python3 git
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools clang-19 libclang-rt-19-dev
  libfmt-dev catch2 libcli11-dev nlohmann-json3-dev libsqlite3-dev
  libopenmpi-dev openmpi-bin zlib1g-dev
  python3-dev python3-venv
  dataset-fashion-mnist fortunes
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
bash "$(dirname "$0")/venv.sh"
