/* Which allocator serves the ABI in this artifact? Decided at run time by
 * watching each candidate's own accounting across one
 * __rust_allocate(1 MiB, 64), never assumed from how the program was linked.
 *
 * Included by probe.c (an executable) and libprobe.c (a dylib): every
 * function is static, so each artifact measures through its own hidden ABI
 * bindings. The includer defines _GNU_SOURCE before any header.
 */
#ifndef ALLOCSEL_TESTS_DETECT_H
#define ALLOCSEL_TESTS_DETECT_H

#include <allocsel/allocator.h>

#include <dlfcn.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DETECT_SIZE ((size_t)1 << 20)
#define DETECT_MAX_ALIGN ((size_t)1 << 16)

/* my_allocator's counter (examples/my_allocator.c). The reference is hidden
 * so it binds only to a copy linked into this same artifact: a dylib's copy
 * can neither hide ours nor be mistaken for it. Weak: absent means NULL. */
extern size_t my_allocator_calls(void)
    __attribute__((weak, visibility("hidden")));

typedef int (*detect_mallctl_fn)(const char *, void *, size_t *, void *,
                                 size_t);

/* Weak, so one probe serves every link: a static executable or allocsel
 * staticlib on jemalloc exports nothing for dlsym to find (mallctl), and a
 * strong mallinfo2 reference would pull glibc's malloc.o in beside
 * jemalloc's malloc in a static executable. */
#pragma weak mallinfo2
extern int mallctl(const char *, void *, size_t *, void *, size_t)
    __attribute__((weak));
/* gperftools' statistics: tcmalloc's archive in a static executable, or
 * libtcmalloc_minimal.so somewhere in the process. */
extern int MallocExtension_GetNumericProperty(const char *, size_t *)
    __attribute__((weak));
typedef int (*detect_tc_fn)(const char *, size_t *);

/* gold (binutils 2.40) resolves an undefined hidden weak function in a PIE
 * to the module's load address instead of NULL. No function sits there
 * (the ELF header does), so such a pointer means "absent". */
static void *detect_weak(void *p) {
  Dl_info info;
  if (p && dladdr(p, &info) && info.dli_fbase == p)
    return NULL;
  return p;
}
#define DETECT_WEAK(fn) detect_weak((void *)(uintptr_t)(fn))
typedef size_t (*detect_counter_fn)(void);

static void *detect_dlsym(const char *name) {
  /* Clear a stale dlerror() so a NULL result means "absent". */
  dlerror();
  return dlsym(RTLD_DEFAULT, name);
}

struct detect_sources {
  detect_mallctl_fn mallctl; /* libjemalloc somewhere in the process */
  detect_tc_fn tc;           /* tcmalloc's statistics */
  detect_counter_fn counter; /* a my_allocator counter */
};

static struct detect_sources detect_find(void) {
  struct detect_sources s = {0};
  /* This artifact's own jemalloc first (a dylib's or staticlib's is a
   * private copy that dlsym cannot see), then the process's. */
  void *p = DETECT_WEAK(allocsel_jemalloc_mallctl);
  if (!p)
    p = detect_dlsym("mallctl");
  if (!p)
    p = DETECT_WEAK(mallctl);
  /* ISO C has no object-to-function pointer conversion; POSIX dlsym
   * guarantees the representation, so copy the bits. */
  memcpy(&s.mallctl, &p, sizeof p);
  p = DETECT_WEAK(MallocExtension_GetNumericProperty);
  if (!p)
    p = detect_dlsym("MallocExtension_GetNumericProperty");
  memcpy(&s.tc, &p, sizeof p);
  if (DETECT_WEAK(my_allocator_calls)) {
    s.counter = my_allocator_calls;
  } else {
    /* Another artifact's copy: its count will not move for our calls. */
    p = detect_dlsym("my_allocator_calls");
    memcpy(&s.counter, &p, sizeof p);
  }
  return s;
}

