/* Input scanning with libelf: relocatable objects (.symtab), shared
 * libraries (.dynsym) and archives (symbol index first; a member is read only
 * when the link pulls it in). Every input is mapped once and read once. */
#include "internal.h"

#include <ar.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct as_member {
  size_t off;
  uint32_t unit; /* AS_NO_UNIT until loaded */
};

struct as_archive {
  int fd;
  Elf *elf;
  Elf_Arsym *arsym;          /* owned by elf */
  size_t narsym;             /* without the terminating entry */
  bool index_read;           /* arsym and members below are filled in */
  struct as_member *members; /* sorted by offset */
  size_t nmembers, cap_members;
};

static const char bad_format[] =
    "not an ELF object, archive or LLVM bitcode file";

static int input_error(struct as_link *link, const char *origin,
                       const char *reason) {
  as_diag_add(link, AS_ERROR, 2, "bad-input", "%s: %s", origin, reason);
  return -1;
}

static int elf_error(struct as_link *link, const char *origin) {
  const char *msg = elf_errmsg(-1);
  return input_error(link, origin, msg ? msg : "malformed ELF file");
}

static bool libelf_ready(struct as_link *link) {
  static bool ready;
  if (!ready && elf_version(EV_CURRENT) == EV_NONE) {
    as_diag_add(link, AS_ERROR, 2, "libelf", "libelf is out of date: %s",
                elf_errmsg(-1));
    return false;
  }
  return ready = true;
}

bool as_is_bitcode(const void *data, size_t n) {
  const unsigned char *p = data;
  return n >= 4 && ((p[0] == 'B' && p[1] == 'C' && p[2] == 0xc0 &&
                     p[3] == 0xde) || /* raw bitcode */
                    (p[0] == 0xde && p[1] == 0xc0 && p[2] == 0x17 &&
                     p[3] == 0x0b)); /* bitcode wrapper */
}

/* Linker scripts (libc.so is one) are text; anything else unknown is bad. */
static bool is_text(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t' &&
        p[i] != '\f')
      return false;
  return n > 0;
}

static bool is_marker(const char *name, const char **allocator) {
  static const char prefix[] = "__allocsel_allocator_";
  if (strncmp(name, prefix, sizeof prefix - 1) != 0 || !name[sizeof prefix - 1])
    return false;
  *allocator = name + sizeof prefix - 1;
  return true;
}

static int abi_index(const struct as_link *link, uint32_t id) {
  for (int i = 0; i < AS_ABI_COUNT; i++)
    if (link->abi_ids[i] == id)
      return i;
  return -1;
}

/* Reads the symbols of one ELF unit into `u`. Objects give .symtab, shared
 * libraries .dynsym: what other units can see of them. */
/* The allocator facts of a symbol name, with no interning: -1 for none,
 * 0..4 an ABI entry point, 5 the needs marker, 6 an allocator marker. */
enum { AS_NAME_NEEDS = AS_ABI_COUNT, AS_NAME_MARKER };
static int classify_name(const char *name) {
  if (name[0] != '_' || name[1] != '_')
    return -1;
  if (strncmp(name + 2, "rust_", 5) == 0) {
    for (int i = 0; i < AS_ABI_COUNT; i++)
      if (strcmp(name, as_abi[i]) == 0)
        return i;
    return -1;
  }
  if (strncmp(name + 2, "allocsel_", 9) != 0)
    return -1;
  const char *allocator;
  if (strcmp(name, "__allocsel_needs_allocator") == 0)
    return AS_NAME_NEEDS;
  return is_marker(name, &allocator) ? AS_NAME_MARKER : -1;
}

static void note_interesting(struct as_link *link, const struct as_unit *u) {
  if (u->allocator || u->abi_defined || u->needs_marker)
    link->full_needed = true;
}

/* Reads one symbol: native ELF64 in place, anything else through gelf. */
static bool get_sym(Elf_Data *data, bool native64, size_t i, GElf_Sym *sym) {
  if (native64) {
    *sym = ((const Elf64_Sym *)data->d_buf)[i];
    return true;
  }
  return gelf_getsym(data, (int)i, sym) != NULL;
}

