#!/usr/bin/env bash
# `allocsel staticlib` writes a self-contained archive holding exactly one
# allocator, which a plain `cc main.o OUT.a` link (no allocsel) uses.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cp "$MY_ALLOCATOR" my_allocator.o

for cc in "${COMPILERS[@]}"; do
  mkdir "$cc" && cd "$cc"
  cp ../my_allocator.o .
  compile "$cc" probe.o "$PROGRAMS/probe.c"
  compile "$cc" other.o "$FIX/alloc_other.c"
  compile "$cc" half.o "$FIX/alloc_half.c"
  # The library's own code: a unit that needs an allocator.
  compile "$cc" helper.o "$FIX/cyc_log.c"

  step "$cc: staticlib with the default allocator (system)"
  run "$ALLOCSEL" staticlib -o libapp.a helper.o
  expect_rc 0
  expect_file libapp.a
  run "$ALLOCSEL" inspect libapp.a
  expect_rc 0
  expect_out_first_line "allocator: system"
  run ar t libapp.a
  expect_out "helper.o"
  run "$ALLOCSEL" check --type=executable probe.o libapp.a
  expect_rc 0
  expect_out "allocator: system (linked: defined in libapp.a("

  step "$cc: a plain cc link with the staticlib uses its allocator"
  run "$cc" -o app probe.o libapp.a
  expect_rc 0
  run_probe ./app
  expect_served_by system
  expect_line "jemalloc: no"

  step "$cc: staticlib with --allocator=PATH to my_allocator.o"
  run "$ALLOCSEL" staticlib -o libmine.a --allocator="$PWD/my_allocator.o" helper.o
  expect_rc 0
  run "$ALLOCSEL" inspect libmine.a
  expect_out_first_line "allocator: my_allocator"
  run "$cc" -o app-mine probe.o libmine.a
  expect_rc 0
  run_probe_my ./app-mine
  expect_served_by custom
  expect_custom_calls_positive

  step "$cc: staticlib with an allocator among its inputs keeps it"
  run "$ALLOCSEL" staticlib -o libown.a helper.o my_allocator.o
  expect_rc 0
  run "$ALLOCSEL" inspect libown.a
  expect_out_first_line "allocator: my_allocator"
  run "$cc" -o app-own probe.o libown.a
  expect_rc 0
  run_probe_my ./app-own
  expect_served_by custom

  step "$cc: staticlib --format=json"
  run "$ALLOCSEL" staticlib --format=json -o libjson.a helper.o
  expect_rc 0
  expect_json
  expect_json_py 'j["allocator"] == "system" and j["type"] == "staticlib" and j["diagnostics"] == []'
  expect_file libjson.a

  step "$cc: staticlib refuses two allocators and writes nothing"
  run "$ALLOCSEL" staticlib -o libtwo.a helper.o other.o my_allocator.o
  expect_rc 1
  expect_err "allocsel: error: cannot link together two allocators: "
  expect_no_file libtwo.a
  run "$ALLOCSEL" staticlib -o libtwo2.a --allocator=system helper.o my_allocator.o
  expect_rc 1
  expect_err ">>> 'system' requested by --allocator=system"
  expect_no_file libtwo2.a
  run "$ALLOCSEL" staticlib --format=json -o libtwo3.a helper.o other.o my_allocator.o
  expect_rc 1
  expect_json
  expect_json_py 'j["diagnostics"][0]["kind"] == "error"'
  expect_no_file libtwo3.a

  step "$cc: staticlib refuses an incomplete allocator"
  run "$ALLOCSEL" staticlib -o libhalf.a helper.o half.o
  expect_rc 1
  expect_err "allocsel: error: incomplete allocator 'half'"
  expect_no_file libhalf.a

  step "$cc: staticlib with --allocator=jemalloc, used by a plain cc link"
  run "$ALLOCSEL" staticlib -o libje.a --allocator=jemalloc helper.o
  expect_rc 0
  # jemalloc's private copy: it serves the ABI, the foreign program keeps
  # its malloc, and the archive offers no malloc to pull in.
  expect_out "malloc: libc (jemalloc is the staticlib's private copy"
  # jemalloc's own code calls libm (its profiler): documented, and said.
  expect_err "allocsel: note: link libje.a with -lm"
  run "$ALLOCSEL" inspect libje.a
  expect_out_first_line "allocator: jemalloc"
  run nm -g --defined-only libje.a
  expect_no_out " T malloc"
  expect_no_out " T free"
  run "$cc" -o app-je probe.o libje.a -lm
  expect_rc 0
  run_probe ./app-je
  expect_served_by jemalloc
  expect_line "malloc-from: libc.so.6"

  cd ..
done
