/* allocsel allocator `mimalloc`: Debian's libmimalloc (libmimalloc-dev),
 * through its aligned API. Frees pass the size and alignment the ABI gives
 * (mi_free_size_aligned), which mimalloc's checked builds verify. Debian
 * ships mimalloc as a shared library only, so a static link is refused. */
#include <allocsel/allocator.h>

#include <mimalloc.h>
#include <string.h>

ALLOCSEL_ALLOCATOR(mimalloc);
ALLOCSEL_ALLOCATOR_LIBRARY("mimalloc");

/* A zero-size request gets one byte: a unique pointer, as the ABI says. */
static size_t nonzero(size_t size) {
  return size ? size : 1;
}

/* Debian's mimalloc 2.0.9 returns a misaligned block for a size that is a
 * multiple of an alignment past 16 (mi_malloc_aligned(256, 256) is off by
 * 128 at times: its aligned fast path takes the bin's block alignment for
 * the request's). One more byte steers such a request off that path. */
static void *aligned(size_t size, size_t align) {
  if (align > 16 && size % align == 0)
    size++;
  return mi_malloc_aligned(size, align);
}

void *__rust_allocate(size_t size, size_t align) {
  return aligned(nonzero(size), align);
}

void __rust_deallocate(void *ptr, size_t old_size, size_t align) {
  mi_free_size_aligned(ptr, nonzero(old_size), align);
}

/* Not mi_realloc_aligned, which goes through the same path: in place where
 * the block holds the size and is not much too big, else move by hand. */
void *__rust_reallocate(void *ptr, size_t old_size, size_t size, size_t align) {
  size = nonzero(size);
  size_t usable = mi_usable_size(ptr);
  if (size <= usable && size >= usable / 2)
    return ptr;
  void *moved = aligned(size, align);
  if (!moved)
    return NULL; /* the old block stays */
  memcpy(moved, ptr, old_size < size ? old_size : size);
  mi_free(ptr);
  return moved;
}

/* mimalloc never grows a block in place beyond its size class: the block's
 * usable size is the answer, >= size exactly when it fits. */
size_t __rust_reallocate_inplace(void *ptr, size_t old_size, size_t size,
                                 size_t align) {
  (void)old_size;
  (void)size;
  (void)align;
  return mi_usable_size(ptr);
}

/* Up to its 16-byte quantum mimalloc's size classes align for free, so the
 * class size is what an allocation gets; past it, only the size is
 * promised. */
size_t __rust_usable_size(size_t size, size_t align) {
  return align <= 16 ? mi_good_size(nonzero(size)) : nonzero(size);
}
