/* allocsel allocator `tcmalloc`: gperftools' tcmalloc_minimal
 * (libgoogle-perftools-dev). Sized frees (tc_free_sized) skip tcmalloc's
 * page-map lookup: any size between the request and the block's usable size
 * maps to the block's size class. Alignments past 8 go through tc_memalign,
 * whose blocks are freed unsized. */
#include <allocsel/allocator.h>

#include <gperftools/tcmalloc.h>
#include <string.h>

ALLOCSEL_ALLOCATOR(tcmalloc);
ALLOCSEL_ALLOCATOR_LIBRARY("tcmalloc_minimal");

static size_t nonzero(size_t size) {
  return size ? size : 1;
}

/* tc_malloc's blocks are at least 8-aligned. */
static int plain(size_t align) {
  return align <= 8;
}

void *__rust_allocate(size_t size, size_t align) {
  size = nonzero(size);
  return plain(align) ? tc_malloc(size) : tc_memalign(align, size);
}

void __rust_deallocate(void *ptr, size_t old_size, size_t align) {
  if (plain(align))
    tc_free_sized(ptr, nonzero(old_size));
  else
    tc_free(ptr);
}

void *__rust_reallocate(void *ptr, size_t old_size, size_t size, size_t align) {
  size = nonzero(size);
  if (plain(align))
    return tc_realloc(ptr, size);
  /* tc_realloc keeps only malloc's alignment: move by hand. */
  void *moved = tc_memalign(align, size);
  if (!moved)
    return NULL; /* the old block stays */
  memcpy(moved, ptr, old_size < size ? old_size : size);
  tc_free(ptr);
  return moved;
}

/* tcmalloc never grows a block in place: its usable size is the answer. */
size_t __rust_reallocate_inplace(void *ptr, size_t old_size, size_t size,
                                 size_t align) {
  (void)old_size;
  (void)size;
  (void)align;
  return tc_malloc_size(ptr);
}

/* gperftools 2.10 exports no nallocx: only the size is promised. */
size_t __rust_usable_size(size_t size, size_t align) {
  (void)align;
  return nonzero(size);
}
