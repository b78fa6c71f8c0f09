/* The rules, in one place:
 *  - every allocator is complete (all five entry points);
 *  - executable, dylib and staticlib hold exactly one allocator, rlib at
 *    most one; a linked or requested allocator wins over the default, and a
 *    requested one plus a linked one are two;
 *  - no cycle: an allocator, or a unit marked as needing one, must not
 *    depend on a unit that needs an allocator.
 */
#include "link_internal.h"
#include "symtab.h"
#include "unit.h"

#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The machine allocsel and its shipped allocators are built for. */
#if defined(__x86_64__)
#define AS_HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define AS_HOST_MACHINE EM_AARCH64
#else
#error "allocsel: unknown host machine"
#endif
#define AS_HOST_CLASS (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)
#define AS_HOST_DATA                                                           \
  (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB)

struct candidate {
  char *name;
  char *origin; /* "defined in x.o", "requested by --allocator=system" */
  const struct as_unit *unit; /* NULL for a shipped allocator */
};

struct rules {
  struct as_link *link;
  uint16_t machine; /* the output's: from its first ELF input */
  uint8_t elf_class, elf_data;
  bool host; /* ... the host's, which the shipped allocators are built for */
  /* The link's C library where it is not the one the shipped allocators'
   * libraries are built for (dietlibc's, musl's, a sysroot's), else NULL;
   * looked for once, where one of them is considered. */
  const char *libc_elsewhere;
  bool libc_looked;
  const struct as_request *req;
  const struct as_env *env;
  struct candidate *cands;
  size_t ncands, cap_cands;
  bool thin_lto; /* some linked bitcode is ThinLTO */
};

static const char *libc_elsewhere(struct rules *r);

/* The shipped allocators: name, the library their code needs (beside
 * jemalloc's, which policy.c handles with its static archive), the Debian
 * package with the library's headers, and whether Debian ships a static
 * library for it. */
static const struct shipped {
  const char *name, *library, *package;
  const char *no_static; /* why a static link cannot take it, or NULL */
  /* What its archive needs in a static link, after it. */
  const char *static_needs[2];
} shipped[] = {
    {"system", NULL, NULL, NULL, {NULL}},
    {"jemalloc", NULL, "libjemalloc-dev", NULL, {NULL}},
    {"mimalloc",
     "-lmimalloc",
     "libmimalloc-dev",
     "Debian ships it as a shared library only",
     {NULL}},
    /* gperftools' archive is C++, and defines malloc and __libc_malloc
     * with the rest of libc's malloc.o: placed before libc's group, it
     * keeps libc.a's malloc out of the program. */
    {"tcmalloc",
     "-ltcmalloc_minimal",
     "libgoogle-perftools-dev",
     NULL,
     {"-lstdc++", "-lm"}},
};
enum { NSHIPPED = sizeof shipped / sizeof *shipped };

static const struct shipped *find_shipped(const char *name) {
  for (size_t i = 0; i < NSHIPPED; i++)
    if (strcmp(name, shipped[i].name) == 0)
      return &shipped[i];
  return NULL;
}

/* Every shipped allocator but system brings a library built for this
 * system's C library. */
static bool needs_system_libc(const char *shipped_name) {
  return strcmp(shipped_name, "system") != 0;
}

bool as_allocator_is_shipped(const char *name) {
  return find_shipped(name) != NULL;
}

int as_link_add_request(struct as_link *link, const struct as_request *req) {
  if (req && req->error) {
    struct as_diag *d =
        as_diag_add(link, AS_ERROR, AS_E_USAGE, "%s", req->error);
    if (req->hint)
      as_diag_hint(d, "%s", req->hint);
    return -1;
  }
  if (!req || !req->allocator || as_allocator_is_shipped(req->allocator))
    return 0;
  const char *a = req->allocator;
  size_t n = strlen(a);
  bool looks_like_path =
      strchr(a, '/') ||
      (n > 2 && (strcmp(a + n - 2, ".o") == 0 || strcmp(a + n - 2, ".a") == 0));
  if (!looks_like_path && access(a, F_OK) != 0) {
    struct as_diag *d =
        as_diag_add(link, AS_ERROR, AS_E_UNKNOWN_ALLOCATOR,
                    "unknown allocator '%s' (from %s): expected system, "
                    "jemalloc, mimalloc, tcmalloc or the path of an "
                    "allocator object",
                    a, req->origin);
    static const char *const names[] = {"system", "jemalloc", "mimalloc",
                                        "tcmalloc"};
    const char *near = as_nearest(a, names, 4);
    if (near)
      as_diag_hint(d, "did you mean '%s'?", near);
    else
      as_diag_hint(d, "name system, jemalloc, mimalloc or tcmalloc, or give "
                      "the path of an allocator object (it must exist)");
    return -1;
  }
  return as_link_add_file(link, a, AS_ADD_REQUESTED | AS_ADD_WHOLE_ARCHIVE);
}

