/* An incomplete allocator: 'half' defines three of the five entry points. */
#include <allocsel/allocator.h>
#include <stdlib.h>

ALLOCSEL_ALLOCATOR(half);

void *__rust_allocate(size_t size, size_t align) {
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
