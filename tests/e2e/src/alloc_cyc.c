/* A complete allocator, 'cyc', that logs through cyc_log(), which lives in
 * another unit (an archive member) that itself needs an allocator: a cycle. */
#include <allocsel/allocator.h>
#include <stdlib.h>

ALLOCSEL_ALLOCATOR(cyc);

void cyc_log(const char *what);

void *__rust_allocate(size_t size, size_t align) {
  cyc_log("allocate");
  (void)align;
  return malloc(size);
}

void __rust_deallocate(void *ptr, size_t old_size, size_t align) {
  (void)old_size;
  (void)align;
  free(ptr);
}

void *__rust_reallocate(void *ptr, size_t old_size, size_t size, size_t align) {
  (void)old_size;
  (void)align;
  return realloc(ptr, size);
}

size_t __rust_reallocate_inplace(void *ptr, size_t old_size, size_t size,
                                 size_t align) {
  (void)ptr;
  (void)size;
  (void)align;
  return old_size;
}

size_t __rust_usable_size(size_t size, size_t align) {
  (void)align;
  return size;
}