static bool is_allocator(const struct as_unit *u) {
  return !u->shared && (u->allocator || u->abi_defined);
}

static bool needs_allocator(const struct as_unit *u) {
  return u->abi_undef || u->needs_marker;
}

static char *missing_entry_points(unsigned defined) {
  size_t len = 0;
  for (int i = 0; i < AS_ABI_COUNT; i++)
    if (!(defined & (1u << i)))
      len += strlen(as_abi[i]) + 2;
  char *s = as_xcalloc(len + 1, 1);
  for (int i = 0; i < AS_ABI_COUNT; i++)
    if (!(defined & (1u << i))) {
      if (*s)
        strcat(s, ", ");
      strcat(s, as_abi[i]);
    }
  return s;
}

/* "dir/libmine.a(my_alloc.o)" -> "my_alloc": a name for an unmarked one. */
static char *name_from_origin(const char *origin) {
  const char *base = strrchr(origin, '(');
  base = base ? base + 1 : as_base_name(origin);
  size_t n = strcspn(base, ".)");
  char *name = as_xmalloc(n + 1);
  memcpy(name, base, n);
  name[n] = '\0';
  return name;
}

static void add_candidate(struct rules *r, char *name, char *origin,
                          const struct as_unit *unit) {
  *AS_PUSH(r->cands, r->ncands, r->cap_cands) =
      (struct candidate){name, origin, unit};
}

/* Linked allocator units: complete ones become candidates. */
static void collect_linked(struct rules *r) {
  struct as_link *link = r->link;
  for (size_t i = 0; i < link->nunits; i++) {
    const struct as_unit *u = link->units[i];
    if (!u->linked || !is_allocator(u))
      continue;
    const char *origin = as_unit_origin(link, u);
    bool requested = link->inputs[u->input]->flags & AS_ADD_REQUESTED;
    if (u->abi_defined != AS_ABI_ALL) {
      char *missing = missing_entry_points(u->abi_defined);
      struct as_diag *d =
          u->allocator
              ? as_diag_add(link, AS_ERROR, AS_E_INCOMPLETE_ALLOCATOR,
                            "incomplete allocator '%s': missing %s",
                            u->allocator, missing)
              : as_diag_add(link, AS_ERROR, AS_E_INCOMPLETE_ALLOCATOR,
                            "incomplete allocator in %s: defines part of the "
                            "allocator ABI, missing %s",
                            origin, missing);
      as_diag_note(d, "defined in %s", origin);
      as_why_notes(link, d, u);
      as_diag_hint(d, "define %s in %s, or drop %s from the link", missing,
                   origin, u->allocator ? "the allocator" : "the unit");
      free(missing);
      continue;
    }
    char *name =
        u->allocator ? as_xstrdup(u->allocator) : name_from_origin(origin);
    if (!u->allocator)
      as_diag_add(link, AS_WARNING, AS_E_UNMARKED_ALLOCATOR,
                  "%s defines the allocator ABI without ALLOCSEL_ALLOCATOR(); "
                  "treating it as allocator '%s'",
                  origin, name);
    add_candidate(r, name,
                  requested ? as_xasprintf("requested by %s", r->req->origin)
                            : as_xasprintf("defined in %s", origin),
                  u);
  }
}

