/* Linkers by file name (linker_name.h). */
#include "linker_name.h"

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A version suffix after a linker's name: "" or "-16", "-16.0". */
static bool version_suffix(const char *s) {
  if (*s == '\0')
    return true;
  if (*s++ != '-' || !isdigit((unsigned char)*s))
    return false;
  while (isdigit((unsigned char)*s) || *s == '.')
    s++;
  return *s == '\0';
}

static enum ld_kind exact(const char *name) {
  static const struct {
    const char *name;
    enum ld_kind kind;
  } names[] = {
      {"ld", LD_BFD},       {"ld.bfd", LD_BFD}, {"ld.gold", LD_GOLD},
      {"gold", LD_GOLD},    {"ld.lld", LD_LLD}, {"mold", LD_MOLD},
      {"ld.mold", LD_MOLD},
  };
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    size_t n = strlen(names[i].name);
    if (strncmp(name, names[i].name, n) == 0 && version_suffix(name + n))
      return names[i].kind;
  }
  return LD_NONE;
}

enum ld_kind ld_kind_of(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  enum ld_kind kind = exact(base);
  /* A target prefix: each '-' before a linker's name. */
  for (const char *p = base; kind == LD_NONE && (p = strchr(p, '-')); p++)
    kind = exact(p + 1);
  return kind;
}

bool ld_find_on_path(const char *file, char found[PATH_MAX]) {
  const char *path = getenv("PATH");
  if (!path)
    path = "/bin:/usr/bin";
  size_t n = strlen(file);
  for (const char *dir = path;;) {
    const char *end = strchrnul(dir, ':');
    size_t len = (size_t)(end - dir);
    const char *d = len ? dir : ".";
    len = len ? len : 1;
    if (len + 1 + n < PATH_MAX) {
      memcpy(found, d, len);
      found[len] = '/';
      memcpy(found + len + 1, file, n + 1);
      if (access(found, X_OK) == 0)
        return true;
    }
    if (*end == '\0')
      return false;
    dir = end + 1;
  }
}

bool ld_locate(const char *program, bool search, char found[PATH_MAX]) {
  if (search && !strchr(program, '/'))
    return ld_find_on_path(program, found);
  if (strlen(program) >= PATH_MAX)
    return false;
  strcpy(found, program);
  return true;
}

bool ld_same_file(const char *a, const char *b) {
  char ra[PATH_MAX], rb[PATH_MAX];
  return realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}
