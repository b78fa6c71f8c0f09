/* An artifact as the dynamic loader will see it: which object's malloc the
 * process's calls bind to (the first in load order that defines it), a
 * malloc library that loads too late to win, and initial-exec TLS, which
 * dlopen may have no room for. For `allocsel inspect`.
 *
 * The load order is glibc's: the artifact, then its DT_NEEDED breadth
 * first, each library once, found through DT_RUNPATH ($ORIGIN expanded),
 * else DT_RPATH, else the system's directories. A library not found is
 * left out, as it is from what can be said. */
#include "selector.h"

#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bounds for a malformed or hostile file: glibc itself loads far fewer. */
enum { MAX_OBJECTS = 256, MAX_DIRS = 32 };

struct object {
  char *path, *name; /* name: the DT_NEEDED spelling (the artifact: its path) */
};

struct walk {
  struct object objs[MAX_OBJECTS];
  size_t n;
  bool elf64;
  Elf64_Half machine;
};

static const char *const system_dirs64[] = {"/lib/x86_64-linux-gnu",
                                            "/usr/lib/x86_64-linux-gnu",
                                            "/lib64",
                                            "/usr/lib64",
                                            "/lib",
                                            "/usr/lib"};
static const char *const system_dirs32[] = {"/lib/i386-linux-gnu",
                                            "/usr/lib/i386-linux-gnu",
                                            "/lib32",
                                            "/usr/lib32",
                                            "/lib",
                                            "/usr/lib"};

static bool seen(const struct walk *w, const char *name) {
  for (size_t i = 0; i < w->n; i++)
    if (strcmp(w->objs[i].name, name) == 0)
      return true;
  return false;
}

/* DT_RUNPATH's or DT_RPATH's directories, $ORIGIN as the object's own. */
static size_t search_dirs(const char *list, const char *object,
                          char *dirs[MAX_DIRS]) {
  char *origin = as_xstrdup(object);
  char *slash = strrchr(origin, '/');
  if (slash)
    *slash = '\0';
  else
    strcpy(origin, ".");
  size_t n = 0;
  char *copy = as_xstrdup(list);
  for (char *save, *d = strtok_r(copy, ":", &save); d && n < MAX_DIRS;
       d = strtok_r(NULL, ":", &save)) {
    if (strncmp(d, "$ORIGIN", 7) == 0)
      dirs[n++] = as_xasprintf("%s%s", origin, d + 7);
    else if (strncmp(d, "${ORIGIN}", 9) == 0)
      dirs[n++] = as_xasprintf("%s%s", origin, d + 9);
    else
      dirs[n++] = as_xstrdup(d);
  }
  free(copy);
  free(origin);
  return n;
}

/* An ELF file of the artifact's class and machine, or NULL. */
static Elf *open_elf(const char *path, int *fd, const struct walk *w) {
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0)
    return NULL;
  Elf *e = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
  GElf_Ehdr eh;
  if (e && elf_kind(e) == ELF_K_ELF && gelf_getehdr(e, &eh) &&
      (gelf_getclass(e) == ELFCLASS64) == w->elf64 &&
      eh.e_machine == w->machine)
    return e;
  elf_end(e);
  close(*fd);
  *fd = -1;
  return NULL;
}

static char *find_library(const char *name, char **dirs, size_t ndirs,
                          const struct walk *w) {
  if (strchr(name, '/'))
    return access(name, R_OK) == 0 ? as_xstrdup(name) : NULL;
  const char *const *sys = w->elf64 ? system_dirs64 : system_dirs32;
  for (size_t i = 0; i < ndirs + 6; i++) {
    const char *dir = i < ndirs ? dirs[i] : sys[i - ndirs];
    char *cand = as_xasprintf("%s/%s", dir, name);
    int fd;
    Elf *e = open_elf(cand, &fd, w);
    if (e) {
      elf_end(e);
      close(fd);
      return cand;
    }
    free(cand);
  }
  return NULL;
}

static Elf_Scn *dynamic_section(Elf *e, GElf_Shdr *sh) {
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(e, scn)))
    if (gelf_getshdr(scn, sh) && sh->sh_type == SHT_DYNAMIC)
      return scn;
  return NULL;
}

/* Does the object define malloc in its dynamic symbol table? */
static bool defines_malloc(Elf *e) {
  Elf_Scn *scn = NULL;
  GElf_Shdr sh;
  while ((scn = elf_nextscn(e, scn))) {
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
      continue;
    Elf_Data *data = elf_getdata(scn, NULL);
    size_t n = data ? data->d_size / sh.sh_entsize : 0;
    for (size_t i = 0; i < n; i++) {
      GElf_Sym sym;
      const char *name;
      if (gelf_getsym(data, (int)i, &sym) && sym.st_shndx != SHN_UNDEF &&
          GELF_ST_BIND(sym.st_info) != STB_LOCAL &&
          (name = elf_strptr(e, sh.sh_link, sym.st_name)) &&
          strcmp(name, "malloc") == 0)
        return true;
    }
  }
  return false;
}

