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
#include "session.h"

static struct {
  ld_plugin_message message;
  ld_plugin_add_input_file add_input_file;
  ld_plugin_add_input_library add_input_library;
  int output; /* enum ld_plugin_output_file_type, -1 unknown */
  /* -plugin-opt allocator=, type=, verbose, allow-abi-redirect, read as
   * allocsel-ld reads them (ld_cmdline_plugin_opt). */
  struct ld_cmdline opts;
  /* A plugin stands before ours on the command line (gcc's lto-plugin,
   * LLVMgold.so): what it claims is never shown to us, so the decision
   * reads the link from the command line and the views are not read. */
  bool from_cmdline;
  int allocators; /* allocator units among the views so far */
  char *libdir;   /* lib/allocsel: where this plugin was loaded from */
  char *self;     /* this plugin's file */
} plugin = {.output = -1};

/* The decision, made once (session.h): at the first input when the plugin
 * reads the link from the command line (so a refusal comes before the
 * linker has read anything, let alone printed its own duplicate-symbol
 * errors), else at all_symbols_read from the views. */
static struct {
  bool started, made;
  struct as_session s;
  struct ld_cmdline cl; /* the linker's, kept for the link memory */
  char exe[PATH_MAX];   /* the linker we run inside */
} decided;

static void decide(void);
static enum ld_plugin_status refused(void);

static enum as_output_type output_type(void);

static struct as_session *the_session(void) {
  if (!decided.started) {
    decided.started = true;
    as_session_init(&decided.s, output_type(), plugin.libdir,
                    plugin.opts.allocator, "-plugin-opt allocator",
                    plugin.opts.verbose);
    decided.s.link->order = AS_ORDER_COMMAND_LINE; /* ld.bfd and gold */
  }
  return &decided.s;
}

static struct as_link *the_link(void) {
  return the_session()->link;
}

/* The member name from the ar header just before the member's data; GNU
 * long names ("/N") are looked up in the "//" table, which comes first or
 * second in the archive. */
static char *member_name(int fd, off_t offset) {
  struct as_ar_hdr h, t;
  size_t size;
  if (offset < (off_t)(AS_AR_MAGIC_LEN + sizeof h) ||
      pread(fd, &h, sizeof h, offset - (off_t)sizeof h) != sizeof h ||
      !as_ar_hdr_size(&h, &size))
    return NULL;
  char *table = NULL;
  size_t table_size = 0;
  off_t pos = AS_AR_MAGIC_LEN;
  for (int i = 0;
       as_ar_is_long_ref(&h) && i < 2 &&
       pread(fd, &t, sizeof t, pos) == sizeof t && as_ar_hdr_size(&t, &size);
       i++) {
    if (as_ar_is_longnames(&t)) {
      table = size < (1u << 26) ? as_xmalloc(size) : NULL;
      if (table &&
          pread(fd, table, size, pos + (off_t)sizeof t) == (ssize_t)size)
        table_size = size;
      break;
    }
    pos += (off_t)(sizeof t + size + (size & 1));
  }
  const char *name;
  size_t len;
  char *copy = as_ar_member_name(&h, table, table_size, &name, &len)
                   ? as_xasprintf("%.*s", (int)len, name)
                   : NULL;
  free(table);
  return copy;
}

