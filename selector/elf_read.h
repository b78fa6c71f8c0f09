/* ELF symbol tables: read natively (elf_native.c), else through libelf
 * (elf_symbols.c). */
#ifndef ALLOCSEL_SELECTOR_ELF_READ_H
#define ALLOCSEL_SELECTOR_ELF_READ_H

#include <libelf.h>
#include <string.h>

#include "symtab.h"

/* ELF symbol tables (elf_symbols.c): .symtab of an object, .dynsym of a
 * shared library. `quick` reads only the allocator facts. */
int as_scan_elf(struct as_link *link, struct as_unit *u, Elf *e, size_t size,
                bool quick);
/* A unit's ELF symbols, the one way every reader takes: natively from
 * `raw` where it could be read so (elf_native.c; NULL: it could not),
 * else through libelf from `fd` (>= 0: read section by section with
 * pread) or `data` (`size` bytes). Returns 0; -1 with a diagnostic; or
 * AS_ELF_UNREADABLE where libelf cannot open the bytes either (the caller
 * says so, elf_errmsg(-1) telling why). *native: the unit was read from
 * raw, which its names may point into (the caller keeps it); else nothing
 * refers to raw. */
enum { AS_ELF_UNREADABLE = -2 };
int as_scan_elf_unit(struct as_link *link, uint32_t unit_id, struct as_unit *u,
                     const struct as_elf_syms *raw, int fd, void *data,
                     size_t size, bool quick, bool *native);
/* Native ELF64 little-endian symbol tables (elf_native.c): the global
 * part of the symbol table and its string table, in one allocation. NULL
 * where the file is anything else or out of the ordinary: libelf reads it
 * then. A unit read quickly keeps them (as_unit.raw). */
struct as_elf_syms {
  const unsigned char *syms; /* Elf64_Sym each: read with as_elf_sym */
  const char *strtab;
  uint32_t nsyms, strsize;
  bool shared;
  bool needs_malloc_library; /* DT_NEEDED names a malloc library */
  uint16_t machine;
};
/* From a file whose first `headlen` bytes are in `head`, or from memory. */
struct as_elf_syms *as_elf_syms_read_fd(int fd, size_t size,
                                        const unsigned char *head,
                                        size_t headlen);
struct as_elf_syms *as_elf_syms_read_memory(const void *data, size_t size);
/* The same read in place: the result points into `data` (which must
 * outlive it) and owns nothing but itself. */
struct as_elf_syms *as_elf_syms_view_memory(const void *data, size_t size);
/* A copy read in full keeps its strings only (names put aside point into
 * them): the symbols are cut off. The strings may move. */
struct as_elf_syms *as_elf_syms_keep_strings(struct as_elf_syms *r);
/* A unit read in full keeps them so (as_unit.raw), the names it put aside
 * following its strings where they moved. */
void as_unit_keep_strings(struct as_link *link, struct as_unit *u,
                          struct as_elf_syms *r);
/* The symbol's name, binding and section: its first eight bytes, all a
 * scanner reads (value and size stay 0). In place, a member's table may be
 * misaligned, hence the copy. */
static inline Elf64_Sym as_elf_sym(const struct as_elf_syms *r, uint32_t i) {
  Elf64_Sym s = {0};
  memcpy(&s, r->syms + (size_t)i * sizeof s, offsetof(Elf64_Sym, st_value));
  return s;
}
/* Interns the strong references among them ahead of resolution, so that
 * definitions of those names need not go aside; it stops at a GCC LTO
 * object or a malformed name, which the full scan deals with. */
void as_elf_syms_intern_refs(const struct as_elf_syms *r, struct as_symtab *st);
/* Scans them into the unit (link->units[unit_id], or a unit of no link's
 * when quick): 0, -1 with a diagnostic, or 1 for a GCC LTO object (its
 * symbols are in sections libelf reads). Definitions it puts aside point
 * into `r`, which must outlive the resolution. */
int as_scan_elf_syms(struct as_link *link, uint32_t unit_id, struct as_unit *u,
                     const struct as_elf_syms *r, bool quick);

#endif
