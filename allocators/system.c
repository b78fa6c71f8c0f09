/* allocsel allocator `system`: the C library's malloc family.
 *
 * Unlike a plain malloc wrapper it honours every power-of-two alignment:
 * malloc only promises alignof(max_align_t), and for a size smaller than the
 * alignment a malloc may hand out a smaller size class that is less aligned,
 * so those requests go through posix_memalign (as Rust's alloc_system did).
 */
/* posix_memalign and malloc_usable_size, also when built outside CMake. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <allocsel/allocator.h>

#include <malloc.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

ALLOCSEL_ALLOCATOR(system);

#define MIN_ALIGN alignof(max_align_t)

/* malloc(0) may return NULL, which the ABI would read as failure: a zero-size
 * request gets one byte, so it is a unique pointer that free() accepts. */
static size_t nonzero(size_t size) {
  return size ? size : 1;
}

static int plain_malloc_ok(size_t size, size_t align) {
  return align <= MIN_ALIGN && align <= size;
}

static void *aligned_alloc_any(size_t size, size_t align) {
  void *p;
  /* posix_memalign wants a multiple of sizeof(void *). */
  if (align < sizeof(void *))
    align = sizeof(void *);
  return posix_memalign(&p, align, size) == 0 ? p : NULL;
}

void *__rust_allocate(size_t size, size_t align) {
  size = nonzero(size);
  if (plain_malloc_ok(size, align))
    return malloc(size);
  return aligned_alloc_any(size, align);
}

void __rust_deallocate(void *ptr, size_t old_size, size_t align) {
  (void)old_size;
  (void)align;
  free(ptr);
}

void *__rust_reallocate(void *ptr, size_t old_size, size_t size, size_t align) {
  size = nonzero(size);
  if (plain_malloc_ok(size, align))
    return realloc(ptr, size);
  /* realloc keeps only malloc's alignment: move by hand. On failure the old
   * block stays valid, as realloc's contract has it. */
  void *p = aligned_alloc_any(size, align);
  if (p) {
    memcpy(p, ptr, old_size < size ? old_size : size);
    free(ptr);
  }
  return p;
}

size_t __rust_reallocate_inplace(void *ptr, size_t old_size, size_t size,
                                 size_t align) {
  (void)old_size;
  (void)size;
  (void)align;
  /* libc cannot resize in place on request, but the block may already be
   * large enough: the caller compares the usable size with what it needs. */
  return malloc_usable_size(ptr);
}

size_t __rust_usable_size(size_t size, size_t align) {
  (void)align;
  return size;
}
