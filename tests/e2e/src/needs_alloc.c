/* A program that needs an allocator: it calls the allocator ABI. */
#include <allocsel/allocator.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  char *p = allocsel_allocate(64, 16);
  if (!p)
    return 3;
  strcpy(p, "allocated");
  puts(p);
  allocsel_deallocate(p, 64, 16);
  return 0;
}
