#!/usr/bin/env python3
"""search_db.py - checks of a nos-search run folder for the lit tests.

  search_db.py DIR count        counts and id ranges of the candidates table
  search_db.py DIR svg FILE     parses the report SVG, counts its marks and
                                checks the batch-median line (runs of at most
                                200 batches)
  search_db.py DIR lines FILE   counts the lines of each kind in a report SVG
  search_db.py DIR same DIR2    checks both runs stored the same candidates,
                                promotions and level runs
  search_db.py DIR funnel       counts promotions (decided, joined) and level
                                runs per level
  search_db.py DIR cached       counts the level runs served by the
                                level-results cache, the references' apart
  search_db.py DIR workers      lists the workers that evaluated candidates
  search_db.py DIR distinct DIR2
                                the distinct canonical forms the strategy
                                proposed and the best reward, in both runs
  search_db.py DIR snapshot F   writes the stored rows to F (JSON)
  search_db.py DIR kept F       checks every row of snapshot F is unchanged
                                and that no canonical form was trained twice
  search_db.py DIR settings F   checks the stored settings are F's, byte for
                                byte
  search_db.py DIR dump-settings prints the stored settings
  search_db.py DIR setting KEY...
                                prints the stored values of dotted keys
                                (strategy.name), one per line
  search_db.py DIR edit-settings OLD NEW
                                replaces OLD by NEW in the stored settings
"""
import json
import sqlite3
import statistics
import sys
import xml.etree.ElementTree as ET


