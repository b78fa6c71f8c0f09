/* Allocation and I/O helpers shared by the selector and the front ends.
 * Running out of memory is fatal, as in linkers: these never return
 * NULL. */
#ifndef ALLOCSEL_UTIL_H
#define ALLOCSEL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Growable arrays: AS_PUSH(ptr, n, cap) returns a pointer to the new slot.
 * The array moves as it grows: hold indexes into it, not pointers. */
void *as_grow(void *ptr, size_t *cap, size_t need, size_t elem);
#define AS_PUSH(ptr, n, cap)                                                   \
  ((ptr) = as_grow((ptr), &(cap), (n) + 1, sizeof *(ptr)), &(ptr)[(n)++])

void *as_xmalloc(size_t n);
void *as_xcalloc(size_t n, size_t size);
char *as_xstrdup(const char *s);
char *as_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A bump allocator for what lives as long as its owner and is freed with
 * it, all at once (a link's inputs and units: thousands of small blocks,
 * where a malloc each was a sixth of a relink's instructions), as lld's
 * BumpPtrAllocator. Blocks are aligned for any type and not zeroed. */
struct as_arena_chunk;
struct as_arena {
  struct as_arena_chunk *chunks;
  char *next, *end;
};
void *as_arena_alloc(struct as_arena *a, size_t size);
void as_arena_free(struct as_arena *a);

/* All `size` bytes, through short reads and writes and EINTR; false on an
 * error or an early end. */
bool as_pread_all(int fd, void *buf, size_t size, off_t off);
bool as_write_all(int fd, const void *buf, size_t size);

/* Writes `path` whole, or not at all: its directories made as mkdir -p,
 * the bytes written to a temporary file beside it (PATH.PID.tmp) and
 * renamed over it. False, and nothing left behind, on any failure. */
bool as_write_file_whole(const char *path, const void *data, size_t size);

/* What follows a path's last '/' (all of it where it has none). */
const char *as_base_name(const char *path);

/* qsort's and bsearch's comparison of two `char *`. */
int as_strcmp_ptr(const void *a, const void *b);
/* Sorts malloc'd strings and keeps one of each, freeing the others. */
void as_sort_unique_strings(char **v, size_t *n);

#endif
