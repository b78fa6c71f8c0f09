/* Recognising inputs: what a file, a member or a view is, decided in one
 * place from its first bytes (as lld's addFile does), then handed to the
 * scanner for that kind: ELF (elf_symbols.c), archives (archive.c), LLVM
 * bitcode (bitcode.c); linker scripts are the linker's. */
#include "input.h"
#include "archive.h"
#include "cache.h"
#include "elf_read.h"
#include "link_internal.h"
#include "symtab.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ar_format.h"

enum file_kind {
  KIND_EMPTY,
  KIND_ELF,
  KIND_ARCHIVE,
  KIND_THIN_ARCHIVE,
  KIND_BITCODE,
  KIND_TEXT, /* a linker script, where one is allowed */
  KIND_UNKNOWN,
};

static const char bad_format[] =
    "not an ELF object, archive or LLVM bitcode file";

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

static enum file_kind identify(const unsigned char *p, size_t n) {
  if (n == 0)
    return KIND_EMPTY;
  if (n >= AS_AR_MAGIC_LEN && memcmp(p, AS_AR_MAGIC, AS_AR_MAGIC_LEN) == 0)
    return KIND_ARCHIVE;
  if (n >= AS_AR_MAGIC_LEN && memcmp(p, AS_AR_THIN_MAGIC, AS_AR_MAGIC_LEN) == 0)
    return KIND_THIN_ARCHIVE;
  if (n >= SELFMAG && memcmp(p, ELFMAG, SELFMAG) == 0)
    return KIND_ELF;
  if (as_is_bitcode(p, n))
    return KIND_BITCODE;
  return is_text(p, n) ? KIND_TEXT : KIND_UNKNOWN;
}

static bool libelf_ready(struct as_link *link) {
  static bool ready;
  if (!ready && elf_version(EV_CURRENT) == EV_NONE) {
    as_diag_add(link, AS_ERROR, AS_E_LIBELF, "libelf is out of date: %s",
                elf_errmsg(-1));
    return false;
  }
  return ready = true;
}

static int input_error(struct as_link *link, const char *origin,
                       const char *reason) {
  struct as_diag *d =
      as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT, "%s: %s", origin, reason);
  as_diag_hint(d, "check that the command line names the file meant, or "
                  "rebuild it; a linker cannot use it either");
  return -1;
}

static uint32_t new_input(struct as_link *link, const char *path,
                          unsigned flags) {
  size_t len = strlen(path) + 1;
  struct as_input *in = as_arena_alloc(&link->arena, sizeof *in + len);
  *in = (struct as_input){.path = memcpy(in + 1, path, len),
                          .flags = flags,
                          .group = link->current_group,
                          .first_unit = (uint32_t)link->nunits};
  *AS_PUSH(link->inputs, link->ninputs, link->cap_inputs) = in;
  /* A requested allocator, or objects the linker loads only when
   * referenced (--start-lib), make resolution matter. */
  if (flags & (AS_ADD_REQUESTED | AS_ADD_LAZY))
    as_link_scan_full(link,
                      flags & AS_ADD_REQUESTED ? "an allocator was requested"
                                               : "objects are loaded lazily "
                                                 "(--start-lib)",
                      path);
  return (uint32_t)(link->ninputs - 1);
}

/* A source that is no unit: named "path(member)" or "path". */
static uint32_t source_error(struct as_link *link, const struct as_source *src,
                             const char *reason) {
  const char *path = link->inputs[src->input]->path;
  char *origin = src->member ? as_xasprintf("%s(%s)", path, src->member)
                             : as_xstrdup(path);
  input_error(link, origin, reason);
  free(origin);
  return AS_NO_UNIT;
}

/* Scans an ELF unit: a file (fd, its first headlen bytes in head) or the
 * source's bytes in memory (fd < 0). Natively where it can (elf_native.c),
 * else through libelf. */
