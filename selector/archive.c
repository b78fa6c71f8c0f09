/* Archives: every reading of an ar file in the selector. The archive is
 * mapped once; its symbol index and members are read in place, and a member
 * becomes a unit only when the link pulls it in (or the archive is whole).
 *
 * Formats: GNU (symbol index "/" or "/SYM64/", long names in "//", which
 * ar, llvm-ar and ranlib write) and BSD ("#1/N" names, "__.SYMDEF" index,
 * which is skipped: its members are then read as in an archive without an
 * index). An empty archive (just the magic) is valid, as glibc's
 * libpthread.a and libdl.a are since 2.34. */
#include "archive.h"
#include "cache.h"
#include "elf_read.h"
#include "input.h"
#include "link_internal.h"
#include "symtab.h"
#include "unit.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ar_format.h"

enum { AS_BAD_UNIT = UINT32_MAX - 1 }; /* a member that failed to read */

struct as_member {
  size_t off;    /* its header's offset */
  uint32_t unit; /* AS_NO_UNIT until loaded, AS_BAD_UNIT if it failed */
};

struct as_archive {
  unsigned char *map; /* private, writable: libelf may convert in place */
  size_t size;
  const char *longnames; /* GNU "//" member, or NULL */
  size_t longnames_size;
  const unsigned char *index; /* GNU index member's data, or NULL */
  size_t index_size;
  bool index64;
  bool thin;           /* "!<thin>": members are files of their own */
  bool index_read;     /* syms and members below are filled in */
  size_t nsyms;        /* entries in the index, read in place */
  long checked;        /* entries, once a walk found the index sound; else -1 */
  bool members_unread; /* the quick path has not looked at the members */
  bool keyed;          /* key below is the file's, for the cache */
  struct as_file_key key;
  struct as_member *members; /* those asked for so far, sorted by offset */
  size_t nmembers, cap_members;
};

/* One member as found at a header offset. */
struct member_view {
  char name[4096];
  size_t data_off, size, next;
  bool external; /* a thin archive's member: its bytes are in `name` */
};

static int archive_error(struct as_link *link, const char *origin,
                         const char *reason) {
  as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT, "%s: %s", origin, reason);
  return -1;
}

/* Reads the member header at `off`. NULL on success, else the reason. */
/* Why an archive makes the quick scan not enough. */
static const char INDEX_NAMES_ALLOCATOR[] =
    "its index names the allocator ABI or a marker";

static const char *read_member(const struct as_archive *ar, size_t off,
                               struct member_view *m) {
  if (off < AS_AR_MAGIC_LEN || off > ar->size ||
      ar->size - off < sizeof(struct as_ar_hdr))
    return "member header past the end of the archive";
  const struct as_ar_hdr *h = (const struct as_ar_hdr *)(ar->map + off);
  size_t size;
  if (!as_ar_hdr_size(h, &size))
    return "malformed member header";
  m->data_off = off + sizeof *h;
  /* A thin archive holds only the index and long names itself; each
   * member is a file named relative to the archive. */
  m->external = ar->thin && !as_ar_is_gnu_index(h) && !as_ar_is_longnames(h);
  if (!m->external && size > ar->size - m->data_off)
    return "truncated: a member goes past the end of the archive";
  m->size = size;
  m->next = m->external ? m->data_off : m->data_off + size + (size & 1);
  const char *name = h->name;
  size_t len;
  if (memcmp(name, "#1/", 3) == 0 && !m->external) {
    /* BSD long name: the first N bytes of the data. */
    size_t n = strtoul(name + 3, NULL, 10);
    if (n > m->size)
      return "member name goes past the member";
    name = (const char *)ar->map + m->data_off;
    len = strnlen(name, n);
    m->data_off += n;
    m->size -= n;
  } else if (!as_ar_member_name(h, ar->longnames, ar->longnames_size, &name,
                                &len)) {
    return "member names a long name that does not exist";
  }
  if (len >= sizeof m->name)
    len = sizeof m->name - 1;
  memcpy(m->name, name, len);
  m->name[len] = '\0';
  return NULL;
}

static bool is_special(const struct member_view *m) {
  return strcmp(m->name, "/") == 0 || strcmp(m->name, "//") == 0 ||
         strcmp(m->name, "/SYM64/") == 0 ||
         as_ar_is_bsd_index_name(m->name, strlen(m->name));
}

