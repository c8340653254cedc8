#!/usr/bin/env bash
# venv.sh - the project's Python environment, .venv: PyTorch 2.x from PyPI.
#
# One PyTorch for everything: the C++ side builds against the LibTorch inside
# the wheel (cmake/Torch.cmake asks this python where it is) and the Python
# package and its tests run on the same interpreter. Debian's python3 makes
# the venv; scripts/requirements.txt pins what goes in. Reruns are free: a
# stamp records the requirements the venv was made from. NOS_VENV moves it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${NOS_VENV:-$PWD/.venv}
req=scripts/requirements.txt
stamp=$venv/nos-requirements.txt
if [ -f "$stamp" ] && cmp -s "$stamp" "$req"; then
  echo "venv: $venv matches $req"
  exit 0
fi
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
echo "venv: installing $req into $venv (torch's wheel and its CUDA libraries: ~5 GB)"
"$venv/bin/pip" install --disable-pip-version-check -q -r "$req"
cp "$req" "$stamp"
