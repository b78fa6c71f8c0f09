/* allocsel: check a set of inputs, inspect an artifact, build a staticlib.
 *
 *   allocsel check --type=T [--allocator=A] [-L DIR] [-lNAME] FILES...
 *   allocsel inspect FILE
 *   allocsel staticlib -o OUT.a [--allocator=A] FILES...
 *   allocsel seal -o OUT.a [--keep SYMBOL]... IN.a...
 *
 * Each takes --format=json. Exit 0: ok; 1: a rule broken; 2: bad usage or
 * unreadable input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ar_writer.h"
#include "build_commit.h"
#include "frontend.h"
#include "link_command.h"
#include "run.h"
#include "seal.h"
#include "selector.h"
#include "session.h"
#include "unit_bytes.h"

/* Each command's usage, as `allocsel COMMAND --help` prints it. */
static const struct {
  const char *name, *text;
} commands[] = {
    {"check",
     "usage: allocsel check [--why] [--format=text|json|dot] -- "
     "COMPILER-OR-LINKER ARGS...\n"
     "       allocsel check --type=executable|dylib|staticlib|rlib\n"
     "                      "
     "[--allocator=system|jemalloc|mimalloc|tcmalloc|PATH]\n"
     "                      [-L DIR] [-lNAME] [--why] [--format=F] FILES...\n"
     "  what the link would decide, or why it is refused (exit 1: a rule is\n"
     "  broken, 2: bad input); --why: what pulled the allocator in;\n"
     "  --format=json for tools, dot for a graph\n"},
    {"inspect",
     "usage: allocsel inspect [--format=text|json] FILE\n"
     "  which allocator and which malloc an artifact holds, from its "
     "record\n"},
    {"staticlib",
     "usage: allocsel staticlib -o OUT.a "
     "[--allocator=system|jemalloc|mimalloc|tcmalloc|PATH]\n"
     "                          [-L DIR] [-lNAME] FILES...\n"
     "  a self-contained archive for foreign programs: every member of\n"
     "  FILES and the allocator\n"},
    {"run",
     "usage: allocsel run [--report FILE] [--strict] "
     "[--allocator SPEC] [--default-allocator SPEC]\n"
     "                    -- COMMAND [ARGS...]\n"
     "  runs COMMAND (a whole build: make, cmake --build, ninja,\n"
     "  dpkg-buildpackage) with every linker it starts going through\n"
     "  allocsel-ld over that same linker, then says what was linked and\n"
     "  names the ELF files written under the working directory that\n"
     "  bypassed allocsel; --report FILE: one JSON line per link and per\n"
     "  bypassed file; --strict: a bypass is an error (exit 1);\n"
     "  --allocator executable=jemalloc[,dylib=system]: a request per\n"
     "  output type (a bare name: every type); --default-allocator SPEC:\n"
     "  the same for every link that brings no allocator or malloc of its\n"
     "  own (a distribution's malloc); one that does keeps its own.\n"
     "  COMMAND's exit status is returned\n"},
    {"seal", SEAL_USAGE},
    {"cache",
     "usage: allocsel cache\n"
     "  what earlier links learnt about their files, one file a line\n"},
};
enum { NCOMMANDS = sizeof commands / sizeof *commands };

static void print_usage(FILE *f) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    fputs(commands[i].text, f);
  fputs("allocsel COMMAND --help: that command's usage; allocsel --version\n",
        f);
}

struct options {
  const char *command;
  enum as_output_type type;
  bool type_set, json, dot, why;
  const char *allocator, *output;
  char **files, **dirs, **libs;
  char **commandv; /* after "--": a whole compiler or linker command */
  size_t ncommand;
  size_t nfiles, ndirs, nlibs, cap_files, cap_dirs, cap_libs;
};

static int usage(const char *fmt, const char *arg) {
  fputs("allocsel: error: ", stderr);
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  print_usage(stderr);
  return 2;
}

/* "unknown WHAT 'word'", with "did you mean" where `key` is a typo of one
 * of `names`. */
static int usage_unknown(const char *what, const char *word, const char *key,
                         const char *const *names, size_t n) {
  const char *near = as_nearest(key, names, n);
  char *msg = near ? as_xasprintf("unknown %s '%s' (did you mean '%s'?)", what,
                                  word, near)
                   : as_xasprintf("unknown %s '%s'", what, word);
  int rc = usage("%s", msg);
  free(msg);
  return rc;
}

