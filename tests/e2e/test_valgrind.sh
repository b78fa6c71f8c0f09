#!/usr/bin/env bash
# The installed commands under valgrind (memcheck): no invalid access, no
# use of uninitialised memory, no definite leak, on good and bad inputs.
source "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || fail "valgrind is not installed"

vg=(valgrind -q --error-exitcode=99 --leak-check=full
  --errors-for-leak-kinds=definite)
# A static allocsel-ld (ALLOCSEL_STATIC_LD) hides its malloc from memcheck:
# the build's dynamically linked twin of it is checked instead, with the
# installed allocators.
ld_checked=$ALLOCSEL_LD
if [[ -n ${ALLOCSEL_LD_MEMCHECK:-} ]]; then
  ld_checked=$ALLOCSEL_LD_MEMCHECK
  export ALLOCSEL_LIBDIR=$LIBDIR
fi
readelf -lW "$ld_checked" | grep -q 'Requesting program interpreter' ||
  fail "$ld_checked is linked statically: memcheck cannot see its heap (set ALLOCSEL_LD_MEMCHECK to a dynamically linked build)"
cc=gcc
compile $cc probe.o "$PROGRAMS/probe.c"
compile $cc other.o "$FIX/alloc_other.c"
compile $cc cyc.o "$FIX/alloc_cyc.c"
compile $cc log.o "$FIX/cyc_log.c"
compile $cc needs.o "$FIX/needs_alloc.c"
rm -f libcyc.a && ar rcs libcyc.a log.o needs.o
printf 'garbage\0\1\2' >bad.o

# vg_run RC CMD...: CMD under memcheck must exit RC (99: memcheck errors).
vg_run() {
  local want=$1
  shift
  run "${vg[@]}" "$@"
  [[ $RC -ne 99 ]] || fail "memcheck found errors in: $*"
  expect_rc "$want"
}

step "allocsel check, ok and refused and bad input"
vg_run 0 "$ALLOCSEL" check --type=executable probe.o
vg_run 1 "$ALLOCSEL" check --type=executable --allocator=system probe.o other.o
vg_run 1 "$ALLOCSEL" check --type=executable probe.o cyc.o libcyc.a
vg_run 2 "$ALLOCSEL" check --type=executable probe.o bad.o
vg_run 0 "$ALLOCSEL" check --type=dylib --format=json probe.o

step "allocsel staticlib and inspect"
vg_run 0 "$ALLOCSEL" staticlib -o lib.a probe.o
vg_run 0 "$ALLOCSEL" inspect lib.a
vg_run 0 "$ALLOCSEL" staticlib -o libje.a --allocator=jemalloc probe.o

step "allocsel seal: a library bundling jemalloc, a missing kept name, bad input"
printf '#include <stdlib.h>\nvoid *ja(void) { return malloc(4); }\n' >ja.c
compile $cc ja.o ja.c
mkdir -p xj && (cd xj && ar x "/usr/lib/$(gcc -print-multiarch)/libjemalloc_pic.a")
rm -f libja.a && ar rcs libja.a ja.o xj/*.o
vg_run 0 "$ALLOCSEL" seal -o libja.sealed.a libja.a
vg_run 0 "$ALLOCSEL" inspect libja.sealed.a
vg_run 0 "$ALLOCSEL" check --type=executable probe.o libja.sealed.a
vg_run 2 "$ALLOCSEL" seal -o x.a --keep nosuch libja.a
vg_run 2 "$ALLOCSEL" seal -o x.a bad.o

step "allocsel-ld: a link, a refused link, bad input"
# A link allocsel-ld passes becomes the linker (exec), and memcheck's
# verdict, given at exit, never comes: allocsel run's report keeps
# allocsel-ld to the linker's end (and checks the report's path too).
: >vg-report.jsonl
export ALLOCSEL_RUN_REPORT=$PWD/vg-report.jsonl
# A dylib and an rlib need no C library on the command line.
vg_run 0 "$ld_checked" -shared -o libapp.so probe.o
vg_run 0 "$ALLOCSEL" inspect libapp.so
vg_run 0 "$ld_checked" -r -o part.o probe.o --allocsel-allocator=jemalloc
vg_run 0 "$ALLOCSEL" inspect part.o
vg_run 1 "$ld_checked" -o app2 probe.o other.o --allocsel-allocator=system
vg_run 2 "$ld_checked" -o app3 probe.o bad.o
[[ $(grep -c '"exit":' vg-report.jsonl) == 4 ]] ||
  fail "allocsel-ld reported $(grep -c '"exit":' vg-report.jsonl) of 4 links"
unset ALLOCSEL_RUN_REPORT
step "allocsel run: a link routed, a bypassed one, its report"
vg_run 0 "$ALLOCSEL" run --report run.jsonl -- "$ld_checked" -shared -o librun.so probe.o
expect_err "dylib 1"
echo 'int plain(void) { return 1; }' >plain.c
gcc -c -fPIC plain.c
vg_run 1 "$ALLOCSEL" run --strict -- env -i "$(command -v ld.lld)" -shared -o libbypass.so plain.o
expect_err ">>> bypassed: libbypass.so (dylib)"
echo "valgrind: ok"
