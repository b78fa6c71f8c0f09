#include <allocsel/allocator.h>

/* Needs an allocator: libtool's shared library gets its own. */
const char *greet(void) {
  void *p = allocsel_allocate(16, 16);
  allocsel_deallocate(p, 16, 16);
  return p ? "hello from autotools" : "no memory";
}
