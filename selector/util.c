/* Allocation, I/O and environment helpers: the selector treats running out
 * of memory as fatal, as linkers do. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static void out_of_memory(void) {
  fputs("allocsel: error: out of memory\n", stderr);
  exit(2);
}

void *as_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    out_of_memory();
  return p;
}

void *as_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    out_of_memory();
  return p;
}

char *as_xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(as_xmalloc(n), s, n);
}

char *as_xasprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    out_of_memory();
  char *s = as_xmalloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

struct as_arena_chunk {
  struct as_arena_chunk *prev;
  max_align_t data[];
};

void *as_arena_alloc(struct as_arena *a, size_t size) {
  size_t align = _Alignof(max_align_t);
  size = (size + align - 1) & ~(align - 1);
  if ((size_t)(a->end - a->next) < size) {
    enum { CHUNK = 64 * 1024 };
    struct as_arena_chunk *c =
        as_xmalloc(sizeof *c + (size > CHUNK / 4 ? size : CHUNK));
    c->prev = a->chunks;
    a->chunks = c;
    if (size > CHUNK / 4)
      return c->data; /* a block of its own: the current chunk goes on */
    a->next = (char *)c->data;
    a->end = a->next + CHUNK;
  }
  void *p = a->next;
  a->next += size;
  return p;
}

void as_arena_free(struct as_arena *a) {
  for (struct as_arena_chunk *c = a->chunks, *prev; c; c = prev) {
    prev = c->prev;
    free(c);
  }
  *a = (struct as_arena){0};
}

void *as_grow(void *ptr, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap)
    return ptr;
  size_t n = *cap ? *cap * 2 : 8;
  while (n < need)
    n *= 2;
  ptr = realloc(ptr, n * elem);
  if (!ptr)
    out_of_memory();
  *cap = n;
  return ptr;
}

bool as_pread_all(int fd, void *buf, size_t size, off_t off) {
  for (size_t done = 0; done < size;) {
    ssize_t n = pread(fd, (char *)buf + done, size - done, off + (off_t)done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += (size_t)n;
  }
  return true;
}

bool as_write_all(int fd, const void *buf, size_t size) {
  for (size_t done = 0; done < size;) {
    ssize_t n = write(fd, (const char *)buf + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += (size_t)n;
  }
  return true;
}

bool as_write_file_whole(const char *path, const void *data, size_t size) {
  char *dir = as_xstrdup(path);
  char *slash = strrchr(dir, '/');
  for (char *p = dir + 1; slash && p <= slash; p++)
    if (*p == '/') {
      *p = '\0';
      mkdir(dir, 0777); /* exists already, or the open below says so */
      *p = '/';
    }
  free(dir);
  char *tmp = as_xasprintf("%s.%ld.tmp", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  bool ok = fd >= 0 && as_write_all(fd, data, size);
  if (fd >= 0 && close(fd) != 0)
    ok = false;
  if (fd >= 0 && (!ok || rename(tmp, path) != 0)) {
    unlink(tmp);
    ok = false;
  }
  free(tmp);
  return ok;
}

/* lib/allocsel beside the running executable's bin (ALLOCSEL_LIBDIR
 * overrides it). */
char *as_default_libdir(void) {
  const char *env = getenv("ALLOCSEL_LIBDIR");
  if (env && *env)
    return as_xstrdup(env);
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return as_xstrdup(ALLOCSEL_INSTALL_LIBDIR);
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash)
    *slash = '\0'; /* .../bin */
  return as_xasprintf("%s/../lib/allocsel", exe);
}

bool as_env_flag(const char *name, bool unset) {
  const char *v = getenv(name);
  if (!v || !*v)
    return unset;
  return strcmp(v, "0") != 0 && strcasecmp(v, "no") != 0 &&
         strcasecmp(v, "false") != 0 && strcasecmp(v, "off") != 0;
}

double as_self_cpu_seconds(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return 0;
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

const char *as_base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

int as_strcmp_ptr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void as_sort_unique_strings(char **v, size_t *n) {
  if (!*n)
    return;
  qsort(v, *n, sizeof *v, as_strcmp_ptr);
  size_t w = 1;
  for (size_t i = 1; i < *n; i++)
    if (strcmp(v[w - 1], v[i]) != 0)
      v[w++] = v[i];
    else
      free(v[i]);
  *n = w;
}
