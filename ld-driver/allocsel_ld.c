/* allocsel-ld: a drop-in linker. It reads the linker command line, decides
 * the allocator with the shared selector, then runs the real linker with the
 * allocator added, or refuses before any output is written.
 *
 *   clang --ld-path=P/bin/allocsel-ld ...
 *   gcc -BP/lib/allocsel/ld -fuse-ld=lld ...   (ld.lld there is this program)
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "frontend.h"
#include "ld_cmdline.h"
#include "linker_run.h"
#include "run_report.h"
#include "session.h"

static const struct {
  const char *name, *program;
} linkers[] = {
    {"lld", "ld.lld"},
    {"mold", "ld.mold"},
    {"bfd", "ld.bfd"},
    {"gold", "ld.gold"},
};

static int usage_error(const char *fmt, const char *arg) {
  fputs("allocsel: error: ", stderr);
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  return 2;
}

/* Invoked through a gcc -B directory as ld.lld, ld.gold, ...: that linker. */
static const char *linker_from_argv0(const char *argv0) {
  const char *base = as_base_name(argv0);
  if (strcmp(base, "ld") == 0)
    return "bfd";
  for (size_t i = 0; i < sizeof linkers / sizeof *linkers; i++)
    if (strcmp(base, linkers[i].program) == 0)
      return linkers[i].name;
  return NULL;
}

/* Finds `program` on PATH, skipping this very executable (a gcc -B
 * directory puts allocsel-ld under the real linker's name). */
static char *find_program(const char *program) {
  if (strchr(program, '/'))
    return access(program, X_OK) == 0 ? as_xstrdup(program) : NULL;
  char self[PATH_MAX], real[PATH_MAX];
  if (!realpath("/proc/self/exe", self))
    self[0] = '\0';
  const char *path = getenv("PATH");
  char *dirs = as_xstrdup(path && *path ? path : "/usr/bin:/bin");
  char *found = NULL;
  for (char *save, *dir = strtok_r(dirs, ":", &save); dir && !found;
       dir = strtok_r(NULL, ":", &save)) {
    char *cand = as_xasprintf("%s/%s", *dir ? dir : ".", program);
    if (access(cand, X_OK) == 0 && realpath(cand, real) &&
        strcmp(real, self) != 0)
      found = cand;
    else
      free(cand);
  }
  free(dirs);
  return found;
}

static char *resolve_linker(const char *choice) {
  for (size_t i = 0; i < sizeof linkers / sizeof *linkers; i++)
    if (strcmp(choice, linkers[i].name) == 0)
      return find_program(linkers[i].program);
  return find_program(choice);
}

/* The linker allocsel-ld would run is allocsel-ld itself (a name, a path,
 * a symlink or a wrapper that comes back here): it would run itself
 * without end. ALLOCSEL_LD_ACTIVE is set for the linker it runs. */
static bool runs_itself(const char *linker) {
  char self[PATH_MAX], real[PATH_MAX];
  if (getenv("ALLOCSEL_LD_ACTIVE"))
    return true;
  return realpath("/proc/self/exe", self) && realpath(linker, real) &&
         strcmp(self, real) == 0;
}

/* allocsel-ld --help: allocsel's own options, then the linker's. */
static const char help_text[] =
    "allocsel-ld: a drop-in linker that decides the program's allocator, "
    "then runs the real linker\n"
    "allocsel's options (each also as --allocsel-NAME VALUE):\n"
    "  --allocsel-allocator=system|jemalloc|mimalloc|tcmalloc|PATH\n"
    "                          request an allocator (ALLOCSEL_ALLOCATOR);"
    " one per output\n"
    "                          type: executable=jemalloc,dylib=system\n"
    "  --allocsel-linker=lld|mold|bfd|gold|PATH\n"
    "                          the real linker (ALLOCSEL_LINKER; default "
    "lld, or the\n"
    "                          linker this program is named as: ld.bfd, "
    "ld.gold, ...)\n"
    "  --allocsel-type=executable|dylib|staticlib|rlib\n"
    "                          the output type (default: from -shared and "
    "-r)\n"
    "  --allocsel-verbose      print the decision on stderr "
    "(ALLOCSEL_VERBOSE=1)\n"
    "  --allocsel-allow-abi-redirect\n"
    "                          allow --defsym, --wrap or --just-symbols to "
    "point the\n"
    "                          allocator ABI elsewhere\n"
    "The real linker's options follow.\n\n";

static int run(char **argv) {
  struct linker_run r;
  int rc = linker_start(&r, argv);
  return rc ? rc : linker_wait(&r);
}

/* The command line, the session and the linker stay allocated until
 * allocsel-ld exits, reachable from here: freeing thousands of inputs,
 * units and names just before the process ends was a fifth of a relink's
 * instructions, and the kernel takes the memory back at once (lld leaves
 * its memory to exit the same way). */
static struct ld_cmdline cl;
static struct as_session session;

