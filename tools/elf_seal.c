/* Seals a relocatable object in place, through libelf (any class, any byte
 * order):
 *   - the symbol table is reordered, locals first as ELF wants: the old
 *     locals, then every global definition not kept (now local), then the
 *     kept definitions and what stays undefined, then the marker; every
 *     relocation section's and group's symbol index follows;
 *   - section groups are dissolved: linkers merge COMDAT groups by their
 *     signature's name whatever its binding, so a sealed copy of an inline
 *     function would be thrown away for the program's while its now-local
 *     symbols still point into it;
 *   - the record note is added as a section of its own.
 * libelf lays the file out again and writes it over the old one. */
#include "elf_seal.h"

#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"
#include "record.h"
#include "unit.h"

static int fail(char **error, const char *what) {
  *error = as_xasprintf("%s: %s", what, elf_errmsg(-1));
  return -1;
}

/* The kept name's index, or -1. */
static ptrdiff_t kept(char *const *keep, size_t nkeep, const char *name) {
  char *const *k =
      nkeep ? bsearch(&name, keep, nkeep, sizeof *keep, as_strcmp_ptr) : NULL;
  return k ? k - keep : -1;
}

/* What a global definition tells of the runtime the object carries. */
static void note_definition(struct seal_facts *f, const char *name) {
  enum as_name_class c = as_classify_name(name);
  if (c == AS_NAME_RUST_SHIM)
    f->rust_shim = true;
  else if (c == AS_NAME_RUST_RUNTIME)
    f->rust_runtime = true;
  else if (c == AS_NAME_MALLOC)
    f->malloc = true;
  else if (c == AS_NAME_JEMALLOC)
    f->malloc_name = "jemalloc";
  else if (c == AS_NAME_MARKER && !f->allocator)
    f->allocator = as_xstrdup(name + strlen("__allocsel_allocator_"));
  if (strcmp(name, "__gxx_personality_v0") == 0)
    f->cxx_runtime = true;
  else if (strcmp(name, "tc_malloc") == 0)
    f->malloc_name = "tcmalloc";
  else if (strcmp(name, "mi_malloc") == 0)
    f->malloc_name = "mimalloc";
}

static Elf_Scn *symbol_table(Elf *e, size_t *ndx, Elf_Scn **shndx,
                             char **error) {
  Elf_Scn *scn = NULL, *symtab = NULL;
  GElf_Shdr sh;
  *shndx = NULL;
  while ((scn = elf_nextscn(e, scn))) {
    if (!gelf_getshdr(scn, &sh))
      return fail(error, "section header"), NULL;
    if (sh.sh_type == SHT_SYMTAB) {
      if (symtab) {
        *error = as_xstrdup("two symbol tables");
        return NULL;
      }
      symtab = scn;
    }
  }
  if (!symtab) {
    *error = as_xstrdup("no symbol table");
    return NULL;
  }
  *ndx = elf_ndxscn(symtab);
  while ((scn = elf_nextscn(e, scn)))
    if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB_SHNDX &&
        sh.sh_link == *ndx)
      *shndx = scn;
  return symtab;
}

