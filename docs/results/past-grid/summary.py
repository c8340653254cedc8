#!/usr/bin/env python3
"""summary.py OUT - each docs/results final table against its rerun in
OUT/NAME (run.sh): the rows whose lr moved past the grid, what that did to
their test mean and their distance to Adam and AddSign, and each table's
bar count (tasks where a found rule beats both by >= 2 standard errors)."""
import glob
import json
import os
import statistics
import sys

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def wins(table):
    out = {}
    for tab in table["tasks"].values():
        for r in tab["rows"]:
            if not r["reference"]:
                ah = r["ahead"]
                ok = (ah.get("adam") or -1e9) >= 2 and \
                    (ah.get("addsign") or -1e9) >= 2
                out[r["rule"]] = out.get(r["rule"], 0) + ok
    return sorted(out.values(), reverse=True)


def main():
    out = sys.argv[1]
    moved, changed, tables = [], [], 0
    for path in sorted(glob.glob(os.path.join(out, "*", "final.json"))):
        name = os.path.basename(os.path.dirname(path))
        old_path = os.path.join(RESULTS, name, "final.json")
        if not os.path.exists(old_path):
            continue
        old, new = json.load(open(old_path)), json.load(open(path))
        tables += 1
        # Merged spellings can drop a row, so compare what the bar asks:
        # how many rules meet it and the most tasks any rule wins.
        before, after = wins(old), wins(new)
        met = lambda w: (sum(n >= 2 for n in w), max(w, default=0))
        print(f"{name}: tasks won by each found rule {before} -> {after}")
        if met(before) != met(after):
            changed.append(name)
        for task, tab in new["tasks"].items():
            by_canonical = {r["canonical"]: r for r in old["tasks"][task]["rows"]}
            for r in tab["rows"]:
                o = by_canonical.get(r["canonical"])
                if o and o["lr"] != r["lr"]:
                    sign = 1 if tab["higher_is_better"] else -1
                    moved.append((name, task, r, o,
                                  sign * (r["test_mean"] - o["test_mean"])))
                    print(f"  {task} {r['rule']}: lr {o['lr']:g} -> {r['lr']:g}, "
                          f"test {o['test_mean']:.4f} -> {r['test_mean']:.4f}, "
                          f"d_adam {o['ahead']['adam']:+.1f} -> "
                          f"{r['ahead']['adam']:+.1f}, d_addsign "
                          f"{o['ahead']['addsign']:+.1f} -> "
                          f"{r['ahead']['addsign']:+.1f}")
    found = [m for m in moved if not m[2]["reference"]]
    print(f"\n{tables} tables; {len(moved)} rows moved past the grid in "
          f"{len({m[0] for m in moved})} of them, on "
          f"{sorted({m[1] for m in moved})}, lr moves "
          f"{sorted({(m[3]['lr'], m[2]['lr']) for m in moved})}")
    print("references moved: " + ", ".join(sorted(
        {f"{m[2]['rule']} ({m[1]}, test {m[4]:+.3f} better)"
         for m in moved if m[2]['reference']})))
    if found:
        gain = [m[4] for m in found]
        mean = lambda xs: statistics.mean(xs)
        print(f"found-rule rows moved: {len(found)} "
              f"({len({m[2]['canonical'] for m in found})} distinct rules); "
              f"test metric better by {mean(gain):.3f} on average "
              f"({min(gain):+.3f} to {max(gain):+.3f})")
        print(f"  mean d_adam {mean([m[3]['ahead']['adam'] for m in found]):+.1f}"
              f" -> {mean([m[2]['ahead']['adam'] for m in found]):+.1f}; "
              f"mean d_addsign "
              f"{mean([m[3]['ahead']['addsign'] for m in found]):+.1f} -> "
              f"{mean([m[2]['ahead']['addsign'] for m in found]):+.1f}")
        for ref in ("adam", "addsign"):
            print(f"  ahead of {ref} by >= 2 SE: "
                  f"{sum(m[3]['ahead'][ref] >= 2 for m in found)} -> "
                  f"{sum(m[2]['ahead'][ref] >= 2 for m in found)}")
        best = max(found, key=lambda m: m[2]["ahead"]["adam"])
        print(f"  closest to Adam now: {best[2]['rule']} in {best[0]} "
              f"({best[1]}), d_adam {best[2]['ahead']['adam']:+.1f}")
    print(f"tables whose bar count changed: {len(changed)} {changed}")


if __name__ == "__main__":
    main()
