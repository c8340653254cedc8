#!/usr/bin/env bash
# pip.sh SOURCE_DIR PYTHON WORK_DIR - `pip install .` as a user meets it.
#
# Makes a fresh venv with PYTHON's interpreter, runs `pip install SOURCE_DIR`
# in it, then imports nos from a folder outside the tree with no PYTHONPATH,
# checks that the installed copy is the one imported, and trains
# examples/python/train.py with it. The fresh venv sees PYTHON's packages
# (torch, scikit-build-core, pybind11) through a .pth file and builds without
# isolation, so the test fetches nothing from PyPI.
set -euo pipefail
src=$(cd "$1" && pwd)
python=$2
work=$3
# The CMake build folder stays between runs (ccache makes a fresh one cheap).
rm -rf "$work/venv" && mkdir -p "$work"
quiet() {
  "$@" >"$work/step.log" 2>&1 || { cat "$work/step.log"; exit 1; }
}
quiet "$python" -m venv --without-pip "$work/venv"
site=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
"$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' >"$site/project-venv.pth"
quiet "$work/venv/bin/python" -m pip install --no-build-isolation --no-deps \
  --disable-pip-version-check --config-settings=build-dir="$work/build" "$src"
cd "$work"
"$work/venv/bin/python" -c 'import nos, sys; print("imported", nos.__file__); sys.exit(not nos.__file__.startswith(sys.argv[1]))' "$site/nos/"
"$work/venv/bin/python" "$src/examples/python/train.py"
echo "pip install test passed"
