/* A GNU-style linker command line, read the way ld.bfd and lld read it:
 * only what the allocator decision needs is interpreted; every argument
 * except allocsel's own options goes to the real linker untouched. */
#ifndef ALLOCSEL_LD_CMDLINE_H
#define ALLOCSEL_LD_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "selector.h"

struct ld_input {
  char *path;     /* file, or the library as found; NULL if not found */
  struct stat st; /* a library's, as the search found it */
  char *lib;      /* "-lNAME" spelling, for libraries */
  bool whole;     /* inside --whole-archive */
  bool static_search;
  bool lazy;         /* inside --start-lib: loaded only when referenced */
  bool as_needed;    /* after --as-needed */
  bool just_symbols; /* --just-symbols / -R FILE: addresses only */
  bool script;       /* -T FILE: a linker script */
  unsigned group;    /* --start-group it stands in (1, 2, ...), 0: none */
};

/* An option that points a symbol elsewhere: --defsym, --wrap. */
struct ld_redirect {
  char *option; /* as written, for diagnostics */
  char *symbol;
};

struct ld_cmdline {
  char **words; /* argv with @files expanded; owns the strings */
  size_t nwords;
  /* Arguments for the real linker, allocsel's own removed, @files kept
   * (unless allocsel's options were inside). They point into argv/words. */
  char **pass;
  size_t npass;
  size_t inject_at; /* index in pass before which the allocator goes */
  /* The state there: inside --whole-archive, after -Bstatic. */
  bool inject_in_whole, inject_in_static;

  struct ld_input *inputs;
  size_t ninputs;
  char **dirs; /* -L, in order, sysroot applied */
  size_t ndirs;
  struct ld_redirect *redirects;
  size_t nredirects;

  const char *output;
  const char *sysroot; /* --sysroot, wherever it stood */
  bool shared, relocatable, is_static;
  bool no_inputs_needed; /* --version, --help, -v alone */
  bool help, version;    /* which of them */

  /* allocsel's own options. */
  const char *allocator; /* --allocsel-allocator */
  /* How the request was spelt, for its origin: "--allocsel-allocator" or
   * "-plugin-opt allocator" (NULL: the former). */
  const char *allocator_option;
  const char *linker; /* --allocsel-linker */
  const char *type;   /* --allocsel-type */
  bool verbose;
  bool allow_abi_redirect;    /* --allocsel-allow-abi-redirect */
  const char *dropped_plugin; /* -plugin .../allocsel-plugin.so, removed */
  /* A plugin before allocsel's that may claim inputs allocsel's then never
   * sees (LLVMgold.so claims LLVM bitcode, gcc's liblto_plugin.so GCC's
   * LTO objects). */
  const char *plugin_before;
  char *error; /* usage error, or NULL */
};

/* allocsel's own options in the plugin's spelling (-plugin-opt KEY[=V]:
 * allocator=, type=, verbose, allow-abi-redirect), the first of each
 * winning: sets it in cl; false where `opt` is none of them. */
bool ld_cmdline_plugin_opt(struct ld_cmdline *cl, const char *opt);

/* -r: rlib, -shared: dylib, else executable; --allocsel-type wins. Returns
 * -1 on a bad --allocsel-type. */
int ld_output_type(const struct ld_cmdline *cl, enum as_output_type *type);

/* ld.bfd and gold resolve archives in command-line order, lld and mold do
 * not: from the linker's name (lld, bfd, ...) or its path. */
enum as_archive_order ld_archive_order(const char *choice, const char *path);

/* Adds every input of the command line to `link`, in order, as the linker
 * would read them; a library not found is an error there. */
void ld_cmdline_add_inputs(const struct ld_cmdline *cl, struct as_link *link);

/* Looks for the -l libraries not found in the -L directories where
 * `linker` itself looks (ld.bfd's built-in SEARCH_DIRs, sysroot applied). */
void ld_cmdline_search_linker_dirs(struct ld_cmdline *cl, const char *linker);

/* What allocsel-ld runs (NULL-terminated, malloc'd; the strings are the
 * caller's and cl's): the linker, the arguments before the first library,
 * what the decision adds (`added`, then the record if not NULL), the rest,
 * then the libraries the allocator's code needs (`libs`). */
char **ld_cmdline_command(const struct ld_cmdline *cl, const char *linker,
                          const char *const *added, size_t nadded,
                          const char *record, const char *const *libs,
                          size_t nlibs);

/* argv with every @FILE expanded as the linker and compiler drivers do;
 * NULL-terminated, *n words, each malloc'd; *error set on a self-including
 * @FILE. */
char **ld_cmdline_expand(char **argv, size_t argc, size_t *n, char **error);

/* Parses argv[1..argc). Never fails hard: usage problems land in ->error. */
void ld_cmdline_parse(struct ld_cmdline *cl, int argc, char **argv);
void ld_cmdline_free(struct ld_cmdline *cl);

#endif