static int unknown_command(const char *name) {
  const char *names[NCOMMANDS];
  for (size_t c = 0; c < NCOMMANDS; c++)
    names[c] = commands[c].name;
  return usage_unknown("command", name, name, names, NCOMMANDS);
}

/* "--name=value" or "--name value": returns the value or NULL. */
static const char *value_of(const char *name, int argc, char **argv, int *i) {
  size_t n = strlen(name);
  if (strncmp(argv[*i], name, n) != 0)
    return NULL;
  if (argv[*i][n] == '=')
    return argv[*i] + n + 1;
  if (argv[*i][n] == '\0' && *i + 1 < argc)
    return argv[++*i];
  return NULL;
}

static int parse(struct options *o, int argc, char **argv) {
  memset(o, 0, sizeof *o);
  if (argc < 2)
    return usage("%s", "missing command");
  o->command = argv[1];
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *v;
    if (strcmp(a, "--") == 0) {
      o->command = argv[1];
      o->ncommand = (size_t)(argc - i - 1);
      o->commandv = argv + i + 1;
      break;
    }
    if ((v = value_of("--type", argc, argv, &i))) {
      if (as_output_type_parse(v, &o->type) != 0)
        return usage("unknown output type '%s'", v);
      o->type_set = true;
    } else if ((v = value_of("--allocator", argc, argv, &i))) {
      o->allocator = v;
    } else if ((v = value_of("--format", argc, argv, &i))) {
      if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0 &&
          strcmp(v, "dot") != 0)
        return usage("unknown format '%s' (expected text, json or dot)", v);
      o->json = strcmp(v, "json") == 0;
      o->dot = strcmp(v, "dot") == 0;
    } else if (strcmp(a, "--why") == 0) {
      o->why = true;
    } else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
      o->output = argv[++i];
    } else if (strncmp(a, "-L", 2) == 0) {
      const char *dir = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
      if (!dir)
        return usage("%s needs a directory", a);
      *AS_PUSH(o->dirs, o->ndirs, o->cap_dirs) = (char *)dir;
    } else if (strncmp(a, "-l", 2) == 0 && a[2]) {
      *AS_PUSH(o->libs, o->nlibs, o->cap_libs) = (char *)a + 2;
    } else if (a[0] == '-' && a[1]) {
      {
        static const char *const opts[] = {"--type", "--allocator", "--format"};
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)strcspn(a, "="), a);
        return usage_unknown("option", a, key, opts, 3);
      }
    } else {
      *AS_PUSH(o->files, o->nfiles, o->cap_files) = (char *)a;
    }
  }
  return 0;
}

static void json_field(FILE *f, const char *key, const char *value,
                       bool comma) {
  fprintf(f, "%s\"%s\":", comma ? "," : "", key);
  as_json_string(f, value);
}

/* Adds FILES and -l libraries to `link`. */
static void add_files(struct as_link *link, const struct options *o,
                      unsigned flags) {
  /* Linker scripts (libc.so, libm.so) bring in the files they name, found
   * through the -L directories too. */
  flags |= AS_ADD_SCRIPT_OK;
  for (size_t i = 0; i < o->ndirs; i++)
    as_link_search_dir(link, o->dirs[i]);
  for (size_t i = 0; i < o->nfiles; i++)
    as_link_add_file(link, o->files[i], flags);
  for (size_t i = 0; i < o->nlibs; i++) {
    char *path = as_find_library(o->libs[i], o->dirs, o->ndirs, false, NULL);
    if (!path) {
      char *lib = as_xasprintf("-l%s", o->libs[i]);
      as_link_library_not_found(link, lib);
      free(lib);
      continue;
    }
    as_link_add_file(link, path, flags);
    free(path);
  }
}

/* Why a unit is in the link, one step per line: the chain lld's
 * --why-extract gives, back to a unit linked for its own sake. */
static void print_why(FILE *f, const struct options *o, struct as_link *link,
                      const struct as_unit *u) {
  uint32_t sym;
  const struct as_unit *by;
  if (o->json) {
    fputs(",\"why\":[", f);
    for (int i = 0; i < 32 && (by = as_unit_why(link, u, &sym)); i++, u = by) {
      fputs(i ? ",{" : "{", f);
      json_field(f, "unit", as_unit_origin(link, u), false);
      json_field(f, "symbol", as_sym_name(link, sym), true);
      json_field(f, "referenced_by", as_unit_origin(link, by), true);
      putc('}', f);
    }
    putc(']', f);
    return;
  }
  fprintf(f, "why: %s\n", as_unit_origin(link, u));
  for (int i = 0; i < 32 && (by = as_unit_why(link, u, &sym)); i++, u = by)
    fprintf(f, "why:   extracted for %s, referenced by %s\n",
            as_sym_name(link, sym), as_unit_origin(link, by));
}

