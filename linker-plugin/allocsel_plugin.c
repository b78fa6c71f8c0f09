/* allocsel-plugin.so: the GNU linker plugin (ld.bfd, gold).
 *
 *   -Wl,-plugin,P/lib/allocsel/allocsel-plugin.so
 *   [-Wl,-plugin-opt,allocator=system|jemalloc|PATH]
 *   [-Wl,-plugin-opt,type=staticlib]
 *
 * It observes every input the linker loads (it claims none), decides at
 * all_symbols_read with the shared selector, and adds the allocator (and its
 * record) with add_input_file, or fails the link with LDPL_FATAL. */
#include <dlfcn.h>
#include <limits.h>
#include <stdint.h> /* before plugin-api.h, which needs uint64_t */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <plugin-api.h>

#include "ar_format.h"
#include "frontend.h"
#include "ld_cmdline.h"
#include "link_memory.h"
#include "record.h"
#include "selector.h"

static struct {
  ld_plugin_message message;
  ld_plugin_add_input_file add_input_file;
  ld_plugin_add_input_library add_input_library;
  int output; /* enum ld_plugin_output_file_type, -1 unknown */
  const char *allocator, *type;
  bool verbose;
  struct as_link *link;
  /* A plugin stands before ours on the command line (gcc's lto-plugin,
   * LLVMgold.so): what it claims is never shown to us, so the decision
   * reads the link from the command line and the views are not read. */
  bool from_cmdline;
  char *record; /* the decision note's object, "/dev/fd/N" */
  int record_fd;
  bool allow_abi_redirect;
  int allocators; /* allocator units among the views so far */
  char *libdir;   /* lib/allocsel: where this plugin was loaded from */
  char *self;     /* this plugin's file */
} plugin = {.output = -1, .record_fd = -1};

/* The decision, made once: at the first input when the plugin reads the
 * link from the command line (so a refusal comes before the linker has
 * read anything, let alone printed its own duplicate-symbol errors), else
 * at all_symbols_read from the views. */
static struct {
  bool made;
  int rc; /* as_diag_exit_code */
  enum as_output_type type;
  struct as_env env;
  struct as_decision d;
  /* The link memory (link_memory.c), where the link was read from the
   * command line: `known` when this very link was decided before (the
   * same digest), and what the decision said, kept for the next. */
  char *memory_path;
  struct link_memory memory;
  bool known, have_digest;
  uint64_t digest[2];
  char *said;
  size_t said_size;
} decided;

static void decide(void);
static enum ld_plugin_status refused(void);

static struct as_link *new_link(enum as_output_type type) {
  struct as_link *link = as_link_new(type);
  as_link_use_cache(link);
  link->libdir = plugin.libdir;
  link->order = AS_ORDER_COMMAND_LINE; /* ld.bfd and gold */
  return link;
}

static struct as_link *the_link(void) {
  if (!plugin.link)
    plugin.link = new_link(AS_EXECUTABLE); /* type set at decision */
  return plugin.link;
}

/* The member name from the ar header just before the member's data; long
 * GNU names ("/123") are looked up in the "//" table, which comes first or
 * second in the archive. */
static char *member_name(int fd, off_t offset) {
  struct as_ar_hdr h;
  size_t size;
  if (offset < (off_t)(AS_AR_MAGIC_LEN + sizeof h) ||
      pread(fd, &h, sizeof h, offset - (off_t)sizeof h) != sizeof h ||
      !as_ar_hdr_size(&h, &size))
    return NULL;
  if (h.name[0] != '/' || h.name[1] < '0' || h.name[1] > '9') {
    size_t n = strcspn(h.name, "/ ");
    if (n > sizeof h.name)
      n = sizeof h.name;
    char *name = as_xmalloc(n + 1);
    memcpy(name, h.name, n);
    name[n] = '\0';
    return name;
  }
  size_t want = strtoul(h.name + 1, NULL, 10);
  char *name = NULL;
  off_t pos = AS_AR_MAGIC_LEN;
  for (int i = 0; i < 2 && pread(fd, &h, sizeof h, pos) == sizeof h; i++) {
    if (!as_ar_hdr_size(&h, &size))
      break;
    if (as_ar_is_longnames(&h)) {
      char *table = size < (1u << 26) ? as_xmalloc(size + 1) : NULL;
      if (table && want < size &&
          pread(fd, table, size, pos + (off_t)sizeof h) == (ssize_t)size) {
        table[size] = '\0';
        size_t n = strcspn(table + want, "/\n");
        name = as_xmalloc(n + 1);
        memcpy(name, table + want, n);
        name[n] = '\0';
      }
      free(table);
      break;
    }
    pos += (off_t)(sizeof h + size + (size & 1));
  }
  return name;
}

