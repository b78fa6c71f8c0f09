/* What a link's decision was, kept for the next link of the same output
 * (link_memory.c): the session (session.c) takes it as it stands when the
 * link is the same (its digest, as_link_digest). */
#ifndef ALLOCSEL_LINK_MEMORY_H
#define ALLOCSEL_LINK_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_cmdline.h"

/* The memory file as read: the added inputs (`strings`, nadded of them),
 * the libraries after them (nlibs), the record, what the decision said. */
struct link_memory_header {
  char magic[16];
  uint32_t nadded, nlibs;
  uint32_t has_record, has_digest;
  uint64_t strings_size, record_size, text_size;
  uint64_t digest[2];
};

struct link_memory {
  struct link_memory_header h;
  char *blob; /* the strings, the record, the text */
  const char **strings;
};

/* The memory file of this output (links/ in the cache directory, named by
 * a hash of the directory, the linker and the output), NULL where there is
 * no cache or no output. */
char *link_memory_path(const struct ld_cmdline *cl, const char *linker);
/* Reads and checks it: false if absent or not sound. */
bool link_memory_read(const char *path, struct link_memory *m);
void link_memory_free(struct link_memory *m);
/* Was it made for this very link (the same digest)? */
bool link_memory_known(const struct link_memory *m, const uint64_t digest[2]);
const char *link_memory_record(const struct link_memory *m, size_t *size);
const char *link_memory_text(const struct link_memory *m, size_t *size);
/* Keeps a decision (and the link's digest, NULL: none, and what it said),
 * unless the file says so already. Failure is no error. */
void link_memory_write(const char *path, const char *const *added,
                       size_t nadded, int record_fd, const char *const *libs,
                       size_t nlibs, const uint64_t *digest, const char *text,
                       size_t text_size);

/* What the decision depends on besides the files the link reads: allocsel
 * itself (its version, and `self`, the file of the running front end), the
 * directory, the linker, the output type and archive order, what the
 * environment provides, every ALLOCSEL_ variable and every word of the
 * command line (response files expanded) but gcc's -fresolution file, a
 * new temporary name each time. */
void link_memory_seed(uint64_t seed[2], const struct ld_cmdline *cl,
                      const char *self, const char *linker,
                      enum as_output_type type, enum as_archive_order order,
                      const struct as_env *env);

#endif
