#!/usr/bin/env bash
# What serves malloc, made visible (the verbose line, allocsel check, the
# record, inspect, for artifacts linked without allocsel too) and ruled:
# two malloc implementations in one link are refused, both named, and the
# default allocator steps aside for a malloc the link brings itself.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}
compile "$cc" main.o "$FIX/needs_alloc.c"
compile_probe "$cc"
TC=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so

step "the default executable: jemalloc serves malloc in the whole process"
link_ok "$cc" app probe.o -Wl,--allocsel-verbose
expect_err "allocsel: malloc: jemalloc (libjemalloc.so.2, replaces libc's malloc in the process)"
run "$ALLOCSEL" inspect app
expect_line "malloc: jemalloc (libjemalloc.so.2, replaces libc's malloc in the process)"
run ./app
expect_line "jemalloc: yes"
expect_line "malloc-from: libjemalloc.so.2"

step "system requested: libc's malloc"
link_ok "$cc" app-sys probe.o -Wl,--allocsel-allocator=system -Wl,--allocsel-verbose
expect_err "allocsel: malloc: libc"
run "$ALLOCSEL" inspect app-sys
expect_line "malloc: libc"
run ./app-sys
expect_line "jemalloc: no"
expect_line "malloc-from: libc.so.6"

step "-static: jemalloc's archive serves malloc in the program"
compile "$cc" smain.o "$FIX/needs_alloc.c" -fno-PIC
link_ok "$cc" app-static -static smain.o
run "$ALLOCSEL" inspect app-static
expect_line "malloc: jemalloc (libjemalloc_pic.a, replaces libc's malloc in the program)"

if [[ -e $TC ]]; then
  step "the link brings tcmalloc: the default steps aside to system"
  link_ok "$cc" app-tc probe.o -ltcmalloc_minimal -Wl,--allocsel-verbose
  expect_err "allocsel: note: the link brings a malloc of its own"
  expect_err "allocsel: allocator: system (default for executable)"
  expect_err "allocsel: malloc: tcmalloc ("
  run ./app-tc
  expect_rc 0
  expect_line "jemalloc: no"
  expect_line "malloc-from: libtcmalloc_minimal.so.4"
  run readelf -d app-tc
  expect_out "libtcmalloc_minimal"
  expect_no_out "libjemalloc"

  step "jemalloc requested beside tcmalloc: two mallocs, refused, with the fix"
  link "$cc" app-two probe.o -ltcmalloc_minimal -Wl,--allocsel-allocator=jemalloc
  expect_fail
  expect_err "allocsel: error: cannot link together two malloc implementations: 'tcmalloc' and 'jemalloc'"
  expect_err "hint: request an allocator that brings no malloc of its own"
  expect_no_file app-two

  step "-ljemalloc -ltcmalloc_minimal: two mallocs, whoever needs the ABI"
  echo 'int main(void) { return 0; }' >hello.c
  compile "$cc" hello.o hello.c
  # Kept both (Debian's gcc passes --as-needed, which would drop both:
  # the step after next).
  link "$cc" app-jt hello.o -Wl,--no-as-needed -ljemalloc -ltcmalloc_minimal
  expect_fail
  expect_err "cannot link together two malloc implementations: 'jemalloc' and 'tcmalloc'"
  run "$ALLOCSEL" check --format=json -- "$cc" -o x hello.o -Wl,--no-as-needed -ljemalloc -ltcmalloc_minimal
  expect_rc 1
  expect_json_py 'j["diagnostics"][0]["code"] == "two-malloc-implementations"'
  run "$ALLOCSEL" check -- "$cc" -o x hello.o -Wl,--as-needed -ljemalloc -ltcmalloc_minimal
  expect_rc 0
  expect_err "libjemalloc.so.2 will not serve malloc"
  expect_err "libtcmalloc_minimal.so.4"
  expect_line "malloc: libc (libjemalloc.so is dropped by --as-needed)"

  step "inspect without allocsel: what the artifact needs says it"
  run "$cc" -o plain-tc hello.o -Wl,--no-as-needed -ltcmalloc_minimal
  expect_rc 0
  run "$ALLOCSEL" inspect plain-tc
  expect_line "malloc: tcmalloc (libtcmalloc_minimal.so.4, replaces libc's malloc in the process)"
  run "$cc" -o plain hello.o
  run "$ALLOCSEL" inspect plain
  expect_line "malloc: libc"
fi

step "allocsel check says it too"
run "$ALLOCSEL" check --type=executable main.o
expect_line "malloc: jemalloc (libjemalloc.so.2, replaces libc's malloc in the process)"
run "$ALLOCSEL" check --type=dylib main.o
expect_line "malloc: libc"

if [[ ${ALLOCSEL_E2E_NO_PLUGIN:-0} != 1 ]]; then
  step "the plugin adds jemalloc's library after libc: libc keeps malloc, and it is said"
  frontend_flags plugin-bfd
  run "$cc" "${SEL[@]}" -o app-plugin probe.o
  expect_rc 0
  expect_err "allocsel: malloc: libc (libjemalloc comes after libc in the link: it serves the allocator ABI only)"
  run ./app-plugin
  expect_line "jemalloc: yes"
  expect_line "malloc-from: libc.so.6"
  run "$ALLOCSEL" inspect app-plugin
  expect_line "malloc: libc (libjemalloc comes after libc in the link: it serves the allocator ABI only)"
fi

