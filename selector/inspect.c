/* What allocator does a linked artifact hold? Without allocsel's record
 * (a later issue), the answer comes from the symbol table: markers survive
 * linking as local symbols, and so do the ABI definitions. */
#include "record.h"
#include "selector.h"

#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(struct as_link *link, const char *path, const char *why) {
  as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT, "%s: %s", path, why);
  return -1;
}

static bool has_interp(Elf *e) {
  size_t n;
  if (elf_getphdrnum(e, &n) != 0)
    return false;
  for (size_t i = 0; i < n; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP)
      return true;
  }
  return false;
}

static Elf_Scn *find_section(Elf *e, Elf64_Word type, GElf_Shdr *sh) {
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(e, scn)))
    if (gelf_getshdr(scn, sh) && sh->sh_type == type)
      return scn;
  return NULL;
}

static void read_symbols(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh,
                         const struct as_link *link, struct as_artifact *out) {
  Elf_Data *data = elf_getdata(scn, NULL);
  size_t symsize = gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT);
  size_t n = data && symsize ? data->d_size / symsize : 0;
  size_t cap = 0;
  static const char prefix[] = "__allocsel_allocator_";
  for (size_t i = 1; i < n; i++) {
    GElf_Sym sym;
    if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
      continue;
    const char *name = elf_strptr(e, sh->sh_link, sym.st_name);
    if (!name)
      continue;
    for (int k = 0; k < AS_ABI_COUNT; k++)
      if (strcmp(name, as_abi[k]) == 0)
        out->abi_defined |= 1u << k;
    /* A static link's malloc: libc's, unless one of these is in. */
    if (!out->static_malloc && GELF_ST_BIND(sym.st_info) != STB_LOCAL)
      out->static_malloc = strcmp(name, "mallocx") == 0     ? "jemalloc"
                           : strcmp(name, "tc_malloc") == 0 ? "tcmalloc"
                           : strcmp(name, "mi_malloc") == 0 ? "mimalloc"
                                                            : NULL;
    if (strncmp(name, prefix, sizeof prefix - 1) == 0 &&
        name[sizeof prefix - 1]) {
      const char *a = name + sizeof prefix - 1;
      bool dup = false;
      for (size_t j = 0; j < out->nallocators && !dup; j++)
        dup = strcmp(out->allocators[j], a) == 0;
      if (!dup)
        *AS_PUSH(out->allocators, out->nallocators, cap) = as_xstrdup(a);
    }
  }
  (void)link;
}

/* key=value lines of one note into the record fields. */
static void parse_record(const char *text, size_t len, struct as_record *r) {
  struct {
    const char *key;
    char **slot;
  } fields[] = {{"allocator", &r->allocator}, {"type", &r->type},
                {"version", &r->version},     {"reason", &r->reason},
                {"malloc", &r->malloc},       {"keep", &r->keep},
                {"needs", &r->needs}};
  enum { NFIELDS = sizeof fields / sizeof *fields };
  for (size_t i = 0; i < NFIELDS; i++) {
    free(*fields[i].slot);
    *fields[i].slot = NULL;
  }
  const char *p = text, *end = text + len;
  while (p < end && *p) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl ? nl : end;
    const char *eq = memchr(p, '=', (size_t)(eol - p));
    for (size_t i = 0; eq && i < NFIELDS; i++)
      if ((size_t)(eq - p) == strlen(fields[i].key) &&
          memcmp(p, fields[i].key, (size_t)(eq - p)) == 0) {
        size_t n = (size_t)(eol - eq - 1);
        *fields[i].slot = as_xmalloc(n + 1);
        memcpy(*fields[i].slot, eq + 1, n);
        (*fields[i].slot)[n] = '\0';
      }
    p = eol + 1;
  }
}

/* The artifact's own record: the note whose type matches, else the last.
 * A note without allocator= and type= lines is no record of ours; two
 * matching notes that disagree (a stray note from an input) make the
 * record untrustworthy: `conflict` is set and the caller says so. */
