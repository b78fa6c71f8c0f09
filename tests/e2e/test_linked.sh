#!/usr/bin/env bash
# An allocator among the inputs wins over the default: my_allocator as an
# object, as an archive member (by path and by -l), and through
# --whole-archive; ld -r injects none.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cp "$MY_ALLOCATOR" my_allocator.o
ar rcs libmy.a my_allocator.o

for cc in "${COMPILERS[@]}"; do
  mkdir "$cc" && cd "$cc"
  cp ../my_allocator.o ../libmy.a .
  compile_probe "$cc"
  compile "$cc" other.o "$FIX/alloc_other.c"

  step "$cc: my_allocator.o linked as an object"
  link_ok "$cc" app-obj probe.o my_allocator.o -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: my_allocator (linked: defined in my_allocator.o)"
  run_probe_my ./app-obj
  expect_custom_calls_positive
  expect_line "jemalloc: no"
  expect_served_by custom

  step "$cc: my_allocator as an archive member"
  link_ok "$cc" app-ar probe.o libmy.a -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: my_allocator (linked: defined in libmy.a(my_allocator.o))"
  run_probe_my ./app-ar
  expect_custom_calls_positive
  expect_served_by custom

  step "$cc: my_allocator through -L. -lmy"
  link_ok "$cc" app-l probe.o -L. -lmy -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: my_allocator (linked: defined in "
  expect_err "libmy.a(my_allocator.o))"
  run_probe_my ./app-l
  expect_custom_calls_positive
  expect_served_by custom

  step "$cc: an archive with two allocators: only the member pulled in counts"
  rm -f libboth.a && ar rcs libboth.a my_allocator.o other.o
  link_ok "$cc" app-both probe.o libboth.a -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: my_allocator (linked: defined in libboth.a(my_allocator.o))"
  run_probe_my ./app-both
  expect_served_by custom

  step "$cc: the same archive with --whole-archive holds two allocators"
  link "$cc" app-both-whole probe.o -Wl,--whole-archive libboth.a -Wl,--no-whole-archive
  expect_fail
  expect_err "allocsel: error: cannot link together two allocators: "
  expect_err ">>> 'my_allocator' defined in libboth.a(my_allocator.o)"
  expect_err ">>> 'other' defined in libboth.a(other.o)"
  expect_no_file app-both-whole

  step "$cc: ld -r (rlib) injects no allocator"
  run "$ALLOCSEL_LD" -r -o partial.o probe.o --allocsel-verbose
  expect_rc 0
  expect_err "allocsel: allocator: none"
  expect_file partial.o
  run nm partial.o
  expect_no_out "__allocsel_allocator_"
  expect_no_out "T __rust_allocate"

  step "$cc: an executable from the rlib gets the default"
  link_ok "$cc" app-from-r partial.o -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: jemalloc (default for executable)"
  run_probe ./app-from-r
  expect_served_by jemalloc

  cd ..
done
