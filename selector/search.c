/* Library search as GNU ld and lld do it: every -L directory in order, for
 * each libNAME.so then libNAME.a (only .a in a static link); -l:FILE names
 * the file exactly. */
#include "selector.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* DIR/PREFIX NAME SUFFIX in `buf`, if it fits: built by hand, as this runs
 * for every -l in every -L directory (hundreds of candidates a link). */
static bool candidate(char buf[PATH_MAX], const char *dir, const char *prefix,
                      const char *name, const char *suffix) {
  size_t parts[4] = {strlen(dir), strlen(prefix), strlen(name), strlen(suffix)};
  if (parts[0] + 1 + parts[1] + parts[2] + parts[3] >= PATH_MAX)
    return false;
  char *p = buf;
  memcpy(p, dir, parts[0]);
  p += parts[0];
  *p++ = '/';
  memcpy(p, prefix, parts[1]);
  p += parts[1];
  memcpy(p, name, parts[2]);
  p += parts[2];
  memcpy(p, suffix, parts[3] + 1);
  return true;
}

static bool is_file(const char *path, struct stat *st) {
  return stat(path, st) == 0 && S_ISREG(st->st_mode);
}

char *as_find_library(const char *name, char *const *dirs, size_t ndirs,
                      bool static_only, struct stat *found) {
  struct stat own;
  struct stat *st = found ? found : &own;
  char path[PATH_MAX];
  for (size_t i = 0; i < ndirs; i++) {
    if (name[0] == ':') {
      if (candidate(path, dirs[i], "", name + 1, "") && is_file(path, st))
        return as_xstrdup(path);
      continue;
    }
    if (!static_only && candidate(path, dirs[i], "lib", name, ".so") &&
        is_file(path, st))
      return as_xstrdup(path);
    if (candidate(path, dirs[i], "lib", name, ".a") && is_file(path, st))
      return as_xstrdup(path);
  }
  return NULL;
}
