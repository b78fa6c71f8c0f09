#include <stdio.h>

long vendor_sum(int n);

int main(void) {
  printf("vendor_sum(100) = %ld\n", vendor_sum(100));
  return vendor_sum(100) == 5050 ? 0 : 1;
}
