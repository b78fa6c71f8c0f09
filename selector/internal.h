/* Every internal header of the selector library, for its unit tests and
 * fuzzers; never for front ends (they include frontend.h). The library's
 * own files include the module headers they use, one a module, as
 * jemalloc's internal headers: each says what its module owns. */
#ifndef ALLOCSEL_SELECTOR_INTERNAL_H
#define ALLOCSEL_SELECTOR_INTERNAL_H

#include "archive.h"
#include "cache.h"
#include "elf_read.h"
#include "input.h"
#include "link_internal.h"
#include "selector.h"
#include "symtab.h"
#include "unit.h"
#include "util.h"

#endif
