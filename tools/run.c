/* allocsel run [--report FILE] [--strict] [--allocator SPEC]
 *              [--default-allocator SPEC] -- COMMAND...
 *
 * Runs COMMAND with allocsel's hook preloaded (run/hook.c): every linker
 * it starts at any depth runs as allocsel-ld over that same linker, which
 * adds a line to this run's report (ld-driver/run_report.c). The report
 * lives in an in-memory file that the links open as /proc/PID/fd/N, so
 * nothing is written on disk and nothing is left behind, however the run
 * ends. When COMMAND ends:
 *
 *  - a summary on stderr: links by output type and allocator, refusals;
 *  - every ELF executable or shared library written under the working
 *    directory during the run that holds no record of its own is named as
 *    bypassed: its linker did not run through allocsel (a static program
 *    started it, the build cleared the environment, a linker by a name not
 *    known);
 *  - --report FILE: the links' lines and one line per bypassed artifact;
 *  - COMMAND's exit status, unchanged (--strict: 1 for a bypass where
 *    COMMAND succeeded). */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "linker_name.h"
#include "selector.h"

struct run_options {
  const char *report, *allocator, *default_allocator;
  bool strict;
  char **command;
};

static int run_usage(const char *fmt, const char *arg) {
  fputs("allocsel: error: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs("\nusage: allocsel run [--report FILE] [--strict] [--allocator SPEC] "
        "[--default-allocator SPEC] -- COMMAND [ARGS...]\n",
        stderr);
  return 2;
}

static int parse_run(struct run_options *o, int argc, char **argv) {
  *o = (struct run_options){0};
  int i = 2;
  for (; i < argc; i++) {
    const char *a = argv[i];
    size_t n;
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (a[0] != '-')
      break; /* COMMAND without "--" */
    if (strcmp(a, "--strict") == 0) {
      o->strict = true;
      continue;
    }
    const char **slot = NULL;
    if (strncmp(a, "--report", n = 8) == 0)
      slot = &o->report;
    else if (strncmp(a, "--allocator", n = 11) == 0)
      slot = &o->allocator;
    else if (strncmp(a, "--default-allocator", n = 19) == 0)
      slot = &o->default_allocator;
    if (slot && a[n] == '=')
      *slot = a + n + 1;
    else if (slot && a[n] == '\0' && i + 1 < argc)
      *slot = argv[++i];
    else
      return run_usage("unknown option '%s'", a);
  }
  if (i >= argc)
    return run_usage("%s", "missing COMMAND");
  o->command = argv + i;
  return 0;
}

/* A request (or a default) for every output type must be sound before
 * the build starts: a malformed one would otherwise refuse its first
 * link. */
static int check_request(const char *spec, const char *option) {
  for (int t = 0; t <= AS_RLIB; t++) {
    struct as_request req;
    if (strcmp(option, "--default-allocator") == 0)
      as_request_init_default(&req, spec, option, (enum as_output_type)t);
    else
      as_request_init(&req, spec, option, (enum as_output_type)t);
    int rc = 0;
    if (req.error) {
      fprintf(stderr, "allocsel: error: %s\n", req.error);
      if (req.hint)
        fprintf(stderr, "hint: %s\n", req.hint);
      rc = 2;
    }
    as_request_free(&req);
    if (rc)
      return rc;
  }
  return 0;
}

/* The cache every link of the run shares, fixed when the run starts:
 * builds move HOME (debhelper points it into the source tree for each
 * dh_auto_* step), and a cache that followed it would be written into the
 * user's tree and start cold at every step. "ALLOCSEL_CACHE_DIR=DIR", or
 * "ALLOCSEL_CACHE=0" where there is no cache directory. */
static char *run_cache_setting(const char *cwd) {
  char *dir = as_cache_dir();
  if (!dir)
    return as_xstrdup("ALLOCSEL_CACHE=0");
  char *s = dir[0] == '/' ? as_xasprintf("ALLOCSEL_CACHE_DIR=%s", dir)
                          : as_xasprintf("ALLOCSEL_CACHE_DIR=%s/%s", cwd, dir);
  free(dir);
  return s;
}

/* COMMAND's environment: the hook preloaded (after the build's own
 * preloads), where allocsel-ld is, where the report goes, the cache and
 * the request. */
