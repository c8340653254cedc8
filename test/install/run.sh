#!/usr/bin/env bash
# run.sh BUILD_DIR SOURCE_DIR [PYTHON] - the install, as a user meets it.
#
# Installs BUILD_DIR into a fresh prefix, builds examples/train-mlp against
# it with find_package(nos) alone, runs it, and runs examples/python with the
# installed Python package (and checks that is the one imported), so that a missing header, target,
# dependency or run path fails the suite instead of a user.
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
python=${3:-}
work="$build/install-test"
rm -rf "$work" && mkdir -p "$work"
# Quiet when it works, the whole log when a step fails.
quiet() {
  "$@" >"$work/step.log" 2>&1 || { cat "$work/step.log"; exit 1; }
}
quiet cmake --install "$build" --prefix "$work/prefix"
quiet cmake -S "$src/examples/train-mlp" -B "$work/train-mlp" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$work/prefix"
quiet cmake --build "$work/train-mlp"
"$work/train-mlp/train-mlp" addsign
"$work/prefix/bin/nosc" --info adam | head -n 1
if [ -n "$python" ]; then
  cd "$work" # away from the source tree's python/
  PYTHONPATH="$work/prefix/lib/python3/dist-packages" \
    "$python" "$src/examples/python/train.py"
  PYTHONPATH="$work/prefix/lib/python3/dist-packages" "$python" -c \
    'import nos, sys; sys.exit(not nos.__file__.startswith(sys.argv[1]))' \
    "$work/prefix/"
fi
echo "install test passed"
