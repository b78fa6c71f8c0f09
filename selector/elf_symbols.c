/* ELF symbol tables: what other units can see of an object (.symtab) or a
 * shared library (.dynsym), read with libelf. Only the headers, the symbol
 * table and its string table are touched. */
#include "elf_read.h"
#include "symtab.h"
#include "unit.h"

#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

static int elf_input_error(struct as_link *link, const struct as_unit *u,
                           const char *reason) {
  as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT, "%s: %s", as_unit_origin(link, u),
              reason ? reason : "malformed ELF file");
  return -1;
}

/* Reads one symbol: native ELF64 in place, anything else through gelf. */
static bool get_sym(Elf_Data *data, bool native64, size_t i, GElf_Sym *sym) {
  if (native64) {
    *sym = ((const Elf64_Sym *)data->d_buf)[i];
    return true;
  }
  return gelf_getsym(data, (int)i, sym) != NULL;
}

/* GCC's LTO objects (gcc -flto, GIMPLE): a slim one's ELF symbol table
 * holds only __gnu_lto_slim; what the linker resolves is in its
 * .gnu.lto_.symtab.ID sections, read here as gcc's own lto-plugin reads
 * them: per symbol its name, its comdat group, a kind byte (definition,
 * weak definition, undefined, weak undefined, common), a visibility byte,
 * an 8-byte size and a 4-byte slot. */
enum {
  GIMPLE_DEF,
  GIMPLE_WEAKDEF,
  GIMPLE_UNDEF,
  GIMPLE_WEAKUNDEF,
  GIMPLE_COMMON
};

static int scan_gimple(struct as_link *link, struct as_unit *u, Elf *e,
                       struct as_unit_caps *caps, bool quick) {
  size_t shstrndx;
  if (elf_getshdrstrndx(e, &shstrndx) != 0)
    return elf_input_error(link, u, elf_errmsg(-1));
  static const char prefix[] = ".gnu.lto_.symtab.";
  Elf_Scn *scn = NULL;
  GElf_Shdr sh;
  while ((scn = elf_nextscn(e, scn))) {
    const char *sname;
    if (!gelf_getshdr(scn, &sh) ||
        !(sname = elf_strptr(e, shstrndx, sh.sh_name)) ||
        strncmp(sname, prefix, sizeof prefix - 1) != 0)
      continue;
    Elf_Data *data = elf_getdata(scn, NULL);
    if (!data || (data->d_size && !data->d_buf))
      return elf_input_error(link, u, "malformed GCC LTO symbol table");
    u->gimple = true;
    if (data->d_size == 0)
      continue;
    const char *p = data->d_buf, *end = p + data->d_size;
    while (p < end) {
      const char *name = p;
      size_t n = strnlen(p, (size_t)(end - p));
      const char *comdat = p + n + 1;
      if (comdat >= end)
        return elf_input_error(link, u, "malformed GCC LTO symbol table");
      size_t cn = strnlen(comdat, (size_t)(end - comdat));
      const char *fixed = comdat + cn + 1;
      if (fixed > end || (size_t)(end - fixed) < 14)
        return elf_input_error(link, u, "malformed GCC LTO symbol table");
      int kind = (unsigned char)fixed[0];
      p = fixed + 14;
      if (!n || kind > GIMPLE_COMMON)
        continue;
      bool defined = kind != GIMPLE_UNDEF && kind != GIMPLE_WEAKUNDEF;
      if (quick)
        as_unit_note_symbol(u, name, defined);
      else
        as_unit_add_symbol(link, u, caps, name, n, defined,
                           kind == GIMPLE_WEAKUNDEF);
    }
  }
  return 0;
}

