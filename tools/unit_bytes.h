/* The bytes of a link's units (unit_bytes.c): each input read whole once,
 * a member cut out of its archive, a thin archive's member read from its
 * own file. For `allocsel staticlib`, which copies them, and `allocsel
 * seal`, which reads their symbol tables. */
#ifndef ALLOCSEL_TOOLS_UNIT_BYTES_H
#define ALLOCSEL_TOOLS_UNIT_BYTES_H

#include <stdbool.h>
#include <stddef.h>

#include "selector.h"

struct unit_bytes {
  char **files; /* each input's bytes */
  size_t *sizes;
  size_t nfiles;
  char **owned; /* thin members' bytes */
  size_t nowned, cap_owned;
};

/* Reads every input of `link`: 0, or 2 with a diagnostic. */
int unit_bytes_open(struct unit_bytes *b, struct as_link *link);
/* The unit's bytes (valid until unit_bytes_close): 0, or 2 with a
 * diagnostic. */
int unit_bytes_get(struct unit_bytes *b, struct as_link *link,
                   const struct as_unit *u, const void **data, size_t *size);
void unit_bytes_close(struct unit_bytes *b);

#endif
