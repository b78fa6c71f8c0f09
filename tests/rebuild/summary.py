#!/usr/bin/env python3
"""summary.py RESULTS.jsonl... [--doc docs/rebuild.md]

The rebuild's results (tests/rebuild/run.sh) as a Markdown table per
results file: each package's bucket, its links by type and decision, what
bypassed allocsel, its tests, and the build's wall and CPU seconds with and
without allocsel; then the totals, the build overhead among them (CPU of
the packages built both ways). Printed, or with --doc written into that
file between its "results" markers; each table names the allocsel that
built its packages (`allocsel --version`, as each line recorded it)."""
import json
import os
import sys


def seconds(t, key):
    return "%.0f" % t[key] if t else ""


def table(path):
    # A package run twice counts once: its last run.
    rows = list({r["package"]: r for r in
                 (json.loads(l) for l in open(path) if l.strip())}.values())
    rows.sort(key=lambda r: r["package"])
    out = []
    alloc = next((r["allocator"] for r in rows if r.get("allocator")), None)
    name = os.path.basename(path)
    if name == "results.jsonl":  # run.sh's: named by its directory
        name = os.path.basename(os.path.dirname(os.path.abspath(path)))
    if alloc and not alloc.startswith("--"):  # recorded before the option was
        alloc = "--allocator=" + alloc
    out.append("### %s%s\n" % (name.removesuffix(".jsonl"),
                               " (%s)" % alloc.replace("=", " ", 1) if alloc else ""))
    out.append("| package | version | bucket | links | bypassed | tests | wall s (allocsel / control) | CPU s (allocsel / control) |")
    out.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    buckets = {}
    both_cpu = [0.0, 0.0]
    both_n = 0
    own = [0.0, 0.0]  # allocsel's own CPU, and its builds' whole CPU
    bypassed = 0
    for r in rows:
        buckets[r["bucket"]] = buckets.get(r["bucket"], 0) + 1
        links = ", ".join("%s %d" % (k, v) for k, v in r["links"].items()) or "-"
        a, c = r.get("allocsel"), r.get("control")
        if a and c and a["rc"] == 0 and c["rc"] == 0:
            both_cpu[0] += a["cpu"]
            both_cpu[1] += c["cpu"]
            both_n += 1
        if a and a["rc"] == 0 and r.get("allocsel_own_cpu") is not None:
            own[0] += r["allocsel_own_cpu"]
            own[1] += a["cpu"]
        bypassed += len(r["bypassed"])
        name = r["package"] + (" (lto)" if r.get("lto") else "")
        bucket = r["bucket"] + (": " + r["reason"] if r.get("reason") else "")
        out.append("| %s | %s | %s | %s | %d | %s | %s / %s | %s / %s |" % (
            name, r.get("version") or "", bucket, links, len(r["bypassed"]),
            r["tests"], seconds(a, "wall"), seconds(c, "wall"),
            seconds(a, "cpu"), seconds(c, "cpu")))
    out.append("")
    total = ", ".join("%s %d" % (b, buckets[b]) for b in ("success", "failure", "broken") if b in buckets)
    out.append("%d packages: %s; %d bypassed artifacts." % (len(rows), total, bypassed))
    # Which allocsel built them, as each line recorded it (earlier runs did
    # not: the file's name carries the commit).
    versions = sorted({r.get("allocsel_version") or
                       "allocsel not recorded (the file's name carries its commit)"
                       for r in rows})
    out.append("Built through %s." % "; ".join(versions))
    n_on = sum(r.get("programs_on_allocator") or 0 for r in rows)
    n_own = sum(r.get("programs_own_malloc") or 0 for r in rows)
    if alloc:
        out.append("Programs in the built .debs on the allocator asked for (allocsel inspect): "
                   "%d%s." % (n_on, "; keeping a malloc of their own: %d" % n_own if n_own else ""))
    # Who ran the builds (before run.sh recorded it: root).
    users = {}
    for r in rows:
        users[r.get("user") or "root"] = users.get(r.get("user") or "root", 0) + 1
    out.append("Built as %s." % ", ".join("%s: %d" % u for u in sorted(users.items())))
    if both_n:
        out.append("Build overhead over the %d packages built both ways: %.1f CPU s with allocsel, "
                   "%.1f without, %+.2f%%." % (both_n, both_cpu[0], both_cpu[1],
                                                100.0 * (both_cpu[0] - both_cpu[1]) / both_cpu[1]))
    if own[1]:
        out.append("allocsel's own share of its builds' CPU (each allocsel-ld's own time, the "
                   "linker's left out, and allocsel run's): %.2f of %.1f CPU s, %.2f%%."
                   % (own[0], own[1], 100.0 * own[0] / own[1]))
    out.append("")
    return "\n".join(out)


def main(argv):
    doc = None
    if "--doc" in argv:
        i = argv.index("--doc")
        doc = argv[i + 1]
        del argv[i:i + 2]
    if not argv:
        sys.exit(__doc__)
    text = "\n".join(table(p) for p in argv)
    if not doc:
        print(text)
        return
    begin, end = "<!-- results: begin -->", "<!-- results: end -->"
    body = open(doc).read()
    a, b = body.index(begin) + len(begin), body.index(end)
    open(doc, "w").write(body[:a] + "\n" + text + "\n" + body[b:])


main(sys.argv[1:])
