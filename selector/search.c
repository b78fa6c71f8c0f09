/* Library search as GNU ld and lld do it: every -L directory in order, for
 * each libNAME.so then libNAME.a (only .a in a static link); -l:FILE names
 * the file exactly. */
#include "internal.h"

#include <stdlib.h>
#include <sys/stat.h>

static bool is_file(const char *path, struct stat *st) {
  return stat(path, st) == 0 && S_ISREG(st->st_mode);
}

char *as_find_library(const char *name, char *const *dirs, size_t ndirs,
                      bool static_only, struct stat *found) {
  struct stat own;
  struct stat *st = found ? found : &own;
  for (size_t i = 0; i < ndirs; i++) {
    char *path;
    if (name[0] == ':') {
      path = as_xasprintf("%s/%s", dirs[i], name + 1);
      if (is_file(path, st))
        return path;
      free(path);
      continue;
    }
    if (!static_only) {
      path = as_xasprintf("%s/lib%s.so", dirs[i], name);
      if (is_file(path, st))
        return path;
      free(path);
    }
    path = as_xasprintf("%s/lib%s.a", dirs[i], name);
    if (is_file(path, st))
      return path;
    free(path);
  }
  return NULL;
}
