/* The workload through the allocator ABI: allocsel injects jemalloc. */
#include <allocsel/allocator.h>

#include "workload.h"

#define ALLOC(size) __rust_allocate((size), 8)
#define FREE(ptr, size) __rust_deallocate((ptr), (size), 8)
#define REALLOC(ptr, old, size) __rust_reallocate((ptr), (old), (size), 8)
#include "workload.c.inc"
