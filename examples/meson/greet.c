#include <allocsel/allocator.h>
#include <string.h>

/* Needs an allocator: the dylib gets its own. */
const char *greet(void) {
  static char out[32];
  char *p = allocsel_allocate(sizeof out, 8);
  strcpy(p, "hello from meson");
  strcpy(out, p);
  allocsel_deallocate(p, sizeof out, 8);
  return out;
}