/* A requested path must hold an allocator. */
static int check_request(struct rules *r) {
  struct as_link *link = r->link;
  const struct as_request *req = r->req;
  if (!req || !req->allocator)
    return 0;
  if (as_allocator_is_shipped(req->allocator)) {
    const char *why_not = "jemalloc is installed for the host's machine only";
    if (needs_system_libc(req->allocator) && libc_elsewhere(r)) {
      bool jemalloc = strcmp(req->allocator, "jemalloc") == 0;
      struct as_diag *d = as_diag_add(
          link, AS_ERROR,
          jemalloc ? AS_E_JEMALLOC_MISSING : AS_E_ALLOCATOR_MISSING,
          "allocator '%s' (from %s) is not available to this link: %s is "
          "built for this system's C library, and the link's is another "
          "(%s)",
          req->allocator, req->origin, req->allocator, libc_elsewhere(r));
      as_diag_note(d, "this system's C library: %s", as_system_libc(r->env));
      as_diag_hint(d, "request system, or leave this link's malloc to its "
                      "C library (a default gives way to it)");
      return -1;
    }
    if (strcmp(req->allocator, "jemalloc") == 0 &&
        (!r->host || !as_jemalloc_usable(r->env, link->type, &why_not))) {
      struct as_diag *d = as_diag_add(
          link, AS_ERROR, AS_E_JEMALLOC_MISSING,
          "allocator 'jemalloc' (from %s) is not available%s: %s", req->origin,
          r->env->static_link ? " to a static link" : "", why_not);
      as_diag_hint(d, r->host ? "install Debian's libjemalloc-dev (apt-get "
                                "install libjemalloc-dev), or request system"
                              : "request system, or an allocator object "
                                "built for the output's machine");
      return -1;
    }
    const struct shipped *sh = find_shipped(req->allocator);
    if (sh->library && as_output_is_guest(link->type)) {
      /* Its code is a shared library that exports malloc: in a dylib it
       * would come into the host's process and could take over the host's
       * malloc; a staticlib's host would have to link it. */
      struct as_diag *d = as_diag_add(
          link, AS_ERROR, AS_E_GUEST_MALLOC,
          "allocator '%s' (from %s) cannot serve a %s: its code is %s, "
          "which exports malloc, and a %s must not replace its host's "
          "malloc",
          sh->name, req->origin, as_output_type_name(link->type), sh->library,
          as_output_type_name(link->type));
      as_diag_note(d,
                   "allocsel keeps only jemalloc private to a %s "
                   "(lib/allocsel/jemalloc-private.o)",
                   as_output_type_name(link->type));
      as_diag_hint(d,
                   "request jemalloc (the %s gets a private copy that "
                   "exports nothing) or system",
                   as_output_type_name(link->type));
      return -1;
    }
    if (sh->library) {
      /* Built where its headers were; a static link needs its archive. */
      char *obj = as_xasprintf("%s/%s.o", r->env->libdir, sh->name);
      bool built = access(obj, R_OK) == 0;
      free(obj);
      bool static_link = r->env->static_link || link->type == AS_STATICLIB;
      /* Its archive must come before libc's group, which only a front end
       * that writes the command line can do. */
      const char *no_static = sh->no_static;
      if (!no_static && r->env->adds_after_libc)
        no_static = "the linker plugin can add its archive only after "
                    "libc.a's malloc, and the program would hold two";
      if (!built || !r->host || (static_link && no_static)) {
        struct as_diag *d = as_diag_add(
            link, AS_ERROR, AS_E_ALLOCATOR_MISSING,
            "allocator '%s' (from %s) is not available%s: %s", sh->name,
            req->origin, static_link && built ? " to a static link" : "",
            !built     ? "allocsel was built without its headers"
            : !r->host ? "it is installed for the host's machine only"
                       : no_static);
        if (!built)
          as_diag_hint(d,
                       "install Debian's %s (apt-get install %s) and "
                       "rebuild allocsel, or request system",
                       sh->package, sh->package);
        else if (!sh->no_static)
          as_diag_hint(d,
                       "link through allocsel-ld (gcc -B P/lib/allocsel/ld), "
                       "link dynamically, or request system or jemalloc");
        else
          as_diag_hint(d, "link dynamically, or request system or jemalloc");
        return -1;
      }
    }
    add_candidate(
        r, as_xstrdup(req->allocator),
        as_xasprintf("%s %s",
                     req->is_default ? "the default from" : "requested by",
                     req->origin),
        NULL);
    return 0;
  }
  for (size_t i = 0; i < link->ninputs; i++) {
    if (!(link->inputs[i]->flags & AS_ADD_REQUESTED))
      continue;
    for (size_t u = 0; u < link->nunits; u++)
      if (link->units[u]->input == i && is_allocator(link->units[u]))
        return 0;
    struct as_diag *d = as_diag_add(
        link, AS_ERROR, AS_E_NOT_AN_ALLOCATOR,
        "%s (from %s) is not an allocator: it carries no ALLOCSEL_ALLOCATOR() "
        "marker and defines none of the ABI",
        link->inputs[i]->path, req->origin);
    as_diag_hint(d, "request system or jemalloc, or an object that defines "
                    "the five entry points and says ALLOCSEL_ALLOCATOR(name)");
    return -1;
  }
  return 0; /* the file could not be read: already reported */
}

/* The ABI must stay the allocator's: --defsym or --wrap on an entry point,
 * or --just-symbols with a file defining it, would send the program's calls
 * somewhere else (a half-served ABI, or another program's addresses). */