static bool refuse_early(struct as_link *link) {
  struct as_request req;
  as_request_init(&req, plugin.allocator, "-plugin-opt allocator");
  struct as_env env;
  as_env_init(&env, plugin.libdir);
  bool refused = as_check_early(link, &req, &env) != 0;
  as_request_free(&req);
  if (!refused)
    return false;
  as_diag_print(link, stderr);
  plugin.message(LDPL_FATAL, "allocsel: link refused (%s)",
                 "an allocator rule is broken");
  return true;
}

static enum ld_plugin_status claim_file(const struct ld_plugin_input_file *f,
                                        int *claimed) {
  *claimed = 0;
  if (plugin.from_cmdline) {
    /* The inputs are read once, from the command line, at the first. */
    if (!decided.made)
      decide();
    return decided.rc == 0 ? LDPS_OK : refused();
  }
  /* Map just this unit: the linker has the file open already. */
  long page = sysconf(_SC_PAGESIZE);
  off_t base = f->offset - f->offset % page;
  size_t len = (size_t)(f->filesize + (f->offset - base));
  /* Private and writable: libelf may convert the view in place. */
  void *map = f->filesize > 0 ? mmap(NULL, len, PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE, f->fd, base)
                              : MAP_FAILED;
  char *member = f->offset > 0 ? member_name(f->fd, f->offset) : NULL;
  if (map == MAP_FAILED) {
    as_diag_add(the_link(), AS_ERROR, AS_E_BAD_INPUT, "cannot read %s%s%s%s",
                f->name, member ? "(" : "", member ? member : "",
                member ? ")" : "");
  } else {
    char *data = (char *)map + (f->offset - base);
    struct as_link *link = the_link();
    size_t before = link->nunits;
    as_link_add_view(link, f->name, member, data, (size_t)f->offset,
                     (size_t)f->filesize, AS_ADD_SCRIPT_OK);
    munmap(map, len);
    /* A second allocator: say so now, before the linker floods the
     * terminal with its own duplicate-symbol errors for the two. */
    if (link->nunits > before) {
      const struct as_unit *u = link->units[link->nunits - 1];
      if (!u->shared && (u->allocator || u->abi_defined) &&
          ++plugin.allocators == 2 && refuse_early(link)) {
        free(member);
        return LDPS_ERR;
      }
    }
  }
  free(member);
  return LDPS_OK;
}

static enum as_output_type output_type(void) {
  switch (plugin.output) {
  case LDPO_REL:
    return AS_RLIB;
  case LDPO_DYN:
    return AS_DYLIB;
  default:
    return AS_EXECUTABLE;
  }
}

static char *plugin_libdir(void) {
  Dl_info info;
  if (!dladdr((void *)&claim_file, &info) || !info.dli_fname)
    return as_default_libdir();
  plugin.self = as_xstrdup(info.dli_fname);
  char *dir = as_xstrdup(info.dli_fname);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    strcpy(dir, ".");
  return dir;
}

/* The linker's command line, read the way allocsel-ld reads it: the plugin
 * API tells neither whether the output is static nor what a plugin loaded
 * before ours claimed. */
static void read_cmdline(struct ld_cmdline *cl) {
  char *buf = NULL;
  size_t len = 0, cap = 0;
  FILE *f = fopen("/proc/self/cmdline", "rb");
  if (f) {
    int c;
    while ((c = getc(f)) != EOF)
      *AS_PUSH(buf, len, cap) = (char)c;
    fclose(f);
  }
  char **argv = NULL;
  size_t argc = 0, cap_argv = 0;
  for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
    *AS_PUSH(argv, argc, cap_argv) = buf + i;
  ld_cmdline_parse(cl, (int)argc, argv);
  /* pass[] points into argv: the decision needs only the rest. */
  free(cl->pass);
  cl->pass = NULL;
  cl->npass = 0;
  free(argv);
  free(buf);
}