step "inspect: a malloc library behind libc in load order is said, with the fix"
if [[ -e /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so ]]; then
  printf '#include <stdlib.h>\nvoid *foo_get(void) { return malloc(10); }\n' >foo.c
  # Reached only through libfoo.so: after libc in load order, as
  # --as-needed leaves a program that references none of it.
  gcc -shared -fPIC -o libfoo.so foo.c -ltcmalloc_minimal
  printf 'void *foo_get(void);\nint main(void) { return foo_get() == 0; }\n' >behind.c
  gcc -c behind.c
  # check says it before the link, twice (the second from the cache).
  for _ in 1 2; do
    run "$ALLOCSEL" check -- gcc -o behind behind.o -L. -lfoo
    expect_rc 0
    expect_err "allocsel: warning: libtcmalloc_minimal.so.4 will not serve malloc: libfoo.so needs it, and the loader reaches it after libc.so.6"
    expect_err "hint: link it ahead of libc and keep it: -Wl,--push-state,--no-as-needed -ltcmalloc_minimal -Wl,--pop-state"
    expect_line "malloc: libc (libtcmalloc_minimal.so.4, needed by libfoo.so, loads after libc)"
  done
  gcc -o behind behind.c -L. -lfoo -Wl,-rpath,'$ORIGIN'
  run "$ALLOCSEL" inspect behind
  expect_rc 0
  expect_err "allocsel: warning: behind: libtcmalloc_minimal.so.4 is loaded after libc.so.6"
  expect_err "hint: link it ahead of libc and keep it: -Wl,--push-state,--no-as-needed -ltcmalloc_minimal -Wl,--pop-state"
  # The fix, as the hint gives it: tcmalloc then serves malloc.
  gcc -o ahead behind.c -Wl,--push-state,--no-as-needed -ltcmalloc_minimal -Wl,--pop-state -L. -lfoo -Wl,-rpath,'$ORIGIN'
  run "$ALLOCSEL" check -- gcc -o ahead behind.o -Wl,--push-state,--no-as-needed -ltcmalloc_minimal -Wl,--pop-state -L. -lfoo
  expect_no_err "warning"
  expect_out "malloc: tcmalloc"
  run "$ALLOCSEL" inspect ahead
  expect_rc 0
  expect_no_err "warning"
  run env LD_DEBUG=bindings ./ahead
  grep -q "to .*libtcmalloc_minimal.so.4 .*symbol .malloc'" "$T/.err" || fail "the fixed program's malloc is not tcmalloc's"
else
  skipped "libgoogle-perftools-dev is not installed"
fi

step "check: a malloc library --as-needed drops is said, as the linker then drops it"
if [[ -e /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so ]]; then
  printf 'int main(void) { return 0; }\n' >quiet.c
  printf '#include <stdlib.h>\nint main(void) { void *p = malloc(10); return p == 0; }\n' >calls.c
  gcc -c quiet.c calls.c
  # Nothing references tcmalloc: dropped (FRR's tcmalloc that never ran).
  run "$ALLOCSEL" check -- gcc -o quiet quiet.o -Wl,--as-needed -ltcmalloc_minimal
  expect_rc 0
  expect_err "allocsel: warning: libtcmalloc_minimal.so.4"
  expect_err "will not serve malloc: --as-needed drops it, as nothing linked references it"
  expect_err "hint: keep it: -Wl,--push-state,--no-as-needed -ltcmalloc_minimal -Wl,--pop-state"
  expect_line "malloc: libc (libtcmalloc_minimal.so is dropped by --as-needed)"
  gcc -o quiet quiet.o -Wl,--as-needed -ltcmalloc_minimal
  run readelf -d quiet
  expect_no_out "libtcmalloc_minimal"
  # Through allocsel-ld the record says the same.
  link "$cc" quiet2 quiet.o -Wl,--as-needed -ltcmalloc_minimal
  expect_rc 0
  expect_err "will not serve malloc"
  run "$ALLOCSEL" inspect quiet2
  expect_line "malloc: libc (libtcmalloc_minimal.so is dropped by --as-needed)"
  # The program calls malloc, or the hint's fix: kept, and said so.
  for how in "calls.o -Wl,--as-needed -ltcmalloc_minimal" \
    "quiet.o -Wl,--as-needed -Wl,--push-state,--no-as-needed -ltcmalloc_minimal -Wl,--pop-state"; do
    # shellcheck disable=SC2086
    run "$ALLOCSEL" check -- gcc -o kept $how
    expect_rc 0
    expect_no_err "warning"
    expect_out "malloc: tcmalloc"
    # shellcheck disable=SC2086
    gcc -o kept $how
    run readelf -d kept
    expect_out "libtcmalloc_minimal.so.4"
  done
else
  skipped "libgoogle-perftools-dev is not installed"
fi

step "inspect: a dylib with initial-exec TLS (its private jemalloc) says what dlopen needs"
compile "$cc" libprobe.o "$PROGRAMS/libprobe.c"
link "$cc" libje.so -shared libprobe.o -Wl,--allocsel-allocator=jemalloc
expect_rc 0
run "$ALLOCSEL" inspect libje.so
expect_rc 0
expect_err "it uses initial-exec TLS"
expect_err "GLIBC_TUNABLES=glibc.rtld.optional_static_tls="
link "$cc" libsys.so -shared libprobe.o -Wl,--allocsel-allocator=system
run "$ALLOCSEL" inspect libsys.so
expect_no_err "initial-exec"
