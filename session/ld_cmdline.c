/* Reads a GNU-style linker command line (see ld_cmdline.h). */
#include "ld_cmdline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "frontend.h"
#include "linker_name.h"

/* Long options whose argument may come as the next word (lld's
 * Separate/JoinedOrSeparate set, bfd's equivalents). Either one or two
 * leading dashes are accepted, as both linkers do. */
static const char *const separate_long[] = {
    "Map",
    "Tbss",
    "Tdata",
    "Ttext",
    "Ttext-segment",
    "architecture",
    "audit",
    "auxiliary",
    "call-graph-ordering-file",
    "defsym",
    "dependency-file",
    "depaudit",
    "dynamic-linker",
    "dynamic-list",
    "entry",
    "error-limit",
    "exclude-libs",
    "export-dynamic-symbol",
    "filter",
    "fini",
    "format",
    "image-base",
    "init",
    "just-symbols",
    "library",
    "library-path",
    "mllvm",
    "oformat",
    "out-implib",
    "output",
    "package-metadata",
    "plugin",
    "plugin-opt",
    "require-defined",
    "retain-symbols-file",
    "rpath",
    "rpath-link",
    "script",
    "section-start",
    "soname",
    "symbol-ordering-file",
    "sysroot",
    "trace-symbol",
    "undefined",
    "version-script",
    "wrap",
    "z",
};

/* Single-letter options with an argument, joined (-Lx) or separate (-L x). */
static const char separate_short[] = "ILRTFGOaefhlmoPuyzLA";

static bool takes_separate(const char *key) {
  size_t lo = 0, hi = sizeof separate_long / sizeof *separate_long;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(key, separate_long[mid]);
    if (c == 0)
      return true;
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return false;
}

struct arglist {
  char **v;
  size_t n, cap;
};

static void push(struct arglist *a, char *s) {
  *AS_PUSH(a->v, a->n, a->cap) = s;
}

/* The @FILEs being expanded, outermost first: one that includes itself
 * (directly or through others) is refused, as GNU ld refuses it, instead
 * of expanding without end. */
struct rsp_stack {
  dev_t dev[32];
  ino_t ino[32];
  int depth;
};

/* Expands @FILE as libiberty does: whitespace separates words, quotes and
 * backslashes escape; an unreadable @FILE stays as it is. Returns true if
 * `arg` was an @FILE that was read. */
static bool expand(struct arglist *out, const char *arg, struct rsp_stack *rs,
                   char **error) {
  FILE *f = arg[0] == '@' ? fopen(arg + 1, "r") : NULL;
  struct stat st;
  if (!f || fstat(fileno(f), &st) != 0) {
    if (f)
      fclose(f);
    push(out, as_xstrdup(arg));
    return false;
  }
  bool loop = rs->depth >= 32;
  for (int i = 0; i < rs->depth && !loop; i++)
    loop = rs->dev[i] == st.st_dev && rs->ino[i] == st.st_ino;
  if (loop) {
    fclose(f);
    if (!*error)
      *error = as_xasprintf("%s: response file includes itself", arg);
    return true;
  }
  rs->dev[rs->depth] = st.st_dev;
  rs->ino[rs->depth++] = st.st_ino;
  char *word = NULL;
  size_t len = 0, cap = 0;
  bool in_word = false;
  int quote = 0, c;
  while ((c = getc(f)) != EOF && !*error) {
    if (!quote && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
      if (in_word) {
        *AS_PUSH(word, len, cap) = '\0';
        expand(out, word, rs, error);
        len = 0;
        in_word = false;
      }
      continue;
    }
    in_word = true;
    if (c == '\\') {
      c = getc(f);
      if (c == EOF)
        break;
    } else if (quote && c == quote) {
      quote = 0;
      continue;
    } else if (!quote && (c == '\'' || c == '"')) {
      quote = c;
      continue;
    }
    *AS_PUSH(word, len, cap) = (char)c;
  }
  if (in_word && !*error) {
    *AS_PUSH(word, len, cap) = '\0';
    expand(out, word, rs, error);
  }
  rs->depth--;
  free(word);
  fclose(f);
  return true;
}

char **ld_cmdline_expand(char **argv, size_t argc, size_t *n, char **error) {
  struct arglist out = {0};
  *error = NULL;
  for (size_t i = 0; i < argc; i++) {
    struct rsp_stack rs = {.depth = 0};
    expand(&out, argv[i], &rs, error);
  }
  *AS_PUSH(out.v, out.n, out.cap) = NULL;
  *n = out.n - 1;
  return out.v;
}