static void check_redirects(struct as_link *link) {
  if (link->allow_abi_redirect)
    return;
  for (size_t i = 0; i < link->nredirects; i++) {
    const struct as_redirect *rd = &link->redirects[i];
    for (int k = 0; k < AS_ABI_COUNT; k++)
      if (strcmp(rd->symbol, as_abi[k]) == 0) {
        struct as_diag *d =
            as_diag_add(link, AS_ERROR, AS_E_ABI_REDIRECTED,
                        "%s redirects the allocator ABI entry point %s",
                        rd->option, as_abi[k]);
        as_diag_note(d,
                     "the program's calls to %s would not reach the "
                     "allocator's",
                     as_abi[k]);
        as_diag_hint(d, "drop the option, or pass "
                        "--allocsel-allow-abi-redirect if the redirection "
                        "is meant");
      }
  }
  for (size_t i = 0; i < link->nunits; i++) {
    const struct as_unit *u = link->units[i];
    if (!(link->inputs[u->input]->flags & AS_ADD_JUST_SYMBOLS) ||
        !(u->abi_defined || u->allocator))
      continue;
    struct as_diag *d = as_diag_add(
        link, AS_ERROR, AS_E_ABI_REDIRECTED,
        "--just-symbols %s: it defines the allocator ABI, whose addresses "
        "belong to another program",
        as_unit_origin(link, u));
    as_diag_hint(d, "link the allocator itself, or pass "
                    "--allocsel-allow-abi-redirect if this is meant");
  }
}

/* Two shared libraries exporting the allocator ABI (built without
 * allocsel's hidden declarations): the dynamic linker binds every
 * reference to the first in load order, so one silently serves both. */
static void check_shared_exports(struct as_link *link) {
  const struct as_unit *first = NULL;
  for (size_t i = 0; i < link->nunits; i++) {
    const struct as_unit *u = link->units[i];
    if (!u->linked || !u->shared || !u->abi_defined)
      continue;
    if (!first) {
      first = u;
      continue;
    }
    struct as_diag *d = as_diag_add(
        link, AS_WARNING, AS_E_SHARED_ABI_EXPORTS,
        "two shared libraries export the allocator ABI: %s serves the "
        "calls meant for %s",
        as_unit_origin(link, first), as_unit_origin(link, u));
    as_diag_note(d, "%s exports it, first in load order",
                 as_unit_origin(link, first));
    as_diag_note(d, "%s exports it too", as_unit_origin(link, u));
    as_diag_hint(d, "build the libraries with allocsel's header (the ABI is "
                    "hidden there, each keeps its own allocator), or link "
                    "only one of them");
  }
}

/* Two Rust staticlibs linked whole: each brings rustc's allocator shim
 * (__rust_alloc and friends) and its runtime, and the linker then reports
 * thousands of duplicate symbols. One shim per artifact, like one
 * allocator. */
static void check_rust_shims(struct as_link *link) {
  const struct as_unit *first = NULL;
  for (size_t i = 0; i < link->nunits; i++) {
    const struct as_unit *u = link->units[i];
    if (!u->linked || u->shared || !u->rust_shim)
      continue;
    if (!first) {
      first = u;
      continue;
    }
    struct as_diag *d =
        as_diag_add(link, AS_ERROR, AS_E_TWO_RUST_SHIMS,
                    "cannot link together two Rust allocator shims: %s and %s",
                    as_unit_origin(link, first), as_unit_origin(link, u));
    as_diag_note(d, "rustc's allocator shim in %s",
                 as_unit_origin(link, first));
    as_why_notes(link, d, first);
    as_diag_note(d, "rustc's allocator shim in %s", as_unit_origin(link, u));
    as_why_notes(link, d, u);
    char *a = as_seal_command(link, first), *b = as_seal_command(link, u);
    as_diag_hint(d,
                 "each Rust staticlib carries the Rust runtime and its "
                 "allocator shim: seal them, each keeping its runtime to "
                 "itself (%s; %s), and link the sealed archives; or build "
                 "one staticlib from a crate that depends on both",
                 a, b);
    free(a);
    free(b);
    return;
  }
}