static uint32_t add_elf_unit(struct as_link *link, const struct as_source *src,
                             int fd, const unsigned char *head,
                             size_t headlen) {
  uint32_t unit = as_unit_new(link, src->input, src->member, src->member_off);
  struct as_unit *u = link->units[unit];
  /* Quick (allocator facts only) for whole inputs while no input has made
   * the full resolution necessary: if one does later, it reads them again
   * from what they keep, after it has interned every reference
   * (resolve.c). Once one has (an allocator named early on the command
   * line), a whole input is read in full at once, as an archive's index is
   * then walked by resolution only: its definitions nothing referenced so
   * far go aside, and a later reference finds them. An archive member or
   * a lazy object is read in full: resolution loads it for its symbols. */
  bool quick = link->scan == AS_SCAN_QUICK && !src->full &&
               !(link->inputs[src->input]->flags & AS_ADD_LAZY);
  /* Read in place where the bytes stay in memory (an archive's mapping,
   * not a thin archive's member, whose file is mapped only while it is
   * read), else a copy: the plugin's view of an input is the linker's, for
   * as long as claim_file runs. */
  struct as_elf_syms *raw =
      fd >= 0 ? as_elf_syms_read_fd(fd, src->size, head, headlen)
      : !src->full || src->path ? as_elf_syms_read_memory(src->data, src->size)
                                : as_elf_syms_view_memory(src->data, src->size);
  /* Else libelf, from the file with pread, section by section as it needs
   * them (ELF_C_READ): only the headers, symbol and string tables. */
  bool native;
  int rc = as_scan_elf_unit(link, unit, u, raw, fd, src->data, src->size, quick,
                            &native);
  if (rc == 0 && native) {
    /* Quick, the full resolution reads it from here; read in full, the
     * names it put aside point into its strings. */
    if (quick)
      u->raw = raw;
    else
      as_unit_keep_strings(link, u, raw);
    return unit;
  }
  free(raw);
  if (rc == AS_ELF_UNREADABLE)
    input_error(link, as_unit_origin(link, u), elf_errmsg(-1));
  if (rc != 0) {
    as_unit_clear(u);
    return AS_NO_UNIT;
  }
  return unit;
}

static uint32_t add_bitcode_unit(struct as_link *link,
                                 const struct as_source *src) {
  uint32_t unit = as_unit_new(link, src->input, src->member, src->member_off);
  struct as_unit *u = link->units[unit];
  const char *path = src->path ? src->path : link->inputs[src->input]->path;
  if (as_scan_bitcode(link, u, path, src->file_off, src->size) != 0) {
    as_unit_clear(u);
    return AS_NO_UNIT;
  }
  return unit;
}

uint32_t as_add_unit(struct as_link *link, const struct as_source *src) {
  switch (identify(src->data, src->size)) {
  case KIND_ELF:
    return add_elf_unit(link, src, -1, NULL, 0);
  case KIND_BITCODE:
    return add_bitcode_unit(link, src);
  case KIND_ARCHIVE:
  case KIND_THIN_ARCHIVE:
    return source_error(link, src, "nested archives are not supported");
  default:
    return source_error(link, src, bad_format);
  }
}

static bool archive_name(const char *path) {
  size_t n = strlen(path);
  return n > 2 && strcmp(path + n - 2, ".a") == 0;
}

/* An object's name on a text file is no linker script. */
static bool object_name(const char *path) {
  size_t n = strlen(path);
  return n > 2 && strcmp(path + n - 2, ".o") == 0;
}

/* A linker script: the files it names join the link. */
static int add_script(struct as_link *link, uint32_t input, int fd) {
  size_t size = link->inputs[input]->size;
  if (size > (1u << 20))
    return input_error(link, link->inputs[input]->path,
                       "linker script larger than 1 MiB");
  char *text = as_xmalloc(size + 1);
  ssize_t n = pread(fd, text, size, 0);
  int rc = n < 0 ? input_error(link, link->inputs[input]->path, strerror(errno))
                 : as_script_add_inputs(link, input, text, (size_t)n);
  free(text);
  return rc;
}

