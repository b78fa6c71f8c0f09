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
 * An output linked for the first time has no memory of its own: the guess
 * is then the last decision this linker made in the same directory for an
 * output of the same type (links/last-HASH). A build links many programs
 * alike (its tests against the same libraries), so its first links start
 * at once too; a wrong guess costs what a changed decision does, the early
 * linker's work until the decision is made, on another core.
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
#include "link_memory.h"
#include "linker_run.h"

struct speculation {
  struct linker_run run;
  struct link_memory mem;
  const char *output;
  char *tmp; /* what the early linker writes: OUTPUT.allocsel-PID */
  char **argv;
  char *output_arg, *record_arg;
  int record_fd, out_fd, err_fd;
  bool last; /* the guess is the last decision made here, not this output's */
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
        (!arg[n] || arg[n] == '=' || arg[n] == ',' || opt[1] != '-'))
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
  /* A directory the output cannot be written to: the linker says so, and
   * must say it of the output's name, not of the temporary one. */
  const char *slash = strrchr(cl->output, '/');
  char *dir =
      slash ? as_xasprintf("%.*s", (int)(slash - cl->output + 1), cl->output)
            : NULL;
  bool writable = access(dir ? dir : ".", W_OK) == 0;
  free(dir);
  if (!writable)
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
  link_memory_free(&sp->mem);
  free(sp->tmp);
  free(sp->argv);
  free(sp->output_arg);
  free(sp->record_arg);
  free(sp);
}

struct speculation *speculation_start(const struct ld_cmdline *cl,
                                      const char *linker,
                                      enum as_output_type type) {
  if (!speculation_eligible(cl))
    return NULL;
  char *path = link_memory_path(cl, linker);
  struct speculation *sp = as_xcalloc(1, sizeof *sp);
  sp->record_fd = sp->out_fd = sp->err_fd = -1;
  bool remembered = path && link_memory_read(path, &sp->mem);
  free(path);
  if (!remembered) {
    path = link_memory_last_path(linker, type);
    remembered = sp->last = path && link_memory_read(path, &sp->mem);
    free(path);
  }
  if (!remembered) {
    speculation_free(sp);
    return NULL;
  }
  const struct link_memory_header *h = &sp->mem.h;
  /* The record as remembered, in a memory file as as_record_object makes
   * it (no MFD_CLOEXEC: the linker opens it as /dev/fd/N); what the linker
   * says, held back. */
  if (h->has_record) {
    size_t size;
    const char *record = link_memory_record(&sp->mem, &size);
    sp->record_fd = memfd_create("allocsel-record.o", 0);
    if (sp->record_fd < 0 || !as_write_all(sp->record_fd, record, size)) {
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

/* Says what the linker said: its stdout, then its stderr. */
static void replay(int from, int to) {
  char buf[65536];
  off_t off = 0;
  for (ssize_t n; (n = pread(from, buf, sizeof buf, off)) > 0; off += n)
    if (!as_write_all(to, buf, (size_t)n))
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
  if (!link_memory_same(&sp->mem, added, nadded, record_fd, libs, nlibs)) {
    speculation_abandon(sp);
    return false;
  }
  *rc = finish_link(sp);
  return true;
}

bool speculation_known(const struct speculation *sp, const uint64_t digest[2]) {
  /* Another output's digest: its link is not this one, whatever it says. */
  return sp && !sp->last && link_memory_known(&sp->mem, digest);
}

bool speculation_guessed(const struct speculation *sp) {
  return sp && sp->last;
}

int speculation_finish_known(struct speculation *sp) {
  size_t size;
  const char *text = link_memory_text(&sp->mem, &size);
  fwrite(text, 1, size, stderr);
  return finish_link(sp);
}

void speculation_remember(const struct ld_cmdline *cl, const char *linker,
                          enum as_output_type type, const char *const *added,
                          size_t nadded, int record_fd, const char *const *libs,
                          size_t nlibs, const uint64_t *digest,
                          const char *text, size_t text_size) {
  if (!speculation_eligible(cl))
    return;
  char *path = link_memory_path(cl, linker);
  if (path)
    link_memory_write(path, added, nadded, record_fd, libs, nlibs, digest, text,
                      text_size);
  free(path);
  /* The next new output's guess; no digest: it is for other links. */
  path = link_memory_last_path(linker, type);
  if (path)
    link_memory_write(path, added, nadded, record_fd, libs, nlibs, NULL, NULL,
                      0);
  free(path);
}
