#!/usr/bin/env python3
"""timed.py OUT.json CMD...: runs CMD, writes {"wall", "cpu", "rc"} to
OUT.json (wall and CPU seconds of CMD and everything it ran), exits as CMD
did."""
import json
import resource
import subprocess
import sys
import time

start = time.monotonic()
rc = subprocess.call(sys.argv[2:])
wall = time.monotonic() - start
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    json.dump({"wall": round(wall, 2), "cpu": round(ru.ru_utime + ru.ru_stime, 2), "rc": rc}, f)
sys.exit(rc if rc >= 0 else 128 - rc)
