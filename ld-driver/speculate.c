/* Starting the linker at once. Most links are relinks of a command line
 * linked before, and their decision comes out as it did the last time; so
 * allocsel-ld remembers what the decision added to each link's command
 * line (in the cache directory, links/KEY: the allocator's inputs and
 * libraries, the record) and, the next time, starts the linker at once on
 * the command line with those added, writing a temporary output beside
 * the real one, while it decides again beside it. The decision then checks
 * the guess word for word, the record byte for byte:
 *   - the same: the linker's output is moved into place and what it said
 *     is said (it was held back until then);
 *   - different (an input changed what allocsel decides): the early linker
 *     is stopped, what it wrote is removed, and the linker runs again on
 *     the decision;
 *   - a refusal: the same, and nothing is written, as without the guess.
 * The guess is never trusted, only checked, so the key (the directory, the
 * linker and the output) need only make it likely right; the command line
 * itself is not in it, as compiler drivers put temporary file names there.
 *
 * Links that write anything besides their output, or whose output is no
 * regular file, are not started early: a map file or a dependency file
 * would be written under a name allocsel cannot redirect, and /dev/null
 * cannot be renamed onto. ALLOCSEL_SPECULATE=0 (or ALLOCSEL_CACHE=0) turns
 * it off. */
#include "speculate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "frontend.h"
#include "linker_run.h"

static const char magic[16] = "allocsel-link-3\n";

/* What a decision added, as the memory file holds it: the header, the
 * added inputs and the libraries (NUL-terminated, one after the other),
 * the record's bytes, what the decision said (its warnings, the verbose
 * lines). The digest is the link's (as_link_digest), if it had one. */
struct memory_header {
  char magic[16];
  uint32_t nadded, nlibs;
  uint32_t has_record, has_digest;
  uint64_t strings_size, record_size, text_size;
  uint64_t digest[2];
};

struct memory {
  struct memory_header h;
  char *blob; /* the strings, then the record */
  const char **strings;
};

struct speculation {
  struct linker_run run;
  struct memory mem;
  const char *output;
  char *tmp; /* what the early linker writes: OUTPUT.allocsel-PID */
  char **argv;
  char *output_arg, *record_arg;
  int record_fd, out_fd, err_fd;
};

/* Options that write files named apart from the output, or whose output
 * names the output file. */
static const char *const side_outputs[] = {
    "-M",
    "--print-map",
    "-Map",
    "--Map",
    "--incremental",
    "--separate-debug-file",
    "--reproduce",
    "--dependency-file",
    "--why-extract",
    "--out-implib",
    "--save-temps",
    "-plugin-opt=save-temps",
    "--plugin-opt=save-temps",
    "--lto-obj-path",
    "--thinlto-index-only",
    "--plugin-opt=thinlto-index-only",
    "--print-archive-stats",
    "--Map=",
};

static bool off(const char *name) {
  const char *v = getenv(name);
  return v && (strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0 ||
               strcasecmp(v, "off") == 0 || strcasecmp(v, "false") == 0);
}

static bool side_output(const char *arg) {
  /* Every option below starts "--", "-M" or "-p": most words do not. */
  if (arg[0] != '-' || (arg[1] != '-' && arg[1] != 'M' && arg[1] != 'p'))
    return false;
  for (size_t j = 0; j < sizeof side_outputs / sizeof *side_outputs; j++) {
    const char *opt = side_outputs[j];
    size_t n = strlen(opt);
    if (strncmp(arg, opt, n) == 0 &&
        (!arg[n] || arg[n] == '=' || arg[n] == ',' || opt[1] != '-' ||
         opt[n - 1] == '='))
      return true;
  }
  return false;
}

static bool eligible(const struct ld_cmdline *cl) {
  if (off("ALLOCSEL_SPECULATE") || !cl->output || !*cl->output ||
      strncmp(cl->output, "/dev/", 5) == 0 ||
      strncmp(cl->output, "/proc/", 6) == 0)
    return false;
  struct stat st;
  if (lstat(cl->output, &st) == 0 ? !S_ISREG(st.st_mode) : errno != ENOENT)
    return false;
  for (size_t i = 0; i < cl->npass; i++)
    if (side_output(cl->pass[i]))
      return false;
  return true;
}