static int add_open_file(struct as_link *link, uint32_t input, int fd,
                         const unsigned char *magic, size_t len) {
  struct as_input *in = link->inputs[input];
  switch (identify(magic, len)) {
  case KIND_EMPTY:
    return input_error(link, in->path, "file is empty");
  case KIND_THIN_ARCHIVE:
  case KIND_ARCHIVE: {
    in->kind = AS_INPUT_ARCHIVE;
    int rc = as_archive_open(link, input, fd, in->size,
                             identify(magic, len) == KIND_THIN_ARCHIVE);
    if (in->flags & AS_ADD_WHOLE_ARCHIVE)
      in->nunits = (uint32_t)link->nunits - in->first_unit;
    return rc;
  }
  case KIND_BITCODE: {
    in->kind = AS_INPUT_OBJECT;
    in->nunits = 1;
    struct as_source src = {.input = input, .size = in->size};
    return add_bitcode_unit(link, &src) == AS_NO_UNIT ? -1 : 0;
  }
  case KIND_ELF: {
    /* Read with pread, no mapping to fault in and tear down. */
    struct as_source src = {.input = input, .size = in->size};
    uint32_t unit = add_elf_unit(link, &src, fd, magic, len);
    in->nunits = 1;
    in->kind = link->units[link->nunits - 1]->shared ? AS_INPUT_SHARED
                                                     : AS_INPUT_OBJECT;
    return unit == AS_NO_UNIT ? -1 : 0;
  }
  case KIND_TEXT:
    if ((in->flags & AS_ADD_SCRIPT_OK) && !object_name(in->path)) {
      in->kind = AS_INPUT_SCRIPT;
      return add_script(link, input, fd);
    }
    return input_error(link, in->path, bad_format);
  case KIND_UNKNOWN:
    break;
  }
  return input_error(link, in->path, bad_format);
}

/* Inputs the cache may answer for: read quickly, as every input of a link
 * is unless a tool wants every symbol or the input is loaded whole or
 * lazily, or is the requested allocator (which sets the full resolution
 * going anyway). */
static bool cacheable(const struct as_link *link, unsigned flags) {
  return link->cache && link->scan != AS_SCAN_ALL &&
         !(flags & (AS_ADD_WHOLE_ARCHIVE | AS_ADD_REQUESTED | AS_ADD_LAZY));
}

/* What the cache keeps of an input just read: a unit that lets the quick
 * path go on (one that makes the full resolution necessary is read in full
 * anyway), or an archive whose index names nothing the decision looks for.
 * false: nothing to keep. */
static bool facts_of(struct as_link *link, const struct as_input *in,
                     struct as_cached_facts *f) {
  if (in->kind == AS_INPUT_ARCHIVE) {
    *f = (struct as_cached_facts){.kind = AS_CACHED_ARCHIVE,
                                  .flags = AS_FACT_INDEX_QUIET};
    return as_archive_index_quiet(in);
  }
  if (in->nunits != 1)
    return false;
  const struct as_unit *u = link->units[in->first_unit];
  if (u->gimple || u->bitcode || u->allocator || u->abi_defined ||
      u->needs_marker || u->rust_shim || u->nlibraries)
    return false;
  *f = (struct as_cached_facts){
      .kind = AS_CACHED_UNIT,
      .abi_undef = (uint8_t)u->abi_undef,
      .flags = (uint8_t)((u->shared ? AS_FACT_SHARED : 0) |
                         (u->defines_jemalloc ? AS_FACT_JEMALLOC : 0) |
                         (u->rust_runtime ? AS_FACT_RUST_RUNTIME : 0) |
                         (u->defines_malloc ? AS_FACT_MALLOC : 0) |
                         (u->needs_malloc_library ? AS_FACT_NEEDS_MALLOC : 0)),
      .machine = u->machine,
      .elf_class = u->elf_class,
      .elf_data = u->elf_data};
  return true;
}

static void keep_key(struct as_input *in, const struct as_file_key *k) {
  _Static_assert(sizeof in->key == sizeof *k, "as_input.key holds a key");
  memcpy(in->key, k, sizeof *k);
  in->keyed = true;
}

/* The input as the cache knows it, nothing read: a unit with its facts,
 * or an archive left unopened until something asks about its members. */
