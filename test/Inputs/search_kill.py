#!/usr/bin/env python3
"""search_kill.py [--rank R] [--level-runs N] DIR CMD... - start CMD,
SIGKILL it mid-run.

Waits until DIR/search.db holds at least 10 candidates beyond the
references (and fewer than the run's budget) and, with --level-runs N, at
least N trainings of the funnel's levels, then kills the process with
SIGKILL, as a crash or an out-of-memory kill would. With --rank R, CMD is
an mpirun and the process killed is its MPI rank R; mpirun must then end
the whole job by itself (MPI's rule) within a minute. Exits 1 if the run
finished before it could be killed, or the job outlived its rank.
"""
import os
import signal
import sqlite3
import subprocess
import sys
import time


def descendants(pid):
    """Every process below pid, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def rank_pid(pid, rank):
    for child in descendants(pid):
        try:
            with open(f"/proc/{child}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if f"OMPI_COMM_WORLD_RANK={rank}".encode() in env:
            return child
    return None


args = sys.argv[1:]
rank = None
level_runs = 0
while args[0].startswith("--"):
    if args[0] == "--rank":
        rank = int(args[1])
    else:
        level_runs = int(args[1])
    args = args[2:]
folder, cmd = args[0], args[1:]
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
deadline = time.time() + 300
count = 0
while time.time() < deadline and proc.poll() is None:
    try:
        db = sqlite3.connect(f"file:{folder}/search.db?mode=ro", uri=True)
        count = db.execute("SELECT count(*) FROM candidates WHERE batch >= 0").fetchone()[0]
        levels = db.execute("SELECT count(*) FROM level_runs").fetchone()[0]
        db.close()
    except sqlite3.Error:
        count = levels = 0
    if count >= 10 and levels >= level_runs:
        if rank is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            print(f"killed after {count} candidates" +
                  (f", {levels} level runs" if level_runs else ""))
            sys.exit(0)
        victim = rank_pid(proc.pid, rank)
        if victim is None:
            print(f"no process of rank {rank} under {proc.pid}")
            sys.exit(1)
        os.kill(victim, signal.SIGKILL)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            print("the MPI job outlived its killed rank")
            sys.exit(1)
        print(f"killed rank {rank} after {count} candidates; the job ended "
              f"with {'an error' if code else 'success'}")
        sys.exit(0)
    time.sleep(0.02)
print(f"the run ended before it could be killed ({count} candidates)")
sys.exit(1)