static char **run_environment(const char *hook, const char *allocsel_ld,
                              const char *report, const struct run_options *o,
                              const char *cwd, size_t *first_added) {
  const char *allocator = o->allocator, *dflt = o->default_allocator;
  size_t n = 0;
  while (environ[n])
    n++;
  char **env = as_xcalloc(n + 8, sizeof *env);
  size_t k = 0;
  const char *preload = getenv("LD_PRELOAD");
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 &&
        strncmp(environ[i], "ALLOCSEL_RUN=", 13) != 0 &&
        strncmp(environ[i], "ALLOCSEL_RUN_HOOK=", 18) != 0 &&
        strncmp(environ[i], "ALLOCSEL_RUN_REPORT=", 20) != 0 &&
        strncmp(environ[i], "ALLOCSEL_CACHE=", 15) != 0 &&
        strncmp(environ[i], "ALLOCSEL_CACHE_DIR=", 19) != 0 &&
        !(allocator && strncmp(environ[i], "ALLOCSEL_ALLOCATOR=", 19) == 0) &&
        !(dflt && strncmp(environ[i], "ALLOCSEL_DEFAULT_ALLOCATOR=", 27) == 0))
      env[k++] = environ[i];
  *first_added = k;
  env[k++] = preload && *preload
                 ? as_xasprintf("LD_PRELOAD=%s %s", preload, hook)
                 : as_xasprintf("LD_PRELOAD=%s", hook);
  env[k++] = as_xasprintf("ALLOCSEL_RUN=%s", allocsel_ld);
  env[k++] = as_xasprintf("ALLOCSEL_RUN_HOOK=%s", hook);
  env[k++] = as_xasprintf("ALLOCSEL_RUN_REPORT=%s", report);
  env[k++] = run_cache_setting(cwd);
  if (allocator)
    env[k++] = as_xasprintf("ALLOCSEL_ALLOCATOR=%s", allocator);
  if (dflt)
    env[k++] = as_xasprintf("ALLOCSEL_DEFAULT_ALLOCATOR=%s", dflt);
  return env;
}

/* SIGTERM and SIGHUP reach COMMAND; SIGINT and SIGQUIT from a terminal
 * reach it already, and are ignored here while it runs, as system()
 * does: the summary still comes. */
static volatile sig_atomic_t child;

static void forward(int sig) {
  if (child > 0)
    kill((pid_t)child, sig);
}

/* Runs COMMAND; returns its wait status, or -1 after saying why it could
 * not start (*rc then holds 127 for a command not found, else 126). */
static int run_command(char **command, char **env, int *rc) {
  struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = forward},
                   old[4];
  sigemptyset(&ign.sa_mask);
  sigemptyset(&fwd.sa_mask);
  sigaction(SIGINT, &ign, &old[0]);
  sigaction(SIGQUIT, &ign, &old[1]);
  sigaction(SIGTERM, &fwd, &old[2]);
  sigaction(SIGHUP, &fwd, &old[3]);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGINT);
  sigaddset(&def, SIGQUIT);
  posix_spawnattr_setsigdefault(&attr, &def);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  int err = posix_spawnp(&pid, command[0], NULL, &attr, command, env);
  posix_spawnattr_destroy(&attr);
  int status = -1;
  if (err) {
    fprintf(stderr, "allocsel: error: cannot run %s: %s\n", command[0],
            strerror(err));
    *rc = err == ENOENT ? 127 : 126;
  } else {
    child = pid;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
    child = 0;
  }
  sigaction(SIGINT, &old[0], NULL);
  sigaction(SIGQUIT, &old[1], NULL);
  sigaction(SIGTERM, &old[2], NULL);
  sigaction(SIGHUP, &old[3], NULL);
  return status;
}

/* The value of "key":"..." in one of the report's lines (JSON that
 * run_report.c wrote, or anything else a build wrote there): malloc'd, or
 * NULL where absent, null or not a sound string. */