static void check_count(struct rules *r) {
  if (r->ncands < 2)
    return;
  struct as_diag *d =
      as_diag_add(r->link, AS_ERROR, AS_E_TWO_ALLOCATORS,
                  "cannot link together two allocators: '%s' and '%s'",
                  r->cands[0].name, r->cands[1].name);
  size_t linked = 0, members = 0;
  const struct candidate *requested = NULL, *kept = NULL;
  for (size_t i = 0; i < r->ncands; i++) {
    const struct candidate *c = &r->cands[i];
    as_diag_note(d, "'%s' %s", c->name, c->origin);
    if (c->unit &&
        !(r->link->inputs[c->unit->input]->flags & AS_ADD_REQUESTED)) {
      linked++;
      kept = c;
      members += c->unit->member != NULL;
      as_why_notes(r->link, d, c->unit);
    } else {
      requested = c;
    }
  }
  if (requested && linked == 1)
    as_diag_hint(d,
                 "the link already holds '%s': drop %s to keep it, or take "
                 "%s out of the link to use '%s'",
                 kept->name, r->req->origin,
                 as_unit_origin(r->link, kept->unit), requested->name);
  else if (members)
    as_diag_hint(d, "link only one: take the other out of the link, or "
                    "keep the library that brings it in a dylib of its own "
                    "(its allocator stays its own there)");
  else
    as_diag_hint(d, "link only one of them");
}

static bool is_abi_sym(const struct as_link *link, uint32_t id) {
  for (int i = 0; i < AS_ABI_COUNT; i++)
    if (link->abi_ids[i] == id)
      return true;
  return false;
}

/* References the C runtime makes to the program's entry points are
 * callbacks, not dependencies: in a static link libc.a's startup code
 * references main and _start, and every allocator reaches libc. */
static bool is_entry_point(const char *name) {
  return strcmp(name, "main") == 0 || strcmp(name, "_start") == 0 ||
         strcmp(name, "_init") == 0 || strcmp(name, "_fini") == 0;
}

static void report_cycle(struct as_link *link, uint32_t start, uint32_t found,
                         const uint32_t *parent, const uint32_t *via) {
  const struct as_unit *s = link->units[start];
  struct as_diag *d =
      is_allocator(s)
          ? as_diag_add(link, AS_ERROR, AS_E_ALLOCATOR_CYCLE,
                        "allocator '%s' depends on a unit that needs an "
                        "allocator",
                        s->allocator ? s->allocator : as_unit_origin(link, s))
          : as_diag_add(link, AS_ERROR, AS_E_ALLOCATOR_CYCLE,
                        "unit %s is marked as needing an allocator and "
                        "depends on a unit that needs an allocator",
                        as_unit_origin(link, s));
  /* Walk back from `found` to `start`, then print forwards. */
  size_t depth = 0;
  for (uint32_t v = found; v != start; v = parent[v])
    depth++;
  uint32_t *path = as_xmalloc((depth + 1) * sizeof *path);
  size_t k = depth;
  for (uint32_t v = found;; v = parent[v]) {
    path[k] = v;
    if (v == start)
      break;
    k--;
  }
  as_diag_note(d, "%s", as_unit_origin(link, s));
  for (size_t i = 1; i <= depth; i++)
    as_diag_note(d, "  references %s, defined in %s",
                 as_sym_name(link, via[path[i]]),
                 as_unit_origin(link, link->units[path[i]]));
  const struct as_unit *f = link->units[found];
  if (f->abi_undef) {
    int bit = __builtin_ctz(f->abi_undef);
    as_diag_note(d, "  which references %s", as_abi[bit]);
  } else {
    as_diag_note(d, "  which is marked ALLOCSEL_NEEDS_ALLOCATOR()");
  }
  as_diag_hint(d,
               "%s must not reach code that needs an allocator: give %s a "
               "way to work without the allocator ABI, or keep %s out of "
               "what %s calls",
               is_allocator(s) ? "an allocator" : "a unit that needs one",
               as_unit_origin(link, link->units[path[1]]),
               as_unit_origin(link, f), as_unit_origin(link, s));
  free(path);
}

/* Breadth first from each allocator and needs-marked unit, over the symbol
 * references among linked units, so the chain printed is a shortest one.
 * ABI references are not followed: they are the need itself. */