/* "--foo=bar" / "-foo=bar" -> key "foo", value "bar". */
static const char *option_key(const char *arg, char *buf, size_t size,
                              const char **value) {
  const char *p = arg + 1;
  if (*p == '-')
    p++;
  const char *eq = strchr(p, '=');
  size_t n = eq ? (size_t)(eq - p) : strlen(p);
  if (n >= size)
    n = size - 1;
  memcpy(buf, p, n);
  buf[n] = '\0';
  *value = eq ? eq + 1 : NULL;
  return buf;
}

static bool is(const char *key, const char *a, const char *b) {
  return strcmp(key, a) == 0 || (b && strcmp(key, b) == 0);
}

bool ld_cmdline_plugin_opt(struct ld_cmdline *cl, const char *opt) {
  if (!opt)
    return false;
  if (strncmp(opt, "allocator=", 10) == 0) {
    if (!cl->allocator) {
      cl->allocator = opt + 10;
      cl->allocator_option = "-plugin-opt allocator";
    }
  } else if (strncmp(opt, "type=", 5) == 0) {
    if (!cl->type)
      cl->type = opt + 5;
  } else if (strcmp(opt, "verbose") == 0) {
    cl->verbose = true;
  } else if (strcmp(opt, "allow-abi-redirect") == 0) {
    cl->allow_abi_redirect = true;
  } else {
    return false;
  }
  return true;
}

struct state {
  bool whole, static_search, lazy, as_needed;
  unsigned group; /* the open --start-group, 0: none */
};

static void add_lib(struct ld_cmdline *cl, const char *name,
                    const struct state *st, size_t *cap) {
  struct ld_input *in = AS_PUSH(cl->inputs, cl->ninputs, *cap);
  *in = (struct ld_input){.lib = as_xasprintf("-l%s", name),
                          .path = as_xstrdup(name),
                          .whole = st->whole,
                          .static_search = st->static_search,
                          .lazy = st->lazy,
                          .as_needed = st->as_needed,
                          .group = st->group};
}

/* The allocator goes before the first library; what it is added under
 * (--whole-archive, -Bstatic) is remembered, so it can be undone there. */
static void set_inject(struct ld_cmdline *cl, size_t *inject, size_t word,
                       const struct state *st) {
  if (*inject != SIZE_MAX)
    return;
  *inject = word;
  cl->inject_in_whole = st->whole;
  cl->inject_in_static = st->static_search;
}

/* The arguments for the real linker: the words kept, with each @FILE passed
 * as it was unless allocsel took words out of it; `inject` is the word
 * before which the allocator goes. */
static void build_pass(struct ld_cmdline *cl, int argc, char **argv,
                       const size_t *first_word, const bool *from_file,
                       const bool *keep, size_t inject) {
  size_t cap = 0;
  cl->inject_at = SIZE_MAX;
  for (int t = 1; t < argc; t++) {
    size_t lo = first_word[t - 1], hi = first_word[t];
    bool whole = from_file[t - 1];
    for (size_t j = lo; j < hi && whole; j++)
      whole = keep[j];
    if (inject >= lo && inject < hi && whole)
      cl->inject_at = cl->npass;
    if (whole) {
      *AS_PUSH(cl->pass, cl->npass, cap) = argv[t];
      continue;
    }
    for (size_t j = lo; j < hi; j++) {
      if (j == inject)
        cl->inject_at = cl->npass;
      if (keep[j])
        *AS_PUSH(cl->pass, cl->npass, cap) = cl->words[j];
    }
  }
  if (cl->inject_at == SIZE_MAX)
    cl->inject_at = cl->npass;
}

/* The command line being read: what an option changes besides cl. */
struct parser {
  struct ld_cmdline *cl;
  struct state st, saved[16]; /* the state, and --push-state's */
  size_t nsaved;
  unsigned ngroups;
  size_t inject; /* the word before which the allocator goes */
  size_t cap_inputs, cap_dirs, cap_redirects;
  const char *sysroot;
  bool in_our_plugin; /* after -plugin .../allocsel-plugin.so */
};

/* --allocsel-NAME[=VALUE]: allocsel's own options, which never reach the
 * linker. *i moves past a separate value. */
