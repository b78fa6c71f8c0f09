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
#include <unistd.h>

#include "frontend.h"
#include "ld_cmdline.h"
#include "ld_decide.h"
#include "link_memory.h"
#include "linker_run.h"
#include "speculate.h"

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
  const char *base = strrchr(argv0, '/');
  base = base ? base + 1 : argv0;
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

static int run(char **argv) {
  struct linker_run r;
  int rc = linker_start(&r, argv, -1, -1, false);
  return rc ? rc : linker_wait(&r);
}

/* The link and the command line stay allocated until allocsel-ld exits,
 * reachable from here: freeing thousands of inputs, units and names just
 * before the process ends was a fifth of a relink's instructions, and the
 * kernel takes the memory back at once (lld leaves its memory to exit the
 * same way). volatile: a store never read would be optimised away. */
static struct as_link *volatile decided;
static struct ld_cmdline cl;

/* Whether the decision is known already: the remembered link's (the
 * early linker's, speculate.c) when this link's digest is the same. */
struct known {
  const struct speculation *early;
  uint64_t seed[2], digest[2];
  bool have_digest, hit;
};

static bool known_decision(const struct as_link *link, void *ctx) {
  struct known *k = ctx;
  k->have_digest = as_link_digest(link, k->seed, k->digest);
  k->hit = k->have_digest && speculation_known(k->early, k->digest);
  return k->hit;
}

/* Scans the inputs and decides, unless `k` knows the decision (k->hit).
 * What it says goes to stderr and, kept, to *text. Returns 0, or the exit
 * code after printing the diagnostics. */
static int decide(enum as_output_type type, enum as_archive_order order,
                  struct as_env *env, struct as_decision *dec, struct known *k,
                  char **text, size_t *text_size) {
  *text = NULL;
  *text_size = 0;
  FILE *said = open_memstream(text, text_size);
  FILE *f = said ? said : stderr;
  /* The digest is made wherever the link may be remembered. */
  struct as_link *link =
      ld_decide(&cl, type, order, env, dec,
                speculation_eligible(&cl) ? known_decision : NULL, k);
  int rc = as_diag_exit_code(link);
  if (!k->hit) {
    as_diag_print(link, f);
    if (rc == 0 && (cl.verbose || as_env_flag("ALLOCSEL_VERBOSE")))
      fprintf(f, "allocsel: allocator: %s (%s)%s\n",
              dec->name ? dec->name : "none", dec->reason,
              dec->inject_bitcode ? ", as bitcode for LTO" : "");
    if (rc == 0 && (cl.verbose || as_env_flag("ALLOCSEL_VERBOSE")) &&
        dec->malloc)
      fprintf(f, "allocsel: malloc: %s\n", dec->malloc);
  }
  if (said) {
    fclose(said);
    fwrite(*text, 1, *text_size, stderr);
  }
  decided = link; /* see `decided` */
  return rc;
}

