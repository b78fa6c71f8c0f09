/* What serves malloc in the artifact, and the rule that one does: besides
 * the allocator ABI, a link can carry whole malloc implementations (Debian's
 * jemalloc, tcmalloc and mimalloc libraries export malloc and replace
 * libc's in the whole process). Two in one link are refused; one is named
 * in the decision, the record and inspect. libc's own malloc, and the
 * sanitizer runtimes that intercept it on purpose, are aside. */
#include "link_internal.h"
#include "symtab.h"
#include "unit.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* libc's malloc (libc.so.6, the dynamic loader, libc.a's members), or a
 * sanitizer's (libasan, libtsan, clang_rt): not an implementation of the
 * user's. */
static bool is_libc_malloc(struct as_link *link, const struct as_unit *u) {
  const char *b = as_base_name(link->inputs[u->input]->path);
  static const char *const aside[] = {
      "libc.so", "libc.a",    "ld-linux", "libc_nonshared.a", "libasan",
      "libtsan", "libhwasan", "liblsan",  "libclang_rt.",     "libmsan"};
  for (size_t i = 0; i < sizeof aside / sizeof *aside; i++)
    if (strncmp(b, aside[i], strlen(aside[i])) == 0)
      return true;
  return false;
}

/* The implementation's name: a known one's, else the file's. */
static char *implementation_name(const char *path) {
  const char *known = as_malloc_implementation(path);
  return as_xstrdup(known ? known : as_base_name(path));
}

struct impl {
  char *name, *where;
  const struct as_unit *unit; /* NULL: what the decision adds */
};

/* The file a library path resolves to: libjemalloc.so -> libjemalloc.so.2. */
static char *real_name(const char *path) {
  char real[PATH_MAX];
  return as_xstrdup(as_base_name(realpath(path, real) ? real : path));
}

/* A shared library after --as-needed that nothing references: the linker
 * leaves it out of DT_NEEDED. What counts, as GNU ld has it, is a
 * reference resolution bound to it from an object, or from a shared
 * library the linker had loaded before it (libgcc_s's reference to free,
 * loaded after, does not keep tcmalloc), one not dropped itself. */
static bool dropped_as_unneeded(struct as_link *link, uint32_t unit,
                                const bool *dropped) {
  const struct as_unit *m = link->units[unit];
  if (!m->shared || !(link->inputs[m->input]->flags & AS_ADD_AS_NEEDED) ||
      link->scan == AS_SCAN_QUICK)
    return false;
  for (size_t i = 0; i < link->nunits; i++) {
    const struct as_unit *u = link->units[i];
    if (!u->linked || i == unit || dropped[i] ||
        (u->shared && u->input > m->input))
      continue;
    for (uint32_t k = 0; k < u->nundefs; k++)
      if (as_symtab_get(link->symtab, u->undefs[k])->def == unit)
        return false;
  }
  return true;
}

/* Unit i as a malloc implementation of the link's own (libc's aside):
 * kept by the program, or dropped by --as-needed (marked in `gone`, which
 * later units' verdicts read), or none. Units are asked in order. */
enum own_malloc { NOT_OWN_MALLOC, OWN_MALLOC_KEPT, OWN_MALLOC_DROPPED };
static enum own_malloc own_malloc(struct as_link *link, size_t i, bool *gone) {
  const struct as_unit *u = link->units[i];
  if (!u->linked || !u->defines_malloc || is_libc_malloc(link, u))
    return NOT_OWN_MALLOC;
  if (dropped_as_unneeded(link, (uint32_t)i, gone)) {
    gone[i] = true;
    return OWN_MALLOC_DROPPED;
  }
  return OWN_MALLOC_KEPT;
}

const struct as_unit *as_link_malloc_unit(struct as_link *link) {
  bool *gone = as_xcalloc(link->nunits + 1, sizeof *gone);
  const struct as_unit *found = NULL;
  for (size_t i = 0; i < link->nunits && !found; i++)
    if (own_malloc(link, i, gone) == OWN_MALLOC_KEPT)
      found = link->units[i];
  free(gone);
  return found;
}