/* Was this very link decided before (the link memory holds its digest)?
 * Then that decision stands, and resolution is skipped. */
static bool known_link(const struct ld_cmdline *cl, const char *exe,
                       enum as_output_type type, const struct as_env *env) {
  uint64_t seed[2];
  link_memory_seed(seed, cl, plugin.self, exe, type, AS_ORDER_COMMAND_LINE,
                   env);
  decided.have_digest = as_link_digest(plugin.link, seed, decided.digest);
  decided.memory_path = link_memory_path(cl, exe);
  if (!decided.have_digest || !decided.memory_path ||
      !link_memory_read(decided.memory_path, &decided.memory))
    return false;
  decided.known = link_memory_known(&decided.memory, decided.digest);
  return decided.known;
}

static void decide(void) {
  decided.made = true;
  struct as_link *link = the_link();
  enum as_output_type type = output_type();
  if (plugin.type && as_output_type_parse(plugin.type, &type) != 0) {
    as_diag_add(link, AS_ERROR, AS_E_USAGE, "unknown output type '%s'",
                plugin.type);
    as_diag_print(link, stderr);
    decided.rc = 2;
    return;
  }
  link->type = decided.type = type;

  struct as_request req;
  as_request_init(&req, plugin.allocator, "-plugin-opt allocator");
  struct ld_cmdline cl;
  read_cmdline(&cl);
  /* The linker we run inside: its built-in directories, and the key of
   * the link memory. */
  char exe[PATH_MAX];
  ssize_t n = plugin.from_cmdline
                  ? readlink("/proc/self/exe", exe, sizeof exe - 1)
                  : -1;
  exe[n > 0 ? n : 0] = '\0';
  if (plugin.from_cmdline) {
    /* The linker we run inside also searches its built-in directories. */
    if (n > 0 && !cl.relocatable)
      ld_cmdline_search_linker_dirs(&cl, exe);
    /* A plugin before ours (gcc's lto-plugin, which gcc always loads;
     * LLVMgold.so, which clang puts first under -flto) may claim inputs,
     * which claim_file then never sees: read the whole link from the
     * command line instead, as allocsel-ld does, so inputs keep their
     * order. */
    ld_cmdline_add_inputs(&cl, link);
  }

  struct as_env *env = &decided.env;
  as_env_init(env, plugin.libdir);
  /* What add_input_file adds after all_symbols_read is never offered to
   * LLVMgold.so: the plugin injects native allocators only. */
  env->lto_inject = false;
  env->static_link = cl.is_static;
  env->adds_after_libc = true; /* add_input_file lands after every input */
  if (type == AS_EXECUTABLE && cl.is_static) {
    /* What add_input_file adds comes after libc.a, whose malloc is in by
     * then: jemalloc cannot replace it from here. */
    env->jemalloc_static = NULL;
    env->jemalloc_static_why_not = "the linker plugin cannot add jemalloc to "
                                   "a static executable (allocsel-ld can)";
  }
  /* What the views cannot tell: options that redirect symbols, and which
   * files were given with --just-symbols (the linker shows them to
   * plugins like any input). */
  if (!plugin.from_cmdline) { /* ld_cmdline_add_inputs did both */
    for (size_t i = 0; i < cl.nredirects; i++)
      as_link_redirect(link, cl.redirects[i].option, cl.redirects[i].symbol);
    for (size_t i = 0; i < cl.ninputs; i++)
      for (size_t j = 0; cl.inputs[i].just_symbols && j < link->ninputs; j++)
        if (strcmp(link->inputs[j]->path, cl.inputs[i].path) == 0)
          link->inputs[j]->flags |= AS_ADD_JUST_SYMBOLS;
  }
  link->allow_abi_redirect |=
      cl.allow_abi_redirect || plugin.allow_abi_redirect;
  if (as_diag_exit_code(link) == 0 && as_link_add_request(link, &req) == 0 &&
      !(plugin.from_cmdline && known_link(&cl, exe, type, env))) {
    as_link_resolve(link);
    as_decide(link, &req, env, &decided.d);
  }
  decided.rc = as_diag_exit_code(link);
  if (decided.known) {
    size_t size;
    const char *text = link_memory_text(&decided.memory, &size);
    fwrite(text, 1, size, stderr);
    if (plugin.verbose || as_env_flag("ALLOCSEL_VERBOSE"))
      fputs("allocsel: the link is the remembered one\n", stderr);
  } else {
    FILE *said = open_memstream(&decided.said, &decided.said_size);
    FILE *f = said ? said : stderr;
    as_diag_print(link, f);
    if (decided.rc == 0 &&
        (plugin.verbose || as_env_flag("ALLOCSEL_VERBOSE"))) {
      fprintf(f, "allocsel: allocator: %s (%s)\n",
              decided.d.name ? decided.d.name : "none", decided.d.reason);
      if (decided.d.malloc)
        fprintf(f, "allocsel: malloc: %s\n", decided.d.malloc);
    }
    if (said) {
      fclose(said);
      fwrite(decided.said, 1, decided.said_size, stderr);
    }
  }
  ld_cmdline_free(&cl);
  as_request_free(&req);
}