static void own_option(struct ld_cmdline *cl, const char *key,
                       const char *value, const struct arglist *args,
                       size_t *i) {
  const char *arg = args->v[*i], *name = key + 9;
  const char **slot = strcmp(name, "allocator") == 0 ? &cl->allocator
                      : strcmp(name, "linker") == 0  ? &cl->linker
                      : strcmp(name, "type") == 0    ? &cl->type
                                                     : NULL;
  if (strcmp(name, "verbose") == 0 && !value) {
    cl->verbose = true;
  } else if (strcmp(name, "allow-abi-redirect") == 0 && !value) {
    cl->allow_abi_redirect = true;
  } else if (!slot) {
    free(cl->error);
    static const char *const ours[] = {"allocsel-allocator", "allocsel-linker",
                                       "allocsel-type", "allocsel-verbose",
                                       "allocsel-allow-abi-redirect"};
    const char *near = as_nearest(key, ours, sizeof ours / sizeof *ours);
    cl->error = near ? as_xasprintf("unknown option: %s (did you mean --%s?)",
                                    arg, near)
                     : as_xasprintf("unknown option: %s", arg);
  } else if (!value && *i + 1 < args->n) {
    *slot = args->v[++*i];
  } else if (!value) {
    free(cl->error);
    cl->error = as_xasprintf("%s needs a value", arg);
  } else {
    *slot = value;
  }
}

/* A linker option the decision reads (its argument `optarg`, written at
 * word `word`): inputs, their state, the output and its type, redirected
 * symbols. Any other option is the linker's alone. */
static void linker_option(struct parser *p, const char *key, const char *optarg,
                          size_t word) {
  struct ld_cmdline *cl = p->cl;
  struct state *st = &p->st;
  if (is(key, "o", "output")) {
    cl->output = optarg;
  } else if (is(key, "l", "library")) {
    if (optarg) {
      set_inject(cl, &p->inject, word, st);
      add_lib(cl, optarg, st, &p->cap_inputs);
    }
  } else if (is(key, "L", "library-path")) {
    if (optarg) /* "=" and "$SYSROOT" resolved once the sysroot is known */
      *AS_PUSH(cl->dirs, cl->ndirs, p->cap_dirs) = as_xstrdup(optarg);
  } else if (is(key, "sysroot", NULL)) {
    p->sysroot = optarg; /* wherever it stands, for every -L= */
  } else if (is(key, "T", "script")) {
    /* A script's INPUT and GROUP bring files in, as an input's do. */
    if (optarg) {
      struct ld_input *in = AS_PUSH(cl->inputs, cl->ninputs, p->cap_inputs);
      *in = (struct ld_input){.path = as_xstrdup(optarg), .script = true};
    }
  } else if (is(key, "shared", "Bshareable")) {
    cl->shared = true;
  } else if (is(key, "r", "relocatable") || is(key, "i", "Ur")) {
    cl->relocatable = true;
  } else if (is(key, "static", NULL)) {
    cl->is_static = true;
    st->static_search = true;
  } else if (is(key, "Bstatic", "dn") || is(key, "non_shared", NULL)) {
    st->static_search = true;
  } else if (is(key, "Bdynamic", "dy") || is(key, "call_shared", NULL)) {
    st->static_search = false;
  } else if (is(key, "as-needed", NULL)) {
    st->as_needed = true;
  } else if (is(key, "no-as-needed", NULL)) {
    st->as_needed = false;
  } else if (is(key, "whole-archive", NULL)) {
    st->whole = true;
  } else if (is(key, "no-whole-archive", NULL)) {
    st->whole = false;
  } else if (is(key, "push-state", NULL)) {
    if (p->nsaved < sizeof p->saved / sizeof *p->saved)
      p->saved[p->nsaved++] = *st;
  } else if (is(key, "pop-state", NULL)) {
    if (p->nsaved)
      *st = p->saved[--p->nsaved];
  } else if (is(key, "start-group", "(")) {
    if (!st->group)
      st->group = ++p->ngroups;
  } else if (is(key, "end-group", ")")) {
    st->group = 0;
  } else if (is(key, "start-lib", NULL)) {
    st->lazy = true;
  } else if (is(key, "end-lib", NULL)) {
    st->lazy = false;
  } else if (is(key, "defsym", NULL) || is(key, "wrap", NULL)) {
    /* --defsym=SYM=EXPR, --wrap=SYM: SYM now resolves elsewhere. */
    if (optarg) {
      size_t n = strcspn(optarg, "=");
      struct ld_redirect *r =
          AS_PUSH(cl->redirects, cl->nredirects, p->cap_redirects);
      r->option = as_xasprintf("--%s=%s", key, optarg);
      r->symbol = as_xstrdup(optarg);
      r->symbol[n] = '\0';
    }
  } else if (is(key, "just-symbols", "R")) {
    /* -R DIR is -rpath (GNU ld); -R FILE, like --just-symbols, takes
     * only FILE's symbol addresses. */
    struct stat sb;
    if (optarg && !(is(key, "R", NULL) && stat(optarg, &sb) == 0 &&
                    S_ISDIR(sb.st_mode))) {
      struct ld_input *in = AS_PUSH(cl->inputs, cl->ninputs, p->cap_inputs);
      *in = (struct ld_input){.path = as_xstrdup(optarg), .just_symbols = true};
    }
  } else if (is(key, "v", "version") || is(key, "V", NULL)) {
    cl->no_inputs_needed = cl->version = true;
  } else if (is(key, "help", NULL)) {
    cl->no_inputs_needed = cl->help = true;
  }
}

