/* Internals of the selector library: not for front ends. */
#ifndef ALLOCSEL_SELECTOR_INTERNAL_H
#define ALLOCSEL_SELECTOR_INTERNAL_H

#include "selector.h"

#define AS_NO_UNIT UINT32_MAX

/* One interned symbol and its resolution state, as in lld's Symbol. */
struct as_sym {
  const char *name;
  uint32_t len;
  uint32_t hash;
  uint32_t def;        /* first linked unit defining it, or AS_NO_UNIT */
  uint32_t lazy_input; /* archive whose index offers it, or AS_NO_UNIT */
  size_t lazy_off;     /* that member's offset in the archive */
  bool referenced;     /* some linked unit references it, unresolved */
};

struct as_symtab *as_symtab_new(void);
void as_symtab_free(struct as_symtab *st);
uint32_t as_symtab_intern(struct as_symtab *st, const char *name, size_t len);
struct as_sym *as_symtab_get(const struct as_symtab *st, uint32_t id);
uint32_t as_symtab_count(const struct as_symtab *st);

/* Loads the archive member at `off` as a new unit (scan_elf.c). Returns the
 * unit index, the existing one if loaded before, or AS_NO_UNIT on error. */
uint32_t as_archive_load_member(struct as_link *link, uint32_t input,
                                size_t off);
/* Offsets of every member, for --whole-archive; -1 on error. */
int as_archive_load_all(struct as_link *link, uint32_t input);
/* Visits the archive's symbol index: (symbol id, member offset). */
void as_archive_index(struct as_link *link, uint32_t input,
                      void (*fn)(void *ctx, uint32_t input, uint32_t sym,
                                 size_t off),
                      void *ctx);
void as_archive_close(struct as_input *in);
int as_unit_rescan(struct as_link *link, uint32_t unit);

/* Building a unit's symbol lists, shared by the ELF and bitcode scanners:
 * add each global symbol, then finish the unit. */
struct as_unit_caps {
  size_t defs, undefs;
};
void as_unit_add_symbol(struct as_link *link, struct as_unit *u,
                        struct as_unit_caps *caps, const char *name,
                        size_t len, bool defined, bool weak);
void as_unit_finish(struct as_link *link, struct as_unit *u);

/* LLVM bitcode (scan_bitcode.c): the unit's symbols, read with LLVM's C
 * API. Returns 0, or -1 with a diagnostic naming `origin`. */
int as_scan_bitcode(struct as_link *link, struct as_unit *u,
                    const char *origin, const void *data, size_t size);
struct as_llvm;
void as_llvm_free(struct as_llvm *l);
bool as_is_bitcode(const void *data, size_t size);

/* Growable arrays: AS_PUSH(ptr, n, cap) returns a pointer to the new slot. */
void *as_grow(void *ptr, size_t *cap, size_t need, size_t elem);
#define AS_PUSH(ptr, n, cap)                                                   \
  ((ptr) = as_grow((ptr), &(cap), (n) + 1, sizeof *(ptr)), &(ptr)[(n)++])

void *as_xmalloc(size_t n);
void *as_xcalloc(size_t n, size_t size);
char *as_xstrdup(const char *s);
char *as_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
