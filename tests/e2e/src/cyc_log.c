/* cyc_log(): keeps a copy of each message, so it needs an allocator. */
#include <allocsel/allocator.h>
#include <string.h>

void cyc_log(const char *what) {
  size_t n = strlen(what) + 1;
  char *copy = allocsel_allocate(n, 1);
  if (copy) {
    memcpy(copy, what, n);
    allocsel_deallocate(copy, n, 1);
  }
}