/* What the whole command line must be read for: -L=DIR and
 * -L$SYSROOT/DIR inside the sysroot, as GNU ld has it; a -T script not
 * found as given looked for in the -L directories; libraries found in
 * every -L, as the linkers do. */
static void find_paths(struct ld_cmdline *cl, const char *sysroot) {
  cl->sysroot = sysroot;
  for (size_t i = 0; i < cl->ndirs; i++) {
    char *dir = cl->dirs[i];
    size_t skip = dir[0] == '=' ? 1 : strncmp(dir, "$SYSROOT", 8) == 0 ? 8 : 0;
    if (!skip)
      continue;
    cl->dirs[i] = as_xasprintf("%s%s", sysroot ? sysroot : "", dir + skip);
    free(dir);
  }
  for (size_t i = 0; i < cl->ninputs; i++) {
    struct ld_input *in = &cl->inputs[i];
    if (!in->script || access(in->path, F_OK) == 0)
      continue;
    for (size_t j = 0; j < cl->ndirs; j++) {
      char *p = as_xasprintf("%s/%s", cl->dirs[j], in->path);
      if (access(p, F_OK) == 0) {
        free(in->path);
        in->path = p;
        break;
      }
      free(p);
    }
  }
  for (size_t i = 0; i < cl->ninputs; i++) {
    struct ld_input *in = &cl->inputs[i];
    if (!in->lib)
      continue;
    char *found = as_find_library(in->path, cl->dirs, cl->ndirs,
                                  in->static_search, &in->st);
    free(in->path);
    in->path = found;
  }
}