/* One reading of every accounting we know of. */
struct detect_snap {
  bool je_ok;
  uint64_t je;   /* jemalloc: bytes allocated */
  size_t glibc;  /* glibc: bytes in use, arenas plus mmapped */
  size_t tc;     /* tcmalloc: bytes allocated */
  size_t custom; /* my_allocator: calls */
};

static bool detect_je_allocated(detect_mallctl_fn mallctl, uint64_t *out) {
  /* Per-thread and exact, no epoch needed. */
  size_t sz = sizeof *out;
  if (mallctl("thread.allocated", out, &sz, NULL, 0) == 0)
    return true;
  /* Without per-thread stats: refresh the global ones. */
  uint64_t epoch = 1;
  size_t esz = sizeof epoch, total, tsz = sizeof total;
  mallctl("epoch", &epoch, &esz, &epoch, esz);
  if (mallctl("stats.allocated", &total, &tsz, NULL, 0) != 0)
    return false;
  *out = total;
  return true;
}

static struct detect_snap detect_snap(const struct detect_sources *s) {
  struct detect_snap n = {0};
  if (s->mallctl)
    n.je_ok = detect_je_allocated(s->mallctl, &n.je);
  /* When libjemalloc has replaced malloc, glibc's arenas do not move. */
  if (DETECT_WEAK(mallinfo2)) {
    struct mallinfo2 mi = mallinfo2();
    n.glibc = mi.uordblks + mi.hblkhd;
  }
  if (s->tc)
    s->tc("generic.current_allocated_bytes", &n.tc);
  if (s->counter)
    n.custom = s->counter();
  return n;
}

/* Appends to a bounded buffer, truncating silently. */
struct detect_buf {
  char *p;
  size_t n, len;
};

__attribute__((format(printf, 2, 3))) static void
detect_printf(struct detect_buf *b, const char *fmt, ...) {
  if (b->len >= b->n)
    return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(b->p + b->len, b->n - b->len, fmt, ap);
  va_end(ap);
  if (k > 0)
    b->len = b->len + (size_t)k < b->n ? b->len + (size_t)k : b->n - 1;
}

static bool detect_fill_check(unsigned char *p, size_t from, size_t to,
                              unsigned char seed, bool write) {
  for (size_t i = from; i < to; i++) {
    unsigned char want = (unsigned char)(seed + i * 7);
    if (write)
      p[i] = want;
    else if (p[i] != want)
      return false;
  }
  return true;
}

/* Every power-of-two alignment on allocate, grow and shrink, with sizes
 * below, at and above the alignment; the memory is written and the contents
 * must survive each move. Returns false with `why` set on the first fault. */
static bool detect_align(char *why, size_t whylen) {
  static const char *const what[] = {"allocate", "grow", "shrink"};
  for (size_t align = 1; align <= DETECT_MAX_ALIGN; align <<= 1) {
    const size_t sizes[] = {0, 1, align / 2, align, 3 * align + 5};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
      size_t sz[3] = {sizes[k], 2 * sizes[k] + align + 3, sizes[k] / 2 + 1};
      unsigned char *p = NULL;
      for (int step = 0; step < 3; step++) {
        unsigned char *q =
            step == 0 ? __rust_allocate(sz[0], align)
                      : __rust_reallocate(p, sz[step - 1], sz[step], align);
        size_t keep = step == 0                 ? 0
                      : sz[step - 1] < sz[step] ? sz[step - 1]
                                                : sz[step];
        const char *fault =
            !q                     ? "returned NULL"
            : (uintptr_t)q % align ? "misaligned"
            : !detect_fill_check(q, 0, keep, (unsigned char)k, false)
                ? "lost contents"
                : NULL;
        if (fault) {
          snprintf(why, whylen, "%s size %zu align %zu: %s (%p)", what[step],
                   sz[step], align, fault, (void *)q);
          if (q)
            __rust_deallocate(q, sz[step], align);
          else if (p)
            __rust_deallocate(p, sz[step - 1], align);
          return false;
        }
        detect_fill_check(q, keep, sz[step], (unsigned char)k, true);
        p = q;
      }
      __rust_deallocate(p, sz[2], align);
    }
  }
  return true;
}

