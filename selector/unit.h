/* Units and what their symbols' names mean (unit.c): built by the ELF
 * and bitcode readers, read by resolution and the rules. */
#ifndef ALLOCSEL_SELECTOR_UNIT_H
#define ALLOCSEL_SELECTOR_UNIT_H

#include "symtab.h"

/* What a symbol name means to allocsel, from the name alone (unit.c). */
enum as_name_class {
  AS_NAME_NONE = -1,
  /* 0 .. AS_ABI_COUNT-1: that ABI entry point */
  AS_NAME_NEEDS = AS_ABI_COUNT, /* __allocsel_needs_allocator */
  AS_NAME_MARKER,               /* __allocsel_allocator_NAME */
  AS_NAME_LIBRARY,              /* __allocsel_library_NAME: -lNAME needed */
  AS_NAME_JEMALLOC,             /* mallocx: jemalloc's own code is linked */
  AS_NAME_RUST_SHIM,            /* __rust_alloc: rustc's allocator shim */
  AS_NAME_RUST_RUNTIME,         /* rust_eh_personality: Rust's std */
  AS_NAME_MALLOC,               /* malloc: a malloc implementation */
  AS_NAME_SEALED, /* __allocsel_sealed_HASH: a sealed guest (allocsel seal) */
};
enum as_name_class as_classify_name(const char *name);
/* Could as_classify_name find anything in this name? Every name allocsel
 * looks for starts "__", "_R", "m" or "r": the test the scanners make
 * inline before any call, for every symbol of every input. */
static inline bool as_name_may_matter(const char *name) {
  return name[0] == '_' ? name[1] == '_' || name[1] == 'R'
                        : name[0] == 'm' || name[0] == 'r';
}
/* Does a definition of this class in an archive's index make which members
 * the link pulls in matter (an allocator, a marker, a Rust shim, a malloc
 * implementation bundled in a static library, a sealed guest: the decision
 * and the record name them)? */
static inline bool as_name_decides(enum as_name_class c) {
  return c != AS_NAME_NONE && c != AS_NAME_JEMALLOC &&
         c != AS_NAME_RUST_RUNTIME;
}

/* Building a unit (unit.c), shared by the ELF and bitcode scanners: make
 * it, add each global symbol, then finish it. */
uint32_t as_unit_new(struct as_link *link, uint32_t input, const char *member,
                     size_t member_off);
struct as_unit_caps {
  size_t defs, undefs;
};
void as_unit_add_symbol(struct as_link *link, struct as_unit *u,
                        struct as_unit_caps *caps, const char *name, size_t len,
                        bool defined, bool weak);
/* The quick scan's form: records the allocator facts, interns nothing. */
void as_unit_note_symbol(struct as_unit *u, const char *name, bool defined);
void as_unit_finish(struct as_link *link, struct as_unit *u);
/* Offers each definition of a unit the link may pull in (a member of an
 * archive without an index, a --start-lib object) to fn, as an index
 * entry (input, off) is offered: names it put aside are interned for it.
 * fn may pull units in. */
void as_unit_offer_defs(
    struct as_link *link, const struct as_unit *u, uint32_t input, size_t off,
    void (*fn)(void *ctx, uint32_t input, uint32_t sym, size_t off), void *ctx);
/* Drops what a unit that failed to scan had read: it stays (its origin
 * names the diagnostic) but is inert. */
void as_unit_clear(struct as_unit *u);

#endif
