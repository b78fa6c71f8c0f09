/* The link memory: per output a linker writes, what the decision added
 * to its command line, the decision record, what the decision said and
 * the link's digest. One small file each (links/KEY in the cache
 * directory), written whole to a temporary file and renamed into place. */
#include "link_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend.h"

static const char magic[16] = "allocsel-link-3\n";

/* links/NAME in the cache directory, NAME a hash of the directory the link
 * runs in and of `parts`; NULL where there is no cache. */
static char *memory_path(const char *prefix, const char *const *parts,
                         size_t nparts) {
  char *dir = as_cache_dir();
  char cwd[4096];
  if (!dir || !getcwd(cwd, sizeof cwd)) {
    free(dir);
    return NULL;
  }
  uint64_t h = 0xcbf29ce484222325u; /* FNV-1a, each part with its NUL */
  for (size_t i = 0; i <= nparts; i++)
    for (const char *p = i ? parts[i - 1] : cwd;; p++) {
      h = (h ^ (unsigned char)*p) * 0x100000001b3u;
      if (!*p)
        break;
    }
  char *path =
      as_xasprintf("%s/links/%s%016llx", dir, prefix, (unsigned long long)h);
  free(dir);
  return path;
}

char *link_memory_path(const struct ld_cmdline *cl, const char *linker) {
  if (!cl->output)
    return NULL;
  const char *parts[] = {linker, cl->output};
  return memory_path("", parts, 2);
}

void link_memory_free(struct link_memory *m) {
  free(m->blob);
  free(m->strings);
  *m = (struct link_memory){0};
}

bool link_memory_read(const char *path, struct link_memory *m) {
  *m = (struct link_memory){0};
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return false;
  struct stat st;
  struct link_memory_header *h = &m->h;
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            as_pread_all(fd, h, sizeof *h, 0) &&
            memcmp(h->magic, magic, sizeof magic) == 0 &&
            h->nadded <= AS_MAX_DECISION_INPUTS &&
            h->nlibs <= AS_MAX_UNIT_LIBRARIES && h->has_record <= 1 &&
            h->has_digest <= 1 && h->strings_size < (1u << 20) &&
            h->record_size < (1u << 20) && h->text_size < (1u << 20) &&
            (uint64_t)st.st_size ==
                sizeof *h + h->strings_size + h->record_size + h->text_size;
  size_t n = ok ? (size_t)h->nadded + h->nlibs : 0;
  size_t blob = ok ? h->strings_size + h->record_size + h->text_size : 0;
  if (ok) {
    m->blob = as_xmalloc(blob + 1);
    ok = as_pread_all(fd, m->blob, blob, sizeof *h) &&
         (n == 0 ? h->strings_size == 0
                 : h->strings_size > 0 && m->blob[h->strings_size - 1] == 0);
  }
  close(fd);
  if (ok) {
    m->strings = as_xcalloc(n + 1, sizeof *m->strings);
    const char *p = m->blob, *end = m->blob + h->strings_size;
    for (size_t i = 0; i < n && ok; i++) {
      ok = p < end;
      m->strings[i] = p;
      p += ok ? strlen(p) + 1 : 0;
    }
    ok = ok && p == end;
  }
  if (!ok)
    link_memory_free(m);
  return ok;
}

/* The record's bytes, from its memory file. */
static char *record_bytes(int fd, size_t *size) {
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size > (1 << 20))
    return NULL;
  *size = (size_t)st.st_size;
  char *bytes = as_xmalloc(*size + 1);
  if (!as_pread_all(fd, bytes, *size, 0)) {
    free(bytes);
    return NULL;
  }
  return bytes;
}

/* Did the decision add what the memory says? (record_fd -1: no record.) */
static bool same_additions(const struct link_memory *m,
                           const char *const *added, size_t nadded,
                           int record_fd, const char *const *libs,
                           size_t nlibs) {
  const struct link_memory_header *h = &m->h;
  if (nadded != h->nadded || nlibs != h->nlibs ||
      (record_fd >= 0) != (h->has_record != 0))
    return false;
  for (size_t i = 0; i < nadded + nlibs; i++)
    if (strcmp(i < nadded ? added[i] : libs[i - nadded], m->strings[i]) != 0)
      return false;
  if (record_fd < 0)
    return true;
  size_t size;
  char *bytes = record_bytes(record_fd, &size);
  bool same = bytes && size == h->record_size &&
              memcmp(bytes, m->blob + h->strings_size, size) == 0;
  free(bytes);
  return same;
}

bool link_memory_known(const struct link_memory *m, const uint64_t digest[2]) {
  return m->h.has_digest &&
         memcmp(m->h.digest, digest, sizeof m->h.digest) == 0;
}

const char *link_memory_record(const struct link_memory *m, size_t *size) {
  *size = m->h.record_size;
  return m->blob + m->h.strings_size;
}