/* Where the member at `off` is, or would go, among those read so far. */
static size_t member_at(const struct as_archive *ar, size_t off) {
  size_t lo = 0, hi = ar->nmembers;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ar->members[mid].off < off)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static struct as_member *find_member(struct as_archive *ar, size_t off) {
  size_t at = member_at(ar, off);
  return at < ar->nmembers && ar->members[at].off == off ? &ar->members[at]
                                                         : NULL;
}

/* The slot for the member at `off`, made (in order) the first time it is
 * asked for: members are found from the index entries that name them,
 * never by a walk over every header (which would read whole archives). */
static struct as_member *member_slot(struct as_archive *ar, size_t off) {
  size_t at = member_at(ar, off);
  if (at < ar->nmembers && ar->members[at].off == off)
    return &ar->members[at];
  AS_PUSH(ar->members, ar->nmembers, ar->cap_members);
  memmove(&ar->members[at + 1], &ar->members[at],
          (ar->nmembers - 1 - at) * sizeof *ar->members);
  ar->members[at] = (struct as_member){off, AS_NO_UNIT};
  return &ar->members[at];
}

/* The bytes of a member: in the archive's mapping, or a thin archive's
 * member mapped from its own file (private, writable, as libelf wants). */
struct member_bytes {
  unsigned char *data;
  size_t size, file_off;
  char *path; /* the file holding them: a thin member's, else NULL */
  void *map;
  size_t map_len;
};

static const char *member_bytes(const struct as_archive *ar,
                                const char *archive_path,
                                const struct member_view *m,
                                struct member_bytes *b) {
  *b = (struct member_bytes){0};
  if (!m->external) {
    b->data = ar->map + m->data_off;
    b->size = m->size;
    b->file_off = m->data_off;
    return NULL;
  }
  const char *slash = strrchr(archive_path, '/');
  b->path = m->name[0] == '/' || !slash
                ? as_xstrdup(m->name)
                : as_xasprintf("%.*s/%s", (int)(slash - archive_path),
                               archive_path, m->name);
  int fd = open(b->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  const char *why = NULL;
  if (fd < 0 || fstat(fd, &st) != 0)
    why = "cannot open a thin archive's member";
  else if (!S_ISREG(st.st_mode) || st.st_size == 0)
    why = "a thin archive's member is not a regular file";
  if (!why) {
    b->map_len = b->size = (size_t)st.st_size;
    b->map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (b->map == MAP_FAILED) {
      b->map = NULL;
      why = "cannot map a thin archive's member";
    }
    b->data = b->map;
  }
  if (fd >= 0)
    close(fd);
  return why;
}

static void member_bytes_free(struct member_bytes *b) {
  if (b->map)
    munmap(b->map, b->map_len);
  free(b->path);
}

/* Gives back the pages of bytes of the mapping that were read and are
 * not needed again (a unit keeps ids; the names a member put aside are
 * read again only if a later reference asks for them): unchanged, they
 * come back from the page cache if anything reads them again. Over the members
 * resolution pulls out of LLVM's archives they would otherwise add up to more
 * than the linker's own memory. */
static void give_back(const struct as_archive *ar, const unsigned char *data,
                      size_t size) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t from = (size_t)(data - ar->map), to = from + size;
  from = (from + page - 1) / page * page; /* whole pages only */
  to = to / page * page;
  if (to > from)
    madvise(ar->map + from, to - from, MADV_DONTNEED);
}

/* Scans a member's bytes into a unit. */
static uint32_t scan_member(struct as_link *link, uint32_t input,
                            const struct member_view *m, size_t off) {
  struct as_archive *ar = link->inputs[input]->archive;
  struct member_bytes b;
  const char *why = member_bytes(ar, link->inputs[input]->path, m, &b);
  if (why) {
    char *origin = as_xasprintf("%s(%s)", link->inputs[input]->path, m->name);
    archive_error(link, origin, why);
    free(origin);
    member_bytes_free(&b);
    return AS_NO_UNIT;
  }
  struct as_source src = {.input = input,
                          .member = m->name,
                          .member_off = off,
                          .path = b.path,
                          .data = b.data,
                          .file_off = b.file_off,
                          .size = b.size,
                          .full = true};
  uint32_t unit = as_add_unit(link, &src);
  if (unit != AS_NO_UNIT && b.path)
    link->units[unit]->file = as_xstrdup(b.path);
  if (!b.path)
    give_back(ar, b.data, b.size);
  member_bytes_free(&b);
  return unit;
}

