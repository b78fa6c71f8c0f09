#ifndef ALLOCSEL_BENCH_WORKLOAD_H
#define ALLOCSEL_BENCH_WORKLOAD_H
#include <stddef.h>
/* Sizes the program knows (SIZES_KNOWN: 8 + i % 248, provably non-zero) or
 * reads from memory the compiler cannot see into. */
extern volatile size_t opaque_sizes[64];
#endif
