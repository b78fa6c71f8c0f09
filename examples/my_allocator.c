/* my_allocator: the custom allocator example from the old Rust book
 * ("Custom Allocators", Rust 1.9-1.27, the `my_allocator` crate built with
 * #![allocator]), ported to C and to allocsel's marker.
 *
 * Like the original it is a naive libc wrapper: malloc and realloc know
 * nothing of alignment, so requests aligned beyond alignof(max_align_t) are
 * NOT honoured. It is the seed example, kept faithful on purpose; use the
 * shipped `system` allocator for a correct libc allocator.
 *
 * Build it as an object and link it in (or pass it as the requested
 * allocator); the selector sees ALLOCSEL_ALLOCATOR(my_allocator).
 */
#include <allocsel/allocator.h>

#include <stdatomic.h>
#include <stdlib.h>

ALLOCSEL_ALLOCATOR(my_allocator);

/* Added for allocsel's tests: how many ABI calls this copy served. Default
 * visibility, unlike the ABI, so a program can find it with dlsym. */
static atomic_size_t calls;

__attribute__((visibility("default"))) size_t my_allocator_calls(void) {
  return atomic_load_explicit(&calls, memory_order_relaxed);
}

static void count(void) {
  atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
}

void *__rust_allocate(size_t size, size_t align) {
  (void)align;
  count();
  return malloc(size);
}

void __rust_deallocate(void *ptr, size_t old_size, size_t align) {
  (void)old_size;
  (void)align;
  count();
  free(ptr);
}

void *__rust_reallocate(void *ptr, size_t old_size, size_t size, size_t align) {
  (void)old_size;
  (void)align;
  count();
  return realloc(ptr, size);
}

size_t __rust_reallocate_inplace(void *ptr, size_t old_size, size_t size,
                                 size_t align) {
  (void)ptr;
  (void)size;
  (void)align;
  count();
  return old_size; /* this API is not supported by libc */
}

size_t __rust_usable_size(size_t size, size_t align) {
  (void)align;
  count();
  return size;
}