/* Which linker runs: --allocsel-linker, ALLOCSEL_LINKER, the name this
 * program was run under (ld.lld, ld.bfd, ... in a gcc -B directory), else
 * lld. Returns its path, or NULL after saying why. */
static char *choose_linker(const char *argv0, const char **choice) {
  const char *c = cl.linker ? cl.linker : getenv("ALLOCSEL_LINKER");
  if (!c || !*c)
    c = linker_from_argv0(argv0);
  *choice = c ? c : "lld";
  char *linker = resolve_linker(*choice);
  if (!linker) {
    usage_error("cannot find the linker '%s'", *choice);
    return NULL;
  }
  if (runs_itself(linker)) {
    usage_error("the linker '%s' is allocsel-ld itself: name the real "
                "linker (lld, mold, bfd, gold or its path)",
                *choice);
    free(linker);
    return NULL;
  }
  return linker;
}

/* Reads the inputs as `linker` will and decides: 0, or the exit code after
 * the diagnostics. */
static int decide(const char *choice, const char *linker, char *libdir) {
  enum as_output_type type;
  if (ld_output_type(&cl, &type) != 0)
    return usage_error("--allocsel-type=%s: expected executable, dylib, "
                       "staticlib or rlib",
                       cl.type);
  enum as_archive_order order = ld_archive_order(choice, linker);
  /* ld.bfd also searches its built-in directories (/usr/local/lib, ...),
   * except for -r: what it would find there, allocsel must see too. */
  if (order == AS_ORDER_COMMAND_LINE && !cl.relocatable)
    ld_cmdline_search_linker_dirs(&cl, linker);
  struct as_session *s = &session;
  as_session_init(s, type, libdir, cl.allocator,
                  cl.allocator_option ? cl.allocator_option
                                      : "--allocsel-allocator",
                  cl.verbose);
  s->link->order = order;
  /* Bitcode added to the command line goes through the same LTO as the
   * program's (lld and mold natively, bfd and gold through LLVMgold.so);
   * a staticlib is for foreign links, which may not do LTO. */
  s->env.lto_inject = type != AS_STATICLIB;
  s->env.static_link = cl.is_static;
  /* This executable by its path: a stat of /proc/self/exe itself would
   * see valgrind's tool under valgrind, not allocsel-ld. */
  static char self[PATH_MAX];
  as_session_remember(s, &cl, realpath("/proc/self/exe", self) ? self : NULL,
                      linker, order);
  ld_cmdline_add_inputs(&cl, s->link);
  int rc = as_session_decide(s, stderr);
  /* Kept before the link: a link that fails decided all the same. */
  as_session_keep(s);
  return rc;
}

static double seconds_since(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) +
         (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int main(int argc, char **argv) {
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  ld_cmdline_parse(&cl, argc, argv);
  if (cl.error)
    return usage_error("%s", cl.error);
  const char *choice;
  char *linker = choose_linker(argv[0], &choice);
  if (!linker)
    return 2;
  /* For every program allocsel-ld starts, the linker and its probes:
   * runs_itself's mark, and allocsel run's hook leaves them alone. */
  setenv("ALLOCSEL_LD_ACTIVE", "1", 1);
  /* -plugin .../allocsel-plugin.so is dropped silently: allocsel-ld does
   * its work (and would inject twice under bfd or gold), and a build may
   * keep the plugin's flags when it switches to allocsel-ld. */
  char *libdir = as_default_libdir();
  /* --version or --help alone: nothing to decide, nothing to record. */
  bool decides = !(cl.no_inputs_needed && cl.ninputs == 0);
  int rc = decides ? decide(choice, linker, libdir) : 0;
  if (!decides && cl.help) {
    fputs(help_text, stdout);
    fflush(stdout);
  }
  const char *report = decides ? run_report_path() : NULL;
  if (rc == 0) {
    const struct as_session *s = &session;
    char **out = ld_cmdline_command(&cl, linker, s->added, s->nadded, s->record,
                                    s->libs, s->nlibs);
    /* allocsel-ld stays only to report the link's end to allocsel run,
     * or to print its version after the linker's. */
    rc = decides && !report ? linker_exec(out) : run(out);
    free(out);
  }
  if (report)
    run_report_link(report, &cl, session.link ? &session : NULL, linker, rc,
                    seconds_since(&start));
  /* After the linker's own: tools that detect a linker read its first
   * line (CMake, Meson). Its version is spelt "v0.1.0": libtool matches
   * the whole of `ld -v` against ' [01].' (ld.bfd older than 2.11) and,
   * on " 0.1.0", built shared libraries without their version script, so
   * every internal symbol was exported (Debian's jansson). */
  if (!decides && cl.version)
    printf("allocsel-ld v%s (allocsel's linker driver, over %s)\n", AS_VERSION,
           linker);
  free(libdir);
  free(linker);
  return rc;
}