static enum ld_plugin_status refused(void) {
  plugin.message(LDPL_FATAL, "allocsel: link refused (%s)",
                 decided.rc == 1 ? "an allocator rule is broken"
                                 : "see the error above");
  return LDPS_ERR;
}

/* Adds the inputs the decision adds, its libraries and its record. */
static void add_inputs(const char *const *added, size_t nadded,
                       const char *const *libs, size_t nlibs) {
  for (size_t i = 0; i < nadded; i++)
    if (strncmp(added[i], "-l", 2) == 0 && plugin.add_input_library)
      plugin.add_input_library(added[i] + 2);
    else
      plugin.add_input_file(added[i]);
  for (size_t i = 0; i < nlibs && plugin.add_input_library; i++)
    plugin.add_input_library(libs[i] + 2);
}

/* The remembered decision: its inputs, and its record as it was. */
static enum ld_plugin_status add_known(void) {
  const struct link_memory *m = &decided.memory;
  add_inputs(m->strings, m->h.nadded, m->strings + m->h.nadded, m->h.nlibs);
  if (!m->h.has_record)
    return LDPS_OK;
  size_t size;
  const char *record = link_memory_record(m, &size);
  /* As as_record_object makes it: no MFD_CLOEXEC, the linker opens it. */
  plugin.record_fd = memfd_create("allocsel-record.o", 0);
  if (plugin.record_fd < 0 || !as_write_all(plugin.record_fd, record, size)) {
    plugin.message(LDPL_FATAL, "allocsel: cannot create the decision record");
    return LDPS_ERR;
  }
  plugin.record = as_xasprintf("/dev/fd/%d", plugin.record_fd);
  plugin.add_input_file(plugin.record);
  return LDPS_OK;
}

static enum ld_plugin_status all_symbols_read(void) {
  if (!decided.made)
    decide();
  if (decided.rc != 0)
    return refused();
  if (decided.known)
    return add_known();
  const struct as_decision *d = &decided.d;
  enum as_output_type type = decided.type;
  const char *added[AS_MAX_DECISION_INPUTS];
  size_t nadded = as_decision_inputs(d, &decided.env, type, added);
  const char *libs[AS_MAX_UNIT_LIBRARIES];
  size_t nlibs = as_decision_libraries(d, type, libs);
  add_inputs(added, nadded, libs, nlibs);
  char *error = NULL;
  enum ld_plugin_status status = LDPS_OK;
  plugin.record_fd = as_record_object(d, type, &plugin.record, &error);
  if (plugin.record_fd >= 0) {
    plugin.add_input_file(plugin.record);
    if (decided.memory_path)
      link_memory_write(decided.memory_path, added, nadded, plugin.record_fd,
                        libs, nlibs,
                        decided.have_digest ? decided.digest : NULL,
                        decided.said, decided.said_size);
  } else {
    plugin.message(LDPL_FATAL, "allocsel: %s", error);
    status = LDPS_ERR;
  }
  free(error);
  return status;
}

