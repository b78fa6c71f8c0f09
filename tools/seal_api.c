/* The API a sealed library keeps when none is named: every global C name
 * that the library's own units define and that is visible outside them
 * (default or protected visibility), but for
 *   - the runtime's units: Rust's sysroot crates (std, core, alloc,
 *     compiler_builtins, panic_unwind...), an allocator, a malloc
 *     implementation;
 *   - names reserved to the implementation (_X..., __x...), mangled C++
 *     (_Z) and Rust (_R, _ZN) names, Rust's runtime (rust_*), and what
 *     malloc libraries export (malloc and its family, jemalloc's je_ and
 *     *allocx, tcmalloc's tc_ and MallocExtension, mimalloc's mi_).
 * For Rust that is the #[no_mangle] functions. A C++ API of classes must
 * be named (--keep, --keep-list). */
#include "seal_api.h"

#include <ctype.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"
#include "symtab.h"
#include "unit_bytes.h"

/* rustc names a staticlib's sysroot members "std-<16 hex>.std.<...>.o". */
static bool rust_sysroot_member(const char *member) {
  static const char *const crates[] = {"std",
                                       "core",
                                       "alloc",
                                       "compiler_builtins",
                                       "panic_unwind",
                                       "panic_abort",
                                       "unwind",
                                       "libc",
                                       "hashbrown",
                                       "std_detect",
                                       "rustc_std_workspace_core",
                                       "rustc_std_workspace_alloc",
                                       "rustc_std_workspace_std",
                                       "adler",
                                       "adler2",
                                       "addr2line",
                                       "gimli",
                                       "miniz_oxide",
                                       "object",
                                       "memchr",
                                       "rustc_demangle",
                                       "cfg_if",
                                       "profiler_builtins"};
  for (size_t i = 0; i < sizeof crates / sizeof *crates; i++) {
    size_t n = strlen(crates[i]);
    if (strncmp(member, crates[i], n) != 0 || member[n] != '-')
      continue;
    size_t hex = strspn(member + n + 1, "0123456789abcdef");
    if (hex == 16 && member[n + 17] == '.')
      return true;
  }
  return false;
}

static bool runtime_unit(const struct as_unit *u) {
  return u->rust_runtime || u->rust_shim || u->defines_malloc ||
         u->defines_jemalloc || u->allocator || u->abi_defined ||
         (u->member && rust_sysroot_member(u->member));
}

static bool api_name(const char *name) {
  if (name[0] == '_' && (name[1] == '_' || isupper((unsigned char)name[1])))
    return false; /* reserved: __x, _Unwind_..., _GLOBAL_..., _Z, _R */
  if (strpbrk(name, ".$@"))
    return false;
  static const char *const prefixes[] = {"rust_",
                                         "malloc",
                                         "je_",
                                         "mallctl",
                                         "tc_",
                                         "MallocExtension",
                                         "MallocHook",
                                         "tcmalloc",
                                         "TCMalloc",
                                         "mi_",
                                         "RunningOnValgrind",
                                         "ValgrindSlowdown"};
  for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
    if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
      return false;
  static const char *const names[] = {
      "free",          "calloc",         "realloc",      "cfree",    "memalign",
      "aligned_alloc", "posix_memalign", "valloc",       "pvalloc",  "mallinfo",
      "mallinfo2",     "mallopt",        "reallocarray", "mallocx",  "rallocx",
      "xallocx",       "sallocx",        "dallocx",      "sdallocx", "nallocx",
      "mmap",          "mmap64",         "munmap",       "mremap",   "sbrk"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcmp(name, names[i]) == 0)
      return false;
  return true;
}

static int unit_api(Elf *e, char ***keep, size_t *nkeep, size_t *cap) {
  Elf_Scn *scn = NULL;
  GElf_Shdr sh;
  while ((scn = elf_nextscn(e, scn))) {
    if (!gelf_getshdr(scn, &sh))
      return -1;
    if (sh.sh_type != SHT_SYMTAB)
      continue;
    Elf_Data *d = elf_getdata(scn, NULL);
    size_t count = d && sh.sh_entsize ? d->d_size / sh.sh_entsize : 0;
    for (size_t i = sh.sh_info; i < count; i++) {
      GElf_Sym s;
      if (!gelf_getsym(d, (int)i, &s))
        return -1;
      int bind = GELF_ST_BIND(s.st_info), type = GELF_ST_TYPE(s.st_info);
      int vis = GELF_ST_VISIBILITY(s.st_other);
      if ((bind != STB_GLOBAL && bind != STB_WEAK) || s.st_shndx == SHN_UNDEF ||
          type == STT_SECTION || type == STT_FILE ||
          (vis != STV_DEFAULT && vis != STV_PROTECTED))
        continue;
      const char *name = elf_strptr(e, sh.sh_link, s.st_name);
      if (!name)
        return -1;
      if (*name && api_name(name))
        *AS_PUSH(*keep, *nkeep, *cap) = as_xstrdup(name);
    }
  }
  return 0;
}

int seal_default_api(struct as_link *link, char ***keep, size_t *nkeep,
                     char **error) {
  struct unit_bytes b;
  size_t cap = 0;
  int rc = unit_bytes_open(&b, link) ? -1 : 0;
  for (size_t i = 0; rc == 0 && i < link->nunits; i++) {
    const struct as_unit *u = link->units[i];
    const void *data;
    size_t size;
    if (runtime_unit(u))
      continue;
    if (u->bitcode || u->gimple) {
      /* LTO symbol tables say nothing of visibility: names only. */
      for (uint32_t d = 0; d < u->ndefs; d++) {
        const char *name = as_symtab_get(link->symtab, u->defs[d])->name;
        if (api_name(name))
          *AS_PUSH(*keep, *nkeep, cap) = as_xstrdup(name);
      }
      continue;
    }
    if (unit_bytes_get(&b, link, u, &data, &size) != 0) {
      rc = -1;
      break;
    }
    Elf *e = elf_memory((char *)data, size);
    if (!e || elf_kind(e) != ELF_K_ELF || unit_api(e, keep, nkeep, &cap)) {
      *error = as_xasprintf("%s: cannot read its symbols: %s",
                            as_unit_origin(link, u), elf_errmsg(-1));
      rc = -1;
    }
    elf_end(e);
  }
  unit_bytes_close(&b);
  return rc;
}