int as_scan_elf(struct as_link *link, struct as_unit *u, Elf *e, size_t size,
                bool quick) {
  GElf_Ehdr eh;
  if (!gelf_getehdr(e, &eh))
    return elf_input_error(link, u, elf_errmsg(-1));
  /* libelf reads a truncated file without complaint: check the section
   * header table lies inside it (`size` bytes), as lld does. */
  size_t shnum = eh.e_shnum ? eh.e_shnum : 1; /* 0: extended numbering */
  if (eh.e_shoff &&
      (eh.e_shoff > size || shnum * eh.e_shentsize > size - eh.e_shoff))
    return elf_input_error(
        link, u, "truncated: section headers go past the end of the file");
  u->machine = eh.e_machine;
  u->elf_class = eh.e_ident[EI_CLASS];
  u->elf_data = eh.e_ident[EI_DATA];
  Elf64_Word want;
  if (eh.e_type == ET_REL) {
    want = SHT_SYMTAB;
  } else if (eh.e_type == ET_DYN) {
    want = SHT_DYNSYM;
    u->shared = true;
  } else {
    return elf_input_error(link, u,
                           "not a relocatable object or shared library");
  }

  Elf_Scn *scn = NULL;
  GElf_Shdr sh;
  elf_errno(); /* start clean: the loop ends on NULL, errors tell why */
  while ((scn = elf_nextscn(e, scn))) {
    if (!gelf_getshdr(scn, &sh))
      return elf_input_error(link, u, elf_errmsg(-1));
    if (sh.sh_type == want)
      break;
  }
  int err = elf_errno();
  if (err != 0)
    return elf_input_error(link, u, elf_errmsg(err));
  if (!scn)
    return 0; /* no symbols: links, needs nothing */
  if (sh.sh_type != SHT_NOBITS &&
      (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset))
    return elf_input_error(link, u, "truncated: symbol table past the end");

  Elf_Data *data = elf_getdata(scn, NULL);
  if (!data)
    return elf_input_error(link, u, elf_errmsg(-1));
  size_t symsize = gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT);
  size_t n = symsize ? data->d_size / symsize : 0;
  if (sh.sh_info > n)
    return elf_input_error(link, u, "malformed symbol table");

  /* The string table, read once: elf_strptr per symbol costs more than
   * the rest of the scan. It must end in NUL for names to be safe. */
  Elf_Scn *strscn = elf_getscn(e, sh.sh_link);
  GElf_Shdr strsh;
  if (!strscn || !gelf_getshdr(strscn, &strsh) || strsh.sh_type != SHT_STRTAB ||
      strsh.sh_offset > size || strsh.sh_size > size - strsh.sh_offset)
    return elf_input_error(link, u, "malformed string table");
  Elf_Data *strdata = elf_getdata(strscn, NULL);
  if (!strdata || !strdata->d_buf || strdata->d_size == 0 ||
      ((const char *)strdata->d_buf)[strdata->d_size - 1] != '\0')
    return elf_input_error(link, u, "malformed string table");
  const char *strtab = strdata->d_buf;
  size_t strsize = strdata->d_size;
  struct as_unit_caps caps = {0};
  bool slim = false;
  bool native64 = gelf_getclass(e) == ELFCLASS64 && data->d_type == ELF_T_SYM &&
                  data->d_size >= n * sizeof(Elf64_Sym);
  u->quick = quick;
  for (size_t i = sh.sh_info; i < n; i++) {
    GElf_Sym sym;
    if (!get_sym(data, native64, i, &sym))
      return elf_input_error(link, u, elf_errmsg(-1));
    int bind = GELF_ST_BIND(sym.st_info);
    if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
      continue;
    if (sym.st_name >= strsize)
      return elf_input_error(link, u, "malformed symbol name");
    const char *name = strtab + sym.st_name;
    if (!*name)
      continue;
    if (strcmp(name, "__gnu_lto_slim") == 0) {
      slim = true; /* GCC LTO: the real symbols are in the LTO symtab */
      continue;
    }
    if (quick)
      as_unit_note_symbol(u, name, sym.st_shndx != SHN_UNDEF);
    else
      as_unit_add_symbol(link, u, &caps, name, strlen(name),
                         sym.st_shndx != SHN_UNDEF, bind == STB_WEAK);
  }
  if (slim && scan_gimple(link, u, e, &caps, quick) != 0)
    return -1;
  as_unit_finish(link, u);
  return 0;
}

int as_scan_elf_unit(struct as_link *link, uint32_t unit_id, struct as_unit *u,
                     const struct as_elf_syms *raw, int fd, void *data,
                     size_t size, bool quick, bool *native) {
  int rc = raw ? as_scan_elf_syms(link, unit_id, u, raw, quick) : 1;
  *native = rc <= 0;
  if (rc <= 0)
    return rc;
  /* Not native ELF64, out of the ordinary, or GCC LTO (its symbols are in
   * sections libelf reads): libelf, from the start. */
  as_unit_clear(u);
  Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : elf_memory(data, size);
  if (!e)
    return AS_ELF_UNREADABLE;
  rc = as_scan_elf(link, u, e, size, quick);
  elf_end(e);
  return rc;
}
