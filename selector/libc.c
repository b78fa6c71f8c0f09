/* The link's C library against the one the shipped allocators' libraries
 * are built for. Debian's jemalloc, mimalloc and tcmalloc are built for
 * this system's C library, the one allocsel is built for: a link whose
 * libc.a or libc.so comes from elsewhere (dietlibc's `diet gcc`,
 * musl-gcc, a sysroot) would take functions of that C library it cannot
 * resolve, or load it beside its own. */
#include "link_internal.h"

#include <stdlib.h>
#include <string.h>

/* The directory of `path`, resolved, without a leading /usr (a system
 * without merged /usr keeps libc.so.6 in /lib and the allocators in
 * /usr/lib): malloc'd, NULL where it does not resolve. */
static char *system_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return NULL;
  char *dir = as_xasprintf("%.*s", (int)(slash - path), path);
  char *real = realpath(*dir ? dir : "/", NULL);
  free(dir);
  if (real && strncmp(real, "/usr/", 5) == 0)
    memmove(real, real + 4, strlen(real + 4) + 1);
  return real;
}

static bool is_libc(const char *path) {
  const char *b = as_base_name(path);
  return strcmp(b, "libc.a") == 0 || strncmp(b, "libc.so", 7) == 0;
}

const char *as_system_libc(const struct as_env *env) {
  /* The compiler's libc.so when allocsel was built (allocsel-ld is static,
   * so the C library loaded into this process is no guide); else jemalloc's
   * library, which is beside it. */
  return *ALLOCSEL_SYSTEM_LIBC ? ALLOCSEL_SYSTEM_LIBC : env->jemalloc_library;
}

const char *as_link_foreign_libc(const struct as_link *link,
                                 const struct as_env *env) {
  const char *libc = NULL;
  for (size_t i = 0; i < link->ninputs && !libc; i++)
    if (is_libc(link->inputs[i]->path))
      libc = link->inputs[i]->path;
  if (!libc)
    return NULL;
  const char *system = as_system_libc(env);
  char *mine = system ? system_dir(system) : NULL, *theirs = system_dir(libc);
  bool foreign = mine && (!theirs || strcmp(mine, theirs) != 0);
  free(mine);
  free(theirs);
  return foreign ? libc : NULL;
}
