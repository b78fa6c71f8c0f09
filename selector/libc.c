/* The link's C library against the one the shipped allocators' libraries
 * are built for. Debian's jemalloc, mimalloc and tcmalloc are built for
 * this system's C library, the one allocsel itself runs on: a link whose
 * libc.a or libc.so comes from elsewhere (dietlibc's `diet gcc`,
 * musl-gcc, a sysroot) would take functions of that C library it cannot
 * resolve, or load it beside its own. */
#include "link_internal.h"

#include <link.h>
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

static int find_loaded_libc(struct dl_phdr_info *info, size_t size,
                            void *found) {
  (void)size;
  if (info->dlpi_name && info->dlpi_name[0] == '/' &&
      is_libc(info->dlpi_name)) {
    *(const char **)found = info->dlpi_name;
    return 1;
  }
  return 0;
}

char *as_system_libc_dir(const struct as_env *env) {
  /* The C library loaded into this process (a sanitizer's interceptors
   * stand in front of its functions, not of its file); in a static
   * allocsel, the directory of jemalloc's library. */
  const char *libc = NULL;
  dl_iterate_phdr(find_loaded_libc, &libc);
  if (!libc)
    libc = env->jemalloc_library;
  return libc ? system_dir(libc) : NULL;
}

const char *as_link_foreign_libc(const struct as_link *link,
                                 const struct as_env *env) {
  const char *libc = NULL;
  for (size_t i = 0; i < link->ninputs && !libc; i++)
    if (is_libc(link->inputs[i]->path))
      libc = link->inputs[i]->path;
  if (!libc)
    return NULL;
  char *mine = as_system_libc_dir(env), *theirs = system_dir(libc);
  bool foreign = mine && (!theirs || strcmp(mine, theirs) != 0);
  free(mine);
  free(theirs);
  return foreign ? libc : NULL;
}