static bool refuse_early(void) {
  struct as_session *sn = the_session();
  if (as_check_early(sn->link, &sn->req, &sn->env) == 0)
    return false;
  as_diag_print(sn->link, stderr);
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
    return decided.s.rc == 0 ? LDPS_OK : refused();
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
          ++plugin.allocators == 2 && refuse_early()) {
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

static void decide(void) {
  decided.made = true;
  struct as_session *sn = the_session();
  struct as_link *link = sn->link;
  const char *type = plugin.opts.type;
  if (type && as_output_type_parse(type, &sn->type) != 0) {
    as_diag_add(link, AS_ERROR, AS_E_USAGE, "unknown output type '%s'", type);
    as_diag_print(link, stderr);
    sn->rc = 2;
    return;
  }
  struct ld_cmdline *cl = &decided.cl;
  read_cmdline(cl);
  if (plugin.from_cmdline) {
    /* The linker we run inside: its built-in directories, and the key of
     * the link memory. */
    char *exe = decided.exe;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof decided.exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    if (n > 0 && !cl->relocatable)
      ld_cmdline_search_linker_dirs(cl, exe);
    /* A plugin before ours (gcc's lto-plugin, which gcc always loads;
     * LLVMgold.so, which clang puts first under -flto) may claim inputs,
     * which claim_file then never sees: read the whole link from the
     * command line instead, as allocsel-ld does, so inputs keep their
     * order. Read so, the link can be the remembered one. */
    ld_cmdline_add_inputs(cl, link);
    as_session_remember(sn, cl, plugin.self, exe, AS_ORDER_COMMAND_LINE);
  } else {
    /* What the views cannot tell: options that redirect symbols, and
     * which files were given with --just-symbols (the linker shows them
     * to plugins like any input); ld_cmdline_add_inputs does both. */
    for (size_t i = 0; i < cl->nredirects; i++)
      as_link_redirect(link, cl->redirects[i].option, cl->redirects[i].symbol);
    for (size_t i = 0; i < cl->ninputs; i++)
      for (size_t j = 0; cl->inputs[i].just_symbols && j < link->ninputs; j++)
        if (strcmp(link->inputs[j]->path, cl->inputs[i].path) == 0)
          link->inputs[j]->flags |= AS_ADD_JUST_SYMBOLS;
  }

  struct as_env *env = &sn->env;
  /* What add_input_file adds after all_symbols_read is never offered to
   * LLVMgold.so: the plugin injects native allocators only. */
  env->lto_inject = false;
  env->static_link = cl->is_static;
  env->adds_after_libc = true; /* add_input_file lands after every input */
  if (sn->type == AS_EXECUTABLE && cl->is_static) {
    /* What add_input_file adds comes after libc.a, whose malloc is in by
     * then: jemalloc cannot replace it from here. */
    env->jemalloc_static = NULL;
    env->jemalloc_static_why_not = "the linker plugin cannot add jemalloc to "
                                   "a static executable (allocsel-ld can)";
  }
  link->allow_abi_redirect |=
      cl->allow_abi_redirect || plugin.opts.allow_abi_redirect;
  as_session_decide(sn, stderr);
}

static enum ld_plugin_status refused(void) {
  plugin.message(LDPL_FATAL, "allocsel: link refused (%s)",
                 decided.s.rc == 1 ? "an allocator rule is broken"
                                   : "see the error above");
  return LDPS_ERR;
}

/* Adds what the decision adds: its inputs, its libraries, its record. */
static enum ld_plugin_status all_symbols_read(void) {
  if (!decided.made)
    decide();
  const struct as_session *sn = &decided.s;
  if (sn->rc != 0)
    return refused();
  for (size_t i = 0; i < sn->nadded; i++)
    if (strncmp(sn->added[i], "-l", 2) == 0 && plugin.add_input_library)
      plugin.add_input_library(sn->added[i] + 2);
    else
      plugin.add_input_file(sn->added[i]);
  for (size_t i = 0; i < sn->nlibs && plugin.add_input_library; i++)
    plugin.add_input_library(sn->libs[i] + 2);
  if (sn->record)
    plugin.add_input_file(sn->record);
  as_session_keep(&decided.s);
  return LDPS_OK;
}

static enum ld_plugin_status cleanup(void) {
  if (decided.started)
    as_session_free(&decided.s);
  if (decided.made)
    ld_cmdline_free(&decided.cl);
  decided.started = decided.made = false;
  free(plugin.libdir);
  free(plugin.self);
  plugin.libdir = plugin.self = NULL;
  return LDPS_OK;
}

static enum ld_plugin_status option(const char *opt) {
  if (!ld_cmdline_plugin_opt(&plugin.opts, opt)) {
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
