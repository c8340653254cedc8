#!/bin/bash
# Issue 23: do the three rules that met the bar transfer to tasks no search
# rewarded or chose by? agreesign-cd, coinsign-cd and agreesign-ld (all
# from 8-minute Lion-style runs) against the six references in one final
# table on fmnist-mlp-l (Fashion-MNIST, MLP 512-256, 3 epochs) and charlm
# (the character LSTM 128 on every window, 1 epoch): test splits, seeds
# 3-7, lr chosen on validation with seeds 1-2, the final table's protocol.
# The references' charlm trainings are taken from final-main-job's log
# (the same protocol and grid, PyTorch 2.15), not trained again. Rerun to
# resume.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-/work/exp/transfer-bar}
BIN=${NOS_SEARCH:-build/bin/nos-search}
export OMP_NUM_THREADS=1
mkdir -p "$OUT"
[ -e "$OUT/final.jsonl" ] || python3 - "$OUT/final.jsonl" <<'PY'
import json, sys
refs = {"g", "ema(g, 0.9) * 10", "adam", "g / sqrt(ema(g2, 0.99))",
        "exp(sign(g) * sign(m)) * g", "(sign(g) * sign(m) + 1) * g"}
with open(sys.argv[1], "w") as out:
    for line in open("docs/results/final-main-job/final.jsonl"):
        row = json.loads(line)
        if row["task"] == "charlm" and row["rule"] in refs:
            out.write(line)
PY
$BIN final "$OUT" --rule agreesign-cd --rule coinsign-cd --rule agreesign-ld \
  --tasks fmnist-mlp-l,charlm --workers 2
