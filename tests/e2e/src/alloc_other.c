/* A second complete allocator, 'other', on top of malloc. */
#include <allocsel/allocator.h>
#include <stdlib.h>
#include <string.h>

ALLOCSEL_ALLOCATOR(other);

void *__rust_allocate(size_t size, size_t align) {
  return aligned_alloc(align < sizeof(void *) ? sizeof(void *) : align,
                       (size + align - 1) / align * align);
}

void __rust_deallocate(void *ptr, size_t old_size, size_t align) {
  (void)old_size;
  (void)align;
  free(ptr);
}

void *__rust_reallocate(void *ptr, size_t old_size, size_t size, size_t align) {
  void *p = __rust_allocate(size, align);
  if (p && ptr) {
    memcpy(p, ptr, old_size < size ? old_size : size);
    free(ptr);
  }
  return p;
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
