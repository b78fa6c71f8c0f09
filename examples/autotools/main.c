#include <allocsel/allocator.h>
#include <stdio.h>

const char *greet(void);

int main(void) {
  void *p = allocsel_allocate(128, 32);
  if (!p)
    return 1;
  puts(greet());
  allocsel_deallocate(p, 128, 32);
  return 0;
}
