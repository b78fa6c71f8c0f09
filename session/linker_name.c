/* Linkers by file name (linker_name.h). */
#include "linker_name.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

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
