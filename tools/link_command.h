/* A whole compiler or linker command line, turned into the linker command
 * line it runs (for `allocsel check -- COMMAND`). */
#ifndef ALLOCSEL_LINK_COMMAND_H
#define ALLOCSEL_LINK_COMMAND_H

#include <stddef.h>

struct link_command {
  char **argv; /* the linker's argv (argv[0]: the linker or collect2) */
  size_t argc;
  char *linker;      /* "lld", "bfd", "gold", "mold" */
  char *linker_path; /* the real linker, for its search directories */
};

/* From `argv` (gcc, g++, cc, clang, clang++, ld, ld.lld, ld.bfd, ld.gold,
 * mold, allocsel-ld, ...): a linker's own line as it is; a compiler
 * driver's from its -### output. Returns 0, or -1 with a malloc'd *error. */
int link_command_from(struct link_command *lc, char **argv, size_t argc,
                      char **error);
void link_command_free(struct link_command *lc);

#endif
