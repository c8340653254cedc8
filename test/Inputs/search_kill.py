#!/usr/bin/env python3
"""search_kill.py DIR CMD... - start CMD, SIGKILL it mid-run.

Waits until DIR/search.db holds at least 10 candidates beyond the
references (and fewer than the run's budget), then kills the process with
SIGKILL, as a crash or an out-of-memory kill would. Exits 1 if the run
finished before it could be killed.
"""
import os
import signal
import sqlite3
import subprocess
import sys
import time

folder, cmd = sys.argv[1], sys.argv[2:]
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
deadline = time.time() + 300
count = 0
while time.time() < deadline and proc.poll() is None:
    try:
        db = sqlite3.connect(f"file:{folder}/search.db?mode=ro", uri=True)
        count = db.execute("SELECT count(*) FROM candidates WHERE batch >= 0").fetchone()[0]
        db.close()
    except sqlite3.Error:
        count = 0
    if count >= 10:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        print(f"killed after {count} candidates")
        sys.exit(0)
    time.sleep(0.02)
print(f"the run ended before it could be killed ({count} candidates)")
sys.exit(1)