/* FRR's "tcmalloc enabled" programs that ran glibc's malloc. */
static void warn_dropped(struct as_link *link, const struct as_unit *u) {
  const char *path = link->inputs[u->input]->path;
  const char *known = as_malloc_implementation(path);
  char *real = real_name(path);
  struct as_diag *g =
      as_diag_add(link, AS_WARNING, AS_E_MALLOC_DROPPED,
                  "%s will not serve malloc: --as-needed drops it, as nothing "
                  "linked references it",
                  real);
  as_diag_note(g,
               "%s follows --as-needed, and nothing linked before it "
               "references it",
               path);
  char lib[256];
  const char *b = as_base_name(path);
  size_t stem = strcspn(b, ".");
  snprintf(lib, sizeof lib, "%.*s", (int)(stem > 3 ? stem - 3 : 0), b + 3);
  as_diag_hint(g,
               "keep it: -Wl,--push-state,--no-as-needed -l%s "
               "-Wl,--pop-state%s%s",
               strncmp(b, "lib", 3) == 0 && *lib ? lib : (known ? known : "?"),
               known ? ", or call one of its functions (" : "",
               !known                           ? ""
               : strcmp(known, "jemalloc") == 0 ? "mallctl)"
               : strcmp(known, "tcmalloc") == 0 ? "tc_version)"
                                                : "mi_version)");
  free(real);
}

/* A linked shared library that needs a malloc library the link does not
 * name itself: the loader reaches that one through it, after libc.so.6,
 * and libc's malloc serves the process (inspect says it of an artifact,
 * loader.c; this says it before the link). Warns, and returns the first
 * such library with *lib the malloc library's name. */
static const struct as_unit *malloc_behind_libc(struct as_link *link,
                                                const bool *gone, char **lib) {
  const struct as_unit *first = NULL;
  for (size_t i = 0; i < link->nunits; i++) {
    const struct as_unit *u = link->units[i];
    if (!u->linked || !u->shared || !u->needs_malloc_library || gone[i] ||
        dropped_as_unneeded(link, (uint32_t)i, gone))
      continue;
    const char *path = link->inputs[u->input]->path;
    char *name = as_loader_needed_malloc(path);
    if (!name)
      continue;
    const char *known = as_malloc_implementation(name);
    struct as_diag *g = as_diag_add(
        link, AS_WARNING, AS_E_MALLOC_BEHIND_LIBC,
        "%s will not serve malloc: %s needs it, and the loader reaches it "
        "after libc.so.6",
        name, as_base_name(path));
    as_diag_note(g, "%s is linked; %s is not, so it loads after libc's", path,
                 name);
    as_diag_hint(
        g,
        "link it ahead of libc and keep it: "
        "-Wl,--push-state,--no-as-needed -l%s -Wl,--pop-state",
        strcmp(known, "tcmalloc") == 0
            ? (strstr(name, "minimal") ? "tcmalloc_minimal" : "tcmalloc")
            : known);
    if (!first) {
      first = u;
      *lib = name;
    } else {
      free(name);
    }
  }
  return first;
}

