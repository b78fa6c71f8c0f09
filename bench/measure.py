#!/usr/bin/env python3
"""Runs a command and prints its wall time and CPU time (user + system of
the command and every process it waited for) in milliseconds, with
microsecond resolution, and its peak memory (the largest process's maximum
resident set) in KiB: "wall_ms cpu_ms peak_kb". /usr/bin/time rounds to
10 ms, too coarse for allocsel's own work. Exits with the command's status;
its output goes to /dev/null. Usage: measure.py CMD [ARGS...]"""
import resource
import subprocess
import sys
import time

before = resource.getrusage(resource.RUSAGE_CHILDREN)
start = time.perf_counter()
rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
wall = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(f"{wall * 1000:.3f} {cpu * 1000:.3f} {after.ru_maxrss}")
sys.exit(rc)
