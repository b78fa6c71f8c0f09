#include <allocsel/allocator.h>
#include <stdio.h>
#include <string.h>

const char *greet(void);

int main(void) {
  char *p = allocsel_allocate(64, 16);
  if (!p)
    return 1;
  strcpy(p, greet());
  puts(p);
  allocsel_deallocate(p, 64, 16);
  return 0;
}
