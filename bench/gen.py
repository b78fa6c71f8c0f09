#!/usr/bin/env python3
"""Generates a large synthetic link for bench/run.sh.

OBJECTS objects linked directly and ARCHIVES archives of MEMBERS members,
each unit defining SYMS functions and calling a few in other units, written
as assembly (as is far faster than a C compiler at this size). The default
is about a million symbols: 1000 objects + 40 archives x 50 members, 330
symbols each. Besides main.o it writes needs.o, which calls the allocator
ABI (a link with it needs an allocator). Usage: gen.py OUTDIR [objects
archives members syms]."""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

out = sys.argv[1]
objects, archives, members, syms = (int(a) for a in (sys.argv[2:6] or
                                                     (1000, 40, 50, 330)))
os.makedirs(out, exist_ok=True)


def unit_source(name, refs):
    lines = ["\t.text"]
    for i in range(syms):
        sym = f"{name}_f{i}"
        lines += [f"\t.globl {sym}", f"\t.type {sym},@function", f"{sym}:"]
        if i < len(refs):
            lines.append(f"\tcall {refs[i]}@PLT")
        lines.append("\tret")
    lines.append('\t.section .note.GNU-stack,"",@progbits')
    return "\n".join(lines) + "\n"


def assemble(name, refs):
    src = os.path.join(out, name + ".s")
    with open(src, "w") as f:
        f.write(unit_source(name, refs))
    subprocess.run(["as", "-o", os.path.join(out, name + ".o"), src],
                   check=True)
    os.remove(src)


jobs = []
# Each direct object calls into one member of each of a few archives, so
# the link extracts members the way real programs do.
for o in range(objects):
    refs = [f"a{(o + k) % archives}_m{(o * 7 + k) % members}_f0"
            for k in range(3)]
    jobs.append((f"o{o}", refs))
for a in range(archives):
    for m in range(members):
        refs = [f"a{a}_m{(m + 1) % members}_f1"]
        jobs.append((f"a{a}_m{m}", refs))
with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
    list(pool.map(lambda j: assemble(*j), jobs))

for a in range(archives):
    lib = os.path.join(out, f"liba{a}.a")
    if os.path.exists(lib):
        os.remove(lib)
    subprocess.run(["ar", "rcs", lib] +
                   [os.path.join(out, f"a{a}_m{m}.o") for m in range(members)],
                   check=True)
    for m in range(members):
        os.remove(os.path.join(out, f"a{a}_m{m}.o"))

with open(os.path.join(out, "main.c"), "w") as f:
    f.write("void o0_f0(void);\nint main(void) { o0_f0(); return 0; }\n")
subprocess.run(["cc", "-c", "-o", os.path.join(out, "main.o"),
                os.path.join(out, "main.c")], check=True)
with open(os.path.join(out, "needs.c"), "w") as f:
    f.write("#include <stddef.h>\n"
            "void *__rust_allocate(size_t, size_t);\n"
            "void __rust_deallocate(void *, size_t, size_t);\n"
            "void needs_allocator(void) {\n"
            "  __rust_deallocate(__rust_allocate(64, 16), 64, 16);\n}\n")
subprocess.run(["cc", "-c", "-o", os.path.join(out, "needs.o"),
                os.path.join(out, "needs.c")], check=True)
total = (objects + archives * members) * syms
print(f"{out}: {objects} objects, {archives} archives x {members} members, "
      f"{total} symbols")
