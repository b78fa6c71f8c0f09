/* allocsel allocator `jemalloc`: Debian's libjemalloc through its
 * non-standard API, as Rust's alloc_jemalloc used it. The sized deallocation
 * (sdallocx) saves jemalloc a lookup, which is the point of the ABI passing
 * old_size. Link with -ljemalloc.
 */
#include <allocsel/allocator.h>

#include <jemalloc/jemalloc.h>

ALLOCSEL_ALLOCATOR(jemalloc);

/* mallocx(0) is undefined behaviour: a zero-size request gets one byte.
 * Frees pass old_size as it is: jemalloc's size-class lookup puts 0 and 1 in
 * the same (smallest) class, so sdallocx(p, 0) is exact for such a block,
 * and a free through the ABI inlines to a bare sdallocx call under LTO
 * (bench/lto_callgrind.sh). */
static size_t nonzero(size_t size) {
  return size ? size : 1;
}

/* Passing no flags lets jemalloc skip alignment work. Its size classes on
 * x86_64 and aarch64 are 8 bytes (8-aligned), then multiples of the 16-byte
 * quantum: an alignment up to 8 always comes free, 16 for sizes above 8.
 * With a constant alignment (the common call) this folds away when the ABI
 * is inlined under LTO. */
static int align_flags(size_t size, size_t align) {
  return align <= 8 || (align <= 16 && size > 8) ? 0 : MALLOCX_ALIGN(align);
}

void *__rust_allocate(size_t size, size_t align) {
  size = nonzero(size);
  return mallocx(size, align_flags(size, align));
}

void __rust_deallocate(void *ptr, size_t old_size, size_t align) {
  sdallocx(ptr, old_size, align_flags(nonzero(old_size), align));
}

void *__rust_reallocate(void *ptr, size_t old_size, size_t size, size_t align) {
  (void)old_size;
  size = nonzero(size);
  return rallocx(ptr, size, align_flags(size, align));
}

size_t __rust_reallocate_inplace(void *ptr, size_t old_size, size_t size,
                                 size_t align) {
  (void)old_size;
  size = nonzero(size);
  return xallocx(ptr, size, 0, align_flags(size, align));
}

size_t __rust_usable_size(size_t size, size_t align) {
  size = nonzero(size);
  return nallocx(size, align_flags(size, align));
}

/* The jemalloc serving this artifact's ABI, for the artifact's own code:
 * in a dylib or staticlib jemalloc is a private copy whose mallctl is not
 * exported, so its statistics and settings are reached through this name.
 * Hidden: each artifact reaches its own. */
int allocsel_jemalloc_mallctl(const char *name, void *oldp, size_t *oldlenp,
                              void *newp, size_t newlen) {
  return mallctl(name, oldp, oldlenp, newp, newlen);
}