/* Symbol indexes in relocations and group headers, old to new. */
static int remap_indexes(Elf *e, size_t symndx, const uint32_t *map, size_t n,
                         char **error) {
  Elf_Scn *scn = NULL;
  GElf_Shdr sh;
  while ((scn = elf_nextscn(e, scn))) {
    if (!gelf_getshdr(scn, &sh))
      return fail(error, "section header");
    if (sh.sh_link != symndx)
      continue;
    if (sh.sh_type == SHT_GROUP) {
      /* Dissolved: its members become ordinary sections. */
      Elf_Data *d = elf_getdata(scn, NULL);
      size_t words = d ? d->d_size / 4 : 0;
      for (size_t i = 1; i < words; i++) {
        uint32_t member;
        memcpy(&member, (char *)d->d_buf + i * 4, 4);
        Elf_Scn *m = elf_getscn(e, member);
        GElf_Shdr msh;
        if (!m || !gelf_getshdr(m, &msh))
          return fail(error, "group member");
        msh.sh_flags &= ~(GElf_Xword)SHF_GROUP;
        if (!gelf_update_shdr(m, &msh))
          return fail(error, "group member");
      }
      sh.sh_type = SHT_PROGBITS;
      sh.sh_flags = SHF_EXCLUDE;
      sh.sh_link = sh.sh_info = 0;
      sh.sh_entsize = 0;
      if (!gelf_update_shdr(scn, &sh))
        return fail(error, "group");
      continue;
    }
    if (sh.sh_type != SHT_REL && sh.sh_type != SHT_RELA)
      continue;
    bool rela = sh.sh_type == SHT_RELA;
    Elf_Data *d = NULL;
    while ((d = elf_getdata(scn, d))) {
      size_t count = d->d_size / gelf_fsize(e, rela ? ELF_T_RELA : ELF_T_REL, 1,
                                            EV_CURRENT);
      for (size_t i = 0; i < count; i++) {
        GElf_Rela r;
        GElf_Rel rl;
        if (rela ? !gelf_getrela(d, (int)i, &r) : !gelf_getrel(d, (int)i, &rl))
          return fail(error, "relocation");
        GElf_Xword info = rela ? r.r_info : rl.r_info;
        size_t sym = GELF_R_SYM(info);
        if (sym >= n) {
          *error = as_xstrdup("a relocation names no symbol");
          return -1;
        }
        info = GELF_R_INFO(map[sym], GELF_R_TYPE(info));
        if (rela) {
          r.r_info = info;
          if (!gelf_update_rela(d, (int)i, &r))
            return fail(error, "relocation");
        } else {
          rl.r_info = info;
          if (!gelf_update_rel(d, (int)i, &rl))
            return fail(error, "relocation");
        }
      }
      elf_flagdata(d, ELF_C_SET, ELF_F_DIRTY);
    }
  }
  return 0;
}

/* Appends `bytes` to a string table: returns their offset. */
static size_t add_string(Elf_Scn *scn, const char *s, size_t *end) {
  GElf_Shdr sh;
  size_t off = *end;
  if (!off && gelf_getshdr(scn, &sh))
    off = sh.sh_size;
  Elf_Data *d = elf_newdata(scn);
  if (!d)
    return 0;
  d->d_buf = (void *)s;
  d->d_size = strlen(s) + 1;
  d->d_type = ELF_T_BYTE;
  d->d_align = 1;
  *end = off + d->d_size;
  return off;
}

/* The record note, and the bitcode rustc and clang embed (.llvmbc,
 * .llvmcmd) emptied: one module per input glued together, which
 * nothing can read, and on which the LLVM plugin binutils' nm loads
 * aborts. */
static int finish_sections(Elf *e, const char *text, bool big, void **owned,
                           char **error) {
  size_t shstrndx;
  if (elf_getshdrstrndx(e, &shstrndx) != 0)
    return fail(error, "section names");
  Elf_Scn *names = elf_getscn(e, shstrndx), *scn = NULL;
  size_t end = 0, dropped = 0;
  GElf_Shdr sh;
  while ((scn = elf_nextscn(e, scn))) {
    const char *name;
    if (!gelf_getshdr(scn, &sh) ||
        !(name = elf_strptr(e, shstrndx, sh.sh_name)))
      return fail(error, "section header");
    if (strcmp(name, ".llvmbc") != 0 && strcmp(name, ".llvmcmd") != 0)
      continue;
    if (!dropped && !(dropped = add_string(names, ".allocsel.dropped", &end)))
      return fail(error, "section names");
    Elf_Data *d = NULL;
    while ((d = elf_getdata(scn, d)))
      d->d_size = 0;
    sh.sh_name = (GElf_Word)dropped;
    sh.sh_size = 0;
    if (!gelf_update_shdr(scn, &sh))
      return fail(error, "section header");
  }
  size_t name = add_string(names, AS_RECORD_SECTION, &end);
  size_t size;
  *owned = as_record_note(text, big, &size);
  scn = elf_newscn(e);
  Elf_Data *d = scn ? elf_newdata(scn) : NULL;
  if (!name || !d || !gelf_getshdr(scn, &sh))
    return fail(error, "record");
  d->d_buf = *owned;
  d->d_size = size;
  d->d_type = ELF_T_BYTE; /* the note is in the target's order already */
  d->d_align = 4;
  sh.sh_name = (GElf_Word)name;
  sh.sh_type = SHT_NOTE;
  sh.sh_addralign = 4;
  if (!gelf_update_shdr(scn, &sh))
    return fail(error, "record");
  return 0;
}