/* A Graphviz node name: the string, quoted. */
static void dot_node(FILE *f, const char *s) {
  putc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      putc('\\', f);
    putc(*s, f);
  }
  putc('"', f);
}

/* --format=dot: every allocator and what pulled it in, and each cycle's
 * chain (from the diagnostics' notes), as a graph a person can look at:
 *   allocsel check --format=dot ... | dot -Tpng -o why.png */
static void print_dot(FILE *f, struct as_link *link,
                      const struct as_decision *d) {
  fputs("digraph allocsel {\n  rankdir=LR;\n  node [shape=box];\n", f);
  for (size_t i = 0; i < link->nunits; i++) {
    const struct as_unit *u = link->units[i];
    if (!u->linked || !(u->allocator || u->abi_defined) || u->shared)
      continue;
    fputs("  ", f);
    dot_node(f, as_unit_origin(link, u));
    fprintf(f, " [style=filled, fillcolor=%s, label=\"%s\\n%s\"];\n",
            d->unit == u ? "palegreen" : "lightpink",
            u->allocator ? u->allocator : "(unmarked)",
            as_unit_origin(link, u));
    uint32_t sym;
    const struct as_unit *by;
    for (int k = 0; k < 32 && (by = as_unit_why(link, u, &sym)); k++, u = by) {
      fputs("  ", f);
      dot_node(f, as_unit_origin(link, by));
      fputs(" -> ", f);
      dot_node(f, as_unit_origin(link, u));
      fputs(" [label=", f);
      dot_node(f, as_sym_name(link, sym));
      fputs("];\n", f);
    }
  }
  for (size_t i = 0; i < link->ndiags; i++) {
    const struct as_diag *g = &link->diags[i];
    if (g->error != AS_E_ALLOCATOR_CYCLE || g->nnotes < 2)
      continue;
    /* notes: the start, "  references SYM, defined in UNIT"..., last. */
    const char *prev = g->notes[0];
    for (size_t j = 1; j < g->nnotes; j++) {
      const char *in = strstr(g->notes[j], ", defined in ");
      if (strncmp(g->notes[j], "  references ", 13) != 0 || !in)
        continue;
      char *sym =
          as_xasprintf("%.*s", (int)(in - g->notes[j] - 13), g->notes[j] + 13);
      fputs("  ", f);
      dot_node(f, prev);
      fputs(" -> ", f);
      dot_node(f, in + 13);
      fputs(" [color=red, label=", f);
      dot_node(f, sym);
      fputs("];\n", f);
      free(sym);
      prev = in + 13;
    }
  }
  fputs("}\n", f);
}

static void print_decision(FILE *f, const struct options *o,
                           struct as_link *link, const struct as_decision *d,
                           int rc) {
  if (o->dot) {
    print_dot(f, link, d);
    return;
  }
  if (!o->json) {
    if (rc == 0)
      fprintf(f, "allocator: %s (%s)\n", d->name ? d->name : "none", d->reason);
    if (rc == 0 && d->malloc)
      fprintf(f, "malloc: %s\n", d->malloc);
    if (rc == 0 && o->why && d->unit)
      print_why(f, o, link, d->unit);
    for (size_t i = 0; rc == 0 && i < link->nunits; i++)
      if (link->units[i]->sealed && link->units[i]->linked)
        fprintf(f,
                "guest: %s (sealed: its runtime, allocator and any malloc "
                "of its own are private)\n",
                as_unit_origin(link, link->units[i]));
    return;
  }
  /* schema 1: the fields below; codes as in selector/errors.h. */
  fprintf(f, "{\"schema\":1,\"command\":");
  as_json_string(f, o->command);
  json_field(f, "type", as_output_type_name(link->type), true);
  json_field(f, "allocator", rc == 0 ? d->name : NULL, true);
  json_field(f, "how",
             rc != 0               ? "refused"
             : d->how == AS_NONE   ? "none"
             : d->how == AS_LINKED ? "linked"
                                   : "inject",
             true);
  json_field(f, "reason", rc == 0 ? d->reason : NULL, true);
  json_field(f, "malloc", rc == 0 ? d->malloc : NULL, true);
  json_field(f, "source", d->unit ? as_unit_origin(link, d->unit) : NULL, true);
  json_field(f, "inject", d->inject_object, true);
  if (o->output)
    json_field(f, "output", rc == 0 ? o->output : NULL, true);
  if (d->unit)
    print_why(f, o, link, d->unit);
  fputs(",\"sealed_guests\":[", f);
  for (size_t i = 0, n = 0; i < link->nunits; i++)
    if (link->units[i]->sealed && link->units[i]->linked) {
      fputs(n++ ? "," : "", f);
      as_json_string(f, as_unit_origin(link, link->units[i]));
    }
  fprintf(f, "],\"exit_code\":%d,\"diagnostics\":", rc);
  as_diag_print_json(link, f);
  fputs("}\n", f);
}

