/* Native ELF64 little-endian symbol tables, read without libelf: the host's
 * objects and shared libraries, nearly every input of a link. The file is
 * read with as few preads as its layout allows (one, for an object that fits
 * the first read), and only the global part of the symbol table and its
 * string table are kept: a unit read quickly keeps them, so a link that
 * turns out to need the full resolution walks them again instead of reading
 * the file a second time. Anything out of the ordinary (another class or
 * byte order, extended section numbering, damage) is left to libelf, which
 * reads it and says what is wrong. */
#include "elf_read.h"
#include "symtab.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where the bytes are: a file (its first `headlen` bytes already read) or
 * memory (an archive member, a plugin's view). */
struct elf_source {
  int fd;
  const unsigned char *data;
  size_t size, headlen;
};

static bool source_read(const struct elf_source *s, void *dst, size_t off,
                        size_t len) {
  if (off > s->size || len > s->size - off)
    return false;
  if (off + len <= s->headlen) {
    memcpy(dst, s->data + off, len);
    return true;
  }
  return s->fd >= 0 && as_pread_all(s->fd, dst, len, (off_t)off);
}

/* Does the shared library's DT_NEEDED name a malloc library? Its dynamic
 * section's names are in .dynstr, the dynamic symbols' strings. */
static bool needs_malloc_library(const struct elf_source *s,
                                 const Elf64_Shdr *sh, size_t shnum,
                                 const Elf64_Shdr *sym, const char *strtab,
                                 size_t strsize) {
  for (size_t i = 0; i < shnum; i++) {
    const Elf64_Shdr *d = &sh[i];
    if (d->sh_type != SHT_DYNAMIC || d->sh_link != sym->sh_link ||
        d->sh_size > 64 * 1024 || d->sh_size % sizeof(Elf64_Dyn) != 0)
      continue;
    Elf64_Dyn *dyn = as_xmalloc(d->sh_size ? d->sh_size : 1);
    bool found = false;
    if (source_read(s, dyn, d->sh_offset, d->sh_size))
      for (size_t k = 0; k < d->sh_size / sizeof *dyn && !found; k++) {
        if (dyn[k].d_tag == DT_NULL)
          break;
        found = dyn[k].d_tag == DT_NEEDED && dyn[k].d_un.d_val < strsize &&
                as_malloc_implementation(strtab + dyn[k].d_un.d_val);
      }
    free(dyn);
    return found;
  }
  return false;
}

static struct as_elf_syms *read_syms(const struct elf_source *s,
                                     bool in_place) {
  Elf64_Ehdr eh;
  if (!source_read(s, &eh, 0, sizeof eh) ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_ident[EI_DATA] != ELFDATA2LSB ||
      (eh.e_type != ET_REL && eh.e_type != ET_DYN) ||
      eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 ||
      eh.e_shoff > s->size ||
      eh.e_shnum > (s->size - eh.e_shoff) / sizeof(Elf64_Shdr))
    return NULL;
  size_t shbytes = (size_t)eh.e_shnum * sizeof(Elf64_Shdr);
  Elf64_Shdr *sh = as_xmalloc(shbytes);
  struct as_elf_syms *out = NULL;
  if (!source_read(s, sh, eh.e_shoff, shbytes))
    goto done;
  Elf64_Word want = eh.e_type == ET_REL ? SHT_SYMTAB : SHT_DYNSYM;
  const Elf64_Shdr *sym = NULL;
  for (size_t i = 0; i < eh.e_shnum && !sym; i++)
    if (sh[i].sh_type == want)
      sym = &sh[i];
  if (!sym) {
    out = as_xcalloc(1, sizeof *out); /* no symbols: links, needs nothing */
    out->shared = eh.e_type == ET_DYN;
    out->machine = eh.e_machine;
    goto done;
  }
  if (sym->sh_entsize != sizeof(Elf64_Sym) || sym->sh_link >= eh.e_shnum ||
      sym->sh_offset > s->size || sym->sh_size > s->size - sym->sh_offset ||
      sym->sh_size % sizeof(Elf64_Sym) != 0)
    goto done;
  const Elf64_Shdr *str = &sh[sym->sh_link];
  size_t n = sym->sh_size / sizeof(Elf64_Sym);
  if (str->sh_type != SHT_STRTAB || str->sh_size == 0 ||
      str->sh_offset > s->size || str->sh_size > s->size - str->sh_offset ||
      sym->sh_info > n || str->sh_size > UINT32_MAX || n > UINT32_MAX)
    goto done;
  size_t nglobal = n - sym->sh_info;
  size_t syms_off = sym->sh_offset + (size_t)sym->sh_info * sizeof(Elf64_Sym);
  size_t syms_size = nglobal * sizeof(Elf64_Sym);
  out = as_xmalloc(sizeof *out + (in_place ? 0 : syms_size + str->sh_size));
  *out = (struct as_elf_syms){.nsyms = (uint32_t)nglobal,
                              .strsize = (uint32_t)str->sh_size,
                              .shared = eh.e_type == ET_DYN,
                              .machine = eh.e_machine};
  if (in_place) {
    out->syms = s->data + syms_off;
    out->strtab = (const char *)s->data + str->sh_offset;
  } else {
    /* The strings first, so that as_elf_syms_keep_strings can cut the
     * symbols off. */
    char *strtab = (char *)(out + 1);
    unsigned char *syms = (unsigned char *)strtab + str->sh_size;
    out->syms = syms;
    out->strtab = strtab;
    if (!source_read(s, syms, syms_off, syms_size) ||
        !source_read(s, strtab, str->sh_offset, str->sh_size)) {
      free(out);
      out = NULL;
      goto done;
    }
  }
  if (out->strtab[str->sh_size - 1] != '\0') {
    free(out);
    out = NULL;
    goto done;
  }
  if (out->shared)
    out->needs_malloc_library =
        needs_malloc_library(s, sh, eh.e_shnum, sym, out->strtab, out->strsize);
done:
  free(sh);
  return out;
}

struct as_elf_syms *as_elf_syms_read_fd(int fd, size_t size,
                                        const unsigned char *head,
                                        size_t headlen) {
  struct elf_source s = {.fd = fd,
                         .data = head,
                         .size = size,
                         .headlen = headlen < size ? headlen : size};
  return read_syms(&s, false);
}

struct as_elf_syms *as_elf_syms_keep_strings(struct as_elf_syms *r) {
  if (r->strtab != (const char *)(r + 1))
    return r; /* read in place, or no symbols: nothing to cut */
  struct as_elf_syms *kept = realloc(r, sizeof *r + r->strsize);
  if (!kept)
    return r;
  kept->strtab = (const char *)(kept + 1);
  kept->syms = NULL;
  kept->nsyms = 0;
  return kept;
}

void as_unit_keep_strings(struct as_link *link, struct as_unit *u,
                          struct as_elf_syms *r) {
  u->raw = as_elf_syms_keep_strings(r);
  if (u->aside_end > u->aside_first)
    as_aside_rebase(link->symtab, u->aside_first, u->raw->strtab);
}

struct as_elf_syms *as_elf_syms_read_memory(const void *data, size_t size) {
  struct elf_source s = {.fd = -1, .data = data, .size = size, .headlen = size};
  return read_syms(&s, false);
}

struct as_elf_syms *as_elf_syms_view_memory(const void *data, size_t size) {
  struct elf_source s = {.fd = -1, .data = data, .size = size, .headlen = size};
  return read_syms(&s, true);
}

/* GCC LTO: a slim object's real symbols are in its LTO symbol table. */
static bool is_gnu_lto_slim(const char *name) {
  return name[0] == '_' && name[1] == '_' && name[2] == 'g' &&
         strcmp(name, "__gnu_lto_slim") == 0;
}

void as_elf_syms_intern_refs(const struct as_elf_syms *r,
                             struct as_symtab *st) {
  for (uint32_t i = 0; i < r->nsyms; i++) {
    Elf64_Sym s = as_elf_sym(r, i);
    int bind = ELF64_ST_BIND(s.st_info);
    if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
      continue;
    if (s.st_name >= r->strsize)
      return; /* the full scan reports it */
    const char *name = r->strtab + s.st_name;
    if (is_gnu_lto_slim(name))
      return; /* its symbols are in its LTO table: libelf reads them */
    /* Weak references never pull members in. */
    if (*name && s.st_shndx == SHN_UNDEF && bind != STB_WEAK)
      as_symtab_intern(st, name, strlen(name));
  }
}

int as_scan_elf_syms(struct as_link *link, uint32_t unit_id, struct as_unit *u,
                     const struct as_elf_syms *r, bool quick) {
  u->machine = r->machine;
  u->elf_class = ELFCLASS64;
  u->elf_data = ELFDATA2LSB;
  u->shared = r->shared;
  u->needs_malloc_library = r->needs_malloc_library;
  u->quick = quick;
  /* Where only referenced names are interned, its other definitions go
   * aside, their names left in `r`. */
  bool aside = !quick && link->scan == AS_SCAN_REFERENCED;
  uint32_t run =
      aside ? as_aside_begin_unit(link->symtab, unit_id, r->strtab, r->nsyms)
            : 0;
  u->aside_first = u->aside_end = (uint32_t)link->symtab->aside.n;
  struct as_unit_caps caps = {0};
  for (uint32_t i = 0; i < r->nsyms; i++) {
    Elf64_Sym s = as_elf_sym(r, i);
    const Elf64_Sym *sym = &s;
    int bind = ELF64_ST_BIND(sym->st_info);
    if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
      continue;
    if (sym->st_name >= r->strsize) {
      as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT, "%s: malformed symbol name",
                  as_unit_origin(link, u));
      if (aside)
        as_aside_truncate(link->symtab, u->aside_first);
      return -1;
    }
    const char *name = r->strtab + sym->st_name;
    if (!*name)
      continue;
    if (is_gnu_lto_slim(name)) {
      if (aside)
        as_aside_truncate(link->symtab, u->aside_first);
      return 1;
    }
    bool defined = sym->st_shndx != SHN_UNDEF;
    if (quick) {
      if (as_name_may_matter(name))
        as_unit_note_symbol(u, name, defined);
      continue;
    }
    size_t len = strlen(name);
    /* Most definitions: a name nothing has referenced so far. */
    if (defined && aside &&
        as_symtab_find_else_aside(link->symtab, &run, name, len, 0) ==
            AS_NO_UNIT) {
      if (as_name_may_matter(name))
        as_unit_note_symbol(u, name, true);
      continue;
    }
    as_unit_add_symbol(link, u, &caps, name, len, defined, bind == STB_WEAK);
  }
  u->aside_end = (uint32_t)link->symtab->aside.n;
  as_unit_finish(link, u);
  return 0;
}