static char *json_value(const char *line, const char *key) {
  char *pat = as_xasprintf("\"%s\":\"", key);
  const char *p = strstr(line, pat);
  size_t skip = strlen(pat);
  free(pat);
  if (!p)
    return NULL;
  p += skip;
  char *out = as_xcalloc(strlen(p) + 1, 1), *o = out;
  for (; *p && *p != '"'; p++) {
    if (*p != '\\') {
      *o++ = *p;
      continue;
    }
    switch (*++p) {
    case 'n':
      *o++ = '\n';
      break;
    case 't':
      *o++ = '\t';
      break;
    case '"':
    case '\\':
    case '/':
      *o++ = *p;
      break;
    default: /* \uXXXX and the rest: kept as '?' (never in a path we wrote
                but a byte that was not UTF-8) */
      if (*p == 'u' && strlen(p) >= 5)
        p += 4;
      else if (*p == '\0') {
        free(out);
        return NULL;
      }
      *o++ = '?';
    }
  }
  if (*p != '"') {
    free(out);
    return NULL;
  }
  return out;
}

struct link_line {
  char *line, *output, *type, *status, *allocator;
};

struct bypassed {
  char *path;
  enum as_output_type type;
};

static struct {
  struct timespec start;
  struct bypassed *items;
  size_t n, cap;
} scan;

static int look(const char *path, const struct stat *st, int flag,
                struct FTW *ftw) {
  (void)ftw;
  if (flag != FTW_F || !S_ISREG(st->st_mode) || st->st_size < 52)
    return 0;
  if (st->st_mtim.tv_sec < scan.start.tv_sec ||
      (st->st_mtim.tv_sec == scan.start.tv_sec &&
       st->st_mtim.tv_nsec < scan.start.tv_nsec))
    return 0;
  enum as_output_type type;
  bool has_record;
  if (as_probe_artifact(path, &type, &has_record) == 0 && !has_record) {
    struct bypassed *b = AS_PUSH(scan.items, scan.n, scan.cap);
    b->path = as_xstrdup(path[0] == '.' && path[1] == '/' ? path + 2 : path);
    b->type = type;
  }
  return 0;
}

static int compare_bypassed(const void *a, const void *b) {
  return strcmp(((const struct bypassed *)a)->path,
                ((const struct bypassed *)b)->path);
}

/* allocsel's own CPU seconds in the run: each link's allocsel-ld (its
 * "self_cpu") and allocsel run itself (the walk over what was written),
 * taken once, at the end. */
struct own_cpu {
  double links, run;
};

static struct own_cpu own_cpu(const struct link_line *links, size_t n) {
  struct own_cpu c = {0, as_self_cpu_seconds()};
  for (size_t i = 0; i < n; i++) {
    const char *v = strstr(links[i].line, "\"self_cpu\":");
    c.links += v ? strtod(v + 11, NULL) : 0;
  }
  return c;
}

/* "executable 8 (jemalloc 8), dylib 2 (system 1, none 1)". */
static void print_counts(const struct link_line *links, size_t n, FILE *f) {
  static const char *const types[] = {"executable", "dylib", "staticlib",
                                      "rlib"};
  bool first_type = true;
  for (size_t t = 0; t < 4; t++) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
      total += strcmp(links[i].status, "linked") == 0 &&
               strcmp(links[i].type, types[t]) == 0;
    if (!total)
      continue;
    fprintf(f, "%s%s %zu (", first_type ? "" : ", ", types[t], total);
    first_type = false;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
      const struct link_line *l = &links[i];
      if (strcmp(l->status, "linked") != 0 || strcmp(l->type, types[t]) != 0)
        continue;
      bool seen = false;
      for (size_t j = 0; j < i && !seen; j++)
        seen = strcmp(links[j].status, "linked") == 0 &&
               strcmp(links[j].type, types[t]) == 0 &&
               strcmp(links[j].allocator, l->allocator) == 0;
      if (seen)
        continue;
      size_t same = 0;
      for (size_t j = i; j < n; j++)
        same += strcmp(links[j].status, "linked") == 0 &&
                strcmp(links[j].type, types[t]) == 0 &&
                strcmp(links[j].allocator, l->allocator) == 0;
      fprintf(f, "%s%s %zu", first ? "" : ", ", l->allocator, same);
      first = false;
    }
    fputc(')', f);
  }
}