/* Prints a check's outcome and frees the session; returns the exit code. */
static int finish_check(const struct options *o, struct as_session *s) {
  if (!o->json)
    as_diag_print(s->link, stderr);
  print_decision(stdout, o, s->link, &s->dec, s->rc);
  int rc = s->rc;
  as_session_free(s);
  return rc;
}

/* check -- COMMAND: what allocsel-ld would decide for the link COMMAND
 * runs (its linker's own command line, or a compiler driver's, read from
 * its -### output): the same decision, diagnostics and exit code. */
static int cmd_check_command(const struct options *o) {
  struct link_command lc;
  char *error = NULL;
  if (link_command_from(&lc, o->commandv, o->ncommand, &error) != 0) {
    fprintf(stderr, "allocsel: error: %s\n", error);
    free(error);
    return 2;
  }
  struct ld_cmdline cl;
  ld_cmdline_parse(&cl, (int)lc.argc, lc.argv);
  enum as_output_type type;
  int rc = 0;
  if (cl.error || ld_output_type(&cl, &type) != 0) {
    fprintf(stderr, "allocsel: error: %s\n",
            cl.error ? cl.error : "bad --allocsel-type");
    rc = 2;
  } else {
    if (o->type_set)
      type = o->type;
    if (o->allocator && !cl.allocator)
      cl.allocator = o->allocator;
    enum as_archive_order order = ld_archive_order(lc.linker, lc.linker_path);
    if (order == AS_ORDER_COMMAND_LINE && !cl.relocatable)
      ld_cmdline_search_linker_dirs(&cl, lc.linker_path);
    char *libdir = as_default_libdir();
    struct as_session s;
    as_session_init(&s, type, libdir, cl.allocator,
                    cl.allocator_option ? cl.allocator_option
                                        : "--allocsel-allocator",
                    false);
    s.link->order = order;
    s.env.lto_inject = type != AS_STATICLIB;
    s.env.static_link = cl.is_static;
    ld_cmdline_add_inputs(&cl, s.link);
    as_session_decide(&s, NULL);
    rc = finish_check(o, &s);
    free(libdir);
  }
  ld_cmdline_free(&cl);
  link_command_free(&lc);
  return rc;
}

static int cmd_check(const struct options *o) {
  if (o->ncommand || (o->commandv && o->ncommand == 0)) {
    if (o->ncommand == 0)
      return usage("%s", "check -- needs a command");
    return cmd_check_command(o);
  }
  if (!o->type_set)
    return usage("%s", "check needs --type=executable|dylib|staticlib|rlib");
  if (o->nfiles == 0 && o->nlibs == 0)
    return usage("%s", "check needs input files");
  char *libdir = as_default_libdir();
  struct as_session s;
  as_session_init(&s, o->type, libdir, o->allocator, "--allocator", false);
  add_files(s.link, o, o->type == AS_STATICLIB ? AS_ADD_WHOLE_ARCHIVE : 0);
  as_session_decide(&s, NULL);
  int rc = finish_check(o, &s);
  free(libdir);
  return rc;
}

static void print_record_source(FILE *f, const struct as_record *rec,
                                const char *inferred) {
  if (rec->found)
    fprintf(f, "source: allocsel record (allocsel %s): %s\n",
            rec->version ? rec->version : "?", rec->reason ? rec->reason : "");
  else
    fprintf(f, "source: inferred from %s (no allocsel record)\n", inferred);
}

static void json_record(FILE *f, const struct as_record *rec,
                        const char *inferred) {
  json_field(f, "source", rec->found ? "record" : inferred, true);
  json_field(f, "reason", rec->found ? rec->reason : NULL, true);
  json_field(f, "recorded_type", rec->found ? rec->type : NULL, true);
}