uint32_t as_archive_load_member(struct as_link *link, uint32_t input,
                                size_t off) {
  struct as_archive *ar = link->inputs[input]->archive;
  if (!ar->index_read)
    as_archive_read_index(link, input);
  struct as_member *slot = member_slot(ar, off);
  if (slot->unit != AS_NO_UNIT)
    return slot->unit == AS_BAD_UNIT ? AS_NO_UNIT : slot->unit;
  struct member_view m;
  const char *why = read_member(ar, off, &m);
  uint32_t unit = AS_NO_UNIT;
  if (why || is_special(&m))
    archive_error(link, link->inputs[input]->path,
                  "symbol index names a member that does not exist");
  else
    unit = scan_member(link, input, &m, off);
  /* Reported once: later references to a broken member stay quiet. The
   * slot is found again: scanning may have added others. */
  member_slot(ar, off)->unit = unit == AS_NO_UNIT ? AS_BAD_UNIT : unit;
  return unit;
}

static void remember_member(struct as_archive *ar, size_t off, uint32_t unit) {
  member_slot(ar, off)->unit = unit;
}

int as_archive_load_all(struct as_link *link, uint32_t input) {
  struct as_archive *ar = link->inputs[input]->archive;
  const char *path = link->inputs[input]->path;
  int rc = 0;
  for (size_t off = AS_AR_MAGIC_LEN; off < ar->size;) {
    struct member_view m;
    const char *why = read_member(ar, off, &m);
    if (why) {
      /* A newline or two of padding at the very end is harmless. */
      bool padding = true;
      for (size_t i = off; i < ar->size && padding; i++)
        padding = ar->map[i] == '\n';
      return padding ? rc : archive_error(link, path, why);
    }
    if (!is_special(&m)) {
      struct as_member *slot = find_member(ar, off);
      uint32_t unit = slot && slot->unit != AS_NO_UNIT
                          ? slot->unit
                          : scan_member(link, input, &m, off);
      if (unit == AS_NO_UNIT || unit == AS_BAD_UNIT) {
        rc = -1;
        unit = AS_BAD_UNIT;
      }
      remember_member(ar, off, unit);
    }
    off = m.next;
  }
  return rc;
}

/* The NULs ending a run of names, in order: 16 bytes at a time where the
 * machine has SSE2 (every x86-64 does). An index's names are short, and a
 * call to strnlen for each cost more than the rest of the walk. */
struct nul_scan {
  const char *block, *next, *end; /* bit i of mask: block[i] is a NUL */
  uint32_t mask;
};

/* The next NUL, or NULL where the names run past `end`. */
static inline const char *next_nul(struct nul_scan *s) {
#if defined(__SSE2__)
  while (!s->mask) {
    if (s->end - s->next < 16)
      break; /* the last bytes: no load past the end */
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s->next);
    s->mask =
        (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()));
    s->block = s->next;
    s->next += 16;
  }
  if (s->mask) {
    const char *nul = s->block + __builtin_ctz(s->mask);
    s->mask &= s->mask - 1;
    return nul;
  }
#endif
  const char *nul = memchr(s->next, 0, (size_t)(s->end - s->next));
  if (nul)
    s->next = nul + 1;
  return nul;
}

/* Walks the GNU index's names: fn(name, len, offset, i) for entry i.
 * Returns the entries, or -1 if malformed. Inlined into each caller, with
 * its visitor: an index's every entry comes here, and a call through the
 * pointer cost more than the visitor's own work. */
static inline __attribute__((always_inline)) long walk_index(
    const struct as_archive *ar,
    bool (*fn)(void *ctx, const char *name, size_t len, size_t off, size_t pos),
    void *ctx) {
  size_t word = ar->index64 ? 8 : 4, size = ar->index_size;
  const unsigned char *p = ar->index;
  if (size < word)
    return -1;
  uint64_t count = as_ar_index_word(p, word);
  if (count > (size - word) / word)
    return -1;
  const char *name = (const char *)p + word + count * word;
  struct nul_scan names = {.next = name, .end = (const char *)p + size};
  for (uint64_t i = 0; i < count; i++) {
    const char *nul = next_nul(&names);
    if (!nul)
      return -1; /* unterminated */
    if (!fn(ctx, name, (size_t)(nul - name),
            (size_t)as_ar_index_word(p + word + i * word, word), i))
      break;
    name = nul + 1;
  }
  return (long)count;
}

