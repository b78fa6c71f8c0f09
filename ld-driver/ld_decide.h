/* The decision for a linker command line, made the same way by allocsel-ld
 * (before it runs the linker) and `allocsel check -- COMMAND` (instead). */
#ifndef ALLOCSEL_LD_DECIDE_H
#define ALLOCSEL_LD_DECIDE_H

#include "ld_cmdline.h"

/* ld.bfd and gold resolve archives in command-line order, lld and mold do
 * not: from the linker's name (lld, bfd, ...) or its path. */
enum as_archive_order ld_archive_order(const char *choice, const char *path);

/* -r: rlib, -shared: dylib, else executable; --allocsel-type wins. Returns
 * -1 on a bad --allocsel-type. */
int ld_output_type(const struct ld_cmdline *cl, enum as_output_type *type);

/* Scans the command line's inputs and decides. Returns the link (its
 * diagnostics tell the outcome: as_diag_exit_code), *dec filled when 0.
 * `known` (may be NULL) is asked once the inputs are read, before the
 * resolution: true means the caller knows the decision already (the same
 * link, made before), and *dec is left empty. */
struct as_link *ld_decide(const struct ld_cmdline *cl, enum as_output_type type,
                          enum as_archive_order order, struct as_env *env,
                          struct as_decision *dec,
                          bool (*known)(const struct as_link *link, void *ctx),
                          void *ctx);

#endif
