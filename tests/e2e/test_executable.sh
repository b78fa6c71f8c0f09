#!/usr/bin/env bash
# Executables linked through allocsel-ld by gcc and clang, each run: the
# default (jemalloc), --allocsel-allocator=system|jemalloc|PATH,
# ALLOCSEL_ALLOCATOR, ALLOCSEL_VERBOSE, and the default without jemalloc.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cp "$MY_ALLOCATOR" my_allocator.o
MY=$PWD/my_allocator.o

for cc in "${COMPILERS[@]}"; do
  mkdir "$cc" && cd "$cc"
  compile_probe "$cc"

  step "$cc: default executable -> jemalloc"
  link_ok "$cc" app-default probe.o -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: jemalloc (default for executable)"
  run_probe ./app-default
  expect_line "jemalloc: yes"
  expect_line "custom: none"
  expect_served_by jemalloc

  step "$cc: --allocsel-verbose says how the inputs were read"
  link_ok "$cc" app-scan-quick probe.o -Wl,--allocsel-verbose
  expect_err "allocsel: inputs read quickly: none is or may be an allocator, define the ABI or carry a marker"
  ar rcs libmine.a "$MY"
  link_ok "$cc" app-scan probe.o -L. -lmine -Wl,--allocsel-verbose
  expect_err "allocsel: inputs read in full: ./libmine.a: its index names the allocator ABI or a marker"
  link_ok "$cc" app-scan-obj probe.o "$MY" -Wl,--allocsel-verbose
  expect_err "allocsel: inputs read in full: $MY: it is an allocator"

  step "$cc: quiet without --allocsel-verbose"
  link_ok "$cc" app-quiet probe.o
  expect_no_err "allocsel:"
  run_probe ./app-quiet
  expect_served_by jemalloc

  step "$cc: ALLOCSEL_VERBOSE=1"
  link_env ALLOCSEL_VERBOSE=1 -- "$cc" app-env-verbose probe.o
  expect_rc 0
  expect_err "allocsel: allocator: jemalloc (default for executable)"

  step "$cc: --allocsel-allocator=system"
  link_ok "$cc" app-system probe.o -Wl,--allocsel-allocator=system -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: system (requested by --allocsel-allocator=system)"
  run_probe ./app-system
  expect_line "jemalloc: no"
  expect_line "system: yes"
  expect_served_by system

  step "$cc: --allocsel-allocator=jemalloc"
  link_ok "$cc" app-jemalloc probe.o -Wl,--allocsel-allocator=jemalloc -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: jemalloc (requested by --allocsel-allocator=jemalloc)"
  run_probe ./app-jemalloc
  expect_served_by jemalloc

  step "$cc: --allocsel-allocator=PATH to my_allocator.o"
  link_ok "$cc" app-my probe.o -Wl,--allocsel-allocator="$MY" -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: my_allocator (requested by --allocsel-allocator=$MY)"
  run_probe_my ./app-my
  expect_custom_calls_positive
  expect_served_by custom

  step "$cc: ALLOCSEL_ALLOCATOR=system"
  link_env ALLOCSEL_ALLOCATOR=system ALLOCSEL_VERBOSE=1 -- "$cc" app-env-system probe.o
  expect_rc 0
  expect_err "allocsel: allocator: system (requested by ALLOCSEL_ALLOCATOR=system)"
  run_probe ./app-env-system
  expect_served_by system

  step "$cc: ALLOCSEL_ALLOCATOR=PATH to my_allocator.o"
  link_env ALLOCSEL_ALLOCATOR="$MY" ALLOCSEL_VERBOSE=1 -- "$cc" app-env-my probe.o
  expect_rc 0
  expect_err "allocsel: allocator: my_allocator (requested by ALLOCSEL_ALLOCATOR=$MY)"
  run_probe_my ./app-env-my
  expect_custom_calls_positive
  expect_served_by custom

  step "$cc: --allocsel-type=dylib overrides the derived type"
  link_ok "$cc" app-as-dylib probe.o -Wl,--allocsel-type=dylib -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: system (default for dylib)"
  run_probe ./app-as-dylib
  expect_served_by system

  step "$cc: jemalloc not installed -> system, with a note"
  link_env ALLOCSEL_JEMALLOC_LIBRARY= ALLOCSEL_VERBOSE=1 -- "$cc" app-nojemalloc probe.o
  expect_rc 0
  expect_err "allocsel: note: "
  expect_err "jemalloc"
  expect_err "allocsel: allocator: system (default for executable)"
  run_probe ./app-nojemalloc
  expect_line "jemalloc: no"
  expect_served_by system

  cd ..
done
