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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

ALLOCSEL_ALLOCATOR(system);

#define MIN_ALIGN alignof(max_align_t)

/* A C library without posix_memalign or malloc_usable_size (dietlibc)
 * still links: both are weak references, used where the C library has
 * them. glibc's libc.a defines them in malloc.o, which malloc pulls in. */
#pragma weak posix_memalign
#pragma weak malloc_usable_size

/* ALLOCSEL_SYSTEM_NO_MEMALIGN builds the fallback for the contract test on
 * a C library that has posix_memalign. */
static bool have_memalign(void) {
#ifdef ALLOCSEL_SYSTEM_NO_MEMALIGN
  return false;
#else
  return posix_memalign != NULL;
#endif
}

/* malloc(0) may return NULL, which the ABI would read as failure: a zero-size
 * request gets one byte, so it is a unique pointer that free() accepts. */
static size_t nonzero(size_t size) {
  return size ? size : 1;
}

static bool plain_malloc_ok(size_t size, size_t align) {
  return align <= MIN_ALIGN && align <= size;
}

/* Without posix_memalign, a block for an alignment above malloc's is
 * malloc's, larger by the alignment, with malloc's address kept just
 * before the aligned one; below it, malloc of at least the alignment
 * (malloc aligns a block for any object that fits in it). Which it is
 * follows from the alignment alone, which every call is given: a size may
 * change in place. */
static bool offset_block(size_t align) {
  return !have_memalign() && align > MIN_ALIGN;
}

static void *offset_alloc(size_t size, size_t align) {
  /* No object is larger than PTRDIFF_MAX. */
  if (size > PTRDIFF_MAX - align - sizeof(void *))
    return NULL;
  char *raw = malloc(size + align + sizeof(void *));
  if (!raw)
    return NULL;
  uintptr_t at =
      ((uintptr_t)raw + sizeof(void *) + align - 1) & ~((uintptr_t)align - 1);
  ((void **)at)[-1] = raw;
  return (void *)at;
}

static void release(void *ptr, size_t align) {
  if (ptr && offset_block(align))
    ptr = ((void **)ptr)[-1];
  free(ptr);
}

static void *aligned_alloc_any(size_t size, size_t align) {
  if (!have_memalign())
    return offset_block(align) ? offset_alloc(size, align)
                               : malloc(size < align ? align : size);
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
  release(ptr, align);
}

void *__rust_reallocate(void *ptr, size_t old_size, size_t size, size_t align) {
  size = nonzero(size);
  if (!have_memalign() && align <= MIN_ALIGN)
    return realloc(ptr, size < align ? align : size);
  if (plain_malloc_ok(size, align))
    return realloc(ptr, size);
  /* realloc keeps only malloc's alignment: move by hand. On failure the old
   * block stays valid, as realloc's contract has it. */
  void *p = aligned_alloc_any(size, align);
  if (p) {
    memcpy(p, ptr, old_size < size ? old_size : size);
    release(ptr, align);
  }
  return p;
}

size_t __rust_reallocate_inplace(void *ptr, size_t old_size, size_t size,
                                 size_t align) {
  (void)size;
  /* libc cannot resize in place on request, but the block may already be
   * large enough: the caller compares the usable size with what it needs.
   * Without malloc_usable_size, or in an offset block, it is old_size. */
  if (offset_block(align) || !malloc_usable_size)
    return old_size;
  return malloc_usable_size(ptr);
}

size_t __rust_usable_size(size_t size, size_t align) {
  (void)align;
  return size;
}