static void add_known(struct as_link *link, uint32_t input,
                      const struct as_cached_facts *f, size_t size) {
  struct as_input *in = link->inputs[input];
  in->size = size;
  if (f->kind == AS_CACHED_ARCHIVE) {
    in->kind = AS_INPUT_ARCHIVE;
    in->unopened = true;
    in->members_quiet = f->flags & AS_FACT_MEMBERS_QUIET;
    return;
  }
  uint32_t unit = as_unit_new(link, input, NULL, 0); /* units may move */
  struct as_unit *u = link->units[unit];
  u->abi_undef = f->abi_undef;
  u->shared = f->flags & AS_FACT_SHARED;
  u->defines_jemalloc = f->flags & AS_FACT_JEMALLOC;
  u->rust_runtime = f->flags & AS_FACT_RUST_RUNTIME;
  u->defines_malloc = f->flags & AS_FACT_MALLOC;
  u->needs_malloc_library = f->flags & AS_FACT_NEEDS_MALLOC;
  u->machine = f->machine;
  u->elf_class = f->elf_class;
  u->elf_data = f->elf_data;
  u->quick = u->known = true;
  in->nunits = 1;
  in->kind = u->shared ? AS_INPUT_SHARED : AS_INPUT_OBJECT;
}

int as_link_add_file(struct as_link *link, const char *path, unsigned flags) {
  return as_link_add_found(link, path, NULL, flags);
}

int as_link_add_found(struct as_link *link, const char *path,
                      const struct stat *found, unsigned flags) {
  if (!libelf_ready(link))
    return -1;
  uint32_t input = new_input(link, path, flags);
  struct stat st;
  struct as_file_key key;
  struct as_cached_facts facts;
  /* A file the cache knows: one stat (or the search's), nothing read. */
  if (cacheable(link, flags) &&
      (found ? (st = *found, true) : stat(path, &st) == 0) &&
      S_ISREG(st.st_mode)) {
    as_file_key_of(&key, &st);
    if (as_cache_lookup(link, &key, &facts)) {
      add_known(link, input, &facts, (size_t)st.st_size);
      keep_key(link->inputs[input], &key);
      return 0;
    }
  }
  /* O_NONBLOCK: a FIFO named as an input must not hang the link. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT, "cannot open %s: %s", path,
                strerror(errno));
    return -1;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return input_error(link, path,
                       S_ISDIR(st.st_mode) ? "is a directory"
                                           : "not a regular file");
  }
  link->inputs[input]->size = (size_t)st.st_size;
  as_file_key_of(&key, &st);
  keep_key(link->inputs[input], &key);
  /* One read that holds all of a typical object (elf_native.c reads the
   * rest, if any, where its symbol table lies). */
  enum { HEAD = 64 * 1024, ARCHIVE_HEAD = 4096 };
  /* An archive is mapped, so its first read need only tell what it is:
   * the name is a hint, and the wrong guess costs only a larger read or a
   * second one. */
  size_t cap = object_name(path) || !archive_name(path) ? HEAD : ARCHIVE_HEAD;
  size_t want = (size_t)st.st_size < cap ? (size_t)st.st_size : cap;
  unsigned char *head = as_xmalloc(want ? want : 1);
  ssize_t n = pread(fd, head, want, 0);
  int rc;
  if (n < 0)
    rc = input_error(link, path, strerror(errno));
  else
    rc = add_open_file(link, input, fd, head, (size_t)n);
  free(head);
  close(fd); /* an archive keeps its mapping, not the descriptor */
  if (rc == 0 && cacheable(link, flags) &&
      facts_of(link, link->inputs[input], &facts))
    as_cache_learn(link, &key, &facts);
  return rc;
}

int as_input_open_known(struct as_link *link, uint32_t input) {
  struct as_input *in = link->inputs[input];
  if (!in->unopened)
    return 0;
  in->unopened = false;
  int fd = open(in->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT, "cannot open %s: %s", in->path,
                strerror(errno));
    return -1;
  }
  /* Still the plain archive the cache knew (its key was checked a moment
   * ago; this is the one read that could see it replaced since). */
  struct stat st;
  char magic[AS_AR_MAGIC_LEN];
  int rc;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      !as_pread_all(fd, magic, sizeof magic, 0) ||
      memcmp(magic, AS_AR_MAGIC, AS_AR_MAGIC_LEN) != 0)
    rc = input_error(link, in->path, "changed while allocsel read the link");
  else
    rc = as_archive_open(link, input, fd, in->size = (size_t)st.st_size, false);
  close(fd);
  return rc;
}