/* libelf lays the file out again, padding each section to its alignment:
 * absurd ones (a malformed file's 2^40) would write terabytes. A real
 * object aligns sections to at most a huge page. */
static bool sane_alignments(Elf *e) {
  Elf_Scn *scn = NULL;
  GElf_Shdr sh;
  uint64_t total = 0;
  while ((scn = elf_nextscn(e, scn))) {
    if (!gelf_getshdr(scn, &sh) || sh.sh_addralign > (1u << 24))
      return false;
    total += sh.sh_addralign;
    if (total > (1u << 28))
      return false;
  }
  return true;
}

int elf_seal(int fd, char *const *keep, size_t nkeep, const char *marker,
             seal_record_fn *record, void *ctx, struct seal_facts *f,
             char ***missing, size_t *nmissing, char **error) {
  *f = (struct seal_facts){0};
  *missing = NULL;
  *nmissing = 0;
  *error = NULL;
  if (elf_version(EV_CURRENT) == EV_NONE) {
    *error = as_xstrdup("libelf is out of date");
    return -1;
  }
  int rc = -1;
  GElf_Sym *syms = NULL;
  Elf32_Word *xndx = NULL;
  uint32_t *map = NULL, *order = NULL;
  void *symbuf = NULL, *xbuf = NULL, *note = NULL;
  char *text = NULL;
  size_t cap_missing = 0, cap_undef = 0;
  Elf *e = elf_begin(fd, ELF_C_RDWR, NULL);
  GElf_Ehdr eh;
  if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
    fail(error, "not an ELF object");
    goto out;
  }
  if (eh.e_type != ET_REL) {
    *error = as_xstrdup("not a relocatable object");
    goto out;
  }
  f->elf64 = gelf_getclass(e) == ELFCLASS64;
  f->machine = eh.e_machine;
  size_t symndx;
  Elf_Scn *xscn, *symscn = symbol_table(e, &symndx, &xscn, error);
  if (!symscn)
    goto out;
  GElf_Shdr sh;
  Elf_Data *sd = elf_getdata(symscn, NULL);
  Elf_Data *xd = xscn ? elf_getdata(xscn, NULL) : NULL;
  if (!gelf_getshdr(symscn, &sh) || !sd || !sh.sh_entsize) {
    fail(error, "symbol table");
    goto out;
  }
  size_t n = sd->d_size / gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT);
  size_t first_global = sh.sh_info, strndx = sh.sh_link;
  if (n == 0 || first_global > n || n > UINT32_MAX - 2 ||
      sd->d_size != n * (f->elf64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym))) {
    *error = as_xstrdup("malformed symbol table");
    goto out;
  }
  syms = as_xcalloc(n + 1, sizeof *syms);
  xndx = as_xcalloc(n + 1, sizeof *xndx);
  map = as_xcalloc(n + 1, sizeof *map);
  order = as_xcalloc(n + 1, sizeof *order);
  for (size_t i = 0; i < n; i++)
    if (!gelf_getsymshndx(sd, xd, (int)i, &syms[i], &xndx[i])) {
      fail(error, "symbol");
      goto out;
    }

  /* Which globals go local; what the object carries. */
  size_t norder = 0;
  for (size_t i = 0; i < first_global; i++)
    order[norder++] = (uint32_t)i;
  bool *local = as_xcalloc(n + 1, 1);
  bool *found = as_xcalloc(nkeep + 1, 1);
  for (size_t i = first_global; i < n; i++) {
    const char *name = elf_strptr(e, strndx, syms[i].st_name);
    if (!name) {
      free(local);
      free(found);
      fail(error, "symbol name");
      goto out;
    }
    bool defined = syms[i].st_shndx != SHN_UNDEF;
    if (!defined) {
      /* A weak reference asks for nothing (a newer glibc's function a
       * newer std looks for, say). */
      if (*name && GELF_ST_BIND(syms[i].st_info) != STB_WEAK)
        *AS_PUSH(f->undefined, f->nundefined, cap_undef) = as_xstrdup(name);
      continue;
    }
    note_definition(f, name);
    ptrdiff_t k = kept(keep, nkeep, name);
    if (k >= 0) {
      f->kept_found += !found[k];
      found[k] = true;
      continue;
    }
    if (syms[i].st_shndx == SHN_COMMON) {
      free(local);
      free(found);
      *error = as_xasprintf("'%s' is a common symbol", name);
      goto out;
    }
    local[i] = true;
    order[norder++] = (uint32_t)i;
    f->localized++;
  }
  size_t new_first_global = norder;
  for (size_t i = first_global; i < n; i++)
    if (!local[i])
      order[norder++] = (uint32_t)i;
  free(local);
  as_sort_unique_strings(f->undefined, &f->nundefined);

  /* Kept names it does not define: nothing is written. */
  for (size_t k = 0; k < nkeep; k++)
    if (!found[k])
      *AS_PUSH(*missing, *nmissing, cap_missing) = as_xstrdup(keep[k]);
  free(found);
  if (*nmissing) {
    *error = as_xstrdup("kept symbols not defined");
    goto out;
  }

  /* The marker: hidden, absolute, global. */
  size_t strend = 0;
  Elf_Scn *strscn = elf_getscn(e, strndx);
  size_t marker_name = strscn ? add_string(strscn, marker, &strend) : 0;
  if (!marker_name) {
    fail(error, "string table");
    goto out;
  }
  syms[n] = (GElf_Sym){.st_name = (GElf_Word)marker_name,
                       .st_info = GELF_ST_INFO(STB_GLOBAL, STT_NOTYPE),
                       .st_other = STV_HIDDEN,
                       .st_shndx = SHN_ABS};
  order[norder++] = (uint32_t)n;
  for (size_t i = 0; i < norder; i++)
    map[order[i]] = (uint32_t)i;

  /* The new table, in libelf's memory form, the same type. */
  size_t entsize = f->elf64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
  symbuf = as_xcalloc(n + 1, entsize);
  sd->d_buf = symbuf;
  sd->d_size = (n + 1) * entsize;
  if (xd) {
    xbuf = as_xcalloc(n + 1, sizeof(Elf32_Word));
    xd->d_buf = xbuf;
    xd->d_size = (n + 1) * sizeof(Elf32_Word);
  }
  for (size_t i = 0; i < norder; i++) {
    GElf_Sym s = syms[order[i]];
    if (i >= first_global && i < new_first_global)
      s.st_info = GELF_ST_INFO(STB_LOCAL, GELF_ST_TYPE(s.st_info));
    if (!gelf_update_symshndx(sd, xd, (int)i, &s, xndx[order[i]])) {
      fail(error, "symbol");
      goto out;
    }
  }
  elf_flagdata(sd, ELF_C_SET, ELF_F_DIRTY);
  if (xd)
    elf_flagdata(xd, ELF_C_SET, ELF_F_DIRTY);
  sh.sh_info = (GElf_Word)new_first_global;
  if (!gelf_update_shdr(symscn, &sh)) {
    fail(error, "symbol table");
    goto out;
  }
  if (remap_indexes(e, symndx, map, n + 1, error) != 0)
    goto out;

  if (!sane_alignments(e)) {
    *error = as_xstrdup("a section's alignment is out of range");
    goto out;
  }
  text = record(ctx, f);
  if (finish_sections(e, text, eh.e_ident[EI_DATA] == ELFDATA2MSB, &note,
                      error) != 0)
    goto out;
  /* The whole file is rewritten: without the flag, libelf writes the
   * section header table from the one it read, a section short of the
   * note (a fuzzed object whose layout did not move showed it). */
  elf_flagelf(e, ELF_C_SET, ELF_F_DIRTY);
  if (elf_update(e, ELF_C_WRITE) < 0) {
    fail(error, "write");
    goto out;
  }
  rc = 0;
out:
  elf_end(e);
  free(syms);
  free(xndx);
  free(map);
  free(order);
  free(symbuf);
  free(xbuf);
  free(note);
  free(text);
  return rc;
}

void seal_facts_free(struct seal_facts *f) {
  for (size_t i = 0; i < f->nundefined; i++)
    free(f->undefined[i]);
  free(f->undefined);
  free((char *)f->allocator);
  *f = (struct seal_facts){0};
}
