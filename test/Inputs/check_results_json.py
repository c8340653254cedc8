"""Checks nos-train's results.json against its own runs and results.csv.

Recomputes each rule's summary (the lr with the best mean of the seeds' best
validation accuracy, that mean, the sample std, the run and divergence
counts) from the per-run records, and compares every run with the CSV row of
the same rule, lr and seed. Prints one line per rule for FileCheck; exits 1
with the first disagreement.
"""
import csv
import json
import math
import sys

results, table = json.load(open(sys.argv[1])), list(csv.DictReader(open(sys.argv[2])))
runs = results["runs"]
rows = {(r["rule"], float(r["lr"]), int(r["seed"])): r for r in table}
if len(rows) != len(runs):
    sys.exit(f"{len(runs)} runs in JSON, {len(rows)} in CSV")
for run in runs:
    row = rows[(run["rule"], run["lr"], run["seed"])]
    if row["status"] != run["status"] or not math.isclose(
            float(row["best_val_accuracy"]), run["best_val_accuracy"],
            rel_tol=1e-6):
        sys.exit(f"run {run['rule']} lr {run['lr']} seed {run['seed']}: "
                 f"JSON and CSV disagree")
    curve = run["curve [step, train_loss, val_loss, val_acc]"]
    if not curve or any(len(p) != 4 for p in curve):
        sys.exit(f"run {run['rule']}: curve points are not [step, train_loss, "
                 f"val_loss, val_acc]")
    if max(p[3] for p in curve) != run["best_val_accuracy"]:
        sys.exit(f"run {run['rule']}: best_val_accuracy is not the curve's best")
for summary in results["summary"]:
    by_lr = {}
    for run in runs:
        if run["rule"] == summary["rule"]:
            by_lr.setdefault(run["lr"], []).append(run)
    means = {lr: sum(r["best_val_accuracy"] for r in group) / len(group)
             for lr, group in by_lr.items()}
    lr = max(means, key=means.get)
    group = by_lr[lr]
    mean = means[lr]
    std = math.sqrt(sum((r["best_val_accuracy"] - mean) ** 2 for r in group)
                    / (len(group) - 1)) if len(group) > 1 else 0
    diverged = sum(r["status"] != "ok" for r in group)
    want = (lr, len(group), diverged)
    got = (summary["lr"], summary["runs"], summary["diverged"])
    if want != got or not math.isclose(mean, summary["mean"], rel_tol=1e-9) \
            or not math.isclose(std, summary["std"], rel_tol=1e-6, abs_tol=1e-12):
        sys.exit(f"summary of {summary['rule']}: {summary} but the runs give "
                 f"lr {lr}, mean {mean}, std {std}, {len(group)} runs, "
                 f"{diverged} diverged")
    print(f"summary {summary['rule']} canonical '{summary['canonical']}' "
          f"lr {summary['lr']:g} runs {summary['runs']}")
print(f"task {results['task']}: {len(runs)} runs agree")
