/* A GNU ar archive writer for `allocsel staticlib`. */
#ifndef ALLOCSEL_AR_WRITER_H
#define ALLOCSEL_AR_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "selector.h"

struct ar_writer;

struct ar_writer *ar_writer_new(void);
/* Adds a member; `data` and `syms` must live until ar_writer_write. */
void ar_writer_add(struct ar_writer *w, const char *name, const void *data,
                   size_t size, const struct as_link *link,
                   const uint32_t *syms, uint32_t nsyms);
/* Returns 0, or -1 with a malloc'd *error. */
int ar_writer_write(struct ar_writer *w, const char *path, char **error);
void ar_writer_free(struct ar_writer *w);

#endif
