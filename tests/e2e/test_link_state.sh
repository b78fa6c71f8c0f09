#!/usr/bin/env bash
# What allocsel-ld adds goes in before the first library, wherever that is:
# after -Bstatic (-static-libstdc++ passes -Bstatic -lstdc++), inside
# --whole-archive. The shared libjemalloc must not land in a static
# context, nor jemalloc's archive in a whole-archive region.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}
compile "$cc" main.o "$FIX/needs_alloc.c"
compile "$cc" smain.o "$FIX/needs_alloc.c" -fno-PIC
echo 'int helper_fn(void) { return 0; }' >helper.c
compile "$cc" helper.o helper.c
ar rcs libhelper.a helper.o

for linker in lld mold bfd gold; do
  sel=(-fuse-ld="$linker" -B"$LIBDIR/ld" -Wl,--allocsel-verbose)

  step "$linker: first library after -Bstatic"
  run "$cc" "${sel[@]}" -o app-bstatic main.o -L. -Wl,-Bstatic -lhelper -Wl,-Bdynamic
  expect_rc 0
  expect_err "allocsel: allocator: jemalloc (default for executable)"
  run ./app-bstatic
  expect_rc 0
  run readelf -d app-bstatic
  expect_out "libjemalloc.so"

  step "$linker: first library inside --whole-archive"
  run "$cc" "${sel[@]}" -o app-whole main.o -Wl,--whole-archive libhelper.a -Wl,--no-whole-archive
  expect_rc 0
  run ./app-whole
  expect_rc 0

  step "$linker: -static, first library inside --whole-archive"
  run "$cc" "${sel[@]}" -static -o app-swhole smain.o -Wl,--whole-archive libhelper.a -Wl,--no-whole-archive
  expect_rc 0
  expect_err "allocsel: allocator: jemalloc (default for executable)"
  run ./app-swhole
  expect_rc 0
done

step "g++ -static-libstdc++ (-Bstatic -lstdc++ -Bdynamic)"
cat >main.cc <<'EOF2'
#include <allocsel/allocator.h>
#include <string>
int main() {
  std::string s(100, 'x');
  void *p = allocsel_allocate(64, 64);
  allocsel_deallocate(p, 64, 64);
  return p && s.size() == 100 ? 0 : 1;
}
EOF2
run g++ -c -O1 -fPIC -I"$P/include" -o maincc.o main.cc
expect_rc 0
for linker in lld bfd; do
  run g++ -fuse-ld=$linker -B"$LIBDIR/ld" -static-libstdc++ -o app-cc maincc.o -Wl,--allocsel-verbose
  expect_rc 0
  expect_err "allocsel: allocator: jemalloc (default for executable)"
  run ./app-cc
  expect_rc 0
done