/* Asked before the link starts, the decision and the memory: the answer
 * is the first one (the output exists once the early linker wrote it). */
bool speculation_eligible(const struct ld_cmdline *cl) {
  static const struct ld_cmdline *asked;
  static bool answer;
  if (asked != cl) {
    answer = eligible(cl);
    asked = cl;
  }
  return answer;
}

/* The memory file of this link: links/ in the cache directory, named by
 * a hash of the directory, the linker and the output. */
static char *memory_path(const struct ld_cmdline *cl, const char *linker) {
  char *dir = as_cache_dir();
  char cwd[4096];
  if (!dir || !getcwd(cwd, sizeof cwd)) {
    free(dir);
    return NULL;
  }
  const char *parts[] = {cwd, linker, cl->output};
  uint64_t h = 0xcbf29ce484222325u; /* FNV-1a, each part with its NUL */
  for (size_t i = 0; i < 3; i++)
    for (const char *p = parts[i];; p++) {
      h = (h ^ (unsigned char)*p) * 0x100000001b3u;
      if (!*p)
        break;
    }
  char *path = as_xasprintf("%s/links/%016llx", dir, (unsigned long long)h);
  free(dir);
  return path;
}

static bool read_all(int fd, void *buf, size_t size, off_t off) {
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

static bool write_all(int fd, const void *buf, size_t size) {
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

static void memory_free(struct memory *m) {
  free(m->blob);
  free(m->strings);
  *m = (struct memory){0};
}

/* Reads and checks a memory file: false if absent or not sound. */
static bool memory_read(const char *path, struct memory *m) {
  *m = (struct memory){0};
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return false;
  struct stat st;
  struct memory_header *h = &m->h;
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            read_all(fd, h, sizeof *h, 0) &&
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
    ok = read_all(fd, m->blob, blob, sizeof *h) &&
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
    memory_free(m);
  return ok;
}

/* The record's bytes, from its memory file. */
static char *record_bytes(int fd, size_t *size) {
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size > (1 << 20))
    return NULL;
  *size = (size_t)st.st_size;
  char *bytes = as_xmalloc(*size + 1);
  if (!read_all(fd, bytes, *size, 0)) {
    free(bytes);
    return NULL;
  }
  return bytes;
}

/* Removes the temporary output and whatever the linker made from its name
 * (lld's and mold's own temporaries: OUTPUT.allocsel-PID.tmpXXXXXX). */
static void remove_outputs(const char *tmp) {
  unlink(tmp);
  char *dir = as_xstrdup(tmp);
  char *slash = strrchr(dir, '/');
  const char *base = slash ? slash + 1 : tmp;
  if (slash)
    *slash = '\0';
  DIR *d = opendir(slash ? (*dir ? dir : "/") : ".");
  size_t n = strlen(base);
  for (struct dirent *e; d && (e = readdir(d));)
    if (strncmp(e->d_name, base, n) == 0 && e->d_name[n] == '.') {
      char *path =
          slash ? as_xasprintf("%s/%s", dir, e->d_name) : as_xstrdup(e->d_name);
      unlink(path);
      free(path);
    }
  if (d)
    closedir(d);
  free(dir);
}

static void speculation_free(struct speculation *sp) {
  if (sp->record_fd >= 0)
    close(sp->record_fd);
  if (sp->out_fd >= 0)
    close(sp->out_fd);
  if (sp->err_fd >= 0)
    close(sp->err_fd);
  memory_free(&sp->mem);
  free(sp->tmp);
  free(sp->argv);
  free(sp->output_arg);
  free(sp->record_arg);
  free(sp);
}

struct speculation *speculation_start(const struct ld_cmdline *cl,
                                      const char *linker) {
  if (!speculation_eligible(cl))
    return NULL;
  char *path = memory_path(cl, linker);
  struct speculation *sp = as_xcalloc(1, sizeof *sp);
  sp->record_fd = sp->out_fd = sp->err_fd = -1;
  bool remembered = path && memory_read(path, &sp->mem);
  free(path);
  if (!remembered) {
    speculation_free(sp);
    return NULL;
  }
  const struct memory_header *h = &sp->mem.h;
  /* The record as remembered, in a memory file as as_record_object makes
   * it (no MFD_CLOEXEC: the linker opens it as /dev/fd/N); what the linker
   * says, held back. */
  if (h->has_record) {
    sp->record_fd = memfd_create("allocsel-record.o", 0);
    if (sp->record_fd < 0 ||
        !write_all(sp->record_fd, sp->mem.blob + h->strings_size,
                   h->record_size)) {
      speculation_free(sp);
      return NULL;
    }
    sp->record_arg = as_xasprintf("/dev/fd/%d", sp->record_fd);
  }
  char **argv =
      ld_cmdline_command(cl, linker, sp->mem.strings, h->nadded, sp->record_arg,
                         sp->mem.strings + h->nadded, h->nlibs);
  size_t n = 0;
  while (argv[n])
    n++;
  sp->argv = as_xcalloc(n + 1, sizeof *sp->argv);
  sp->output = cl->output;
  sp->tmp = as_xasprintf("%s.allocsel-%ld", cl->output, (long)getpid());
  size_t m = 0, output_at = SIZE_MAX;
  for (size_t i = 0; i < n; i++) {
    sp->argv[m++] = argv[i];
    /* The output's name is all or the end of one argument ("-o" "NAME",
     * or joined: "--output=NAME"); the last such argument counts. */
    size_t len = strlen(argv[i]);
    if (cl->output >= argv[i] && cl->output <= argv[i] + len)
      output_at = m - 1;
  }
  free(argv);
  if (output_at == SIZE_MAX) {
    speculation_free(sp);
    return NULL;
  }
  sp->output_arg =
      as_xasprintf("%.*s%s", (int)(cl->output - sp->argv[output_at]),
                   sp->argv[output_at], sp->tmp);
  sp->argv[output_at] = sp->output_arg;
  /* In a process group of its own, which stopping it stops whole: mold
   * forks, and its parent waits for the child only until the output is
   * in place. */
  sp->out_fd = memfd_create("allocsel-linker-stdout", MFD_CLOEXEC);
  sp->err_fd = memfd_create("allocsel-linker-stderr", MFD_CLOEXEC);
  unlink(sp->tmp);
  if (sp->out_fd < 0 || sp->err_fd < 0 ||
      linker_start(&sp->run, sp->argv, sp->out_fd, sp->err_fd, true) != 0) {
    speculation_free(sp);
    return NULL;
  }
  return sp;
}

void speculation_abandon(struct speculation *sp) {
  if (!sp)
    return;
  linker_stop(&sp->run);
  remove_outputs(sp->tmp);
  speculation_free(sp);
}

/* Did the decision add what the early linker was given? */
static bool same_decision(const struct memory *m, const char *const *added,
                          size_t nadded, int record_fd, const char *const *libs,
                          size_t nlibs) {
  const struct memory_header *h = &m->h;
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

/* Says what the linker said: its stdout, then its stderr. */
static void replay(int from, int to) {
  char buf[65536];
  off_t off = 0;
  for (ssize_t n; (n = pread(from, buf, sizeof buf, off)) > 0; off += n)
    if (!write_all(to, buf, (size_t)n))
      break;
}

/* The early linker's link is the one: wait for it, say what it said, move
 * its output into place. Frees sp. */
static int finish_link(struct speculation *sp) {
  int rc = linker_wait(&sp->run);
  fflush(stderr);
  replay(sp->out_fd, 1);
  replay(sp->err_fd, 2);
  /* The output this replaces stays open until allocsel-ld exits, as lld
   * keeps the one it replaces (unlinkAsync): freeing a large file's pages
   * is then no part of the rename. */
  int replaced =
      rc == 0 ? open(sp->output, O_RDONLY | O_CLOEXEC | O_NONBLOCK) : -1;
  (void)replaced;
  /* A linker that wrote nothing and said it was fine (--version among
   * inputs) leaves nothing to move. */
  if (rc == 0 && rename(sp->tmp, sp->output) != 0 && errno != ENOENT) {
    fprintf(stderr, "allocsel: error: cannot move %s to %s: %s\n", sp->tmp,
            sp->output, strerror(errno));
    rc = 2;
  }
  if (rc != 0)
    remove_outputs(sp->tmp);
  speculation_free(sp);
  return rc;
}

bool speculation_finish(struct speculation *sp, const char *const *added,
                        size_t nadded, int record_fd, const char *const *libs,
                        size_t nlibs, int *rc) {
  if (!sp)
    return false;
  if (!same_decision(&sp->mem, added, nadded, record_fd, libs, nlibs)) {
    speculation_abandon(sp);
    return false;
  }
  *rc = finish_link(sp);
  return true;
}

bool speculation_known(const struct speculation *sp, const uint64_t digest[2]) {
  return sp && sp->mem.h.has_digest &&
         memcmp(sp->mem.h.digest, digest, sizeof sp->mem.h.digest) == 0;
}

int speculation_finish_known(struct speculation *sp) {
  const struct memory_header *h = &sp->mem.h;
  fwrite(sp->mem.blob + h->strings_size + h->record_size, 1, h->text_size,
         stderr);
  return finish_link(sp);
}

/* mkdir -p of the memory file's directory. */
static void make_dirs(const char *file) {
  char *path = as_xstrdup(file);
  *strrchr(path, '/') = '\0';
  for (char *p = path + 1;; p++)
    if (*p == '/' || !*p) {
      char c = *p;
      *p = '\0';
      mkdir(path, 0777);
      if (!(*p = c))
        break;
    }
  free(path);
}

void speculation_remember(const struct ld_cmdline *cl, const char *linker,
                          const char *const *added, size_t nadded,
                          int record_fd, const char *const *libs, size_t nlibs,
                          const uint64_t *digest, const char *text,
                          size_t text_size) {
  if (!speculation_eligible(cl))
    return;
  char *path = memory_path(cl, linker);
  struct memory old;
  bool have_old = path && memory_read(path, &old);
  bool same =
      have_old && same_decision(&old, added, nadded, record_fd, libs, nlibs) &&
      old.h.has_digest == (digest != NULL) &&
      (!digest || memcmp(old.h.digest, digest, sizeof old.h.digest) == 0) &&
      old.h.text_size == text_size &&
      (!text_size || memcmp(old.blob + old.h.strings_size + old.h.record_size,
                            text, text_size) == 0);
  if (have_old)
    memory_free(&old);
  char *rec = NULL;
  size_t rec_size = 0;
  if (!path || same ||
      (record_fd >= 0 && !(rec = record_bytes(record_fd, &rec_size)))) {
    free(path);
    return;
  }
  struct memory_header h = {.nadded = (uint32_t)nadded,
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
  make_dirs(path);
  char *tmp = as_xasprintf("%s.%ld.tmp", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  bool ok = fd >= 0 && write_all(fd, &h, sizeof h);
  for (size_t i = 0; ok && i < nadded + nlibs; i++) {
    const char *str = i < nadded ? added[i] : libs[i - nadded];
    ok = write_all(fd, str, strlen(str) + 1);
  }
  ok = ok && write_all(fd, rec ? rec : "", rec_size) &&
       write_all(fd, text, text_size);
  if (fd >= 0 && close(fd) != 0)
    ok = false;
  if (!ok || rename(tmp, path) != 0)
    unlink(tmp); /* no memory is no error: the next link decides first */
  free(tmp);
  free(path);
  free(rec);
}