/* Is the record borne out by the symbols? A record two notes disagree on,
 * or one naming an allocator whose marker the symbol table lacks while it
 * holds another's, is not believed: inspect says so and reads the symbols.
 * (A stray .note.allocsel from some input must not win over the truth.) */
static bool record_believed(const struct as_artifact *art,
                            struct as_record *rec, const char *path) {
  if (!rec->found)
    return false;
  const char *why = NULL;
  if (rec->conflict)
    why = "its allocsel records disagree";
  else if (art->has_symtab && art->nallocators &&
           strcmp(rec->allocator, "none") != 0) {
    why = "its allocsel record names an allocator its symbols do not hold";
    for (size_t i = 0; i < art->nallocators; i++)
      if (strcmp(art->allocators[i], rec->allocator) == 0)
        why = NULL;
  }
  if (!why)
    return true;
  fprintf(stderr,
          "allocsel: warning: %s: %s (record: '%s'); reading its symbols\n",
          path, why, rec->allocator);
  as_record_free(rec);
  rec->found = false;
  return false;
}

/* What serves malloc: the record's word, or what the artifact shows (a
 * malloc library it needs, a malloc of its own in a static link). */
static const char *malloc_of(const struct as_artifact *art,
                             const struct as_record *rec, char *buf,
                             size_t size) {
  if (rec->found && rec->malloc)
    return rec->malloc;
  if (art->malloc_library) {
    const char *name = strstr(art->malloc_library, "jemalloc")   ? "jemalloc"
                       : strstr(art->malloc_library, "tcmalloc") ? "tcmalloc"
                                                                 : "mimalloc";
    snprintf(buf, size, "%s (%s, replaces libc's malloc in the process)", name,
             art->malloc_library);
    return buf;
  }
  if (art->static_malloc && art->type == AS_EXECUTABLE) {
    snprintf(buf, size, "%s (linked in, replaces libc's malloc in the program)",
             art->static_malloc);
    return buf;
  }
  return "libc";
}

/* An executable or dylib: its record, or else its symbols. */
/* What the loader will make of the artifact: a malloc library that loads
 * after another malloc (libc's, most often: dropped from DT_NEEDED by
 * --as-needed and reached through another library, or listed after libc),
 * and initial-exec TLS in a dylib, which dlopen may have no room for. */
static void loader_warnings(FILE *f, const char *path,
                            const struct as_artifact *art) {
  struct as_loader l;
  as_loader_read(path, &l);
  if (l.malloc_behind && !l.self_defines_malloc) {
    const char *lib = l.malloc_behind, *stem = lib;
    if (strncmp(stem, "lib", 3) == 0)
      stem += 3;
    int len = (int)strcspn(stem, ".");
    fprintf(f,
            "allocsel: warning: %s: %s is loaded after %s, whose malloc "
            "the process's calls bind to: %s's malloc serves no call\n",
            path, lib, l.malloc_winner, lib);
    fprintf(f,
            ">>> in load order (the program, then its DT_NEEDED breadth "
            "first) %s comes first; --as-needed drops a malloc library "
            "nothing references directly, which then arrives only through "
            "another library\n",
            l.malloc_winner);
    fprintf(f,
            "hint: link it ahead of libc and keep it: "
            "-Wl,--push-state,--no-as-needed -l%.*s -Wl,--pop-state\n",
            len, stem);
  }
  if (art->type == AS_DYLIB && l.static_tls)
    fprintf(f,
            "allocsel: warning: %s: it uses initial-exec TLS (%llu bytes, "
            "DF_STATIC_TLS): dlopen may fail with \"cannot allocate memory "
            "in static TLS block\"\n"
            "hint: load it at startup (link the program against it, or "
            "LD_PRELOAD it), or give glibc room: "
            "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=%llu\n",
            path, (unsigned long long)l.tls_size,
            (unsigned long long)(l.tls_size + 512 > 1024 ? l.tls_size + 512
                                                         : 1024));
  as_loader_free(&l);
}