static void check_cycles(struct as_link *link) {
  size_t n = link->nunits;
  uint32_t *parent = NULL, *via = NULL, *seen = NULL, *queue = NULL;
  uint32_t stamp = 0;
  for (uint32_t s = 0; s < n; s++) {
    const struct as_unit *su = link->units[s];
    if (!su->linked || !(is_allocator(su) || su->needs_marker))
      continue;
    if (!parent) {
      parent = as_xmalloc(n * sizeof *parent);
      via = as_xmalloc(n * sizeof *via);
      seen = as_xcalloc(n, sizeof *seen);
      queue = as_xmalloc(n * sizeof *queue);
    }
    stamp++;
    size_t head = 0, tail = 0;
    queue[tail++] = s;
    seen[s] = stamp;
    while (head < tail) {
      uint32_t v = queue[head++];
      const struct as_unit *vu = link->units[v];
      bool found = false;
      for (uint32_t i = 0; i < vu->nundefs && !found; i++) {
        if (is_abi_sym(link, vu->undefs[i]) ||
            is_entry_point(as_sym_name(link, vu->undefs[i])))
          continue;
        uint32_t d = as_sym_def(link, vu->undefs[i]);
        if (d == AS_NO_UNIT || seen[d] == stamp)
          continue;
        seen[d] = stamp;
        parent[d] = v;
        via[d] = vu->undefs[i];
        if (needs_allocator(link->units[d])) {
          report_cycle(link, s, d, parent, via);
          found = true;
        }
        queue[tail++] = d;
      }
      if (found)
        break;
    }
  }
  free(parent);
  free(via);
  free(seen);
  free(queue);
}

/* The shipped allocator's object: native, or in an LTO link bitcode of
 * the same LTO kind as the program's (a full-LTO module does not inline
 * into ThinLTO ones, nor the reverse). */
/* The directory of a machine's shipped allocators below lib/allocsel: the
 * host's are in lib/allocsel itself. */
static const char *target_name(uint16_t machine, uint8_t elf_class) {
  switch (machine) {
  case EM_386:
    return "i386";
  case EM_X86_64:
    return elf_class == ELFCLASS32 ? "x32" : "x86_64";
  case EM_AARCH64:
    return "aarch64";
  case EM_ARM:
    return "arm";
  case EM_RISCV:
    return elf_class == ELFCLASS32 ? "riscv32" : "riscv64";
  case EM_PPC64:
    return "ppc64";
  case EM_S390:
    return "s390x";
  default:
    return "unknown";
  }
}

/* The shipped allocator's object for the output's machine: native, or in
 * an LTO link bitcode of the same LTO kind as the program's (a full-LTO
 * module does not inline into ThinLTO ones, nor the reverse). NULL, with
 * an error, where none is shipped for that machine. */
static char *shipped_object(const struct rules *r, struct as_decision *d,
                            const char *name) {
  const struct as_env *env = r->env;
  if (!r->host) {
    const char *arch = target_name(r->machine, r->elf_class);
    char *obj = as_xasprintf("%s/%s/%s.o", env->libdir, arch, name);
    if (access(obj, R_OK) == 0)
      return obj;
    free(obj);
    struct as_diag *diag = as_diag_add(
        r->link, AS_ERROR, AS_E_NO_ALLOCATOR_FOR_TARGET,
        "no shipped allocator '%s' for %s (ELF machine %u): the output's "
        "machine is not the one allocsel was built for",
        name, arch, (unsigned)r->machine);
    as_diag_note(diag, "the machine comes from the first ELF input");
    as_diag_hint(diag,
                 "link an allocator object built for %s, or request "
                 "one with --allocsel-allocator=PATH",
                 arch);
    return NULL;
  }
  /* A guest's jemalloc is its private copy: native code, with jemalloc's
   * own inside. (An executable's under the plugin could be too, since what
   * the plugin adds lands after libc and serves the ABI only either way;
   * but the copy needs libm, and ld.bfd and gold pay more for a 1.3 MB
   * object and libm added late than for libjemalloc added late:
   * docs/performance.md.) */
  if (strcmp(name, "jemalloc") == 0 && as_output_is_guest(r->link->type)) {
    d->jemalloc_private = true;
    return as_xasprintf("%s/jemalloc-private.o", env->libdir);
  }
  if (d->lto && env->lto_inject) {
    char *bc = as_xasprintf("%s/lto/%s%s.o", env->libdir,
                            r->thin_lto ? "thin/" : "", name);
    if (access(bc, R_OK) == 0) {
      d->inject_bitcode = true;
      return bc;
    }
    free(bc);
  }
  return as_xasprintf("%s/%s.o", env->libdir, name);
}

/* A link on the output's machine only: another machine's C library is
 * another matter (the shipped allocators are the host's). */
static const char *libc_elsewhere(struct rules *r) {
  if (!r->libc_looked && r->host)
    r->libc_elsewhere = as_link_foreign_libc(r->link, r->env);
  r->libc_looked = true;
  return r->libc_elsewhere;
}

