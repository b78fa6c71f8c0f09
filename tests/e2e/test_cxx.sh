#!/usr/bin/env bash
# C++: the header's markers and ABI work as written in C. An allocator and
# a needs-marked unit written in C++ (g++ and clang++) link through
# allocsel-ld and the plugin and serve the program.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cat >cxx_alloc.cc <<'EOF2'
#include <allocsel/allocator.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>

ALLOCSEL_ALLOCATOR(cxx_alloc);

namespace {
unsigned long calls;
struct Report {
  ~Report() { std::printf("cxx_alloc calls: %lu\n", calls); }
} report;
} // namespace

void *__rust_allocate(size_t size, size_t align) {
  calls++;
  void *p = nullptr;
  return posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align,
                        size ? size : 1) == 0 ? p : nullptr;
}
void __rust_deallocate(void *ptr, size_t, size_t) { std::free(ptr); }
void *__rust_reallocate(void *ptr, size_t old_size, size_t size,
                        size_t align) {
  void *p = __rust_allocate(size, align);
  if (p && ptr) {
    std::memcpy(p, ptr, old_size < size ? old_size : size);
    std::free(ptr);
  }
  return p;
}
size_t __rust_reallocate_inplace(void *, size_t old_size, size_t, size_t) {
  return old_size;
}
size_t __rust_usable_size(size_t size, size_t) { return size; }
EOF2
cat >cxx_user.cc <<'EOF2'
#include <allocsel/allocator.h>
#include <cstdio>

ALLOCSEL_NEEDS_ALLOCATOR();

int main() {
  char *p = static_cast<char *>(allocsel_allocate(100, 64));
  if (!p || reinterpret_cast<unsigned long>(p) % 64)
    return 1;
  p = static_cast<char *>(allocsel_reallocate(p, 100, 200, 64));
  allocsel_deallocate(p, 200, 64);
  std::puts("cxx ok");
  return 0;
}
EOF2

PLUGIN=$LIBDIR/allocsel-plugin.so
for cxx in g++ clang++; do
  run "$cxx" -c -O1 -fPIC -I"$P/include" -o alloc.o cxx_alloc.cc
  expect_rc 0
  run "$cxx" -c -O1 -fPIC -I"$P/include" -o user.o cxx_user.cc
  expect_rc 0

  step "$cxx: the markers are global C symbols"
  run nm alloc.o
  expect_out "R __allocsel_allocator_cxx_alloc"
  run nm user.o
  expect_out "V __allocsel_needs_allocator"
  run "$ALLOCSEL" inspect alloc.o
  expect_out_first_line "allocator: cxx_alloc"
  run "$ALLOCSEL" inspect user.o
  expect_out "needs-allocator"

  fes=(ld)
  [[ ${ALLOCSEL_E2E_NO_PLUGIN:-0} == 1 ]] || fes+=(plugin-bfd)
  for fe in "${fes[@]}"; do
    case $fe in
    ld) sel=(-fuse-ld=lld -B"$LIBDIR/ld" -Wl,--allocsel-verbose) ;;
    plugin-bfd) sel=(-fuse-ld=bfd -Wl,-plugin,"$PLUGIN" -Wl,-plugin-opt,verbose) ;;
    esac
    step "$cxx, $fe: a C++ allocator serves a C++ program"
    run "$cxx" "${sel[@]}" -o app user.o alloc.o
    expect_rc 0
    expect_err "allocsel: allocator: cxx_alloc (linked: defined in alloc.o)"
    run ./app
    expect_rc 0
    expect_line "cxx ok"
    expect_line "cxx_alloc calls: 2"

    step "$cxx, $fe: the needs marker alone gets the default"
    run "$cxx" "${sel[@]}" -o app-default user.o
    expect_rc 0
    expect_err "allocsel: allocator: jemalloc (default for executable)"
    run ./app-default
    expect_rc 0
  done
done
