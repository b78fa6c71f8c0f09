#include <allocsel/allocator.h>
#include <string.h>

/* The dylib's own allocator serves this, freed here too. */
const char *greet(void) {
  char *p = allocsel_allocate(32, 8);
  static char out[32];
  strcpy(p, "hello from cmake");
  strcpy(out, p);
  allocsel_deallocate(p, 32, 8);
  return out;
}