int main(int argc, char **argv) {
  ld_cmdline_parse(&cl, argc, argv);
  int rc = 0, record_fd = -1;
  char *linker = NULL, *record = NULL;
  char *libdir = as_default_libdir();
  struct as_env env;
  as_env_init(&env, libdir);
  struct as_decision dec = {0};
  char **out = NULL;

  if (cl.error) {
    rc = usage_error("%s", cl.error);
    goto done;
  }
  const char *choice = cl.linker ? cl.linker : getenv("ALLOCSEL_LINKER");
  if (!choice || !*choice)
    choice = linker_from_argv0(argv[0]);
  if (!choice)
    choice = "lld";
  linker = resolve_linker(choice);
  if (!linker) {
    rc = usage_error("cannot find the linker '%s'", choice);
    goto done;
  }
  /* ld.bfd also searches its built-in directories (/usr/local/lib, ...),
   * except for -r: what it would find there, allocsel must see too. */
  if (ld_archive_order(choice, linker) == AS_ORDER_COMMAND_LINE &&
      !cl.relocatable && !runs_itself(linker))
    ld_cmdline_search_linker_dirs(&cl, linker);
  if (runs_itself(linker)) {
    rc = usage_error("the linker '%s' is allocsel-ld itself: name the real "
                     "linker (lld, mold, bfd, gold or its path)",
                     choice);
    goto done;
  }
  /* -plugin .../allocsel-plugin.so is dropped silently: allocsel-ld does
   * its work (and would inject twice under bfd or gold), and a build may
   * keep the plugin's flags when it switches to allocsel-ld. */
  enum as_output_type type;
  if (ld_output_type(&cl, &type) != 0) {
    rc = usage_error("--allocsel-type=%s: expected executable, dylib, "
                     "staticlib or rlib",
                     cl.type);
    goto done;
  }
  /* Bitcode added to the command line goes through the same LTO as the
   * program's (lld and mold natively, bfd and gold through LLVMgold.so);
   * a staticlib is for foreign links, which may not do LTO. */
  env.lto_inject = type != AS_STATICLIB;
  env.static_link = cl.is_static;
  const char *added[AS_MAX_DECISION_INPUTS];
  size_t nadded = 0;
  const char *libs[AS_MAX_UNIT_LIBRARIES];
  size_t nlibs = 0;
  bool verbose = cl.verbose || as_env_flag("ALLOCSEL_VERBOSE");
  /* --version or --help alone: nothing to decide, nothing to record. */
  if (!(cl.no_inputs_needed && cl.ninputs == 0)) {
    /* A relink, or a new output where others of its type were linked: the
     * linker starts at once on what the decision added the last time, and
     * the decision is made beside it (speculate.c). */
    struct speculation *early = speculation_start(&cl, linker, type);
    bool guessed = speculation_guessed(early);
    /* The same link as the remembered one (every input as it was, the
     * same command line): its decision stands, and the early linker has
     * it. */
    struct known k = {.early = early};
    enum as_archive_order order = ld_archive_order(choice, linker);
    /* This executable by its path: a stat of /proc/self/exe itself would
     * see valgrind's tool under valgrind, not allocsel-ld. */
    char self[PATH_MAX];
    if (speculation_eligible(&cl))
      link_memory_seed(k.seed, &cl,
                       realpath("/proc/self/exe", self) ? self : NULL, linker,
                       type, order, &env);
    char *said;
    size_t said_size;
    rc = decide(type, order, &env, &dec, &k, &said, &said_size);
    if (rc == 0 && linker_signalled())
      rc = 128 + linker_signalled();
    if (rc == 0 && k.hit) {
      free(said);
      rc = speculation_finish_known(early);
      if (verbose)
        fputs("allocsel: the linker started at once: the link is the "
              "remembered one\n",
              stderr);
      goto done;
    }
    char *error = NULL;
    if (rc == 0) {
      nadded = as_decision_inputs(&dec, &env, type, added);
      nlibs = as_decision_libraries(&dec, type, libs);
      record_fd = as_record_object(&dec, type, &record, &error);
      if (record_fd < 0) {
        rc = usage_error("%s", error);
        free(error);
      }
    }
    if (rc != 0) {
      free(said);
      speculation_abandon(early);
      goto done;
    }
    bool started = early != NULL;
    /* Remembered before the link: a link that fails decided all the same. */
    speculation_remember(&cl, linker, type, added, nadded, record_fd, libs,
                         nlibs, k.have_digest ? k.digest : NULL, said,
                         said_size);
    free(said);
    if (speculation_finish(early, added, nadded, record_fd, libs, nlibs, &rc)) {
      if (verbose)
        fputs(guessed ? "allocsel: the linker started at once: the decision "
                        "was the last one made here\n"
                      : "allocsel: the linker started at once: the decision "
                        "was the remembered one\n",
              stderr);
      goto done;
    }
    if (started && verbose)
      fputs("allocsel: the linker started at once was stopped: the decision "
            "changed\n",
            stderr);
  }

  out = ld_cmdline_command(&cl, linker, added, nadded, record, libs, nlibs);
  rc = run(out);

done:
  if (record_fd >= 0)
    close(record_fd);
  free(record);
  free(out);
  as_decision_free(&dec);
  free(libdir);
  free(linker);
  return rc;
}
