/* Units: making one, and what its symbol names mean to allocsel. Every
 * scanner (ELF, bitcode) builds its units through these. */
#include "unit.h"
#include "symtab.h"

#include <stdlib.h>
#include <string.h>

static const char marker_prefix[] = "__allocsel_allocator_";
static const char library_prefix[] = "__allocsel_library_";
static const char sealed_prefix[] = "__allocsel_sealed_";

/* rustc's allocator shim: __rust_alloc, or since Rust 1.7x its v0-mangled
 * form, _RNvCs<hash>_7___rustc12___rust_alloc. */
static bool is_rust_shim(const char *name) {
  static const char v0[] = "7___rustc12___rust_alloc";
  size_t n = strlen(name);
  return strcmp(name, "__rust_alloc") == 0 ||
         (name[0] == '_' && name[1] == 'R' && n > sizeof v0 &&
          strcmp(name + n - (sizeof v0 - 1), v0) == 0);
}

/* Called for every symbol of every input: most names are told apart by
 * their first bytes, without a string comparison. */
enum as_name_class as_classify_name(const char *name) {
  switch (name[0]) {
  case 'm': /* malloc, mallocx */
    if (strncmp(name, "malloc", 6) != 0)
      return AS_NAME_NONE;
    return !name[6]                     ? AS_NAME_MALLOC
           : name[6] == 'x' && !name[7] ? AS_NAME_JEMALLOC
                                        : AS_NAME_NONE;
  case 'r':
    return strcmp(name, "rust_eh_personality") == 0 ? AS_NAME_RUST_RUNTIME
                                                    : AS_NAME_NONE;
  case '_':
    break;
  default:
    return AS_NAME_NONE;
  }
  if (name[1] == 'R')
    return is_rust_shim(name) ? AS_NAME_RUST_SHIM : AS_NAME_NONE;
  if (name[1] != '_')
    return AS_NAME_NONE;
  if (strcmp(name, "__rust_alloc") == 0)
    return AS_NAME_RUST_SHIM;
  if (strncmp(name + 2, "rust_", 5) == 0) {
    for (int i = 0; i < AS_ABI_COUNT; i++)
      if (strcmp(name, as_abi[i]) == 0)
        return (enum as_name_class)i;
    return AS_NAME_NONE;
  }
  if (strncmp(name + 2, "allocsel_", 9) != 0)
    return AS_NAME_NONE;
  if (strcmp(name, "__allocsel_needs_allocator") == 0)
    return AS_NAME_NEEDS;
  if (strncmp(name, marker_prefix, sizeof marker_prefix - 1) == 0 &&
      name[sizeof marker_prefix - 1])
    return AS_NAME_MARKER;
  if (strncmp(name, library_prefix, sizeof library_prefix - 1) == 0 &&
      name[sizeof library_prefix - 1])
    return AS_NAME_LIBRARY;
  if (strncmp(name, sealed_prefix, sizeof sealed_prefix - 1) == 0 &&
      name[sizeof sealed_prefix - 1])
    return AS_NAME_SEALED;
  return AS_NAME_NONE;
}

/* A malloc library by its file's name: libjemalloc.so.2,
 * libtcmalloc_minimal.so.4, -lmimalloc. */
const char *as_malloc_implementation(const char *path) {
  static const char *const known[] = {"jemalloc", "tcmalloc", "mimalloc"};
  const char *b = as_base_name(path);
  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if (strstr(b, known[i]))
      return known[i];
  return NULL;
}

uint32_t as_unit_new(struct as_link *link, uint32_t input, const char *member,
                     size_t member_off) {
  size_t len = member ? strlen(member) + 1 : 0;
  struct as_unit *u = as_arena_alloc(&link->arena, sizeof *u + len);
  *u = (struct as_unit){.input = input,
                        .member = member ? memcpy(u + 1, member, len) : NULL,
                        .member_off = member_off,
                        .why_sym = AS_NO_UNIT,
                        .why_unit = AS_NO_UNIT};
  *AS_PUSH(link->units, link->nunits, link->cap_units) = u;
  return (uint32_t)(link->nunits - 1);
}