static int scan_symbols(struct as_link *link, Elf *e, size_t size,
                        struct as_unit *u,
                        const char *origin, bool quick) {
  GElf_Ehdr eh;
  if (!gelf_getehdr(e, &eh))
    return elf_error(link, origin);
  /* libelf reads a truncated file without complaint: check the section
   * header table lies inside it (`size` bytes), as lld does. */
  size_t shnum = eh.e_shnum ? eh.e_shnum : 1; /* 0: extended numbering */
  if (eh.e_shoff &&
      (eh.e_shoff > size || shnum * eh.e_shentsize > size - eh.e_shoff))
    return input_error(link, origin,
                       "truncated: section headers go past the end of the "
                       "file");
  Elf64_Word want;
  if (eh.e_type == ET_REL) {
    want = SHT_SYMTAB;
  } else if (eh.e_type == ET_DYN) {
    want = SHT_DYNSYM;
    u->shared = true;
  } else {
    return input_error(link, origin,
                       "not a relocatable object or shared library");
  }

  Elf_Scn *scn = NULL;
  GElf_Shdr sh;
  elf_errno(); /* start clean: the loop ends on NULL, errors tell why */
  while ((scn = elf_nextscn(e, scn))) {
    if (!gelf_getshdr(scn, &sh))
      return elf_error(link, origin);
    if (sh.sh_type == want)
      break;
  }
  int err = elf_errno();
  if (err != 0)
    return input_error(link, origin, elf_errmsg(err));
  if (!scn)
    return 0; /* no symbols: links, needs nothing */

  Elf_Data *data = elf_getdata(scn, NULL);
  if (!data)
    return elf_error(link, origin);
  size_t symsize = gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT);
  size_t n = symsize ? data->d_size / symsize : 0;
  if (sh.sh_info > n)
    return input_error(link, origin, "malformed symbol table");

  /* The string table, read once: elf_strptr per symbol costs more than
   * the rest of the scan. It must end in NUL for names to be safe. */
  Elf_Scn *strscn = elf_getscn(e, sh.sh_link);
  Elf_Data *strdata = strscn ? elf_getdata(strscn, NULL) : NULL;
  if (!strdata || !strdata->d_buf || strdata->d_size == 0 ||
      ((const char *)strdata->d_buf)[strdata->d_size - 1] != '\0')
    return input_error(link, origin, "malformed string table");
  const char *strtab = strdata->d_buf;
  size_t strsize = strdata->d_size;
  struct as_unit_caps caps = {0};
  bool native64 = gelf_getclass(e) == ELFCLASS64 && data->d_type == ELF_T_SYM &&
                  data->d_size >= n * sizeof(Elf64_Sym);
  u->quick = quick;
  for (size_t i = sh.sh_info; i < n; i++) {
    GElf_Sym sym;
    if (!get_sym(data, native64, i, &sym))
      return elf_error(link, origin);
    int bind = GELF_ST_BIND(sym.st_info);
    if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
      continue;
    if (sym.st_name >= strsize)
      return input_error(link, origin, "malformed symbol name");
    const char *name = strtab + sym.st_name;
    if (!*name)
      continue;
    if (quick) {
      int kind = classify_name(name);
      const char *allocator;
      if (kind < 0)
        continue;
      if (kind < AS_ABI_COUNT)
        *(sym.st_shndx == SHN_UNDEF ? &u->abi_undef : &u->abi_defined) |=
            1u << kind;
      else if (sym.st_shndx == SHN_UNDEF)
        continue;
      else if (kind == AS_NAME_NEEDS)
        u->needs_marker = true;
      else if (!u->allocator && is_marker(name, &allocator))
        u->allocator = as_xstrdup(allocator);
      continue;
    }
    as_unit_add_symbol(link, u, &caps, name, strlen(name),
                       sym.st_shndx != SHN_UNDEF, bind == STB_WEAK);
  }
  as_unit_finish(link, u);
  return 0;
}

void as_unit_add_symbol(struct as_link *link, struct as_unit *u,
                        struct as_unit_caps *caps, const char *name,
                        size_t len, bool defined, bool weak) {
  uint32_t id = as_symtab_intern(link->symtab, name, len);
  int abi = name[0] == '_' ? abi_index(link, id) : -1;
  if (!defined) {
    if (abi >= 0)
      u->abi_undef |= 1u << abi;
    /* Weak references never pull members in, as in every linker. */
    if (!weak)
      *AS_PUSH(u->undefs, u->nundefs, caps->undefs) = id;
    return;
  }
  *AS_PUSH(u->defs, u->ndefs, caps->defs) = id;
  const char *allocator;
  if (abi >= 0)
    u->abi_defined |= 1u << abi;
  else if (id == link->needs_id)
    u->needs_marker = true;
  else if (!u->allocator && is_marker(as_sym_name(link, id), &allocator))
    u->allocator = as_xstrdup(allocator);
}

