/* The link: inputs, units and diagnostics of one link (or one check). */
#include "archive.h"
#include "cache.h"
#include "link_internal.h"
#include "symtab.h"

#include <stdlib.h>
#include <string.h>

const char *const as_abi[AS_ABI_COUNT] = {
    "__rust_allocate",           "__rust_deallocate",  "__rust_reallocate",
    "__rust_reallocate_inplace", "__rust_usable_size",
};

static const char *const type_names[] = {
    [AS_EXECUTABLE] = "executable",
    [AS_DYLIB] = "dylib",
    [AS_STATICLIB] = "staticlib",
    [AS_RLIB] = "rlib",
};

const char *as_output_type_name(enum as_output_type type) {
  return type_names[type];
}

int as_output_type_parse(const char *s, enum as_output_type *out) {
  for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++)
    if (strcmp(s, type_names[i]) == 0) {
      *out = (enum as_output_type)i;
      return 0;
    }
  return -1;
}

struct as_link *as_link_new(enum as_output_type type) {
  struct as_link *link = as_xcalloc(1, sizeof *link);
  link->type = type;
  link->tool = "allocsel";
  link->symtab = as_symtab_new();
  for (int i = 0; i < AS_ABI_COUNT; i++)
    link->abi_ids[i] =
        as_symtab_intern(link->symtab, as_abi[i], strlen(as_abi[i]));
  link->needs_id = as_symtab_intern(link->symtab, "__allocsel_needs_allocator",
                                    strlen("__allocsel_needs_allocator"));
  return link;
}

void as_link_free(struct as_link *link) {
  if (!link)
    return;
  free(link->scan_input);
  for (size_t i = 0; i < link->ninputs; i++) {
    as_archive_close(link->inputs[i]);
  }
  for (size_t i = 0; i < link->nunits; i++) {
    struct as_unit *u = link->units[i];
    free(u->defs);
    free(u->undefs);
    free((char *)u->allocator);
    free(u->origin);
    free(u->file);
    free(u->raw);
    for (uint32_t j = 0; j < u->nlibraries; j++)
      free(u->libraries[j]);
  }
  as_diag_truncate(link, 0);
  for (size_t i = 0; i < link->nredirects; i++) {
    free(link->redirects[i].option);
    free(link->redirects[i].symbol);
  }
  free(link->redirects);
  for (size_t i = 0; i < link->nlib_dirs; i++)
    free(link->lib_dirs[i]);
  free(link->lib_dirs);
  free(link->sysroot);
  free(link->inputs);
  free(link->units);
  free(link->diags);
  as_symtab_free(link->symtab);
  as_cache_free(link->cache);
  as_bitcode_reader_free(link->bitcode);
  as_arena_free(&link->arena); /* the inputs and units */
  free(link);
}

const char *as_sym_name(const struct as_link *link, uint32_t id) {
  return as_symtab_get(link->symtab, id)->name;
}

void as_link_redirect(struct as_link *link, const char *option,
                      const char *symbol) {
  *AS_PUSH(link->redirects, link->nredirects, link->cap_redirects) =
      (struct as_redirect){as_xstrdup(option), as_xstrdup(symbol)};
}

void as_link_search_dir(struct as_link *link, const char *dir) {
  *AS_PUSH(link->lib_dirs, link->nlib_dirs, link->cap_lib_dirs) =
      as_xstrdup(dir);
}

void as_link_set_sysroot(struct as_link *link, const char *sysroot) {
  free(link->sysroot);
  link->sysroot = sysroot && *sysroot ? as_xstrdup(sysroot) : NULL;
}

void as_link_begin_group(struct as_link *link) {
  if (!link->current_group)
    link->current_group = ++link->ngroups;
}

void as_link_end_group(struct as_link *link) {
  link->current_group = 0;
}

void as_link_library_not_found(struct as_link *link, const char *lib) {
  struct as_diag *d = as_diag_add(link, AS_ERROR, AS_E_LIBRARY_NOT_FOUND,
                                  "unable to find library %s", lib);
  as_diag_note(d, "looked for in the -L directories, in order");
  as_diag_hint(d, "add the directory that holds it with -L, or install it");
}