char *as_loader_needed_malloc(const char *path) {
  int fd = elf_version(EV_CURRENT) != EV_NONE ? open(path, O_RDONLY | O_CLOEXEC)
                                              : -1;
  if (fd < 0)
    return NULL;
  Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  GElf_Shdr sh;
  Elf_Scn *scn = e ? dynamic_section(e, &sh) : NULL;
  Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
  size_t n = data && sh.sh_entsize ? data->d_size / sh.sh_entsize : 0;
  char *found = NULL;
  for (size_t i = 0; i < n && !found; i++) {
    GElf_Dyn dyn;
    const char *name;
    if (gelf_getdyn(data, (int)i, &dyn) && dyn.d_tag == DT_NEEDED &&
        (name = elf_strptr(e, sh.sh_link, dyn.d_un.d_val)) &&
        as_malloc_implementation(name))
      found = as_xstrdup(name);
  }
  elf_end(e);
  close(fd);
  return found;
}

/* Adds each DT_NEEDED of `e` (found at `path`) to the walk. */
static void add_needed(Elf *e, const char *path, struct walk *w) {
  GElf_Shdr sh;
  Elf_Scn *scn = dynamic_section(e, &sh);
  Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
  size_t n = data && sh.sh_entsize ? data->d_size / sh.sh_entsize : 0;
  const char *runpath = NULL, *rpath = NULL;
  for (size_t i = 0; i < n; i++) {
    GElf_Dyn dyn;
    if (!gelf_getdyn(data, (int)i, &dyn))
      continue;
    if (dyn.d_tag == DT_RUNPATH)
      runpath = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
    else if (dyn.d_tag == DT_RPATH)
      rpath = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
  }
  char *dirs[MAX_DIRS];
  const char *list = runpath ? runpath : rpath;
  size_t ndirs = list ? search_dirs(list, path, dirs) : 0;
  for (size_t i = 0; i < n && w->n < MAX_OBJECTS; i++) {
    GElf_Dyn dyn;
    const char *name;
    if (!gelf_getdyn(data, (int)i, &dyn) || dyn.d_tag != DT_NEEDED ||
        !(name = elf_strptr(e, sh.sh_link, dyn.d_un.d_val)) || seen(w, name))
      continue;
    char *found = find_library(name, dirs, ndirs, w);
    if (found)
      w->objs[w->n++] = (struct object){found, as_xstrdup(name)};
  }
  for (size_t i = 0; i < ndirs; i++)
    free(dirs[i]);
}

char *as_loader_find_system(const char *soname, bool elf64, uint16_t machine) {
  struct walk *w = as_xcalloc(1, sizeof *w);
  w->elf64 = elf64;
  w->machine = machine;
  char *path = elf_version(EV_CURRENT) != EV_NONE
                   ? find_library(soname, NULL, 0, w)
                   : NULL;
  free(w);
  return path;
}

void as_loader_read(const char *path, struct as_loader *out) {
  *out = (struct as_loader){0};
  struct walk *w = as_xcalloc(1, sizeof *w);
  int fd;
  GElf_Ehdr eh;
  Elf *e = NULL;
  if (elf_version(EV_CURRENT) != EV_NONE &&
      (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
    e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (e && elf_kind(e) == ELF_K_ELF && gelf_getehdr(e, &eh)) {
      w->elf64 = gelf_getclass(e) == ELFCLASS64;
      w->machine = eh.e_machine;
      /* Initial-exec TLS: DF_STATIC_TLS, and the block's size. */
      GElf_Shdr sh;
      Elf_Scn *scn = dynamic_section(e, &sh);
      Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
      size_t n = data && sh.sh_entsize ? data->d_size / sh.sh_entsize : 0;
      for (size_t i = 0; i < n; i++) {
        GElf_Dyn dyn;
        if (gelf_getdyn(data, (int)i, &dyn) && dyn.d_tag == DT_FLAGS &&
            (dyn.d_un.d_val & DF_STATIC_TLS))
          out->static_tls = true;
      }
      size_t nph;
      for (size_t i = 0; elf_getphdrnum(e, &nph) == 0 && i < nph; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_TLS)
          out->tls_size = ph.p_memsz;
      }
      w->objs[w->n++] = (struct object){as_xstrdup(path), as_xstrdup(path)};
      out->self_defines_malloc = defines_malloc(e);
      add_needed(e, path, w);
    }
    elf_end(e);
    close(fd);
  }
  /* Breadth first: each object's DT_NEEDED after every earlier object's. */
  for (size_t i = 1; i < w->n; i++) {
    Elf *dep = open_elf(w->objs[i].path, &fd, w);
    if (!dep)
      continue;
    bool mallocs = defines_malloc(dep);
    if (mallocs && !out->malloc_winner)
      out->malloc_winner = as_xstrdup(w->objs[i].name);
    else if (mallocs && !out->malloc_behind &&
             as_malloc_implementation(w->objs[i].name))
      out->malloc_behind = as_xstrdup(w->objs[i].name);
    add_needed(dep, w->objs[i].path, w);
    elf_end(dep);
    close(fd);
  }
  for (size_t i = 0; i < w->n; i++) {
    free(w->objs[i].path);
    free(w->objs[i].name);
  }
  free(w);
}

void as_loader_free(struct as_loader *l) {
  free(l->malloc_winner);
  free(l->malloc_behind);
  *l = (struct as_loader){0};
}