static enum ld_plugin_status cleanup(void) {
  if (plugin.record_fd >= 0)
    close(plugin.record_fd);
  plugin.record_fd = -1;
  free(plugin.record);
  plugin.record = NULL;
  as_decision_free(&decided.d);
  link_memory_free(&decided.memory);
  free(decided.memory_path);
  free(decided.said);
  decided.memory_path = decided.said = NULL;
  as_link_free(plugin.link);
  plugin.link = NULL;
  free(plugin.libdir);
  free(plugin.self);
  plugin.libdir = plugin.self = NULL;
  return LDPS_OK;
}

static enum ld_plugin_status option(const char *opt) {
  if (strncmp(opt, "allocator=", 10) == 0)
    plugin.allocator = opt + 10;
  else if (strncmp(opt, "type=", 5) == 0)
    plugin.type = opt + 5;
  else if (strcmp(opt, "verbose") == 0)
    plugin.verbose = true;
  else if (strcmp(opt, "allow-abi-redirect") == 0)
    plugin.allow_abi_redirect = true;
  else {
    static const char *const keys[] = {"allocator", "type", "verbose",
                                       "allow-abi-redirect"};
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)strcspn(opt, "="), opt);
    const char *near = as_nearest(key, keys, 4);
    plugin.message(LDPL_FATAL,
                   "allocsel: unknown plugin option '%s' (expected "
                   "allocator=NAME|PATH, type=TYPE, verbose or "
                   "allow-abi-redirect)%s%s%s",
                   opt, near ? "; did you mean '" : "", near ? near : "",
                   near ? "'?" : "");
    return LDPS_ERR;
  }
  return LDPS_OK;
}

/* The one symbol the plugin exports. */
__attribute__((visibility("default"))) enum ld_plugin_status
onload(struct ld_plugin_tv *tv);

enum ld_plugin_status onload(struct ld_plugin_tv *tv) {
  ld_plugin_register_claim_file reg_claim = NULL;
  ld_plugin_register_all_symbols_read reg_read = NULL;
  ld_plugin_register_cleanup reg_cleanup = NULL;
  const char *opts[16];
  size_t nopts = 0;
  for (; tv->tv_tag != LDPT_NULL; tv++) {
    switch (tv->tv_tag) {
    case LDPT_MESSAGE:
      plugin.message = tv->tv_u.tv_message;
      break;
    case LDPT_LINKER_OUTPUT:
      plugin.output = tv->tv_u.tv_val;
      break;
    case LDPT_OPTION:
      if (nopts < sizeof opts / sizeof *opts)
        opts[nopts++] = tv->tv_u.tv_string;
      break;
    case LDPT_REGISTER_CLAIM_FILE_HOOK:
      reg_claim = tv->tv_u.tv_register_claim_file;
      break;
    case LDPT_REGISTER_ALL_SYMBOLS_READ_HOOK:
      reg_read = tv->tv_u.tv_register_all_symbols_read;
      break;
    case LDPT_REGISTER_CLEANUP_HOOK:
      reg_cleanup = tv->tv_u.tv_register_cleanup;
      break;
    case LDPT_ADD_INPUT_FILE:
      plugin.add_input_file = tv->tv_u.tv_add_input_file;
      break;
    case LDPT_ADD_INPUT_LIBRARY:
      plugin.add_input_library = tv->tv_u.tv_add_input_library;
      break;

    default:
      break;
    }
  }
  if (!plugin.message || !reg_claim || !reg_read || !plugin.add_input_file) {
    fputs("allocsel: error: this linker's plugin interface cannot inject an "
          "allocator; use allocsel-ld\n",
          stderr);
    return LDPS_ERR;
  }
  plugin.libdir = plugin_libdir();
  for (size_t i = 0; i < nopts; i++)
    if (option(opts[i]) != LDPS_OK)
      return LDPS_ERR;
  struct ld_cmdline cl;
  read_cmdline(&cl);
  plugin.from_cmdline = cl.plugin_before;
  ld_cmdline_free(&cl);
  if (reg_claim(claim_file) != LDPS_OK || reg_read(all_symbols_read) != LDPS_OK)
    return LDPS_ERR;
  if (reg_cleanup)
    reg_cleanup(cleanup);
  return LDPS_OK;
}