void as_unit_finish(struct as_link *link, struct as_unit *u) {
  u->abi_undef &= ~u->abi_defined;
  note_interesting(link, u);
}

/* Adds a unit for an ELF file or member (`size` bytes), or for LLVM bitcode
 * when `e` is NULL (`size` bytes at `bitcode`). Returns its index or
 * AS_NO_UNIT. */
static uint32_t add_unit(struct as_link *link, uint32_t input, Elf *e,
                         const void *bitcode, size_t size, const char *member,
                         size_t member_off, bool quick) {
  struct as_unit *u = AS_PUSH(link->units, link->nunits, link->cap_units);
  *u = (struct as_unit){.input = input,
                        .member = member ? as_xstrdup(member) : NULL,
                        .member_off = member_off};
  uint32_t idx = (uint32_t)(link->nunits - 1);
  const char *origin = as_unit_origin(link, u);
  int rc = e ? scan_symbols(link, e, size, u, origin, quick)
             : as_scan_bitcode(link, u, origin, bitcode, size);
  if (rc != 0) {
    /* Keep the unit (its origin names the diagnostic) but make it inert. */
    u->ndefs = u->nundefs = 0;
    u->abi_defined = u->abi_undef = 0;
    return AS_NO_UNIT;
  }
  return idx;
}

static int read_index(struct as_link *link, uint32_t input);

static struct as_member *find_member(struct as_archive *ar, size_t off) {
  size_t lo = 0, hi = ar->nmembers;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ar->members[mid].off < off)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < ar->nmembers && ar->members[lo].off == off ? &ar->members[lo]
                                                         : NULL;
}

static bool special_member(const char *name) {
  return strcmp(name, "/") == 0 || strcmp(name, "//") == 0 ||
         strcmp(name, "/SYM64/") == 0;
}

/* Scans the member `m` (positioned by the caller). */
static uint32_t scan_member(struct as_link *link, uint32_t input, Elf *m) {
  const char *path = link->inputs[input].path;
  Elf_Arhdr *h = elf_getarhdr(m);
  if (!h) {
    elf_error(link, path);
    return AS_NO_UNIT;
  }
  size_t off = (size_t)elf_getaroff(m);
  size_t size = 0; /* the archive is mapped: no copy */
  const char *raw = elf_rawfile(m, &size);
  if (elf_kind(m) == ELF_K_ELF)
    return add_unit(link, input, m, NULL, size, h->ar_name, off, false);
  if (raw && as_is_bitcode(raw, size))
    return add_unit(link, input, NULL, raw, size, h->ar_name, off, false);

  char *origin = as_xasprintf("%s(%s)", path, h->ar_name);
  input_error(link, origin,
              elf_kind(m) == ELF_K_AR ? "nested archives are not supported"
                                      : bad_format);
  free(origin);
  return AS_NO_UNIT;
}

uint32_t as_archive_load_member(struct as_link *link, uint32_t input,
                                size_t off) {
  struct as_archive *ar = link->inputs[input].archive;
  if (!ar->index_read)
    read_index(link, input);
  struct as_member *slot = find_member(ar, off);
  if (slot && slot->unit != AS_NO_UNIT)
    return slot->unit;
  if (elf_rand(ar->elf, off) != off) {
    input_error(link, link->inputs[input].path,
                "symbol index names a member that does not exist");
    return AS_NO_UNIT;
  }
  Elf *m = elf_begin(ar->fd, ELF_C_READ_MMAP, ar->elf);
  if (!m) {
    elf_error(link, link->inputs[input].path);
    return AS_NO_UNIT;
  }
  uint32_t unit = scan_member(link, input, m);
  elf_end(m);
  if (slot)
    slot->unit = unit;
  return unit;
}

