/* What the rules, resolution and the readers share besides: linker
 * scripts (script.c), why a unit is in (resolve.c), what serves malloc
 * (malloc.c), the link's C library (libc.c), tentative diagnostics
 * (diag.c), LLVM bitcode (bitcode.c). */
#ifndef ALLOCSEL_SELECTOR_LINK_INTERNAL_H
#define ALLOCSEL_SELECTOR_LINK_INTERNAL_H

#include "selector.h"

/* A linker script's text (script.c): adds the files it names as inputs.
 * Returns 0, or -1 with diagnostics. */
int as_script_add_inputs(struct as_link *link, uint32_t input, const char *text,
                         size_t size);

/* The command that seals the library holding `u` ("allocsel seal -o
 * DIR/libx.sealed.a DIR/libx.a"), for a hint: malloc'd (diag.c). */
char *as_seal_command(struct as_link *link, const struct as_unit *u);
/* Notes on `d` saying why `u` is in the link (rules.c). */
void as_why_notes(struct as_link *link, struct as_diag *d,
                  const struct as_unit *u);

/* The first linked malloc implementation other than libc's that the
 * program keeps (one --as-needed drops is not its malloc), or NULL. */
const struct as_unit *as_link_malloc_unit(struct as_link *link);
/* What serves malloc (malloc.c): fills d->malloc, or records the error
 * for two malloc implementations and returns 1. */
int as_decide_malloc(struct as_link *link, const struct as_env *env,
                     struct as_decision *d);

/* system, jemalloc, mimalloc or tcmalloc (rules.c). */
bool as_allocator_is_shipped(const char *name);

/* The link's libc.a or libc.so where it is not this system's C library,
 * for which the shipped allocators' libraries are built (dietlibc's,
 * musl's, a sysroot's), else NULL (libc.c). */
const char *as_link_foreign_libc(const struct as_link *link,
                                 const struct as_env *env);
/* This system's C library (its libc.so), NULL if unknown. */
const char *as_system_libc(const struct as_env *env);

/* Drops the diagnostics added after the first n (a tentative read). */
void as_diag_truncate(struct as_link *link, size_t n);

/* LLVM bitcode (bitcode.c): the unit's symbols, read by the bitcode reader
 * process from `size` bytes at `file_off` in `path`. Returns 0, or -1 with
 * a diagnostic naming the unit. */
int as_scan_bitcode(struct as_link *link, struct as_unit *u, const char *path,
                    size_t file_off, size_t size);
void as_bitcode_reader_free(struct as_bitcode_reader *r);

#endif