static void inspect_artifact(FILE *f, const struct options *o, const char *path,
                             const struct as_artifact *art,
                             struct as_record *rec) {
  const char *name = art->nallocators ? art->allocators[0] : NULL;
  if (!name && art->abi_defined == AS_ABI_ALL)
    name = "unmarked";
  if (record_believed(art, rec, path))
    name = strcmp(rec->allocator, "none") == 0 ? NULL : rec->allocator;
  const char *inferred =
      art->has_symtab ? "symbols" : "dynamic symbols (stripped)";
  char malloc_buf[512];
  if (o->json) {
    fputs("{\"command\":\"inspect\"", f);
    json_field(f, "file", path, true);
    json_field(f, "type", as_output_type_name(art->type), true);
    json_field(f, "allocator", name, true);
    json_field(f, "malloc", malloc_of(art, rec, malloc_buf, sizeof malloc_buf),
               true);
    json_record(f, rec, inferred);
    fputs(",\"sealed_guests\":[", f);
    for (size_t i = 0; i < rec->nguests; i++) {
      fputs(i ? "," : "", f);
      as_json_string(f, rec->guests[i]);
    }
    fprintf(f, "],\"entry_points\":%d,\"diagnostics\":[]}\n",
            __builtin_popcount(art->abi_defined));
    return;
  }
  fprintf(f, "allocator: %s\n", name ? name : "none");
  fprintf(f, "malloc: %s\n",
          malloc_of(art, rec, malloc_buf, sizeof malloc_buf));
  fprintf(f, "file: %s (%s)\n", path, as_output_type_name(art->type));
  print_record_source(f, rec, inferred);
  fprintf(f, "entry points defined: %d of 5\n",
          __builtin_popcount(art->abi_defined));
  for (size_t i = 0; i < art->nallocators; i++)
    fprintf(f, "marker: %s\n", art->allocators[i]);
  for (size_t i = 0; i < rec->nguests; i++)
    fprintf(f, "guest: a sealed library, %s\n", rec->guests[i]);
  loader_warnings(stderr, path, art);
}

/* A sealed guest's record (allocsel seal): what it keeps to itself, what
 * it offers and what it needs. */
static void print_sealed(FILE *f, const struct options *o,
                         struct as_link *link) {
  struct unit_bytes bytes;
  bool open = false;
  size_t n = 0;
  for (size_t i = 0; i < link->nunits; i++) {
    const struct as_unit *u = link->units[i];
    const void *data;
    size_t size;
    if (!u->sealed)
      continue;
    if (!open && unit_bytes_open(&bytes, link) != 0)
      break;
    open = true;
    if (unit_bytes_get(&bytes, link, u, &data, &size) != 0)
      continue;
    struct as_record r;
    as_record_from_object(data, size, "sealed", &r);
    if (o->json) {
      fputs(n++ ? ",{" : "{", f);
      json_field(f, "unit", as_unit_origin(link, u), false);
      json_field(f, "allocator", r.allocator, true);
      json_field(f, "malloc", r.malloc, true);
      json_field(f, "keep", r.keep, true);
      json_field(f, "needs", r.needs, true);
      fputc('}', f);
    } else if (r.found) {
      fprintf(f,
              "sealed: %s: a guest, its runtime private\n"
              "sealed allocator: %s\nsealed malloc: %s\nkeeps: %s\n"
              "needs: %s\n",
              as_unit_origin(link, u), r.allocator, r.malloc ? r.malloc : "?",
              r.keep ? r.keep : "?", r.needs ? r.needs : "?");
    } else {
      fprintf(f, "sealed: %s: a guest (its record is missing)\n",
              as_unit_origin(link, u));
    }
    as_record_free(&r);
  }
  if (open)
    unit_bytes_close(&bytes);
}