/* Visits every member in order, calling fn on each loaded unit. */
static int each_member(struct as_link *link, uint32_t input,
                       void (*fn)(struct as_archive *, size_t off,
                                  uint32_t unit)) {
  struct as_archive *ar = link->inputs[input].archive;
  int rc = 0;
  if (elf_rand(ar->elf, SARMAG) != SARMAG)
    return elf_error(link, link->inputs[input].path);
  Elf *m;
  while ((m = elf_begin(ar->fd, ELF_C_READ_MMAP, ar->elf))) {
    Elf_Arhdr *h = elf_getarhdr(m);
    size_t off = (size_t)elf_getaroff(m);
    if (h && !special_member(h->ar_name)) {
      struct as_member *slot = find_member(ar, off);
      uint32_t unit = slot && slot->unit != AS_NO_UNIT
                          ? slot->unit
                          : scan_member(link, input, m);
      if (unit == AS_NO_UNIT)
        rc = -1;
      else
        fn(ar, off, unit);
    }
    elf_next(m);
    elf_end(m);
  }
  /* elf_begin's NULL at the end of the archive is not an error worth a
   * message; a damaged member header stops iteration the same way, and
   * lld would reject such an archive too. */
  return rc;
}

static void remember_member(struct as_archive *ar, size_t off, uint32_t unit) {
  struct as_member *slot = find_member(ar, off);
  if (slot) {
    slot->unit = unit;
    return;
  }
  /* Members come in file order, so appending keeps the array sorted. */
  *AS_PUSH(ar->members, ar->nmembers, ar->cap_members) =
      (struct as_member){off, unit};
}

int as_archive_load_all(struct as_link *link, uint32_t input) {
  return each_member(link, input, remember_member);
}

static int cmp_off(const void *a, const void *b) {
  size_t x = ((const struct as_member *)a)->off;
  size_t y = ((const struct as_member *)b)->off;
  return x < y ? -1 : x > y;
}

/* Does the archive's symbol index name anything the allocator decision
 * cares about? Reads the GNU index's string table in place: elf_getarsym
 * converts and hashes every entry first, which is most of the cost of a
 * link that turns out to need nothing more. 1 yes, 0 no, -1 cannot tell
 * (no index, or not the GNU layout): read it with libelf. */
static int index_names_allocator(Elf *e) {
  size_t size = 0;
  const char *raw = elf_rawfile(e, &size);
  if (!raw || size < SARMAG + 60)
    return -1;
  const char *h = raw + SARMAG;
  size_t word = memcmp(h, "/SYM64/ ", 8) == 0 ? 8 : 4;
  if (word == 4 && memcmp(h, "/ ", 2) != 0)
    return -1;
  char field[11];
  memcpy(field, h + 48, 10);
  field[10] = '\0';
  size_t len = strtoul(field, NULL, 10);
  if (len > size - SARMAG - 60 || len < word)
    return -1;
  const unsigned char *p = (const unsigned char *)h + 60, *end = p + len;
  uint64_t count = 0;
  for (size_t i = 0; i < word; i++)
    count = count << 8 | p[i];
  if (count > (len - word) / word)
    return -1;
  const char *name = (const char *)p + word + count * word;
  while (name < (const char *)end) {
    size_t n = strnlen(name, (size_t)((const char *)end - name));
    if (n == (size_t)((const char *)end - name))
      break; /* unterminated: the rest is padding or damage */
    if (classify_name(name) >= 0)
      return 1;
    name += n + 1;
  }
  return 0;
}

/* The index as libelf reads it, and the members it names, sorted. */
static int read_index(struct as_link *link, uint32_t input) {
  struct as_archive *ar = link->inputs[input].archive;
  ar->index_read = true;
  size_t n = 0;
  ar->arsym = elf_getarsym(ar->elf, &n);
  ar->narsym = ar->arsym && n ? n - 1 : 0;
  if (ar->narsym == 0) {
    /* No symbol index (ar without s): read every member's own symbols.
     * The units stay unlinked until something references them. */
    elf_errno(); /* clear "no index" */
    link->full_needed = true;
    return as_archive_load_all(link, input);
  }
  ar->members = as_xmalloc(ar->narsym * sizeof *ar->members);
  for (size_t i = 0; i < ar->narsym; i++) {
    ar->members[i] = (struct as_member){ar->arsym[i].as_off, AS_NO_UNIT};
    if (!link->full_needed && classify_name(ar->arsym[i].as_name) >= 0)
      link->full_needed = true;
  }
  /* ar writes the index member by member, so it is usually sorted. */
  bool sorted = true;
  for (size_t i = 1; i < ar->narsym && sorted; i++)
    sorted = ar->members[i - 1].off <= ar->members[i].off;
  if (!sorted)
    qsort(ar->members, ar->narsym, sizeof *ar->members, cmp_off);
  size_t w = 0;
  for (size_t i = 0; i < ar->narsym; i++)
    if (w == 0 || ar->members[w - 1].off != ar->members[i].off)
      ar->members[w++] = ar->members[i];
  ar->nmembers = ar->cap_members = w;
  return 0;
}