/* The output's machine: its first ELF unit's (bitcode has none here). */
static void find_target(struct rules *r) {
  r->machine = AS_HOST_MACHINE;
  r->elf_class = AS_HOST_CLASS;
  r->elf_data = AS_HOST_DATA;
  for (size_t i = 0; i < r->link->nunits; i++) {
    const struct as_unit *u = r->link->units[i];
    if (u->machine) {
      r->machine = u->machine;
      r->elf_class = u->elf_class;
      r->elf_data = u->elf_data;
      break;
    }
  }
  r->host = r->machine == AS_HOST_MACHINE && r->elf_class == AS_HOST_CLASS &&
            r->elf_data == AS_HOST_DATA;
}

/* Does some linked unit need an allocator (reference the ABI, or carry
 * ALLOCSEL_NEEDS_ALLOCATOR())? */
static bool anything_needs(const struct as_link *link) {
  for (size_t i = 0; i < link->nunits; i++)
    if (link->units[i]->linked && needs_allocator(link->units[i]))
      return true;
  return false;
}

static void decide_default(struct rules *r, struct as_decision *out) {
  struct as_link *link = r->link;
  const char *type = as_output_type_name(link->type);
  if (link->type == AS_RLIB) {
    out->how = AS_NONE;
    out->reason = as_xstrdup("rlib: none injected");
    return;
  }
  /* Nothing to serve: inject nothing, so a program that never calls the
   * ABI keeps libc's malloc and no library it did not ask for. */
  if (!anything_needs(link)) {
    out->how = AS_NONE;
    out->reason = as_xstrdup("nothing needs an allocator");
    return;
  }
  const char *name = "system";
  const char *why_not;
  const struct as_unit *own_malloc =
      link->type == AS_EXECUTABLE ? as_link_malloc_unit(link) : NULL;
  /* jemalloc's own library among the inputs is jemalloc: no second one. */
  if (own_malloc && !own_malloc->defines_jemalloc) {
    /* jemalloc would be a second malloc: system serves the ABI from the
     * malloc the link brings. */
    as_diag_add(link, AS_NOTE, AS_E_JEMALLOC_MISSING,
                "the link brings a malloc of its own (%s); the %s gets the "
                "'system' allocator, which serves the ABI from it",
                as_unit_origin(link, own_malloc), type);
  } else if (link->type == AS_EXECUTABLE) {
    if (!r->host)
      why_not = "jemalloc is installed for the host's machine only";
    else if (libc_elsewhere(r))
      why_not = "jemalloc is built for this system's C library, and the "
                "link's is another";
    if (r->host && !libc_elsewhere(r) &&
        as_jemalloc_usable(r->env, link->type, &why_not))
      name = "jemalloc";
    else
      as_diag_add(link, AS_NOTE, AS_E_JEMALLOC_MISSING,
                  "%s; the %s%s gets the 'system' allocator", why_not,
                  r->env->static_link ? "static " : "", type);
  }
  out->how = AS_INJECT;
  out->name = name;
  out->reason = as_xasprintf("default for %s", type);
  out->inject_object = shipped_object(r, out, name);
}

static void decide(struct rules *r, struct as_decision *out) {
  if (r->ncands == 0) {
    decide_default(r, out);
    return;
  }
  const struct candidate *c = &r->cands[0];
  if (!c->unit) {
    const struct shipped *sh = find_shipped(c->name);
    out->how = AS_INJECT;
    out->name = sh->name;
    out->reason = as_xstrdup(c->origin);
    out->inject_object = shipped_object(r, out, out->name);
    if (sh->library) {
      out->libraries[out->nlibraries++] = as_xstrdup(sh->library);
      out->libraries_first = true;
    }
    for (size_t i = 0; r->env->static_link && i < 2 && sh->static_needs[i]; i++)
      out->libraries[out->nlibraries++] = as_xstrdup(sh->static_needs[i]);
    return;
  }
  const struct as_input *in = r->link->inputs[c->unit->input];
  out->unit = c->unit;
  /* What the allocator's code needs comes with it, where a link is made
   * (an rlib keeps the marker for the final link; a staticlib's users are
   * told). */
  for (uint32_t i = 0; i < c->unit->nlibraries; i++)
    out->libraries[out->nlibraries++] =
        as_xasprintf("-l%s", c->unit->libraries[i]);
  /* Owned: the decision outlives the link in the front ends. */
  out->name = out->owned_name = as_xstrdup(c->name);
  if (in->flags & AS_ADD_REQUESTED) {
    out->how = AS_INJECT;
    out->reason = as_xstrdup(c->origin);
    out->inject_object = as_xstrdup(in->path);
  } else {
    out->how = AS_LINKED;
    out->reason = as_xasprintf("linked: %s", c->origin);
  }
}

