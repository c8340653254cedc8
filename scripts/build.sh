#!/usr/bin/env bash
# build.sh - configure and build nos (Release) into build/.
#
# Shared by the README commands and CI so there is one way to build. Uses
# ninja and ccache; NOS_BUILD_DIR and NOS_CMAKE_ARGS override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${NOS_BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release ${NOS_CMAKE_ARGS:-} >/dev/null
ninja -C "$BUILD_DIR" "$@"