/* Records what a symbol tells about allocators. */
static void note_class(struct as_unit *u, enum as_name_class c,
                       const char *name, bool defined) {
  if (c == AS_NAME_NONE)
    return;
  if ((int)c < AS_ABI_COUNT) {
    *(defined ? &u->abi_defined : &u->abi_undef) |= 1u << c;
    return;
  }
  if (!defined)
    return;
  if (c == AS_NAME_NEEDS)
    u->needs_marker = true;
  else if (c == AS_NAME_JEMALLOC)
    u->defines_jemalloc = true;
  else if (c == AS_NAME_RUST_SHIM)
    u->rust_shim = true;
  else if (c == AS_NAME_RUST_RUNTIME)
    u->rust_runtime = true;
  else if (c == AS_NAME_MALLOC)
    u->defines_malloc = true;
  else if (c == AS_NAME_SEALED)
    u->sealed = true;
  else if (c == AS_NAME_LIBRARY && u->nlibraries < AS_MAX_UNIT_LIBRARIES) {
    const char *lib = name + sizeof library_prefix - 1;
    bool dup = false;
    for (uint32_t i = 0; i < u->nlibraries && !dup; i++)
      dup = strcmp(u->libraries[i], lib) == 0;
    if (!dup)
      u->libraries[u->nlibraries++] = as_xstrdup(lib);
  } else if (!u->allocator)
    u->allocator = as_xstrdup(name + sizeof marker_prefix - 1);
}

void as_unit_add_symbol(struct as_link *link, struct as_unit *u,
                        struct as_unit_caps *caps, const char *name, size_t len,
                        bool defined, bool weak) {
  if (as_name_may_matter(name))
    note_class(u, as_classify_name(name), name, defined);
  /* Interned even where only referenced names are (AS_SCAN_REFERENCED):
   * a definition comes here interned already from elf_native.c, or from
   * libelf's or bitcode's scanners, whose names lie in memory of their own
   * that a name put aside could not point into. */
  if (!defined && weak)
    return; /* weak references never pull members in */
  uint32_t id = as_symtab_intern(link->symtab, name, len);
  if (defined)
    *AS_PUSH(u->defs, u->ndefs, caps->defs) = id;
  else if (!weak) /* weak references never pull members in */
    *AS_PUSH(u->undefs, u->nundefs, caps->undefs) = id;
}

/* The quick scan's form: classify only, intern nothing. */
void as_unit_note_symbol(struct as_unit *u, const char *name, bool defined) {
  note_class(u, as_classify_name(name), name, defined);
}

void as_unit_finish(struct as_link *link, struct as_unit *u) {
  u->abi_undef &= ~u->abi_defined;
  if (link->scan == AS_SCAN_QUICK &&
      (u->allocator || u->abi_defined || u->needs_marker || u->rust_shim))
    as_link_scan_full(link,
                      u->allocator      ? "it is an allocator"
                      : u->abi_defined  ? "it defines the allocator ABI"
                      : u->needs_marker ? "it carries the needs-marker"
                                        : "it is a Rust allocator shim",
                      as_unit_origin(link, u));
}

void as_unit_offer_defs(struct as_link *link, const struct as_unit *u,
                        uint32_t input, size_t off,
                        void (*fn)(void *ctx, uint32_t input, uint32_t sym,
                                   size_t off),
                        void *ctx) {
  for (uint32_t j = 0; j < u->ndefs; j++)
    fn(ctx, input, u->defs[j], off);
  /* As an index entry, each needs a name: one put aside is interned. */
  struct as_symtab *st = link->symtab;
  for (uint32_t a = u->aside_first; a < u->aside_end; a++) {
    const char *name = as_aside_name(st, a);
    fn(ctx, input, as_symtab_intern(st, name, strlen(name)), off);
  }
}

void as_unit_clear(struct as_unit *u) {
  free(u->defs);
  free(u->undefs);
  free((char *)u->allocator);
  u->defs = u->undefs = NULL;
  u->ndefs = u->nundefs = 0;
  u->allocator = NULL;
  u->abi_defined = u->abi_undef = 0;
  u->needs_marker = u->defines_jemalloc = false;
  u->rust_shim = u->rust_runtime = u->defines_malloc = u->sealed = false;
  u->needs_malloc_library = false;
  for (uint32_t i = 0; i < u->nlibraries; i++)
    free(u->libraries[i]);
  u->nlibraries = 0;
}

const char *as_unit_origin(struct as_link *link, const struct as_unit *u) {
  struct as_unit *mu = (struct as_unit *)u;
  if (!mu->origin) {
    const char *path = link->inputs[u->input]->path;
    mu->origin =
        u->member ? as_xasprintf("%s(%s)", path, u->member) : as_xstrdup(path);
  }
  return mu->origin;
}
