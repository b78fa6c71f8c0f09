/* Archives (archive.c): their index, their members, read in place. */
#ifndef ALLOCSEL_SELECTOR_ARCHIVE_H
#define ALLOCSEL_SELECTOR_ARCHIVE_H

#include "selector.h"

/* Archives (archive.c). */
int as_archive_open(struct as_link *link, uint32_t input, int fd, size_t size,
                    bool thin);
int as_archive_read_index(struct as_link *link, uint32_t input);
/* Loads the member whose header is at `off` as a unit. Returns the unit,
 * the existing one if loaded before, or AS_NO_UNIT on error (reported the
 * first time only). */
uint32_t as_archive_load_member(struct as_link *link, uint32_t input,
                                size_t off);
/* Could a member of this archive, opened on the quick path, need an
 * allocator? Its index lists definitions only, so each member's symbol
 * table is read in place for a reference to the ABI. */
bool as_archive_members_may_need(struct as_link *link, uint32_t input);
/* Was the archive, just opened, found to name nothing the decision looks
 * for in its index (so the quick path need not read it again)? */
bool as_archive_index_quiet(const struct as_input *in);
/* Is it a thin archive (its members are files of their own)? */
bool as_archive_thin(const struct as_input *in);
/* The entries of its symbol index, once opened (0: none, or not read). */
size_t as_archive_index_entries(const struct as_input *in);
/* Every member, for --whole-archive and archives without an index. */
int as_archive_load_all(struct as_link *link, uint32_t input);
/* Visits the archive's symbol index: (symbol id, member offset). fn may
 * load members. */
void as_archive_index(struct as_link *link, uint32_t input,
                      void (*fn)(void *ctx, uint32_t input, uint32_t sym,
                                 size_t off),
                      void *ctx);
void as_archive_close(struct as_input *in);

#endif
