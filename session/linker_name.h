/* Which linker a program is, by its file name: what `allocsel run` routes
 * through allocsel-ld, and how allocsel-ld reads archives for it. Shared
 * with the run hook, which links nothing else and may run in a vfork
 * child: nothing here allocates. */
#ifndef ALLOCSEL_LINKER_NAME_H
#define ALLOCSEL_LINKER_NAME_H

#include <limits.h>
#include <stdbool.h>

enum ld_kind { LD_NONE, LD_BFD, LD_GOLD, LD_LLD, LD_MOLD };

/* `path`'s base name as a linker: ld, ld.bfd, ld.gold, ld.lld (and
 * versioned ld.lld-16), mold, ld.mold, each also behind a target prefix
 * (x86_64-linux-gnu-ld.bfd). collect2 and lld itself (which needs
 * -flavor) are not linkers here. */
enum ld_kind ld_kind_of(const char *path);
/* `file` found as execvp finds it, on PATH, into `found`. */
bool ld_find_on_path(const char *file, char found[PATH_MAX]);
/* `program` as exec finds it: searched on PATH when `search` (execvp,
 * posix_spawnp) and it names no directory, else as it is. */
bool ld_locate(const char *program, bool search, char found[PATH_MAX]);
/* Are `a` and `b` one file (their real paths the same)? */
bool ld_same_file(const char *a, const char *b);

#endif
