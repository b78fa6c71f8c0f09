#include <allocsel/allocator.h>
#include <stdio.h>

const char *greet(void);
int twice(int x);

int main(void) {
  int *p = allocsel_allocate(sizeof *p, 64);
  if (!p)
    return 1;
  *p = twice(21);
  printf("%s: %d\n", greet(), *p);
  allocsel_deallocate(p, sizeof *p, 64);
  return 0;
}
