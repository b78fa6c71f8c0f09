#!/usr/bin/env bash
# Links that break a rule are refused with an lld-style diagnostic, exit 1,
# and no output file: two allocators (linked + requested, two linked), an
# incomplete allocator, an allocator depending on a unit that needs an
# allocator (through an archive member), and a needs-marked unit doing so.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}
compile "$cc" main.o "$FIX/needs_alloc.c"
compile "$cc" other.o "$FIX/alloc_other.c"
compile "$cc" half.o "$FIX/alloc_half.c"
compile "$cc" cyc.o "$FIX/alloc_cyc.c"
compile "$cc" helper.o "$FIX/cyc_log.c"
compile "$cc" marked.o "$FIX/marked.c"
compile "$cc" needs_marked.o "$FIX/needs_marked.c"
cp "$MY_ALLOCATOR" my_allocator.o
ar rcs libmy.a my_allocator.o
ar rcs libhelper.a helper.o

# refused NAME ARGS...: allocsel-ld called as the compiler driver calls it
# must exit 1 before the real linker writes anything.
refused() {
  local out=$1
  shift
  run "$ALLOCSEL_LD" -o "$out" "$@"
  expect_rc 1
  expect_no_file "$out"
}

step "two allocators: one linked (archive member), one requested"
refused out1 main.o libmy.a --allocsel-allocator=system
expect_err "allocsel: error: cannot link together two allocators: "
expect_err "'my_allocator'"
expect_err "'system'"
expect_err ">>> 'my_allocator' defined in libmy.a(my_allocator.o)"
expect_err ">>> 'system' requested by --allocsel-allocator=system"

step "two allocators: one linked, one requested by ALLOCSEL_ALLOCATOR"
run_env ALLOCSEL_ALLOCATOR=jemalloc -- "$ALLOCSEL_LD" -o out1e main.o libmy.a
expect_rc 1
expect_no_file out1e
expect_err "allocsel: error: cannot link together two allocators: "
expect_err ">>> 'jemalloc' requested by ALLOCSEL_ALLOCATOR=jemalloc"

step "two allocators: both linked"
refused out2 main.o other.o my_allocator.o
expect_err "allocsel: error: cannot link together two allocators: "
expect_err ">>> 'other' defined in other.o"
expect_err ">>> 'my_allocator' defined in my_allocator.o"

step "two allocators: one linked, one requested by path"
refused out3 main.o other.o --allocsel-allocator="$PWD/my_allocator.o"
expect_err "allocsel: error: cannot link together two allocators: "
expect_err ">>> 'other' defined in other.o"
expect_err ">>> 'my_allocator' requested by --allocsel-allocator=$PWD/my_allocator.o"

step "incomplete allocator"
refused out4 main.o half.o
expect_err "allocsel: error: incomplete allocator 'half': missing __rust_reallocate_inplace, __rust_usable_size"
expect_err ">>> defined in half.o"

step "cycle: the allocator depends on an archive member that needs an allocator"
refused out5 main.o cyc.o libhelper.a
expect_err "allocsel: error: allocator 'cyc' depends on a unit that needs an allocator"
expect_err_re '^>>> .*cyc\.o'
expect_err_re '^>>> .*cyc_log'
expect_err_re '^>>> .*libhelper\.a\(helper\.o\)'
expect_err_re '^>>> .*__rust_(allocate|deallocate)'

step "cycle: a unit marked ALLOCSEL_NEEDS_ALLOCATOR depends on a unit that needs one"
refused out6 needs_marked.o marked.o libhelper.a
expect_err "allocsel: error: unit marked.o is marked as needing an allocator and depends on a unit that needs an allocator"
expect_err_re '^>>> .*cyc_log'
expect_err_re '^>>> .*libhelper\.a\(helper\.o\)'
expect_err_re '^>>> .*__rust_(allocate|deallocate)'

# A cycle through a shared library: the allocator calls into libmid.so,
# whose reference the program's hook.o answers (the dynamic linker binds
# it to the executable's definition), and hook.o calls the ABI. hook.o
# comes first and nothing else names its function: only the shared
# library's reference makes the chain.
cat >mid.c <<'C'
void cyc_log(const char *msg);
void app_log_hook(const char *msg);
void cyc_log(const char *msg) { app_log_hook(msg); }
C
cat >hook.c <<'C'
#include <allocsel/allocator.h>
void app_log_hook(const char *msg) {
  __rust_deallocate(__rust_allocate(8, 8), 8, 8);
  (void)msg;
}
C
compile "$cc" mid.o mid.c
run "$cc" -shared -o libmid.so mid.o
expect_rc 0
compile "$cc" hook.o hook.c
ar rcs libcyc.a cyc.o
for linker in lld bfd; do
  step "cycle through a shared library's reference ($linker)"
  refused out-mid-$linker --allocsel-linker=$linker hook.o -L. -lmid main.o -lcyc
  expect_err "allocsel: error: allocator 'cyc' depends on a unit that needs an allocator"
  expect_err_re '^>>> .*references cyc_log, defined in \./libmid\.so'
  expect_err_re '^>>> .*references app_log_hook, defined in hook\.o'
done

# The same refusals through the compiler drivers: the diagnostic reaches the
# user, the driver fails, nothing is written.
for cc in "${COMPILERS[@]}"; do
  step "$cc: two allocators refused through the driver"
  link "$cc" drv-two main.o -L. -lmy -Wl,--allocsel-allocator=system
  expect_fail
  expect_err "allocsel: error: cannot link together two allocators: "
  expect_err "libmy.a(my_allocator.o)"
  expect_no_file drv-two

  step "$cc: incomplete allocator refused through the driver"
  link "$cc" drv-half main.o half.o
  expect_fail
  expect_err "allocsel: error: incomplete allocator 'half'"
  expect_no_file drv-half

  step "$cc: cycle refused through the driver"
  link "$cc" drv-cyc main.o cyc.o libhelper.a
  expect_fail
  expect_err "allocsel: error: allocator 'cyc' depends on a unit that needs an allocator"
  expect_no_file drv-cyc
done

step "a dylib with two allocators is refused too"
refused libtwo.so -shared other.o my_allocator.o
expect_err "allocsel: error: cannot link together two allocators: "