const char *link_memory_text(const struct link_memory *m, size_t *size) {
  *size = m->h.text_size;
  return m->blob + m->h.strings_size + m->h.record_size;
}

void link_memory_write(const char *path, const char *const *added,
                       size_t nadded, int record_fd, const char *const *libs,
                       size_t nlibs, const uint64_t *digest, const char *text,
                       size_t text_size) {
  struct link_memory old;
  bool have_old = path && link_memory_read(path, &old);
  bool same =
      have_old && same_additions(&old, added, nadded, record_fd, libs, nlibs) &&
      old.h.has_digest == (digest != NULL) &&
      (!digest || memcmp(old.h.digest, digest, sizeof old.h.digest) == 0) &&
      old.h.text_size == text_size &&
      (!text_size || memcmp(old.blob + old.h.strings_size + old.h.record_size,
                            text, text_size) == 0);
  if (have_old)
    link_memory_free(&old);
  char *rec = NULL;
  size_t rec_size = 0;
  if (!path || same ||
      (record_fd >= 0 && !(rec = record_bytes(record_fd, &rec_size))))
    return;
  struct link_memory_header h = {.nadded = (uint32_t)nadded,
                                 .nlibs = (uint32_t)nlibs,
                                 .has_record = record_fd >= 0,
                                 .has_digest = digest != NULL,
                                 .record_size = rec_size,
                                 .text_size = text_size};
  memcpy(h.magic, magic, sizeof magic);
  if (digest)
    memcpy(h.digest, digest, sizeof h.digest);
  for (size_t i = 0; i < nadded + nlibs; i++)
    h.strings_size += strlen(i < nadded ? added[i] : libs[i - nadded]) + 1;
  size_t size = sizeof h + h.strings_size + rec_size + text_size;
  char *bytes = as_xmalloc(size), *p = bytes;
  memcpy(p, &h, sizeof h);
  p += sizeof h;
  for (size_t i = 0; i < nadded + nlibs; i++) {
    const char *str = i < nadded ? added[i] : libs[i - nadded];
    size_t n = strlen(str) + 1;
    memcpy(p, str, n);
    p += n;
  }
  if (rec_size)
    memcpy(p, rec, rec_size);
  if (text_size)
    memcpy(p + rec_size, text, text_size);
  /* No memory is no error: the next link decides first. */
  as_write_file_whole(path, bytes, size);
  free(bytes);
  free(rec);
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void link_memory_seed(uint64_t seed[2], const struct ld_cmdline *cl,
                      const char *self, const char *linker,
                      enum as_output_type type, enum as_archive_order order,
                      const struct as_env *env) {
  seed[0] = 0xcbf29ce484222325u;
  seed[1] = 0x9e3779b97f4a7c15u;
  char cwd[4096];
  struct stat st;
  const char *strings[] = {AS_VERSION,
                           getcwd(cwd, sizeof cwd) ? cwd : "",
                           linker,
                           env->libdir ? env->libdir : "",
                           env->jemalloc_library ? env->jemalloc_library : "",
                           env->jemalloc_static ? env->jemalloc_static : ""};
  for (size_t i = 0; i < sizeof strings / sizeof *strings; i++)
    as_digest_mix(seed, strings[i], strlen(strings[i]) + 1);
  int numbers[] = {(int)type,       (int)order,       env->jemalloc_private,
                   env->lto_inject, env->static_link, env->adds_after_libc};
  as_digest_mix(seed, numbers, sizeof numbers);
  if (self && stat(self, &st) == 0) {
    int64_t self[] = {(int64_t)st.st_dev,          (int64_t)st.st_ino,
                      (int64_t)st.st_size,         (int64_t)st.st_mtim.tv_sec,
                      (int64_t)st.st_mtim.tv_nsec, (int64_t)st.st_ctim.tv_sec,
                      (int64_t)st.st_ctim.tv_nsec};
    as_digest_mix(seed, self, sizeof self);
  }
  extern char **environ;
  size_t n = 0, cap = 0;
  char **vars = NULL;
  /* But those that say how allocsel-ld was reached (allocsel run's, and
   * its own mark for the programs it starts), not what it decides. */
  for (char **e = environ; *e; e++)
    if (strncmp(*e, "ALLOCSEL_", 9) == 0 &&
        strncmp(*e, "ALLOCSEL_RUN", 12) != 0 &&
        strncmp(*e, "ALLOCSEL_LD_ACTIVE=", 19) != 0)
      *AS_PUSH(vars, n, cap) = *e;
  if (n)
    qsort(vars, n, sizeof *vars, compare_strings);
  for (size_t i = 0; i < n; i++)
    as_digest_mix(seed, vars[i], strlen(vars[i]) + 1);
  free(vars);
  for (size_t i = 0; i < cl->nwords; i++)
    if (strncmp(cl->words[i], "-plugin-opt=-fresolution=", 25) != 0)
      as_digest_mix(seed, cl->words[i], strlen(cl->words[i]) + 1);
}