static int open_archive(struct as_link *link, uint32_t input, int fd, Elf *e) {
  struct as_archive *ar = as_xcalloc(1, sizeof *ar);
  ar->fd = fd;
  ar->elf = e;
  link->inputs[input].archive = ar;
  if (link->inputs[input].flags & AS_ADD_WHOLE_ARCHIVE) {
    ar->index_read = true; /* every member is loaded: no index needed */
    return as_archive_load_all(link, input);
  }
  /* Nothing in the index for the decision: read it only if another input
   * makes the full resolution necessary (as_archive_index). */
  if (!link->want_symbols && index_names_allocator(e) == 0)
    return 0;
  return read_index(link, input);
}

void as_archive_index(struct as_link *link, uint32_t input,
                      void (*fn)(void *ctx, uint32_t input, uint32_t sym,
                                 size_t off),
                      void *ctx) {
  struct as_archive *ar = link->inputs[input].archive;
  if (!ar->index_read)
    read_index(link, input);
  if (ar->narsym) {
    for (size_t i = 0; i < ar->narsym; i++) {
      const char *name = ar->arsym[i].as_name;
      fn(ctx, input, as_symtab_intern(link->symtab, name, strlen(name)),
         ar->arsym[i].as_off);
    }
    return;
  }
  for (size_t i = 0; i < ar->nmembers; i++) {
    const struct as_unit *u = &link->units[ar->members[i].unit];
    for (uint32_t j = 0; j < u->ndefs; j++)
      fn(ctx, input, u->defs[j], ar->members[i].off);
  }
}

void as_archive_close(struct as_input *in) {
  struct as_archive *ar = in->archive;
  if (!ar)
    return;
  elf_end(ar->elf);
  close(ar->fd);
  free(ar->members);
  free(ar);
  in->archive = NULL;
}

int as_link_add_file(struct as_link *link, const char *path, unsigned flags) {
  if (!libelf_ready(link))
    return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    as_diag_add(link, AS_ERROR, 2, "bad-input", "cannot open %s: %s", path,
                strerror(errno));
    return -1;
  }
  struct stat st;
  unsigned char magic[512];
  ssize_t n = 0;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return input_error(link, path, "not a regular file");
  }
  n = pread(fd, magic, sizeof magic, 0);
  if (n < 0) {
    close(fd);
    as_diag_add(link, AS_ERROR, 2, "bad-input", "cannot read %s: %s", path,
                strerror(errno));
    return -1;
  }
  size_t len = (size_t)n;

  if (flags & AS_ADD_REQUESTED)
    link->full_needed = true;
  struct as_input *in = AS_PUSH(link->inputs, link->ninputs, link->cap_inputs);
  *in = (struct as_input){.path = as_xstrdup(path), .flags = flags};
  uint32_t input = (uint32_t)(link->ninputs - 1);
  in->first_unit = (uint32_t)link->nunits;

  if (len == 0) {
    close(fd);
    return input_error(link, path, "file is empty");
  }
  if (len >= 8 && memcmp(magic, "!<thin>\n", 8) == 0) {
    close(fd);
    return input_error(link, path, "thin archives are not supported");
  }
  if (as_is_bitcode(magic, len)) {
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
      as_diag_add(link, AS_ERROR, 2, "bad-input", "cannot read %s: %s", path,
                  strerror(errno));
      return -1;
    }
    uint32_t unit =
        add_unit(link, input, NULL, map, (size_t)st.st_size, NULL, 0, false);
    munmap(map, (size_t)st.st_size);
    in->kind = AS_INPUT_OBJECT;
    in->nunits = 1;
    return unit == AS_NO_UNIT ? -1 : 0;
  }
  bool archive = len >= 8 && memcmp(magic, "!<arch>\n", 8) == 0;
  bool elf = len >= 4 && memcmp(magic, ELFMAG, SELFMAG) == 0;
  if (!archive && !elf) {
    close(fd);
    /* An object's name on a text file is no linker script. */
    size_t plen = strlen(path);
    bool object_name = plen > 2 && strcmp(path + plen - 2, ".o") == 0;
    if ((flags & AS_ADD_SCRIPT_OK) && !object_name && is_text(magic, len)) {
      in->kind = AS_INPUT_SCRIPT;
      return 0;
    }
    return input_error(link, path, bad_format);
  }

  /* An object is read with pread, section by section as libelf needs them
   * (ELF_C_READ): only its headers, symbol and string tables are touched,
   * with no mapping to fault in and tear down. An archive is mapped: its
   * index and members are read in place. */
  Elf *e = elf_begin(fd, archive ? ELF_C_READ_MMAP : ELF_C_READ, NULL);
  if (!e) {
    close(fd);
    return elf_error(link, path);
  }
  if (archive) {
    in->kind = AS_INPUT_ARCHIVE;
    if (elf_kind(e) != ELF_K_AR) {
      elf_end(e);
      close(fd);
      return input_error(link, path, "malformed archive");
    }
    int rc = open_archive(link, input, fd, e);
    if (in->flags & AS_ADD_WHOLE_ARCHIVE)
      in->nunits = (uint32_t)link->nunits - in->first_unit;
    return rc;
  }
  uint32_t unit = add_unit(link, input, e, NULL, (size_t)st.st_size, NULL, 0,
                           !link->want_symbols);
  in->nunits = 1;
  in->kind =
      link->units[link->nunits - 1].shared ? AS_INPUT_SHARED : AS_INPUT_OBJECT;
  elf_end(e);
  close(fd);
  return unit == AS_NO_UNIT ? -1 : 0;
}