/* Runs the detection and writes the report lines into buf:
 *   jemalloc: yes|no / custom: N|none / system: yes|no /
 *   align: ok|BAD <details> /
 *   served-by: jemalloc|tcmalloc|system|custom|unknown (the ABI) /
 *   malloc-by: jemalloc|tcmalloc|glibc|unknown (malloc, measured) /
 *   malloc-from: the library whose malloc the process calls
 * Returns whether the alignment checks passed. */
static bool detect_report(char *buf, size_t buflen) {
  struct detect_buf b = {buf, buflen, 0};
  if (buflen)
    buf[0] = '\0';
  struct detect_sources src = detect_find();

  struct detect_snap before = detect_snap(&src);
  void *p = __rust_allocate(DETECT_SIZE, 64);
  struct detect_snap after = detect_snap(&src);
  if (p)
    __rust_deallocate(p, DETECT_SIZE, 64);

  bool je = before.je_ok && after.je_ok && after.je >= before.je &&
            after.je - before.je >= DETECT_SIZE;
  bool sys =
      after.glibc >= before.glibc && after.glibc - before.glibc >= DETECT_SIZE;
  bool custom = src.counter && after.custom != before.custom;
  bool tc = after.tc >= before.tc && after.tc - before.tc >= DETECT_SIZE;

  /* Who serves malloc itself, measured the same way. */
  struct detect_snap mbefore = detect_snap(&src);
  void *volatile m = malloc(DETECT_SIZE);
  struct detect_snap mafter = detect_snap(&src);
  free(m);
  const char *malloc_by =
      mafter.tc >= mbefore.tc && mafter.tc - mbefore.tc >= DETECT_SIZE
          ? "tcmalloc"
      : mbefore.je_ok && mafter.je_ok && mafter.je - mbefore.je >= DETECT_SIZE
          ? "jemalloc"
      : mafter.glibc >= mbefore.glibc &&
              mafter.glibc - mbefore.glibc >= DETECT_SIZE
          ? "glibc"
          : "unknown";

  char why[160] = "";
  bool aligned = p != NULL && detect_align(why, sizeof why);
  if (!p)
    snprintf(why, sizeof why, "allocate size %zu align 64: returned NULL",
             DETECT_SIZE);

  detect_printf(&b, "jemalloc: %s\n", je ? "yes" : "no");
  if (src.counter)
    /* Calls counted during this run: 0 when the counter is not ours. */
    detect_printf(&b, "custom: %zu\n", src.counter() - before.custom);
  else
    detect_printf(&b, "custom: none\n");
  detect_printf(&b, "system: %s\n", sys ? "yes" : "no");
  detect_printf(&b, "align: %s%s\n", aligned ? "ok" : "BAD ", why);
  /* A custom allocator may itself sit on malloc, so it is checked first. */
  detect_printf(&b, "served-by: %s\n",
                custom ? "custom"
                : je   ? "jemalloc"
                : tc   ? "tcmalloc"
                : sys  ? "system"
                       : "unknown");
  detect_printf(&b, "malloc-by: %s\n", malloc_by);
  /* Whose malloc the process calls: the shared object defining the malloc
   * this program's references bound to (its own name where it is static). */
  Dl_info info;
  void *(*malloc_fn)(size_t) = malloc;
  const char *from = "unknown";
  if (dladdr(*(void **)&malloc_fn, &info) && info.dli_fname) {
    from = strrchr(info.dli_fname, '/');
    from = from ? from + 1 : info.dli_fname;
  }
  detect_printf(&b, "malloc-from: %s\n", from);
  return aligned;
}

#endif