void ld_cmdline_parse(struct ld_cmdline *cl, int argc, char **argv) {
  memset(cl, 0, sizeof *cl);
  /* Every @FILE expanded, each argument's first word remembered. */
  struct arglist args = {0};
  size_t *first_word =
      as_xcalloc((size_t)(argc > 0 ? argc : 1), sizeof *first_word);
  bool *from_file =
      as_xcalloc((size_t)(argc > 0 ? argc : 1), sizeof *from_file);
  for (int i = 1; i < argc; i++) {
    first_word[i - 1] = args.n;
    struct rsp_stack rs = {.depth = 0};
    from_file[i - 1] = expand(&args, argv[i], &rs, &cl->error);
  }
  if (argc > 0)
    first_word[argc - 1] = args.n;
  bool *keep = as_xcalloc(args.n ? args.n : 1, sizeof *keep);
  struct parser p = {.cl = cl, .inject = SIZE_MAX};
  char keybuf[64];

  for (size_t i = 0; i < args.n; i++) {
    char *arg = args.v[i];
    if (arg[0] != '-' || arg[1] == '\0') {
      struct ld_input *in = AS_PUSH(cl->inputs, cl->ninputs, p.cap_inputs);
      *in = (struct ld_input){.path = as_xstrdup(arg),
                              .whole = p.st.whole,
                              .lazy = p.st.lazy,
                              .as_needed = p.st.as_needed,
                              .group = p.st.group};
      size_t n = strlen(arg);
      if ((n > 2 && strcmp(arg + n - 2, ".a") == 0) || strstr(arg, ".so"))
        set_inject(cl, &p.inject, i, &p.st);
      keep[i] = true;
      continue;
    }

    const char *value;
    const char *key = option_key(arg, keybuf, sizeof keybuf, &value);
    if (strncmp(key, "allocsel-", 9) == 0) {
      own_option(cl, key, value, &args, &i);
      continue;
    }

    size_t option_word = i;
    keep[i] = true;
    /* Single-letter options with a joined or separate argument. */
    char letter = arg[1];
    bool single = arg[0] == '-' && letter != '-' &&
                  strchr(separate_short, letter) != NULL;
    const char *optarg = NULL;
    if (single && arg[2] != '\0' && !takes_separate(key)) {
      optarg = arg + 2; /* -lfoo, -Ldir, -ofile */
      keybuf[0] = letter;
      keybuf[1] = '\0';
      key = keybuf;
    } else if (value) {
      optarg = value;
    } else if ((single && arg[2] == '\0') || takes_separate(key)) {
      if (i + 1 < args.n) {
        optarg = args.v[++i];
        keep[i] = true;
      }
    }

    /* allocsel's own plugin (and its options) would inject a second time
     * under bfd or gold, and does nothing under lld or mold: drop it, and
     * take its options as ours. */
    if (is(key, "plugin", NULL)) {
      const char *base = optarg ? as_base_name(optarg) : NULL;
      p.in_our_plugin = base && strcmp(base, "allocsel-plugin.so") == 0;
      if (!p.in_our_plugin && base && !cl->dropped_plugin && !cl->plugin_before)
        cl->plugin_before = optarg;
      if (p.in_our_plugin) {
        cl->dropped_plugin = optarg;
        for (size_t j = option_word; j <= i; j++)
          keep[j] = false;
      }
      continue;
    }
    /* The plugin's spelling of allocsel's options is allocsel-ld's too,
     * wherever it stands: a build switching front ends keeps its
     * -plugin-opt allocator=X. Other -plugin-opts are the linker's. */
    if (is(key, "plugin-opt", NULL) &&
        (ld_cmdline_plugin_opt(cl, optarg) || p.in_our_plugin)) {
      for (size_t j = option_word; j <= i; j++)
        keep[j] = false;
      continue;
    }
    linker_option(&p, key, optarg, option_word);
  }

  find_paths(cl, p.sysroot);
  cl->words = args.v; /* pass and the option values point into these */
  cl->nwords = args.n;
  build_pass(cl, argc, argv, first_word, from_file, keep, p.inject);
  free(keep);
  free(first_word);
  free(from_file);
}

void ld_cmdline_add_inputs(const struct ld_cmdline *cl, struct as_link *link) {
  for (size_t i = 0; i < cl->ndirs; i++)
    as_link_search_dir(link, cl->dirs[i]);
  as_link_set_sysroot(link, cl->sysroot);
  for (size_t i = 0; i < cl->ninputs; i++) {
    const struct ld_input *in = &cl->inputs[i];
    if (!in->group || (i && cl->inputs[i - 1].group != in->group))
      as_link_end_group(link);
    if (in->group)
      as_link_begin_group(link);
    if (!in->path) {
      as_link_library_not_found(link, in->lib);
      continue;
    }
    as_link_add_found(link, in->path, in->lib ? &in->st : NULL,
                      AS_ADD_SCRIPT_OK |
                          (in->whole ? AS_ADD_WHOLE_ARCHIVE : 0) |
                          (in->lazy ? AS_ADD_LAZY : 0) |
                          (in->as_needed ? AS_ADD_AS_NEEDED : 0) |
                          (in->just_symbols ? AS_ADD_JUST_SYMBOLS : 0) |
                          (in->static_search ? AS_ADD_STATIC_SEARCH : 0));
  }
  as_link_end_group(link);
  for (size_t i = 0; i < cl->nredirects; i++)
    as_link_redirect(link, cl->redirects[i].option, cl->redirects[i].symbol);
  link->allow_abi_redirect = cl->allow_abi_redirect;
}

/* The linker's own search directories: ld.bfd's SEARCH_DIR lines in its
 * built-in script (`ld --verbose`), read only when a -l library was not
 * found in the -L ones. */