/* An object or archive: its record (an rlib allocsel linked), its units. */
static void inspect_units(FILE *f, const struct options *o, const char *path,
                          struct as_link *link, const struct as_record *rec) {
  const char *name = NULL;
  for (size_t i = 0; i < link->nunits && !name; i++)
    name = link->units[i]->allocator;
  if (rec->found)
    name = strcmp(rec->allocator, "none") == 0 ? NULL : rec->allocator;
  /* A Rust staticlib carries rustc's allocator shim and the runtime. */
  const struct as_unit *shim = NULL, *runtime = NULL;
  for (size_t i = 0; i < link->nunits; i++) {
    if (!shim && link->units[i]->rust_shim)
      shim = link->units[i];
    if (!runtime && link->units[i]->rust_runtime)
      runtime = link->units[i];
  }
  if (o->json) {
    fputs("{\"command\":\"inspect\"", f);
    json_field(f, "file", path, true);
    json_field(f, "allocator", name, true);
    json_record(f, rec, "symbols");
    json_field(f, "rust_allocator_shim",
               shim ? as_unit_origin(link, shim) : NULL, true);
    json_field(f, "rust_runtime",
               runtime ? as_unit_origin(link, runtime) : NULL, true);
    fputs(",\"sealed\":[", f);
    print_sealed(f, o, link);
    fputs("],\"units\":[", f);
  } else {
    fprintf(f, "allocator: %s\n", name ? name : "none");
    print_record_source(f, rec, "the markers in its symbol tables");
    if (shim)
      fprintf(f,
              "rust: allocator shim in %s (rustc's __rust_alloc, one per "
              "program)\n",
              as_unit_origin(link, shim));
    if (runtime)
      fprintf(f, "rust: runtime in %s\n", as_unit_origin(link, runtime));
    print_sealed(f, o, link);
  }
  for (size_t i = 0; i < link->nunits; i++) {
    const struct as_unit *u = link->units[i];
    bool needs = u->abi_undef || u->needs_marker;
    if (o->json) {
      fputs(i ? ",{" : "{", f);
      json_field(f, "unit", as_unit_origin(link, u), false);
      json_field(f, "allocator", u->allocator, true);
      fprintf(f, ",\"entry_points\":%d,\"needs_allocator\":%s}",
              __builtin_popcount(u->abi_defined), needs ? "true" : "false");
      continue;
    }
    fprintf(f, "unit: %s", as_unit_origin(link, u));
    if (u->allocator || u->abi_defined)
      fprintf(f, " allocator=%s entry-points=%d/5",
              u->allocator ? u->allocator : "(unmarked)",
              __builtin_popcount(u->abi_defined));
    if (needs)
      fputs(" needs-allocator", f);
    fputc('\n', f);
  }
  if (o->json)
    fputs("],\"diagnostics\":[]}\n", f);
}

static int cmd_inspect(const struct options *o) {
  if (o->nfiles != 1)
    return usage("%s", "inspect takes one file");
  const char *path = o->files[0];
  struct as_link *link = as_link_new(AS_RLIB);
  struct as_artifact art;
  struct as_record rec = {0};
  int rc = 0;
  if (as_inspect_artifact(link, path, &art) == 0) {
    as_inspect_record(link, path, as_output_type_name(art.type), &rec);
    inspect_artifact(stdout, o, path, &art, &rec);
    as_artifact_free(&art);
  } else {
    /* Not a linked artifact: read it as a link input. */
    as_link_free(link);
    link = as_link_new(AS_RLIB);
    if (as_link_add_file(link, path, AS_ADD_WHOLE_ARCHIVE) == 0) {
      as_inspect_record(link, path, "rlib", &rec);
      inspect_units(stdout, o, path, link, &rec);
    } else {
      rc = as_diag_exit_code(link);
      if (o->json) {
        fputs("{\"command\":\"inspect\"", stdout);
        json_field(stdout, "file", path, true);
        fprintf(stdout,
                ",\"allocator\":null,\"exit_code\":%d,"
                "\"diagnostics\":",
                rc);
        as_diag_print_json(link, stdout);
        fputs("}\n", stdout);
      } else {
        as_diag_print(link, stderr);
      }
    }
  }
  as_record_free(&rec);
  as_link_free(link);
  return rc;
}

