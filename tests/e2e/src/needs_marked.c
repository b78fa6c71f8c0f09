/* A program that calls marked_entry() (marked.c). */
#include <allocsel/allocator.h>
#include <stdio.h>

void marked_entry(void);

int main(void) {
  marked_entry();
  void *p = allocsel_allocate(8, 8);
  allocsel_deallocate(p, 8, 8);
  puts("marked");
  return 0;
}