/* The links' lines from the report's in-memory file. */
static size_t read_links(int fd, struct link_line **out) {
  struct stat st;
  *out = NULL;
  if (fstat(fd, &st) != 0 || st.st_size == 0)
    return 0;
  char *text = as_xcalloc((size_t)st.st_size + 1, 1);
  ssize_t got = pread(fd, text, (size_t)st.st_size, 0);
  size_t n = 0, cap = 0;
  for (char *save, *line = got > 0 ? strtok_r(text, "\n", &save) : NULL; line;
       line = strtok_r(NULL, "\n", &save)) {
    struct link_line l = {as_xstrdup(line), json_value(line, "output"),
                          json_value(line, "type"), json_value(line, "status"),
                          json_value(line, "allocator")};
    if (!l.output || !l.status) {
      fprintf(stderr,
              "allocsel: warning: allocsel run's report holds a line "
              "that is not a link's: %.80s\n",
              line);
      free(l.line), free(l.output), free(l.type), free(l.status);
      free(l.allocator);
      continue;
    }
    if (!l.type)
      l.type = as_xstrdup("unknown");
    if (!l.allocator)
      l.allocator = as_xstrdup("none");
    *AS_PUSH(*out, n, cap) = l;
  }
  free(text);
  return n;
}

static void write_report(const char *path, const struct link_line *links,
                         size_t nlinks, struct own_cpu cpu, const char *cwd) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "allocsel: error: cannot write %s: %s\n", path,
            strerror(errno));
    return;
  }
  for (size_t i = 0; i < nlinks; i++)
    fprintf(f, "%s\n", links[i].line);
  for (size_t i = 0; i < scan.n; i++) {
    char *abs = as_xasprintf("%s/%s", cwd, scan.items[i].path);
    fputs("{\"bypassed\":", f);
    as_json_string(f, abs);
    fprintf(f, ",\"type\":\"%s\"}\n", as_output_type_name(scan.items[i].type));
    free(abs);
  }
  fprintf(f, "{\"allocsel_cpu\":%.4f,\"links_cpu\":%.4f,\"run_cpu\":%.4f}\n",
          cpu.links + cpu.run, cpu.links, cpu.run);
  if (fclose(f) != 0)
    fprintf(stderr, "allocsel: error: cannot write %s: %s\n", path,
            strerror(errno));
}

/* The summary, on `f`. */
static void summarize(const struct link_line *links, size_t n,
                      struct own_cpu cpu, bool strict, FILE *f) {
  size_t linked = 0, refused = 0, failed = 0;
  for (size_t i = 0; i < n; i++) {
    linked += strcmp(links[i].status, "linked") == 0;
    refused += strcmp(links[i].status, "refused") == 0;
    failed += strcmp(links[i].status, "failed") == 0;
  }
  fprintf(f, "allocsel: run: %zu link%s through allocsel", linked,
          linked == 1 ? "" : "s");
  if (linked) {
    fputs(": ", f);
    print_counts(links, n, f);
  }
  if (refused)
    fprintf(f, "; %zu refused", refused);
  if (failed)
    fprintf(f, "; %zu failed (a missing input or the linker's error)", failed);
  fprintf(f, "; %zu bypassed; allocsel's own CPU %.2f s\n", scan.n,
          cpu.links + cpu.run);
  for (size_t i = 0; i < n; i++)
    if (strcmp(links[i].status, "refused") == 0)
      fprintf(f, ">>> refused: %s\n", links[i].output);
  if (!scan.n)
    return;
  fprintf(f,
          "allocsel: %s: %zu artifact%s written during the run carr%s no "
          "allocsel record: %s linker did not run through allocsel\n",
          strict ? "error" : "warning", scan.n, scan.n == 1 ? "" : "s",
          scan.n == 1 ? "ies" : "y", scan.n == 1 ? "its" : "their");
  for (size_t i = 0; i < scan.n; i++)
    fprintf(f, ">>> bypassed: %s (%s)\n", scan.items[i].path,
            as_output_type_name(scan.items[i].type));
  fputs("hint: a statically linked program started the linker, the build "
        "cleared the environment (env -i), or the linker has a name allocsel "
        "does not know; link that step with allocsel-ld, or keep "
        "ALLOCSEL_RUN, ALLOCSEL_RUN_REPORT and LD_PRELOAD in its "
        "environment\n",
        f);
}