def rows(folder):
    db = sqlite3.connect(f"file:{folder}/search.db?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    return [dict(r) for r in db.execute("SELECT * FROM candidates ORDER BY id")]


def check_medians(search, line):
    """A point per batch with a trained rule, higher where its median is."""
    trained = {}
    for r in search:
        if r["status"] in ("scored", "stopped"):
            trained.setdefault(r["batch"], []).append(r["reward"])
    medians = [statistics.median(trained[b]) for b in sorted(trained)]
    ys = [float(p.split(",")[1]) for p in line.get("points").split()]
    assert len(ys) == len(medians), (len(ys), len(medians))
    for i in range(len(ys)):
        for j in range(len(ys)):
            # SVG's y grows downwards; equal where both are clamped.
            assert medians[i] >= medians[j] or ys[i] >= ys[j], (i, j)


def funnel(folder):
    """Promotions and level runs keyed by (batch, slot), not by store id."""
    db = sqlite3.connect(f"file:{folder}/search.db?mode=ro", uri=True)
    where = {i: (b, s) for i, b, s in
             db.execute("SELECT id, batch, slot FROM candidates")}
    promotions = sorted((where[c], level, decided, joined, score, reward)
                        for c, level, decided, joined, score, reward in
                        db.execute("SELECT candidate, level, decided, joined, "
                                   "score, reward FROM promotions"))
    runs = sorted((where[c], level, task, lr, seed, status, metric)
                  for c, level, task, lr, seed, status, metric in
                  db.execute("SELECT candidate, level, task, lr, seed, "
                             "status, metric FROM level_runs"))
    return promotions, runs


def main():
    folder, what = sys.argv[1], sys.argv[2]
    all_rows = rows(folder)
    search = [r for r in all_rows if r["batch"] >= 0]
    if what == "count":
        ids = [r["id"] for r in all_rows]
        slots = {(r["batch"], r["slot"]) for r in all_rows}
        print(f"candidates {len(search)} references {len(all_rows) - len(search)}"
              f" ids {min(ids)}..{max(ids)} distinct-batch-slots {len(slots)}")
    elif what == "svg":
        ns = {"s": "http://www.w3.org/2000/svg"}
        root = ET.parse(sys.argv[3]).getroot()
        points = root.findall(".//s:circle[@class='candidate']", ns)
        marks = [c for c in ("best", "median", "best-time")
                 if root.findall(f".//s:polyline[@class='{c}']", ns)]
        drawn = [r for r in search if r["status"] != "duplicate"]
        assert len(points) == len(drawn), (len(points), len(drawn))
        check_medians(search, root.find(".//s:polyline[@class='median']", ns))
        print(f"svg ok: a point per non-duplicate candidate, " +
              ", ".join(m + " line" for m in marks))
    elif what == "lines":
        ns = {"s": "http://www.w3.org/2000/svg"}
        root = ET.parse(sys.argv[3]).getroot()
        counts = {c: len(root.findall(f".//s:polyline[@class='{c}']", ns))
                  for c in ("best", "median", "best-time")}
        refs = len(root.findall(".//s:line[@class='reference']", ns))
        print(" ".join(f"{c} {n}" for c, n in counts.items()) +
              f" reference {refs}")
    elif what == "same":
        # Store ids follow the order candidates finished, which depends on
        # the workers; what was proposed and earned does not.
        key = lambda r: (r["batch"], r["slot"], r["tokens"], r["canonical"],
                         r["status"], r["reward"], r["fidelity"], r["rungs"])
        mine = sorted(key(r) for r in all_rows)
        other = sorted(key(r) for r in rows(sys.argv[3]))
        for a, b in zip(mine, other):
            assert a == b, f"the runs differ: {a} vs {b}"
        assert len(mine) == len(other), "the runs differ in length"
        promotions, runs = funnel(folder)
        assert (promotions, runs) == funnel(sys.argv[3]), \
            "the runs promoted differently"
        print(f"same {len(all_rows)} rows, {len(promotions)} promotions, "
              f"{len(runs)} level runs")
    elif what == "funnel":
        promotions, runs = funnel(folder)
        for level in sorted({p[1] for p in promotions}):
            mine = [p for p in promotions if p[1] == level]
            refs = sum(p[0][0] < 0 for p in mine)
            joined = sum(p[3] is not None for p in mine)
            ahead = sum(p[4] is not None and p[4] > 0 for p in mine)
            trained = sum(r[1] == level for r in runs)
            print(f"{level}: {len(mine) - refs} promoted, {refs} references, "
                  f"{joined} joined, {ahead} ahead, {trained} runs")
    elif what == "cached":
        db = sqlite3.connect(f"file:{folder}/search.db?mode=ro", uri=True)
        runs = list(db.execute("SELECT c.batch < 0, r.cached FROM level_runs "
                               "r JOIN candidates c ON c.id = r.candidate"))
        refs = [cached for ref, cached in runs if ref]
        print(f"cached {sum(c for _, c in runs)} of {len(runs)} level runs; "
              f"references {sum(refs)} of {len(refs)}")
    elif what == "distinct":
        def distinct(rs):
            mine = [r for r in rs if r["batch"] >= 0]
            return (len({r["canonical"] for r in mine}),
                    max(r["reward"] for r in mine))
        (n, best), (m, other) = distinct(all_rows), distinct(rows(sys.argv[3]))
        print(f"distinct {n} against {m}, best {best:.4f} against {other:.4f}")
    elif what == "workers":
        used = sorted({r["worker"] for r in all_rows if r["worker"] >= 0})
        print("workers " + ",".join(map(str, used)))
    elif what == "snapshot":
        json.dump(all_rows, open(sys.argv[3], "w"))
        print(f"snapshot {len(search)} candidates")
    elif what == "kept":
        before = json.load(open(sys.argv[3]))
        now = {r["id"]: r for r in all_rows}
        for r in before:
            assert now.get(r["id"]) == r, f"row {r['id']} changed or was lost"
        trained = [r["canonical"] for r in search if r["status"] in
                   ("scored", "diverged", "hurdle-failed", "stopped")]
        assert len(trained) == len(set(trained)), "a rule was trained twice"
        ids = sorted(now)
        assert ids == list(range(1, len(ids) + 1)), "ids are not contiguous"
        print(f"kept {len(before)} rows; now {len(search)} candidates, "
              f"none trained twice")
    elif what == "settings":
        db = sqlite3.connect(f"file:{folder}/search.db?mode=ro", uri=True)
        (stored,), = db.execute("SELECT value FROM meta WHERE key='settings'")
        expected = open(sys.argv[3]).read().rstrip("\n")
        if stored != expected:
            a, b = json.loads(stored), json.loads(expected)
            keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            sys.exit(f"the stored settings differ from {sys.argv[3]}: {keys}")
        print("settings as expected")
    elif what == "setting":
        db = sqlite3.connect(f"file:{folder}/search.db?mode=ro", uri=True)
        (stored,), = db.execute("SELECT value FROM meta WHERE key='settings'")
        for key in sys.argv[3:]:
            value = json.loads(stored)
            for part in key.split("."):
                value = value[part]
            print(f"{key} = {json.dumps(value)}")
    elif what == "dump-settings":
        db = sqlite3.connect(f"file:{folder}/search.db?mode=ro", uri=True)
        (stored,), = db.execute("SELECT value FROM meta WHERE key='settings'")
        print(stored)
    elif what == "edit-settings":
        db = sqlite3.connect(f"{folder}/search.db")
        (stored,), = db.execute("SELECT value FROM meta WHERE key='settings'")
        assert sys.argv[3] in stored, f"no {sys.argv[3]!r} in the settings"
        db.execute("UPDATE meta SET value = ? WHERE key = 'settings'",
                   (stored.replace(sys.argv[3], sys.argv[4]),))
        db.commit()
        print("settings edited")


main()
