#!/usr/bin/env bash
# test.sh - install what is missing, build, and run the whole test suite.
#
# The suite: ctest in the Release build (Catch2 unit and differential tests,
# lit tests of every pass and tool), the unit tests again under ASan/UBSan on
# a short budget, and the parser fuzzer (libFuzzer, clang-19) for a fixed
# time. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export NOS_CACHE_DIR=${NOS_CACHE_DIR:-$PWD/build/test-cache}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

echo "== build (Release)"
bash scripts/build.sh
echo "== tests (Release)"
ctest --test-dir build --output-on-failure

echo "== unit tests under AddressSanitizer + UBSan"
NOS_BUILD_DIR=build-asan NOS_CMAKE_ARGS="-DNOS_SANITIZE=ON -DNOS_ENABLE_TORCH=OFF" \
  bash scripts/build.sh nos-unit-tests
# The 1,000-rule differential test and the 1,024-term chain ([deep]: ASan's
# frames are ten times larger) run in the Release build; here everything else.
ASAN_OPTIONS=detect_leaks=1 build-asan/bin/nos-unit-tests "~[random]~[deep]"
[ ! -d build-asan/mock-cuda ] || LD_LIBRARY_PATH=build-asan/mock-cuda NOS_REQUIRE_CUDA=1 build-asan/bin/nos-unit-tests "[cuda]" # the fake driver, test/mock

echo "== parser fuzzer (libFuzzer)"
mkdir -p build/fuzz
clang++-19 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
  test/fuzz/ParserFuzzer.cpp lib/Frontend/*.cpp -o build/fuzz/parser-fuzzer
mkdir -p build/fuzz/corpus-work
cp test/fuzz/corpus/* build/fuzz/corpus-work/
build/fuzz/parser-fuzzer -max_total_time="${NOS_FUZZ_SECONDS:-30}" \
  -max_len=4096 -print_final_stats=1 build/fuzz/corpus-work 2>&1 | tail -n 3
echo "== all test stages passed"