static size_t linker_dirs(const char *linker, const char *sysroot,
                          char ***out) {
  *out = NULL;
  char *argv[] = {(char *)linker, "--verbose", NULL};
  int status;
  char *error = NULL;
  char *text = capture_output(argv, false, &status, &error);
  if (!text) {
    free(error); /* no directories: the -l stays not found, and says so */
    return 0;
  }
  size_t ndirs = 0, cap_dirs = 0;
  for (const char *p = text; (p = strstr(p, "SEARCH_DIR(\""));) {
    p += 12;
    const char *end = strchr(p, '"');
    if (!end)
      break;
    size_t skip = *p == '=' ? 1 : 0;
    *AS_PUSH(*out, ndirs, cap_dirs) =
        as_xasprintf("%s%.*s", skip && sysroot ? sysroot : "",
                     (int)(end - p - skip), p + skip);
    p = end;
  }
  free(text);
  return ndirs;
}

void ld_cmdline_search_linker_dirs(struct ld_cmdline *cl, const char *linker) {
  char **dirs = NULL;
  size_t ndirs = 0;
  bool asked = false;
  for (size_t i = 0; i < cl->ninputs; i++) {
    struct ld_input *in = &cl->inputs[i];
    if (!in->lib || in->path)
      continue;
    if (!asked) {
      ndirs = linker_dirs(linker, cl->sysroot, &dirs);
      asked = true;
    }
    in->path =
        as_find_library(in->lib + 2, dirs, ndirs, in->static_search, &in->st);
  }
  for (size_t i = 0; i < ndirs; i++)
    free(dirs[i]);
  free(dirs);
}

char **ld_cmdline_command(const struct ld_cmdline *cl, const char *linker,
                          const char *const *added, size_t nadded,
                          const char *record, const char *const *libs,
                          size_t nlibs) {
  char **out = as_xcalloc(cl->npass + nadded + nlibs + 7, sizeof *out);
  size_t n = 0;
  out[n++] = (char *)linker;
  for (size_t i = 0; i < cl->inject_at; i++)
    out[n++] = cl->pass[i];
  /* What the decision adds is no part of a --whole-archive region (all of
   * jemalloc's archive would be pulled in), and a shared library is no
   * static input (lld refuses one after -Bstatic): step out of both
   * around it, then back. */
  bool dynamic = !cl->is_static && cl->inject_in_static;
  if (cl->inject_in_whole)
    out[n++] = "--no-whole-archive";
  if (dynamic)
    out[n++] = "-Bdynamic";
  for (size_t i = 0; i < nadded; i++)
    out[n++] = (char *)added[i];
  if (record)
    out[n++] = (char *)record;
  if (dynamic)
    out[n++] = "-Bstatic";
  if (cl->inject_in_whole)
    out[n++] = "--whole-archive";
  for (size_t i = cl->inject_at; i < cl->npass; i++)
    out[n++] = cl->pass[i];
  for (size_t i = 0; i < nlibs; i++)
    out[n++] = (char *)libs[i];
  return out;
}

void ld_cmdline_free(struct ld_cmdline *cl) {
  for (size_t i = 0; i < cl->ninputs; i++) {
    free(cl->inputs[i].path);
    free(cl->inputs[i].lib);
  }
  for (size_t i = 0; i < cl->ndirs; i++)
    free(cl->dirs[i]);
  for (size_t i = 0; i < cl->nredirects; i++) {
    free(cl->redirects[i].option);
    free(cl->redirects[i].symbol);
  }
  free(cl->redirects);
  free(cl->inputs);
  free(cl->dirs);
  for (size_t i = 0; i < cl->nwords; i++)
    free(cl->words[i]);
  free(cl->words);
  free(cl->pass);
  free(cl->error);
}

int ld_output_type(const struct ld_cmdline *cl, enum as_output_type *type) {
  *type = cl->relocatable ? AS_RLIB : cl->shared ? AS_DYLIB : AS_EXECUTABLE;
  return cl->type ? as_output_type_parse(cl->type, type) : 0;
}

enum as_archive_order ld_archive_order(const char *choice, const char *path) {
  const char *base = as_base_name(path);
  enum ld_kind kind = ld_kind_of(path);
  bool gnu = strcmp(choice, "bfd") == 0 || strcmp(choice, "gold") == 0 ||
             kind == LD_BFD || kind == LD_GOLD || strcmp(base, "collect2") == 0;
  return gnu ? AS_ORDER_COMMAND_LINE : AS_ORDER_ANY;
}
