/* Allocation helpers shared by the selector and the front ends. Running
 * out of memory is fatal, as in linkers: these never return NULL. */
#ifndef ALLOCSEL_UTIL_H
#define ALLOCSEL_UTIL_H

#include <stddef.h>

/* Growable arrays: AS_PUSH(ptr, n, cap) returns a pointer to the new slot.
 * The array moves as it grows: hold indexes into it, not pointers. */
void *as_grow(void *ptr, size_t *cap, size_t need, size_t elem);
#define AS_PUSH(ptr, n, cap)                                                   \
  ((ptr) = as_grow((ptr), &(cap), (n) + 1, sizeof *(ptr)), &(ptr)[(n)++])

void *as_xmalloc(size_t n);
void *as_xcalloc(size_t n, size_t size);
char *as_xstrdup(const char *s);
char *as_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