/* The index's entries, from its first word: its names are checked by the
 * walk that reads them (as_archive_index). -1 if the count is impossible. */
static long index_count(const struct as_archive *ar) {
  size_t word = ar->index64 ? 8 : 4;
  if (ar->index_size < word)
    return -1;
  uint64_t count = as_ar_index_word(ar->index, word);
  return count > (ar->index_size - word) / word ? -1 : (long)count;
}

static inline __attribute__((always_inline)) bool
names_allocator(void *ctx, const char *name, size_t len, size_t off,
                size_t pos) {
  (void)len;
  (void)off;
  (void)pos;
  bool *hit = ctx;
  *hit = as_name_may_matter(name) && as_name_decides(as_classify_name(name));
  return !*hit;
}

/* One index entry offered to as_archive_index's visitor by symbol id:
 * where only referenced names are interned, an entry for any other name is
 * put aside, its name left in the index (the archive stays mapped until
 * the link is freed). */
struct offer {
  struct as_link *link;
  struct as_archive *ar;
  uint32_t input;
  bool aside;
  uint32_t run; /* where they go aside */
  bool decides; /* an entry names something the decision looks for */
  /* The member the last entry named, and whether it was linked and
   * published by then (SIZE_MAX: look again). */
  size_t member_off;
  bool member_published;
  void (*fn)(void *ctx, uint32_t input, uint32_t sym, size_t off);
  void *ctx;
};

/* Was the member at `off` linked, and its symbols published? The visitor
 * publishes what it links before it returns, so during a walk a linked
 * unit is a published one. */
static bool member_published(const struct offer *o, size_t off) {
  const struct as_member *slot = find_member(o->ar, off);
  return slot && slot->unit < AS_BAD_UNIT && o->link->units[slot->unit]->linked;
}

static bool offer_entry(void *ctx, const char *name, size_t len, size_t off,
                        size_t pos) {
  struct offer *o = ctx;
  struct as_symtab *st = o->link->symtab;
  o->decides = o->decides || (as_name_may_matter(name) &&
                              as_name_decides(as_classify_name(name)));
  if (o->aside) {
    as_aside_index_passes(st, o->run, name, pos);
    /* An entry of a member already linked offers nothing: the member's
     * own definition of the name is published, or put aside for the
     * name's first reference (where it comes before any offer), and
     * extracting it again would do nothing. Where a link pulls in most of
     * an archive, most entries come after their member (ar lists each
     * member's names together), and this spares hashing them. (A stale
     * index, naming what its member does not define, would leave the name
     * to a later archive where lld leaves it undefined: a link that fails
     * either way.) */
    if (off != o->member_off) {
      o->member_off = off;
      o->member_published = member_published(o, off);
    }
    if (o->member_published)
      return true;
  }
  uint32_t id = o->aside
                    ? as_symtab_find_else_aside(st, &o->run, name, len, pos)
                    : as_symtab_intern(st, name, len);
  if (id != AS_NO_UNIT) {
    o->fn(o->ctx, o->input, id, off);
    o->member_off = SIZE_MAX; /* it may have linked the member */
  }
  return true;
}

/* The index and the members it names, sorted; without an index every
 * member is read (its units stay unlinked until something references
 * them), as linkers do with an archive ar made with S. */
int as_archive_read_index(struct as_link *link, uint32_t input) {
  struct as_archive *ar = link->inputs[input]->archive;
  ar->index_read = true;
  long count = !ar->index         ? 0
               : ar->checked >= 0 ? ar->checked
                                  : index_count(ar);
  if (count < 0)
    return archive_error(link, link->inputs[input]->path,
                         "malformed archive symbol index");
  if (count == 0) {
    /* No index (or an empty archive, as glibc's libpthread.a): every
     * member is read as a unit, linked only if referenced. One that is an
     * allocator or carries a marker makes resolution necessary by itself
     * (as_unit_finish); one that references the ABI does too, since
     * whether the link pulls it in decides whether the link needs an
     * allocator. */
    uint32_t first = (uint32_t)link->nunits;
    int rc = as_archive_load_all(link, input);
    for (uint32_t u = first; u < link->nunits; u++)
      if (link->units[u]->abi_undef || link->units[u]->needs_marker)
        as_link_scan_full(link,
                          "a member of an archive without an index needs "
                          "an allocator",
                          as_unit_origin(link, link->units[u]));
    return rc;
  }
  ar->nsyms = (size_t)count;
  if (link->scan == AS_SCAN_QUICK) {
    bool hit = false;
    walk_index(ar, names_allocator, &hit);
    if (hit)
      as_link_scan_full(link, INDEX_NAMES_ALLOCATOR, link->inputs[input]->path);
  }
  /* Members are read when the link pulls them in (as_archive_load_member):
   * an index entry that names no member is caught then. */
  return 0;
}