int as_check_early(struct as_link *link, const struct as_request *req,
                   const struct as_env *env) {
  struct rules r = {.link = link, .req = req, .env = env};
  find_target(&r);
  size_t ndiags = link->ndiags;
  /* Every unit so far is linked (the plugin's views are what the linker
   * loaded): the allocators among them are candidates already. */
  for (size_t i = 0; i < link->nunits; i++)
    link->units[i]->linked = true;
  collect_linked(&r);
  check_count(&r);
  for (size_t i = 0; i < r.ncands; i++) {
    free(r.cands[i].name);
    free(r.cands[i].origin);
  }
  free(r.cands);
  /* Only the two-allocator error is certain this early. */
  bool two = false;
  for (size_t i = ndiags; i < link->ndiags; i++)
    two |= link->diags[i].error == AS_E_TWO_ALLOCATORS;
  if (!two)
    as_diag_truncate(link, ndiags);
  return two ? 1 : 0;
}

/* The request the rules apply: a default gives way, with a note, to an
 * allocator the link brings or to a malloc an executable brings (other
 * than the default's own: jemalloc's library for jemalloc). */
static const struct as_request *applied_request(struct rules *r,
                                                const struct as_request *req) {
  struct as_link *link = r->link;
  if (!req || !req->is_default || !req->allocator)
    return req;
  if (link->type == AS_EXECUTABLE && needs_system_libc(req->allocator) &&
      libc_elsewhere(r)) {
    as_diag_add(link, AS_NOTE, AS_E_DEFAULT_GIVES_WAY,
                "the link brings a C library of its own (%s), not the one "
                "%s is built for: the default '%s' (from %s) gives way to its "
                "malloc",
                r->libc_elsewhere, req->allocator, req->allocator, req->origin);
    return NULL;
  }
  const struct as_unit *own = NULL;
  for (size_t i = 0; i < link->nunits && !own; i++)
    if (link->units[i]->linked && is_allocator(link->units[i]))
      own = link->units[i];
  const char *what = "an allocator";
  if (!own && link->type == AS_EXECUTABLE) {
    own = as_link_malloc_unit(link);
    what = "a malloc";
    if (own && own->defines_jemalloc && strcmp(req->allocator, "jemalloc") == 0)
      own = NULL;
  }
  if (!own)
    return req;
  as_diag_add(link, AS_NOTE, AS_E_DEFAULT_GIVES_WAY,
              "the link brings %s of its own (%s): the default '%s' (from %s) "
              "gives way to it",
              what, as_unit_origin(link, own), req->allocator, req->origin);
  return NULL;
}

int as_decide(struct as_link *link, const struct as_request *req,
              const struct as_env *env, struct as_decision *out) {
  memset(out, 0, sizeof *out);
  struct rules r = {.link = link, .req = req, .env = env};
  find_target(&r);
  r.req = req = applied_request(&r, req);
  out->machine = r.machine;
  out->elf_class = r.elf_class;
  out->elf_data = r.elf_data;
  if (check_request(&r) == 0) {
    collect_linked(&r);
    check_count(&r);
    check_shared_exports(link);
    check_rust_shims(link);
    check_redirects(link);
    check_cycles(link);
  }
  int rc = as_diag_exit_code(link);
  if (rc == 0) {
    for (size_t i = 0; i < link->nunits; i++) {
      const struct as_unit *u = link->units[i];
      if (u->linked && u->bitcode) {
        out->lto = true;
        r.thin_lto |= u->thin_lto;
      }
    }
    decide(&r, out);
    /* jemalloc's library goes with its allocator unless the link
     * already holds jemalloc's code (a unit defining mallocx). */
    if (out->name && strcmp(out->name, "jemalloc") == 0) {
      out->needs_jemalloc = true;
      for (size_t i = 0; i < link->nunits; i++)
        if (link->units[i]->linked && link->units[i]->defines_jemalloc)
          out->needs_jemalloc = false;
    }
    as_decide_malloc(link, env, out);
    /* No shipped allocator for the output's machine (shipped_object), or
     * two malloc implementations. */
    if ((rc = as_diag_exit_code(link)) != 0) {
      uint16_t machine = out->machine;
      as_decision_free(out);
      out->machine = machine;
    }
  }
  for (size_t i = 0; i < r.ncands; i++) {
    free(r.cands[i].name);
    free(r.cands[i].origin);
  }
  free(r.cands);
  return rc;
}

void as_decision_free(struct as_decision *d) {
  free(d->malloc);
  for (uint32_t i = 0; i < d->nlibraries; i++)
    free(d->libraries[i]);
  free(d->reason);
  free(d->inject_object);
  free(d->owned_name);
  memset(d, 0, sizeof *d);
}
