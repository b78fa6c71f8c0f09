#!/usr/bin/env bash
# Dylibs: the default is system; a dylib linked with my_allocator keeps its
# own allocator whatever the executable loading it uses (linked against it
# or dlopen'ed): the dylib's counter moves, the executable's allocator
# serves the executable.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cp "$MY_ALLOCATOR" my_allocator.o

for cc in "${COMPILERS[@]}"; do
  mkdir "$cc" && cd "$cc"
  cp ../my_allocator.o .
  compile_probe "$cc"

  step "$cc: default dylib -> system"
  link_ok "$cc" libprobe_sys.so -shared libprobe.o -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: system (default for dylib)"
  run nm -D --defined-only libprobe_sys.so
  expect_out "libprobe_report"
  expect_no_out "__rust_allocate"

  step "$cc: dylib with my_allocator linked"
  link_ok "$cc" libprobe_my.so -shared libprobe.o my_allocator.o -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: my_allocator (linked: defined in my_allocator.o)"

  step "$cc: dylib with --allocsel-allocator=PATH"
  link_ok "$cc" libprobe_req.so -shared libprobe.o -Wl,--allocsel-allocator="$PWD/my_allocator.o" -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: my_allocator (requested by --allocsel-allocator=$PWD/my_allocator.o)"

  step "$cc: jemalloc executable linked against the my_allocator dylib"
  # --no-as-needed: probe.c refers to libprobe_report weakly, and a weak
  # reference alone does not make a library needed (Debian's gcc passes
  # --as-needed).
  link_ok "$cc" app-je-my probe.o -Wl,--no-as-needed -L. -lprobe_my -Wl,-rpath,"$PWD" -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: jemalloc (default for executable)"
  run_probe ./app-je-my
  expect_served_by jemalloc
  expect_served_by custom "libprobe "
  expect_custom_calls_positive "libprobe "
  n=$(custom_calls)
  [[ $n == none || $n == 0 ]] || fail "the executable's own allocation was counted by the dylib's my_allocator: custom: $n"

  step "$cc: system executable dlopen()ing the my_allocator dylib"
  link_ok "$cc" app-sys probe.o -Wl,--allocsel-allocator=system
  run_probe ./app-sys "$PWD/libprobe_my.so"
  expect_served_by system
  expect_served_by custom "libprobe "
  expect_custom_calls_positive "libprobe "

  step "$cc: jemalloc executable dlopen()ing the requested-my_allocator dylib"
  link_ok "$cc" app-je probe.o
  run_probe ./app-je "$PWD/libprobe_req.so"
  expect_served_by jemalloc
  expect_served_by custom "libprobe "
  expect_custom_calls_positive "libprobe "

  step "$cc: my_allocator executable dlopen()ing the system dylib"
  link_ok "$cc" app-my probe.o my_allocator.o
  run_probe_my ./app-my "$PWD/libprobe_sys.so"
  expect_served_by custom
  expect_custom_calls_positive
  expect_served_by system "libprobe "
  n=$(custom_calls "libprobe ")
  [[ $n == none || $n == 0 ]] || fail "the dylib's allocation was counted by the executable's my_allocator: libprobe custom: $n"

  step "$cc: ALLOCSEL_ALLOCATOR applies to dylibs too"
  link_env ALLOCSEL_ALLOCATOR="$PWD/my_allocator.o" ALLOCSEL_VERBOSE=1 -- "$cc" libprobe_env.so -shared libprobe.o
  expect_rc 0
  expect_err "allocsel: allocator: my_allocator (requested by ALLOCSEL_ALLOCATOR=$PWD/my_allocator.o)"
  run_probe ./app-sys "$PWD/libprobe_env.so"
  expect_served_by system
  expect_served_by custom "libprobe "

  cd ..
done
