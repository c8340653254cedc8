#!/usr/bin/env python3
# search_ab.py - two or more settings of nos-search, one after another, as ratios.
#
# Each variant is a default search (`nos-search run DIR --minutes M --quiet`)
# with its own flags and its own empty kernel cache, run one after another
# on the same machine; the figures are read from `nos-search report` (the
# engine's own accounting) and printed with each variant's ratio to the
# first. Machines are shared and noisy: compare the ratios of one call,
# never figures across calls.
#
#   python3 bench/search_ab.py OUT --minutes 4 \
#       --variant original='--copy-reward original' --variant none='--copy-reward none'
#
# Leading VAR=VALUE words of a variant set its environment, e.g. an earlier
# build's libraries: --variant old='LD_LIBRARY_PATH=/tmp/oldlib'.
import argparse
import json
import os
import re
import shlex
import subprocess
import sys

FIGURES = {
    "candidates_per_hour": r"per hour: (\d+) candidates",
    "trained_per_hour": r"per hour: \d+ candidates, (\d+) trained",
    "deduplicated": r"deduplicated (\d+)%",
    "busy_share": r"worker time: busy ([\d.]+)%",
    "train_share": r"worker time: busy [\d.]+%, training ([\d.]+)%",
    "compile_ms_p50": r"p50 compile ([\d.]+) ms",
    "best_reward": r"\n\s+1\s+([\d.]+)\s",
}


def figures(report):
    out = {}
    for key, pattern in FIGURES.items():
        m = re.search(pattern, report)
        if not m:
            sys.exit(f"search_ab.py: no '{key}' in the report:\n{report}")
        value = float(m.group(1))
        out[key] = value / 100 if key.endswith("share") else value
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out", help="folder for the runs (must not exist)")
    p.add_argument("--minutes", type=float, default=4)
    p.add_argument("--variant", action="append", required=True,
                   help="NAME=FLAGS, the first is the baseline")
    p.add_argument("--bin", default="build/bin/nos-search")
    a = p.parse_args()
    if os.path.exists(a.out):
        sys.exit(f"search_ab.py: {a.out} exists; give a new folder")
    os.makedirs(a.out)
    rows = []
    for v in a.variant:
        name, _, flags = v.partition("=")
        run = os.path.join(a.out, name)
        env = dict(os.environ, NOS_CACHE_DIR=os.path.join(a.out, name + ".cache"))
        words = shlex.split(flags)
        while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]):
            var, _, value = words.pop(0).partition("=")
            env[var] = value
        cmd = [a.bin, "run", run, "--minutes", str(a.minutes), "--quiet"]
        cmd += words
        print("==", " ".join(map(shlex.quote, cmd)), flush=True)
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        report = subprocess.run([a.bin, "report", run], env=env, check=True,
                                capture_output=True, text=True).stdout
        rows.append((name, figures(report)))
    base = rows[0][1]
    print(f"{'variant':>12}" + "".join(f"{k:>22}" for k in FIGURES))
    for name, f in rows:
        cells = []
        for k in FIGURES:
            ratio = f[k] / base[k] if base[k] else float("nan")
            cells.append(f"{f[k]:>12g} ({ratio:5.2f}x)")
        print(f"{name:>12}" + "".join(f"{c:>22}" for c in cells))
    with open(os.path.join(a.out, "ab.json"), "w") as fh:
        json.dump({"minutes": a.minutes, "variants": a.variant,
                   "figures": dict(rows)}, fh, indent=1)


if __name__ == "__main__":
    main()