int as_decide_malloc(struct as_link *link, const struct as_env *env,
                     struct as_decision *d) {
  struct impl impls[2];
  size_t n = 0;
  const struct as_unit *dropped = NULL, *behind = NULL;
  char *behind_lib = NULL;
  bool *gone = as_xcalloc(link->nunits + 1, sizeof *gone); /* dropped */
  for (size_t i = 0; i < link->nunits && n < 2; i++) {
    const struct as_unit *u = link->units[i];
    enum own_malloc own = own_malloc(link, i, gone);
    if (own == OWN_MALLOC_DROPPED) {
      warn_dropped(link, u);
      if (!dropped)
        dropped = u;
    }
    if (own != OWN_MALLOC_KEPT)
      continue;
    const char *origin = as_unit_origin(link, u);
    impls[n++] =
        (struct impl){implementation_name(origin), as_xstrdup(origin), u};
  }
  /* A library the allocator names may be a malloc too (mimalloc's,
   * tcmalloc's export it), but only where it lands before libc: a shipped
   * allocator's library from allocsel-ld. One added after every input (the
   * plugin's, a linked allocator's) serves the ABI, and libc keeps
   * malloc. */
  bool archive = env->static_link || link->type == AS_STATICLIB;
  const char *after_libc = NULL;
  for (uint32_t i = 0; i < d->nlibraries && n < 2; i++) {
    const char *known = as_malloc_implementation(d->libraries[i] + 2);
    if (!known)
      continue;
    if (d->libraries_first && !env->adds_after_libc)
      impls[n++] =
          (struct impl){as_xstrdup(known), as_xstrdup(d->libraries[i]), NULL};
    else
      after_libc = d->libraries[i];
  }
  /* jemalloc's library, added with the jemalloc allocator, is one too. */
  bool private_jemalloc = d->needs_jemalloc && d->jemalloc_private;
  if (n < 2 && d->needs_jemalloc && link->type != AS_RLIB &&
      !private_jemalloc) {
    const char *lib = archive ? env->jemalloc_static : env->jemalloc_library;
    if (lib && (archive || !env->adds_after_libc))
      impls[n++] = (struct impl){as_xstrdup("jemalloc"), real_name(lib), NULL};
    else if (lib)
      after_libc = "libjemalloc";
  }
  int rc = 0;
  if (n == 2 && strcmp(impls[0].where, impls[1].where) != 0) {
    struct as_diag *g = as_diag_add(
        link, AS_ERROR, AS_E_TWO_MALLOCS,
        "cannot link together two malloc implementations: '%s' and '%s'",
        impls[0].name, impls[1].name);
    for (size_t i = 0; i < 2; i++) {
      if (impls[i].unit) {
        as_diag_note(g, "'%s' defines malloc in %s", impls[i].name,
                     impls[i].where);
        as_why_notes(link, g, impls[i].unit);
      } else {
        as_diag_note(g, "'%s' (%s) comes with the allocator '%s' (%s)",
                     impls[i].name, impls[i].where, d->name, d->reason);
      }
    }
    if (!impls[1].unit)
      as_diag_hint(g,
                   "request an allocator that brings no malloc of its own "
                   "(--allocsel-allocator=system), or take %s out of the "
                   "link",
                   impls[0].where);
    else if (!impls[1].unit->shared &&
             link->inputs[impls[1].unit->input]->kind == AS_INPUT_ARCHIVE) {
      /* A static library bundling its own: sealed, it keeps it. */
      char *seal = as_seal_command(link, impls[1].unit);
      as_diag_hint(g,
                   "link one malloc implementation; a library that bundles "
                   "its own can keep it private, sealed: %s, then link the "
                   "sealed archive",
                   seal);
      free(seal);
    } else
      as_diag_hint(g, "link one malloc implementation: the first in load "
                      "order would serve some calls and the other the rest");
    rc = 1;
  } else if (n > 0) {
    bool shared = !impls[0].unit || impls[0].unit->shared;
    d->malloc =
        as_xasprintf("%s (%s, replaces libc's malloc in the %s)", impls[0].name,
                     impls[0].where,
                     shared && !(env->static_link || link->type == AS_STATICLIB)
                         ? "process"
                         : "program");
  } else if (private_jemalloc) {
    d->malloc = as_xasprintf("libc (jemalloc is the %s's private copy: it "
                             "serves the allocator ABI only)",
                             as_output_type_name(link->type));
  } else if (after_libc) {
    d->malloc = as_xasprintf("libc (%s comes after libc in the link: it "
                             "serves the allocator ABI only)",
                             after_libc);
  } else if ((behind = malloc_behind_libc(link, gone, &behind_lib))) {
    d->malloc =
        as_xasprintf("libc (%s, needed by %s, loads after libc)", behind_lib,
                     as_base_name(link->inputs[behind->input]->path));
  } else if (dropped) {
    const char *path = link->inputs[dropped->input]->path;
    d->malloc =
        as_xasprintf("libc (%s is dropped by --as-needed)", as_base_name(path));
  } else {
    d->malloc = as_xstrdup("libc");
  }
  for (size_t i = 0; i < n; i++) {
    free(impls[i].name);
    free(impls[i].where);
  }
  free(gone);
  free(behind_lib);
  return rc;
}