static int cmd_staticlib(const struct options *o) {
  if (!o->output)
    return usage("%s", "staticlib needs -o OUT.a");
  if (o->nfiles == 0 && o->nlibs == 0)
    return usage("%s", "staticlib needs input files");
  struct options opts = *o;
  opts.type = AS_STATICLIB;
  char *libdir = as_default_libdir();
  struct as_session s;
  as_session_init(&s, AS_STATICLIB, libdir, o->allocator, "--allocator", false);
  struct as_link *link = s.link;
  const struct as_decision *d = &s.dec;
  as_link_want_symbols(link); /* the archive's index lists them */
  /* Self-contained: every member of every input goes in. */
  add_files(link, o, AS_ADD_WHOLE_ARCHIVE);
  int rc = as_session_decide(&s, NULL);
  for (size_t i = 0; rc == 0 && i < link->nunits; i++)
    if (link->units[i]->shared) {
      as_diag_add(link, AS_ERROR, AS_E_SHARED_IN_STATICLIB,
                  "%s: a shared library cannot go into a staticlib",
                  as_unit_origin(link, link->units[i]));
      rc = 2;
    }
  /* The injected allocator (and jemalloc's code) become members too. */
  if (rc == 0 && d->how == AS_INJECT && !d->unit) {
    for (size_t i = 0; i < s.nadded; i++)
      as_link_add_file(link, s.added[i], AS_ADD_WHOLE_ARCHIVE);
    if (d->needs_jemalloc)
      as_diag_add(link, AS_NOTE, AS_E_STATICLIB_NEEDS_LIBM,
                  "link %s with -lm: jemalloc's own code calls libm",
                  o->output);
    rc = as_diag_exit_code(link);
  }
  /* The libraries the allocator names cannot go into an archive. */
  for (uint32_t i = 0; rc == 0 && i < d->nlibraries; i++)
    as_diag_add(link, AS_NOTE, AS_E_STATICLIB_NEEDS_LIBM,
                "link %s with %s: the allocator's code needs it", o->output,
                d->libraries[i]);
  if (rc == 0) {
    struct unit_bytes bytes;
    struct ar_writer *w = ar_writer_new();
    rc = unit_bytes_open(&bytes, link);
    for (size_t i = 0; i < link->nunits && rc == 0; i++) {
      const struct as_unit *u = link->units[i];
      const void *data;
      size_t size;
      rc = unit_bytes_get(&bytes, link, u, &data, &size);
      if (rc == 0)
        ar_writer_add(w, u->member ? u->member : link->inputs[u->input]->path,
                      data, size, link, u->defs, u->ndefs);
    }
    char *error = NULL;
    if (rc == 0 && ar_writer_write(w, o->output, &error) != 0) {
      as_diag_add(link, AS_ERROR, AS_E_WRITE_FAILED, "%s", error);
      rc = 2;
    }
    free(error);
    ar_writer_free(w);
    unit_bytes_close(&bytes);
  }
  if (!o->json)
    as_diag_print(link, stderr);
  print_decision(stdout, &opts, link, d, rc);
  as_session_free(&s);
  free(libdir);
  return rc;
}

/* allocsel cache: what the cache knows, one file a line (selector/cache.c
 * says what the fields are): to see why a link took a file for what it
 * was, or that the cache is off. */
static int cmd_cache(const struct options *o) {
  if (o->nfiles)
    return usage("%s", "cache takes no files");
  struct as_link *link = as_link_new(AS_EXECUTABLE);
  as_link_use_cache(link);
  const char *path = as_cache_path(link);
  if (path) {
    printf("# %s: DEV INO SIZE MTIME CTIME, then o ABI_UNDEF FLAGS MACHINE "
           "CLASS DATA or a FLAGS\n",
           path);
    as_cache_print(link, stdout);
  } else {
    puts("# the cache is off (ALLOCSEL_CACHE=0, or no directory for it)");
  }
  as_link_free(link);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 &&
      (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    print_usage(stdout);
    return 0;
  }
  /* allocsel COMMAND --help, anywhere before "--" (for run, before its
   * COMMAND). */
  bool run = argc >= 2 && strcmp(argv[1], "run") == 0;
  for (int i = 2; argc >= 3 && i < argc && strcmp(argv[i], "--") != 0 &&
                  !(run && argv[i][0] != '-');
       i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      for (size_t c = 0; c < NCOMMANDS; c++)
        if (strcmp(argv[1], commands[c].name) == 0) {
          fputs(commands[c].text, stdout);
          return 0;
        }
      return unknown_command(argv[1]);
    }
  if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
    printf("allocsel %s%s%s%s\n", AS_VERSION, *AS_BUILD_COMMIT ? " (" : "",
           AS_BUILD_COMMIT, *AS_BUILD_COMMIT ? ")" : "");
    return 0;
  }
  if (run)
    return cmd_run(argc, argv); /* its own options, then COMMAND's */
  if (argc >= 2 && strcmp(argv[1], "seal") == 0)
    return cmd_seal(argc, argv);
  struct options o;
  int rc = parse(&o, argc, argv);
  if (rc == 0) {
    if (strcmp(o.command, "check") == 0)
      rc = cmd_check(&o);
    else if (strcmp(o.command, "inspect") == 0)
      rc = cmd_inspect(&o);
    else if (strcmp(o.command, "staticlib") == 0)
      rc = cmd_staticlib(&o);
    else if (strcmp(o.command, "cache") == 0)
      rc = cmd_cache(&o);
    else {
      rc = unknown_command(o.command);
    }
  }
  free(o.files);
  free(o.dirs);
  free(o.libs);
  return rc;
}
