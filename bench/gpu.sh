#!/usr/bin/env bash
# gpu.sh - the GPU benchmark: nos against a device copy and PyTorch.
#
# Runs `nos-bench cuda` (adam and powersign over N parameters in TENSORS
# tensors) and bench/torch_gpu.py on the same GPU, then prints one JSON
# object with nos_gbps, copy_gbps and the ratios the GPU issue asks for
# (> 1 means nos is faster). Each part's figures are written to OUT (default
# gpu-bench/) as soon as they exist, so a failure in the torch part keeps
# the nos figures. Usage, from the repository root:
#   bench/gpu.sh [path/to/nos-bench]      (default build/bin/nos-bench)
# with N (default 268435456), TENSORS (default 64) and OUT in the environment.
set -euo pipefail
bench=${1:-build/bin/nos-bench}
n=${N:-268435456}
tensors=${TENSORS:-64}
out=${OUT:-gpu-bench}
here=$(dirname "$0")
mkdir -p "$out"

"$bench" cuda --rule adam,powersign --n "$n" --tensors "$tensors" > "$out/nos.jsonl"
echo "gpu.sh: nos figures in $out/nos.jsonl" >&2
cat "$out/nos.jsonl" >&2
python3 "$here/torch_gpu.py" --n "$n" --tensors "$tensors" > "$out/torch.json"
echo "gpu.sh: torch figures in $out/torch.json" >&2
python3 - "$out/nos.jsonl" "$out/torch.json" <<'PY' | tee "$out/merged.json"
import json, sys
rules = {r["rule"]: r for r in map(json.loads, open(sys.argv[1]).read().splitlines())}
torch = json.load(open(sys.argv[2]))
adam, ps = rules["adam"], rules["powersign"]
print(json.dumps({
    "device": adam["device"], "torch": torch["torch"], "n": adam["n"],
    "tensors": adam["tensors"],
    "bytes_per_elem": {"adam": adam["bytes_per_elem"], "powersign": ps["bytes_per_elem"]},
    "nos_gbps": {"adam": adam["nos_gbps"], "powersign": ps["nos_gbps"]},
    "copy_gbps": adam["copy_gbps"],
    "copy_ratio": {"adam": adam["copy_ratio"], "powersign": ps["copy_ratio"]},
    "adam_vs_torch_fused": torch["adam_fused_ms"] / adam["nos_ms"],
    "adam_vs_torch_foreach": torch["adam_foreach_ms"] / adam["nos_ms"],
    "powersign_vs_eager": torch["powersign_eager_ms"] / ps["nos_ms"],
    "ms": {"nos_adam": adam["nos_ms"], "nos_powersign": ps["nos_ms"],
           "torch_adam_fused": torch["adam_fused_ms"],
           "torch_adam_foreach": torch["adam_foreach_ms"],
           "torch_powersign_eager": torch["powersign_eager_ms"]},
}, indent=1))
PY
