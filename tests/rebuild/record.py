#!/usr/bin/env python3
"""record.py RESULTS DIR PKG VERSION BUCKET REASON TESTS LTO ALLOCATOR CHECKED [USER [ALLOCSEL_VERSION]]:
appends the package's line to RESULTS, from what run.sh found and what DIR
holds (the run's report links.jsonl, allocsel.time, control.time)."""
import collections
import fcntl
import json
import os
import sys

results, d, pkg, version, bucket, reason, tests, lto, allocator, checked = sys.argv[1:11]
user = sys.argv[11] if len(sys.argv) > 11 else None  # who ran the builds
# `allocsel --version` of the allocsel that ran: "allocsel 0.1.0 (ce93e85)".
allocsel_version = sys.argv[12] if len(sys.argv) > 12 else None


def load(name):
    try:
        with open(os.path.join(d, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


links = collections.Counter()
bypassed = []
own_cpu = None  # allocsel's own CPU seconds: its links' and allocsel run's
try:
    with open(os.path.join(d, "links.jsonl")) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if "bypassed" in r:
                bypassed.append(r["bypassed"])
            elif "allocsel_cpu" in r:
                own_cpu = r["allocsel_cpu"]
            elif r.get("status") == "linked":
                links["%s %s" % (r.get("type"), r.get("allocator"))] += 1
            else:
                links["%s %s" % (r.get("type"), r.get("status"))] += 1
except OSError:
    pass

line = {
    "package": pkg,
    "version": version or None,
    "bucket": bucket,
    "reason": reason or None,
    "lto": bool(lto),
    "allocator": allocator or None,
    "links": dict(sorted(links.items())),
    "bypassed": bypassed,
    "tests": tests,
    # on_allocator's "N OWN": N programs on the allocator asked for, OWN
    # that kept a malloc of their own (a default gives way to it).
    "programs_on_allocator": int(checked.split()[0]) if checked[:1].isdigit() else None,
    "programs_own_malloc": int(checked.split()[1]) if len(checked.split()) > 1 else None,
    "allocsel": load("allocsel.time"),
    "allocsel_own_cpu": own_cpu,
    "control": load("control.time"),
    "user": user,
    "allocsel_version": allocsel_version,
}
with open(results, "a") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    f.write(json.dumps(line) + "\n")