int cmd_run(int argc, char **argv) {
  struct run_options o;
  int rc = parse_run(&o, argc, argv);
  if (rc != 0 ||
      (o.allocator && (rc = check_request(o.allocator, "--allocator")) != 0) ||
      (o.default_allocator &&
       (rc = check_request(o.default_allocator, "--default-allocator")) != 0))
    return rc;
  char *libdir = as_default_libdir();
  /* This machine's build of the hook, named for every program through the
   * loader's $LIB (an i386 program gets the i386 build). */
  char *hook =
      as_xasprintf("%s/run/" ALLOCSEL_RUN_LIB "/liballocsel-run.so", libdir);
  char *allocsel_ld = as_xasprintf("%s/../../bin/allocsel-ld", libdir);
  char real_hook[PATH_MAX], real_ld[PATH_MAX], cwd[PATH_MAX];
  free(libdir);
  if (!realpath(hook, real_hook) || !realpath(allocsel_ld, real_ld)) {
    fprintf(stderr, "allocsel: error: %s: %s\n",
            access(hook, F_OK) ? hook : allocsel_ld, strerror(errno));
    free(hook), free(allocsel_ld);
    return 2;
  }
  free(hook), free(allocsel_ld);
  size_t lib = strlen(ALLOCSEL_RUN_LIB), len = strlen(real_hook);
  char *token =
      as_xasprintf("%.*s$LIB/liballocsel-run.so",
                   (int)(len - lib - strlen("/liballocsel-run.so")), real_hook);
  if (!getcwd(cwd, sizeof cwd)) {
    fprintf(stderr, "allocsel: error: the working directory: %s\n",
            strerror(errno));
    return 2;
  }
  int report_fd = memfd_create("allocsel-run-report", MFD_CLOEXEC);
  if (report_fd < 0) {
    fprintf(stderr, "allocsel: error: cannot create the run's report: %s\n",
            strerror(errno));
    return 2;
  }
  char *report = as_xasprintf("/proc/%d/fd/%d", (int)getpid(), report_fd);
  size_t first_added;
  char **env = run_environment(token, real_ld, report, &o, cwd, &first_added);
  free(token);
  /* The clock file times come from: a file written at once has no time
   * before it. */
  clock_gettime(CLOCK_REALTIME_COARSE, &scan.start);
  /* COMMAND a linker itself: no hook is loaded here to route it. */
  char **command = o.command, *linker_opt = NULL, found[PATH_MAX];
  if (ld_kind_of(command[0]) != LD_NONE && ld_locate(command[0], true, found) &&
      !ld_same_file(found, real_ld)) {
    size_t n = 0;
    while (o.command[n])
      n++;
    command = as_xcalloc(n + 2, sizeof *command);
    command[0] = real_ld;
    command[1] = linker_opt = as_xasprintf("--allocsel-linker=%s", found);
    memcpy(command + 2, o.command + 1, (n - 1) * sizeof *command);
  }
  int status = run_command(command, env, &rc);
  if (command != o.command)
    free(command);
  free(linker_opt);
  for (size_t i = first_added; env[i]; i++)
    free(env[i]);
  free(env);
  free(report);
  if (status == -1) {
    close(report_fd);
    return rc;
  }
  nftw(".", look, 32, FTW_PHYS);
  if (scan.n)
    qsort(scan.items, scan.n, sizeof *scan.items, compare_bypassed);
  struct link_line *links;
  size_t nlinks = read_links(report_fd, &links);
  close(report_fd);
  struct own_cpu cpu = own_cpu(links, nlinks);
  summarize(links, nlinks, cpu, o.strict, stderr);
  if (o.report)
    write_report(o.report, links, nlinks, cpu, cwd);
  for (size_t i = 0; i < nlinks; i++) {
    free(links[i].line), free(links[i].output), free(links[i].type);
    free(links[i].status), free(links[i].allocator);
  }
  free(links);
  for (size_t i = 0; i < scan.n; i++)
    free(scan.items[i].path);
  bool bypassed = scan.n > 0;
  free(scan.items);
  if (WIFSIGNALED(status)) {
    signal(WTERMSIG(status), SIG_DFL);
    raise(WTERMSIG(status));
  }
  rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return rc == 0 && o.strict && bypassed ? 1 : rc;
}
