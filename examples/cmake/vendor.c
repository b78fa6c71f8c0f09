#include <allocsel/allocator.h>

/* Sums 1..n in memory from the archive's own allocator. */
long vendor_sum(int n) {
  long *v = allocsel_allocate((size_t)n * sizeof *v, 64);
  long s = 0;
  for (int i = 0; i < n; i++)
    s += v[i] = i + 1;
  allocsel_deallocate(v, (size_t)n * sizeof *v, 64);
  return s;
}
