#!/usr/bin/env python3
# equal_compute_summary.py OUT RUN... - per strategy, what its runs' chosen
# rules scored in the final table OUT/final/final.json (scripts/equal-compute.sh).
#
# A run's chosen rule is its leader at NOS_CHOOSE_LEVEL (default L3), read
# from `nos-search report RUN` (the table the final table took it from);
# with best, the run's own choice read from its store (engine_choice). Per strategy and task: the mean
# and standard deviation over seeds of the chosen rules' test means, and how
# many seeds' rules beat Adam and AddSign by >= 2 standard errors there.
# Per run: its proxy evaluations (rules scored on L1), so equal wall time
# can be read as equal evaluations or not. Runs are grouped by their
# folder's label (LABEL-SEED), so variants of one strategy stay apart.
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys

BIN = os.environ.get("NOS_SEARCH", "build/bin/nos-search")


def engine_choice(run):
    """The run's own choice (nos-search final --level best, the engine's
    Funnel::best): the best joined margin at the highest level with one,
    else the best proxy reward; read from the run's store."""
    db = sqlite3.connect(f"file:{run}/search.db?mode=ro", uri=True)
    joined = db.execute(
        "SELECT p.level, p.score, c.canonical FROM promotions p "
        "JOIN candidates c ON c.id = p.candidate WHERE c.batch >= 0 AND "
        "p.level LIKE 'L%' AND p.joined < 9223372036854775807").fetchall()
    if joined:
        top = max(int(level[1:]) for level, _, _ in joined)
        return max((score, canonical) for level, score, canonical in joined
                   if int(level[1:]) == top)[1]
    best = db.execute(
        "SELECT canonical FROM candidates WHERE batch >= 0 AND "
        "status = 'scored' ORDER BY reward DESC, id LIMIT 1").fetchone()
    return best[0] if best else None


def section_leader(report, level):
    """The first rule row of the report's section for `level`, or None."""
    head = f"  {level}:"
    if head not in report:
        return None
    for line in report[report.index(head):].splitlines()[1:]:
        if not line.startswith("    "):  # the next section
            return None
        if line.strip().startswith("#"):
            return re.split(r"\s{2,}", line.strip())[-1]
    return None


def run_facts(run):
    report = subprocess.run([BIN, "report", run], capture_output=True,
                            text=True, check=True).stdout
    head = re.search(r"run \S+: (\w+), seed (\d+).*?; (\d+) candidates", report)
    scored = re.search(r"scored (\d+)", report)
    dedup = re.search(r"deduplicated (\d+)%", report)
    if os.environ.get("NOS_CHOOSE_LEVEL") == "best":
        leader = engine_choice(run)
    else:
        leader = section_leader(report, os.environ.get("NOS_CHOOSE_LEVEL",
                                                       "L3"))
    label = os.path.basename(run.rstrip("/")).rsplit("-", 1)[0]
    return {"run": run, "strategy": label, "seed": int(head.group(2)),
            "candidates": int(head.group(3)),
            "scored": int(scored.group(1)) if scored else 0,
            "copies": int(dedup.group(1)) if dedup else 0, "leader": leader}


def main():
    out, runs = sys.argv[1], sys.argv[2:]
    table = json.load(open(os.path.join(out, "final", "final.json")))
    facts = [run_facts(r) for r in runs]
    print("run                 candidates  copies  L1 scored  chosen rule "
          f"({os.environ.get('NOS_CHOOSE_LEVEL', 'L3')} leader)")
    for f in facts:
        print(f"{os.path.basename(f['run']):<18} {f['candidates']:>11} "
              f"{f['copies']:>6}% {f['scored']:>10}  {f['leader'] or '-'}")
    strategies = sorted({f["strategy"] for f in facts},
                        key=[f["strategy"] for f in facts].index)
    for task, t in table["tasks"].items():
        rows = {r["canonical"]: r for r in t["rows"]}
        refs = {r["rule"]: r for r in t["rows"] if r["reference"]}
        better = "higher" if t["higher_is_better"] else "lower"
        print(f"\n{task} ({t['metric']}, {better} is better): test mean over "
              "seeds of each run's chosen rule")
        for s in strategies:
            means, wins = [], 0
            for f in facts:
                r = rows.get(f["leader"]) if f["strategy"] == s else None
                if r is None or r["test_mean"] is None:
                    continue
                means.append(r["test_mean"])
                ahead = r.get("ahead", {})
                wins += (ahead.get("adam", 0) >= 2 and
                         ahead.get("addsign", 0) >= 2)
            if not means:
                print(f"  {s:<11} no chosen rule")
                continue
            std = statistics.stdev(means) if len(means) > 1 else float("nan")
            print(f"  {s:<11} {statistics.mean(means):.4f} ± {std:.4f} over "
                  f"{len(means)} seed(s); ahead of Adam and AddSign by >= 2 "
                  f"standard errors: {wins}")
        for name in ("adam", "addsign"):
            if name in refs:
                r = refs[name]
                print(f"  {name:<11} {r['test_mean']:.4f} ± {r['test_std']:.4f} "
                      "(over test seeds)")


if __name__ == "__main__":
    main()
