#!/usr/bin/env bash
# ALLOCSEL_ALLOCATOR_LIBRARY(name): a user's allocator object names the
# library its code needs, and allocsel adds -lNAME to every link that takes
# it, so `cc main.o mi_alloc.o` needs nothing more, through allocsel-ld and
# the plugin. Here the library is Debian's mimalloc; added after every input
# it serves the ABI while libc keeps malloc, and allocsel says so.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

if [[ ! -e /usr/include/mimalloc.h ]]; then
  echo "SKIPPED: libmimalloc-dev is not installed"
  exit 0
fi
cc=${COMPILERS[0]}
cat >mi_alloc.c <<'EOF2'
/* A user's allocator on mimalloc's API. */
#include <allocsel/allocator.h>
#include <mimalloc.h>

ALLOCSEL_ALLOCATOR(mi_user);
ALLOCSEL_ALLOCATOR_LIBRARY(mimalloc);

void *__rust_allocate(size_t size, size_t align) {
  return mi_malloc_aligned(size ? size : 1, align);
}
void __rust_deallocate(void *ptr, size_t old_size, size_t align) {
  (void)old_size;
  (void)align;
  mi_free(ptr);
}
void *__rust_reallocate(void *ptr, size_t old_size, size_t size, size_t align) {
  (void)old_size;
  return mi_realloc_aligned(ptr, size ? size : 1, align);
}
size_t __rust_reallocate_inplace(void *ptr, size_t old_size, size_t size,
                                 size_t align) {
  (void)old_size;
  (void)size;
  (void)align;
  return mi_usable_size(ptr);
}
size_t __rust_usable_size(size_t size, size_t align) {
  (void)align;
  return size;
}
EOF2
compile "$cc" mi_alloc.o mi_alloc.c
compile "$cc" main.o "$FIX/needs_alloc.c"
ar rcs libmi.a mi_alloc.o

step "the marker is seen"
run "$ALLOCSEL" check --type=executable main.o mi_alloc.o
expect_rc 0
expect_line "allocator: mi_user (linked: defined in mi_alloc.o)"
# -lmimalloc goes after every input, libc included: libc keeps malloc.
expect_out "malloc: libc (-lmimalloc comes after libc in the link: it serves the allocator ABI only)"

for fe in "${FRONTENDS[@]}"; do
  frontend_flags "$fe"
  for what in mi_alloc.o libmi.a; do
    step "$fe, $what: linked without -lmimalloc, it is added"
    run "$cc" "${SEL[@]}" -o app main.o "$what"
    expect_rc 0
    expect_err "allocsel: allocator: mi_user (linked: defined in"
    run readelf -d app
    expect_out "libmimalloc.so"
    run ./app
    expect_rc 0
    expect_line "allocated"
    run "$ALLOCSEL" inspect app
    expect_line "allocator: mi_user"
    expect_line "malloc: libc (-lmimalloc comes after libc in the link: it serves the allocator ABI only)"
  done
done

step "allocsel staticlib: the library cannot go in; its users are told"
run "$ALLOCSEL" staticlib -o libself.a main.o mi_alloc.o
expect_rc 0
expect_err "allocsel: note: link libself.a with -lmimalloc"
run "$cc" -o app-self libself.a -lmimalloc
expect_rc 0
run ./app-self
expect_rc 0

step "a library name no identifier can spell: ALLOCSEL_ALLOCATOR_LIBRARY(\"foo-2.0\")"
cat >foo.c <<'EOF2'
#include <stdlib.h>
void *foo_alloc(size_t size, size_t align) {
  return aligned_alloc(align, (size + align - 1) / align * align);
}
void foo_free(void *p) { free(p); }
EOF2
gcc -shared -fPIC -o libfoo-2.0.so foo.c
cat >foo_alloc.c <<'EOF2'
#include <allocsel/allocator.h>
#include <string.h>
void *foo_alloc(size_t size, size_t align);
void foo_free(void *p);
ALLOCSEL_ALLOCATOR(foo_user);
ALLOCSEL_ALLOCATOR_LIBRARY("foo-2.0");
void *__rust_allocate(size_t size, size_t align) {
  return foo_alloc(size ? size : 1, align);
}
void __rust_deallocate(void *ptr, size_t old_size, size_t align) {
  (void)old_size, (void)align;
  foo_free(ptr);
}
void *__rust_reallocate(void *ptr, size_t old_size, size_t size, size_t align) {
  void *q = foo_alloc(size ? size : 1, align);
  if (q) {
    memcpy(q, ptr, old_size < size ? old_size : size);
    foo_free(ptr);
  }
  return q;
}
size_t __rust_reallocate_inplace(void *ptr, size_t old_size, size_t size,
                                 size_t align) {
  (void)ptr, (void)size, (void)align;
  return old_size;
}
size_t __rust_usable_size(size_t size, size_t align) {
  (void)align;
  return size;
}
EOF2
for c in "${COMPILERS[@]}"; do
  compile "$c" "foo_alloc-$c.o" foo_alloc.c
  run nm "foo_alloc-$c.o"
  expect_out "__allocsel_library_foo-2.0"
  for fe in ld-lld ld-bfd; do
    frontend_flags "$fe"
    run "$c" "${SEL[@]}" -o "app-foo-$c" main.o "foo_alloc-$c.o" -L. -Wl,-rpath,"$PWD"
    expect_rc 0
    expect_err "allocsel: allocator: foo_user (linked: defined in"
    run readelf -d "app-foo-$c"
    expect_out "libfoo-2.0.so"
    run "./app-foo-$c"
    expect_rc 0
    expect_line "allocated"
  done
done