void as_unit_read_known(struct as_link *link, struct as_unit *u) {
  if (!u->known)
    return;
  u->known = false;
  int fd =
      open(link->inputs[u->input]->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    u->raw = as_elf_syms_read_fd(fd, (size_t)st.st_size, NULL, 0);
  if (fd >= 0)
    close(fd);
  /* Not native ELF64, or gone: as_unit_rescan reads it, and says what is
   * wrong. */
}

int as_link_add_view(struct as_link *link, const char *path, const char *member,
                     void *data, size_t view_off, size_t size, unsigned flags) {
  if (!libelf_ready(link))
    return -1;
  uint32_t input = new_input(link, path, flags);
  struct as_input *in = link->inputs[input];
  in->size = size;
  in->view = true;
  in->view_off = view_off;
  in->view_size = size;
  in->kind = AS_INPUT_OBJECT;
  struct as_source src = {.input = input,
                          .member = member,
                          .data = data,
                          .file_off = view_off,
                          .size = size};
  switch (identify(data, size)) {
  case KIND_ELF:
  case KIND_BITCODE: {
    in->nunits = 1;
    uint32_t unit = as_add_unit(link, &src);
    if (unit != AS_NO_UNIT && link->units[unit]->shared)
      in->kind = AS_INPUT_SHARED;
    return unit == AS_NO_UNIT ? -1 : 0;
  }
  case KIND_ARCHIVE:
  case KIND_THIN_ARCHIVE:
    /* ld.bfd offers an archive with no members (glibc's libpthread.a), and
     * a thin archive, whole: nothing in them is a unit; members come as
     * views of their own (a thin one's under its own file name). */
    in->kind = AS_INPUT_ARCHIVE;
    return 0;
  case KIND_TEXT:
    /* The plugin sees linker scripts too: those are the linker's. */
    if (flags & AS_ADD_SCRIPT_OK) {
      in->kind = AS_INPUT_SCRIPT;
      return 0;
    }
    break;
  default:
    break;
  }
  source_error(link, &src, bad_format);
  return -1;
}

int as_unit_rescan(struct as_link *link, uint32_t unit) {
  struct as_unit *u = link->units[unit];
  struct as_elf_syms *raw = u->raw;
  u->raw = NULL;
  as_unit_clear(u);
  /* What it kept, else the bytes the quick scan read: a view the plugin
   * had, or the file. */
  void *map = MAP_FAILED;
  size_t len = 0, size = 0, skip = 0;
  if (!raw) {
    const struct as_input *in = link->inputs[u->input];
    int fd = open(in->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT, "cannot open %s: %s",
                  in->path, strerror(errno));
      return -1;
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t off = in->view ? in->view_off : 0;
    size_t base = off - off % page;
    size = in->view ? in->view_size : in->size;
    skip = off - base;
    len = size + skip;
    struct stat st;
    /* A file that shrank since the first scan would fault past its end. */
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < off + size)
      len = 0;
    if (len)
      map =
          mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)base);
    close(fd);
    if (map == MAP_FAILED) {
      as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT, "cannot read %s: %s",
                  in->path, strerror(errno));
      return -1;
    }
  }
  bool native;
  int rc = as_scan_elf_unit(link, unit, u, raw, -1,
                            map == MAP_FAILED ? NULL : (char *)map + skip, size,
                            false, &native);
  if (rc == 0 && native)
    as_unit_keep_strings(link, u, raw); /* the names it put aside */
  else
    free(raw);
  if (rc == AS_ELF_UNREADABLE) {
    const char *why = elf_errmsg(-1);
    input_error(link, as_unit_origin(link, u),
                why ? why : "malformed ELF file");
  }
  if (map != MAP_FAILED)
    munmap(map, len);
  return rc == 0 ? 0 : -1;
}