/* One member's part of members_may_need: 1 it may need, 0 it does not. */
static int member_may_need(struct as_link *link, uint32_t input,
                           const struct member_view *m,
                           const struct member_bytes *b) {
  unsigned char *p = b->data;
  if (b->size < SELFMAG || memcmp(p, ELFMAG, SELFMAG) != 0)
    return 1;
  /* The quick scan of a whole input, on a unit of its own: natively in
   * place (elf_native.c), else through libelf. */
  struct as_unit tmp = {.input = input, .member = m->name};
  size_t ndiags = link->ndiags;
  struct as_elf_syms *r = as_elf_syms_view_memory(p, b->size);
  bool native;
  int rc = as_scan_elf_unit(link, AS_NO_UNIT, &tmp, r, -1, p, b->size, true,
                            &native);
  free(r);
  as_diag_truncate(link, ndiags); /* a member never linked is no error */
  bool need = rc != 0 || tmp.abi_undef || tmp.needs_marker;
  as_unit_clear(&tmp); /* its allocator name and libraries too */
  free(tmp.origin);
  return need;
}

/* Could a member of this archive need an allocator? An archive's index
 * lists definitions only, so a member that calls the ABI is invisible
 * there: read each member's symbol table for the allocator facts alone
 * (nothing interned). A member that cannot be read this way (bitcode,
 * damage) counts as a maybe: the full resolution then decides, and
 * reports it if the link pulls it in. */
static bool members_may_need(struct as_link *link, uint32_t input) {
  struct as_archive *ar = link->inputs[input]->archive;
  for (size_t off = AS_AR_MAGIC_LEN; off < ar->size;) {
    struct member_view m;
    if (read_member(ar, off, &m))
      return true;
    off = m.next;
    if (is_special(&m))
      continue;
    struct member_bytes b;
    if (member_bytes(ar, link->inputs[input]->path, &m, &b)) {
      member_bytes_free(&b);
      return true;
    }
    int need = member_may_need(link, input, &m, &b);
    member_bytes_free(&b);
    if (need)
      return true;
  }
  return false;
}

bool as_archive_members_may_need(struct as_link *link, uint32_t input) {
  struct as_input *in = link->inputs[input];
  if (in->unopened && (in->members_quiet || as_input_open_known(link, input)))
    return false; /* known to need nothing, or an error that ends the link */
  struct as_archive *ar = in->archive;
  if (!ar || !ar->members_unread)
    return false; /* read in full, or no archive */
  ar->members_unread = false;
  struct as_cached_facts facts;
  if (ar->keyed && as_cache_lookup(link, &ar->key, &facts) &&
      (facts.flags & AS_FACT_MEMBERS_QUIET))
    return false;
  bool may = members_may_need(link, input);
  if (!may && ar->keyed)
    as_cache_learn(link, &ar->key,
                   &(struct as_cached_facts){.kind = AS_CACHED_ARCHIVE,
                                             .flags = AS_FACT_INDEX_QUIET |
                                                      AS_FACT_MEMBERS_QUIET});
  /* Give back the pages just read (unchanged, they come again from the
   * page cache if resolution wants them): over many large archives they
   * would otherwise add up to more memory than the linker's own. */
  give_back(ar, ar->map, ar->size);
  return may;
}

bool as_archive_thin(const struct as_input *in) {
  const struct as_archive *ar = in->archive;
  return ar && ar->thin;
}

size_t as_archive_index_entries(const struct as_input *in) {
  const struct as_archive *ar = in->archive;
  return !ar               ? 0
         : ar->nsyms       ? ar->nsyms
         : ar->checked > 0 ? (size_t)ar->checked
                           : 0;
}

bool as_archive_index_quiet(const struct as_input *in) {
  const struct as_archive *ar = in->archive;
  return ar && ar->keyed && ar->members_unread;
}

