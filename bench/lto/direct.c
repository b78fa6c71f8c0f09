/* The same workload calling jemalloc's API directly, as a program written
 * for jemalloc would: natural alignment, so no flags. */
#include <jemalloc/jemalloc.h>

#include "workload.h"

#define ALLOC(size) mallocx((size), 0)
#define FREE(ptr, size) sdallocx((ptr), (size), 0)
#define REALLOC(ptr, old, size) rallocx((ptr), (size), 0)
#include "workload.c.inc"