static void read_record(Elf *e, const char *want_type, struct as_record *r) {
  size_t shstrndx;
  if (elf_getshdrstrndx(e, &shstrndx) != 0)
    return;
  Elf_Scn *scn = NULL;
  GElf_Shdr sh;
  struct as_record note = {0};
  while ((scn = elf_nextscn(e, scn))) {
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
      continue;
    const char *name = elf_strptr(e, shstrndx, sh.sh_name);
    if (!name || strcmp(name, AS_RECORD_SECTION) != 0)
      continue;
    Elf_Data *data = elf_getdata(scn, NULL);
    size_t off = 0, name_off, desc_off;
    GElf_Nhdr nh;
    while (data &&
           (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
      const char *nname = (const char *)data->d_buf + name_off;
      if (nh.n_type != AS_RECORD_NOTE_TYPE ||
          nh.n_namesz != sizeof AS_RECORD_NOTE_NAME ||
          memcmp(nname, AS_RECORD_NOTE_NAME, nh.n_namesz) != 0)
        continue;
      parse_record((const char *)data->d_buf + desc_off, nh.n_descsz, &note);
      if (!note.allocator || !note.type)
        continue;
      if (strcmp(note.type, "sealed") == 0 &&
          !(want_type && strcmp(want_type, "sealed") == 0)) {
        /* A sealed library's, linked in: a guest, not the record. */
        r->guests = as_grow(r->guests, &(size_t){r->nguests}, r->nguests + 1,
                            sizeof *r->guests);
        r->guests[r->nguests++] = as_xasprintf(
            "keeps %s (allocator %s, malloc %s)", note.keep ? note.keep : "?",
            note.allocator, note.malloc ? note.malloc : "?");
        continue;
      }
      r->count++;
      bool matches = want_type && strcmp(note.type, want_type) == 0;
      bool had_match =
          r->found && r->type && want_type && strcmp(r->type, want_type) == 0;
      if (had_match && matches && strcmp(r->allocator, note.allocator) != 0)
        r->conflict = true;
      if (had_match)
        continue; /* keep the matching one */
      char **guests = r->guests;
      size_t nguests = r->nguests;
      r->guests = NULL;
      r->nguests = 0;
      as_record_free(r);
      int count = r->count;
      bool conflict = r->conflict;
      *r = note;
      r->count = count;
      r->conflict = conflict;
      r->guests = guests;
      r->nguests = nguests;
      r->found = true;
      note = (struct as_record){0};
    }
  }
  as_record_free(&note);
}

int as_inspect_record(struct as_link *link, const char *path,
                      const char *want_type, struct as_record *r) {
  memset(r, 0, sizeof *r);
  if (elf_version(EV_CURRENT) == EV_NONE)
    return fail(link, path, "libelf is out of date");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(link, path, "cannot open");
  Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  if (e && elf_kind(e) == ELF_K_ELF)
    read_record(e, want_type, r);
  elf_end(e);
  close(fd);
  return 0;
}

void as_record_from_object(const void *bytes, size_t size,
                           const char *want_type, struct as_record *r) {
  memset(r, 0, sizeof *r);
  if (elf_version(EV_CURRENT) == EV_NONE)
    return;
  Elf *e = elf_memory((char *)bytes, size);
  if (e && elf_kind(e) == ELF_K_ELF)
    read_record(e, want_type, r);
  elf_end(e);
}

void as_record_free(struct as_record *r) {
  free(r->allocator);
  free(r->type);
  free(r->version);
  free(r->reason);
  free(r->malloc);
  free(r->keep);
  free(r->needs);
  for (size_t i = 0; i < r->nguests; i++)
    free(r->guests[i]);
  free(r->guests);
  r->guests = NULL;
  r->nguests = 0;
  r->allocator = r->type = r->version = r->reason = r->malloc = NULL;
  r->keep = r->needs = NULL;
}

/* The malloc implementation among DT_NEEDED before libc, if any:
 * jemalloc, tcmalloc and mimalloc export malloc and, loaded before libc,
 * replace its malloc in the whole process. */
static void read_needed(Elf *e, struct as_artifact *out) {
  GElf_Shdr sh;
  Elf_Scn *scn = find_section(e, SHT_DYNAMIC, &sh);
  Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
  size_t n = data && sh.sh_entsize ? data->d_size / sh.sh_entsize : 0;
  static const char *const known[] = {"libjemalloc", "libtcmalloc",
                                      "libmimalloc"};
  for (size_t i = 0; i < n && !out->malloc_library; i++) {
    GElf_Dyn dyn;
    if (!gelf_getdyn(data, (int)i, &dyn) || dyn.d_tag != DT_NEEDED)
      continue;
    const char *lib = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
    /* After libc in load order, its malloc is not the one calls bind to. */
    if (lib && strncmp(lib, "libc.so", 7) == 0)
      break;
    for (size_t k = 0; lib && k < 3; k++)
      if (strncmp(lib, known[k], strlen(known[k])) == 0)
        out->malloc_library = as_xstrdup(lib);
  }
}

int as_inspect_artifact(struct as_link *link, const char *path,
                        struct as_artifact *out) {
  memset(out, 0, sizeof *out);
  if (elf_version(EV_CURRENT) == EV_NONE)
    return fail(link, path, "libelf is out of date");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(link, path, "cannot open");
  Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  GElf_Ehdr eh;
  int rc = 0;
  if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
    rc = fail(link, path, "not an ELF file");
  } else if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
    rc = fail(link, path, "not a linked executable or shared library");
  } else {
    out->type =
        eh.e_type == ET_EXEC || has_interp(e) ? AS_EXECUTABLE : AS_DYLIB;
    GElf_Shdr sh;
    Elf_Scn *scn = find_section(e, SHT_SYMTAB, &sh);
    out->has_symtab = scn != NULL;
    if (!scn)
      scn = find_section(e, SHT_DYNSYM, &sh);
    if (scn)
      read_symbols(e, scn, &sh, link, out);
    read_needed(e, out);
  }
  elf_end(e);
  close(fd);
  return rc;
}

int as_probe_artifact(const char *path, enum as_output_type *type,
                      bool *has_record) {
  *has_record = false;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return -1;
  /* Most files a build writes are no ELF: four bytes tell. */
  unsigned char magic[SELFMAG];
  Elf *e = NULL;
  GElf_Ehdr eh;
  int rc = -1;
  if (pread(fd, magic, SELFMAG, 0) == SELFMAG &&
      memcmp(magic, ELFMAG, SELFMAG) == 0 &&
      elf_version(EV_CURRENT) != EV_NONE &&
      (e = elf_begin(fd, ELF_C_READ_MMAP, NULL)) && elf_kind(e) == ELF_K_ELF &&
      gelf_getehdr(e, &eh) && (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)) {
    *type = eh.e_type == ET_EXEC || has_interp(e) ? AS_EXECUTABLE : AS_DYLIB;
    struct as_record r = {0};
    read_record(e, as_output_type_name(*type), &r);
    /* Its own record, of a linked type: an rlib's note rides along into
     * links that did not go through allocsel. */
    *has_record = r.found && (strcmp(r.type, "executable") == 0 ||
                              strcmp(r.type, "dylib") == 0);
    as_record_free(&r);
    rc = 0;
  }
  elf_end(e);
  close(fd);
  return rc;
}

void as_artifact_free(struct as_artifact *a) {
  free(a->malloc_library);
  for (size_t i = 0; i < a->nallocators; i++)
    free(a->allocators[i]);
  free(a->allocators);
}