int as_link_add_view(struct as_link *link, const char *path, const char *member,
                     const void *data, size_t view_off, size_t size,
                     unsigned flags) {
  if (!libelf_ready(link))
    return -1;
  struct as_input *in = AS_PUSH(link->inputs, link->ninputs, link->cap_inputs);
  *in = (struct as_input){.path = as_xstrdup(path),
                          .flags = flags,
                          .first_unit = (uint32_t)link->nunits};
  uint32_t input = (uint32_t)(link->ninputs - 1);
  char *origin =
      member ? as_xasprintf("%s(%s)", path, member) : as_xstrdup(path);
  int rc = 0;
  if (as_is_bitcode(data, size)) {
    in->kind = AS_INPUT_OBJECT;
    in->nunits = 1;
    rc = add_unit(link, input, NULL, data, size, member, 0, false) == AS_NO_UNIT
             ? -1
             : 0;
  } else if (size < SELFMAG || memcmp(data, ELFMAG, SELFMAG) != 0) {
    /* The plugin sees linker scripts too: those are the linker's. */
    if (flags & AS_ADD_SCRIPT_OK)
      in->kind = AS_INPUT_SCRIPT;
    else
      rc = input_error(link, origin, bad_format);
  } else {
    Elf *e = elf_memory((char *)data, size);
    if (!e) {
      rc = elf_error(link, origin);
    } else {
      in->view = true;
      in->view_off = view_off;
      in->view_size = size;
      uint32_t unit = add_unit(link, input, e, NULL, size, member, 0,
                               !link->want_symbols);
      in->nunits = 1;
      in->kind = link->units[link->nunits - 1].shared ? AS_INPUT_SHARED
                                                      : AS_INPUT_OBJECT;
      elf_end(e);
      rc = unit == AS_NO_UNIT ? -1 : 0;
    }
  }
  free(origin);
  return rc;
}

/* Reads every symbol of a unit first read quickly (see as_link). */
int as_unit_rescan(struct as_link *link, uint32_t unit) {
  struct as_unit *u = &link->units[unit];
  const struct as_input *in = &link->inputs[u->input];
  int fd = open(in->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    as_diag_add(link, AS_ERROR, 2, "bad-input", "cannot open %s: %s", in->path,
                strerror(errno));
    return -1;
  }
  void *map = MAP_FAILED;
  size_t len = 0;
  Elf *e;
  if (in->view) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t base = in->view_off - in->view_off % page;
    len = in->view_size + (in->view_off - base);
    map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, (off_t)base);
    e = map == MAP_FAILED
            ? NULL
            : elf_memory((char *)map + (in->view_off - base), in->view_size);
  } else {
    e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  }
  int rc = -1;
  if (e) {
    free((char *)u->allocator);
    u->allocator = NULL;
    u->abi_defined = u->abi_undef = 0;
    u->needs_marker = false;
    size_t size = 0;
    elf_rawfile(e, &size); /* mapped: no copy */
    rc = scan_symbols(link, e, size, u, as_unit_origin(link, u), false);
    elf_end(e);
  } else {
    elf_error(link, in->path);
  }
  if (map != MAP_FAILED)
    munmap(map, len);
  close(fd);
  return rc;
}