int as_archive_open(struct as_link *link, uint32_t input, int fd, size_t size,
                    bool thin) {
  struct as_input *in = link->inputs[input];
  void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) {
    as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT, "%s: cannot map: %s", in->path,
                strerror(errno));
    return -1;
  }
  struct as_archive *ar = as_xcalloc(1, sizeof *ar);
  ar->map = map;
  ar->size = size;
  ar->checked = -1;
  struct stat st;
  /* A thin archive's members are files of their own, which its key does
   * not cover: the cache never answers for one. */
  if (link->cache && !thin && fstat(fd, &st) == 0) {
    as_file_key_of(&ar->key, &st);
    ar->keyed = true;
  }
  ar->thin = thin;
  in->archive = ar;
  /* The index and the long-name table come first, in either order. */
  size_t off = AS_AR_MAGIC_LEN;
  for (int i = 0; i < 2 && off < size; i++) {
    struct member_view m;
    const char *why = read_member(ar, off, &m);
    if (why)
      return archive_error(link, in->path, why);
    if (strcmp(m.name, "/") == 0 || strcmp(m.name, "/SYM64/") == 0) {
      ar->index = ar->map + m.data_off;
      ar->index_size = m.size;
      ar->index64 = m.name[1] == 'S';
    } else if (strcmp(m.name, "//") == 0) {
      ar->longnames = (const char *)ar->map + m.data_off;
      ar->longnames_size = m.size;
    } else {
      break;
    }
    off = m.next;
  }
  if (in->flags & AS_ADD_WHOLE_ARCHIVE) {
    ar->index_read = true; /* every member is loaded: no index needed */
    return as_archive_load_all(link, input);
  }
  /* Nothing in the index for the decision: read it only if another input
   * makes the full resolution necessary (as_archive_index). Where one has
   * already, resolution's walk over the index is the only one. */
  if (link->scan == AS_SCAN_QUICK && ar->index) {
    bool hit = false;
    long count = walk_index(ar, names_allocator, &hit);
    if (count < 0)
      return archive_error(link, in->path, "malformed archive symbol index");
    if (!hit) {
      ar->checked = count;       /* walked to the end: read_index need not */
      ar->members_unread = true; /* as_archive_members_may_need, if asked */
      return 0;
    }
    as_link_scan_full(link, INDEX_NAMES_ALLOCATOR, in->path);
  }
  return as_archive_read_index(link, input);
}

void as_archive_index(struct as_link *link, uint32_t input,
                      void (*fn)(void *ctx, uint32_t input, uint32_t sym,
                                 size_t off),
                      void *ctx) {
  struct as_archive *ar = link->inputs[input]->archive;
  if (!ar->index_read)
    as_archive_read_index(link, input);
  if (ar->nsyms) {
    /* An entry put aside keeps its name's offset in 32 bits. */
    struct offer o = {.link = link,
                      .ar = ar,
                      .input = input,
                      .member_off = SIZE_MAX,
                      .aside = link->scan == AS_SCAN_REFERENCED &&
                               ar->index_size <= UINT32_MAX,
                      .fn = fn,
                      .ctx = ctx};
    if (o.aside) {
      size_t word = ar->index64 ? 8 : 4;
      const unsigned char *offsets = ar->index + word;
      o.run = as_aside_begin_index(link->symtab, input,
                                   (const char *)offsets + ar->nsyms * word,
                                   offsets, (unsigned)word, ar->nsyms);
    }
    if (walk_index(ar, offer_entry, &o) < 0) /* not walked before */
      archive_error(link, link->inputs[input]->path,
                    "malformed archive symbol index");
    else if (!o.decides && ar->keyed)
      /* What the quick path's walk would have learnt, where resolution's
       * was the only one: a relink need not open the archive. */
      as_cache_learn(link, &ar->key,
                     &(struct as_cached_facts){.kind = AS_CACHED_ARCHIVE,
                                               .flags = AS_FACT_INDEX_QUIET});
    return;
  }
  /* No index: each member's own definitions. fn may extract members and
   * add units; units never move (as_link.units holds pointers), and the
   * member array does not grow here: every member is in it already. */
  for (size_t i = 0; i < ar->nmembers; i++) {
    uint32_t unit = ar->members[i].unit;
    if (unit == AS_NO_UNIT || unit == AS_BAD_UNIT)
      continue;
    as_unit_offer_defs(link, link->units[unit], input, ar->members[i].off, fn,
                       ctx);
  }
}

void as_archive_close(struct as_input *in) {
  struct as_archive *ar = in->archive;
  if (!ar)
    return;
  munmap(ar->map, ar->size);
  free(ar->members);
  free(ar);
  in->archive = NULL;
}
