/* The API a sealed library keeps when none is named (seal_api.c). */
#ifndef ALLOCSEL_TOOLS_SEAL_API_H
#define ALLOCSEL_TOOLS_SEAL_API_H

#include <stddef.h>

#include "selector.h"

/* The global C names the link's own units define: *keep (malloc'd
 * strings) gets them. 0, or -1 with a diagnostic on the link or a
 * malloc'd *error. */
int seal_default_api(struct as_link *link, char ***keep, size_t *nkeep,
                     char **error);

#endif
