/* Internals of the selector library: for its own files and its unit tests,
 * never for front ends (they include frontend.h). */
#ifndef ALLOCSEL_SELECTOR_INTERNAL_H
#define ALLOCSEL_SELECTOR_INTERNAL_H

#include <assert.h>
#include <libelf.h>
#include <string.h>

#include "selector.h"
#include "util.h"

#define AS_NO_UNIT UINT32_MAX

/* One interned symbol and its resolution state, as in lld's Symbol. */
struct as_sym {
  const char *name;
  uint32_t len;
  uint32_t def;        /* first linked unit defining it, or AS_NO_UNIT */
  uint32_t lazy_input; /* archive or lazy object offering it, or AS_NO_UNIT */
  size_t lazy_off;     /* that member's offset in the archive */
  bool referenced;     /* some linked unit references it, unresolved */
  bool settled;        /* what was put aside under its name is taken in */
  uint32_t ref_unit;   /* the first that did (--why) */
};

struct as_symtab *as_symtab_new(void);
void as_symtab_free(struct as_symtab *st);
uint32_t as_symtab_intern(struct as_symtab *st, const char *name, size_t len);
/* The table of interned names (symtab.c), defined here so that the
 * filter test of as_symtab_find inlines into the scanners' loops.
 *
 * A slot holds the name's hash beside its id, so a probe compares names
 * only when the hashes agree, without touching the symbol. */
struct as_slot {
  uint32_t hash;
  uint32_t id1; /* id + 1, 0 = empty */
};

/* A bit per (length, first and last eight bytes) of every interned name:
 * most lookups are for names never interned (a definition nobody
 * references), and this answers them from 32 KiB, without hashing the
 * whole name or probing the table. */
enum { AS_FILTER_BITS = 1 << 18 };

/* Names seen while resolving but not interned, since nothing had
 * referenced them yet (aside.c): published units' definitions and
 * archives' index entries. Most are never referenced, and cost 8 bytes
 * each; the first reference to one finds it here (resolve.c, settled).
 * Names are not copied: an entry holds the name's offset in the table of
 * its run (a unit's string table, which the unit keeps; an archive's
 * index, mapped until the link is freed). */
struct as_aside_entry {
  uint32_t name_off;
  uint32_t next; /* index + 1 of the next with the same filter key */
};
/* One walk over an archive's index (who: AS_ASIDE_LAZY | the input): its
 * entry i's member offset is the big-endian word offsets[i]. An entry put
 * aside keeps only its name's offset; its position, needed only when the
 * offer is taken, is counted from the mark before it: the name offset of
 * every AS_ASIDE_MARK-th entry, noted as the walk passes it. */
enum { AS_ASIDE_MARK = 64 };
struct as_aside_index {
  const unsigned char *offsets;
  unsigned word; /* 4, or 8 in a /SYM64/ index */
  size_t count;  /* its entries */
  uint32_t *marks;
  size_t nmarks;
};
/* Entries first.. (to the next run's first) come from one source: a unit
 * read in full (who: the unit; index NULL), or part of one walk over an
 * archive's index (a walk that loads a member goes on in a new run after
 * the member's). */
struct as_aside_run {
  uint32_t first, who;
  const char *names;
  struct as_aside_index *index;
};
#define AS_ASIDE_LAZY 0x80000000u
struct as_aside {
  struct as_aside_entry *entries;
  size_t n, cap;
  struct as_aside_run *runs;
  size_t nruns, cap_runs;
  struct as_aside_index **indexes; /* each walk's, to free */
  size_t nindexes, cap_indexes;
  /* By the filter key's top head_bits: index + 1 of the newest entry. */
  uint32_t *heads;
  unsigned head_bits, head_shift; /* the key's bits: 18 - head_bits */
  size_t nchained, grow_at; /* entries chained; past grow_at, more heads */
};

struct as_symtab {
  uint64_t filter[AS_FILTER_BITS / 64];
  struct as_aside aside;
  struct as_sym *syms;
  size_t nsyms, cap_syms;
  struct as_slot *slots;
  size_t nslots;
  struct as_chunk *chunks; /* names, copied */
  size_t chunk_size;
};

static inline uint32_t as_symtab_filter_key(const char *s, size_t len) {
  /* head: the first 8 bytes (fewer, zero-extended), read in fixed-size
   * loads: a memcpy of a variable length is a call, and this runs for
   * every name a link has. */
  uint64_t head = 0, tail = 0;
  if (len >= 8) {
    memcpy(&head, s, 8);
    if (len > 8)
      memcpy(&tail, s + len - 8, 8);
  } else if (len >= 4) {
    uint32_t lo, hi; /* overlapping: the shared bytes agree */
    memcpy(&lo, s, 4);
    memcpy(&hi, s + len - 4, 4);
    head = lo | (uint64_t)hi << (8 * (len - 4));
  } else if (len) {
    head = (uint64_t)(unsigned char)s[0] |
           (uint64_t)(unsigned char)s[len / 2] << (8 * (len / 2)) |
           (uint64_t)(unsigned char)s[len - 1] << (8 * (len - 1));
  }
  uint64_t h =
      (head ^ (tail * 0x9e3779b97f4a7c15u) ^ len) * 0xff51afd7ed558ccdu;
  return (uint32_t)(h >> 46); /* the top 18 bits */
}

/* The name's id if interned, else AS_NO_UNIT: most names asked for were
 * never interned, and the filter answers for them in the caller. */
uint32_t as_symtab_find_slow(const struct as_symtab *st, const char *name,
                             size_t len);
static inline uint32_t as_symtab_find(const struct as_symtab *st,
                                      const char *name, size_t len) {
  uint32_t k = as_symtab_filter_key(name, len);
  if (!(st->filter[k / 64] >> (k % 64) & 1))
    return AS_NO_UNIT;
  return as_symtab_find_slow(st, name, len);
}
struct as_sym *as_symtab_get(const struct as_symtab *st, uint32_t id);
/* Who defines a name a linked unit references, once the link is resolved
 * in full: the one way the rules read a definition. Resolution settles
 * every such name (resolve.c, settled), shared libraries' references
 * included; a name not settled could still have its definition put
 * aside, and would read as undefined. */
static inline uint32_t as_sym_def(const struct as_link *link, uint32_t id) {
  const struct as_sym *s = as_symtab_get(link->symtab, id);
  assert(s->settled);
  return s->def;
}
uint32_t as_symtab_count(const struct as_symtab *st);
/* Starts a run of names put aside (struct as_aside_run) and returns it. A
 * unit's has room for the `most` it may put aside; an index's for its
 * `count` entries. */
uint32_t as_aside_begin_unit(struct as_symtab *st, uint32_t unit,
                             const char *strtab, size_t most);
uint32_t as_aside_begin_index(struct as_symtab *st, uint32_t input,
                              const char *names, const unsigned char *offsets,
                              unsigned word, size_t count);
/* Heads sized for `more` entries to come (resolution's estimate, before
 * anything is put aside: each growth chains every entry again). */
void as_aside_expect(struct as_symtab *st, size_t more);
/* An index's walk passes its entry `pos`, named `name`: every entry's,
 * whether put aside or not. */
static inline void as_aside_index_passes(struct as_symtab *st, uint32_t run,
                                         const char *name, size_t pos) {
  if (pos % AS_ASIDE_MARK == 0) {
    const struct as_aside_run *r = &st->aside.runs[run];
    r->index->marks[r->index->nmarks++] = (uint32_t)(name - r->names);
  }
}
/* Puts the name aside in the run (entry `pos` of an index's: a run that
 * is no longer the newest goes on in a new one). `name` lies in the run's
 * table and ends with a NUL. Inline, as every name nobody references
 * comes here: the run has room for it, and the heads grow out of line. */
void as_aside_grow_heads(struct as_aside *a);
uint32_t as_aside_go_on(struct as_aside *a, uint32_t run, size_t pos);
static inline void as_aside_put(struct as_symtab *st, uint32_t *run,
                                uint32_t key, const char *name, size_t pos) {
  struct as_aside *a = &st->aside;
  if (__builtin_expect(*run != a->nruns - 1, 0))
    *run = as_aside_go_on(a, *run, pos);
  const struct as_aside_run *r = &a->runs[*run];
  size_t e = a->n++;
  uint32_t h = key >> a->head_shift;
  a->entries[e] = (struct as_aside_entry){
      .name_off = (uint32_t)(name - r->names), .next = a->heads[h]};
  a->heads[h] = (uint32_t)e + 1;
  if (__builtin_expect(++a->nchained > a->grow_at, 0))
    as_aside_grow_heads(a);
}
/* The name's id if interned; else AS_NO_UNIT, and the name is put aside. */
static inline uint32_t as_symtab_find_else_aside(struct as_symtab *st,
                                                 uint32_t *run,
                                                 const char *name, size_t len,
                                                 size_t pos) {
  uint32_t k = as_symtab_filter_key(name, len);
  if (st->filter[k / 64] >> (k % 64) & 1) {
    uint32_t id = as_symtab_find_slow(st, name, len);
    if (id != AS_NO_UNIT)
      return id;
  }
  as_aside_put(st, run, k, name, pos);
  return AS_NO_UNIT;
}
/* The table of the run holding entry `first` moved to `names`. */
void as_aside_rebase(struct as_symtab *st, size_t first, const char *names);
/* Takes back the entries from `first` on (a unit whose scan failed:
 * libelf reads it again). */
void as_aside_truncate(struct as_symtab *st, size_t first);
/* An entry's name. */
const char *as_aside_name(const struct as_symtab *st, size_t entry);
/* The entries put aside under this name, newest first: *cursor 0 to
 * start; false after the last. */
struct as_aside_hit {
  uint32_t who; /* the unit, or AS_ASIDE_LAZY | the input */
  size_t off;   /* an index entry's member offset */
};
bool as_aside_next(const struct as_symtab *st, const char *name, size_t len,
                   uint32_t *cursor, struct as_aside_hit *hit);
void as_aside_free(struct as_aside *a);

/* What a symbol name means to allocsel, from the name alone (unit.c). */
enum as_name_class {
  AS_NAME_NONE = -1,
  /* 0 .. AS_ABI_COUNT-1: that ABI entry point */
  AS_NAME_NEEDS = AS_ABI_COUNT, /* __allocsel_needs_allocator */
  AS_NAME_MARKER,               /* __allocsel_allocator_NAME */
  AS_NAME_LIBRARY,              /* __allocsel_library_NAME: -lNAME needed */
  AS_NAME_JEMALLOC,             /* mallocx: jemalloc's own code is linked */
  AS_NAME_RUST_SHIM,            /* __rust_alloc: rustc's allocator shim */
  AS_NAME_RUST_RUNTIME,         /* rust_eh_personality: Rust's std */
  AS_NAME_MALLOC,               /* malloc: a malloc implementation */
};
enum as_name_class as_classify_name(const char *name);
/* Could as_classify_name find anything in this name? Every name allocsel
 * looks for starts "__", "_R", "m" or "r": the test the scanners make
 * inline before any call, for every symbol of every input. */
static inline bool as_name_may_matter(const char *name) {
  return name[0] == '_' ? name[1] == '_' || name[1] == 'R'
                        : name[0] == 'm' || name[0] == 'r';
}
/* Does a definition of this class in an archive's index make which members
 * the link pulls in matter (an allocator, a marker, a Rust shim)? */
static inline bool as_name_decides(enum as_name_class c) {
  return c != AS_NAME_NONE && c != AS_NAME_JEMALLOC &&
         c != AS_NAME_RUST_RUNTIME && c != AS_NAME_MALLOC;
}

/* Bytes that become one unit: a whole input, an archive member or a view
 * the plugin mapped. `data` holds `size` bytes (writable, private: libelf
 * may convert in place), found at `file_off` in the input's file. */
struct as_source {
  uint32_t input;
  const char *member; /* archive member name, or NULL */
  size_t member_off;  /* its header's offset */
  const char *path;   /* the file holding the bytes, NULL: the input's */
  void *data;
  size_t file_off, size;
  bool full; /* read every symbol: an archive member */
};
/* Recognises the source by its magic and scans it (input.c). Returns the
 * unit index, or AS_NO_UNIT with a diagnostic. */
uint32_t as_add_unit(struct as_link *link, const struct as_source *src);

/* A file as the cache knows it (cache.c): a rewritten file changes its
 * change time, which no program can set back. */
struct as_file_key {
  uint64_t dev, ino, size;
  int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
};
struct stat;
void as_file_key_of(struct as_file_key *k, const struct stat *st);
/* What the cache keeps of a file: a unit's allocator facts (an object or
 * shared library that neither defines the ABI nor carries a marker: one
 * that lets the quick path go on), or what is known of an archive. */
enum as_cached_kind { AS_CACHED_NONE, AS_CACHED_UNIT, AS_CACHED_ARCHIVE };
enum {
  AS_FACT_SHARED = 1u << 0,       /* a shared library */
  AS_FACT_JEMALLOC = 1u << 1,     /* as_unit.defines_jemalloc */
  AS_FACT_RUST_RUNTIME = 1u << 2, /* as_unit.rust_runtime */
  AS_FACT_MALLOC = 1u << 3,       /* as_unit.defines_malloc */
  AS_FACTS_UNIT = (1u << 4) - 1,
  /* An archive whose index names nothing the decision looks for (the
   * quick path need not open it), and one no member of which references
   * the ABI (it need not read the members either). */
  AS_FACT_INDEX_QUIET = 1u << 0,
  AS_FACT_MEMBERS_QUIET = 1u << 1,
  AS_FACTS_ARCHIVE = (1u << 2) - 1,
};
struct as_cached_facts {
  uint8_t kind; /* enum as_cached_kind */
  uint8_t abi_undef, flags;
  uint8_t elf_class, elf_data, reserved; /* reserved: no padding */
  uint16_t machine;
};
/* false where the cache does not know the file. */
bool as_cache_lookup(const struct as_link *link, const struct as_file_key *k,
                     struct as_cached_facts *facts);
/* Keeps the facts (an archive's add to what was known), unless the file
 * changed too recently for its times to tell a later write apart. */
void as_cache_learn(struct as_link *link, const struct as_file_key *k,
                    const struct as_cached_facts *facts);
void as_cache_free(struct as_cache *c);

/* Inputs the cache answered for (input.c): an archive is opened, a unit's
 * symbol table read, when the link turns out to need them. */
int as_input_open_known(struct as_link *link, uint32_t input);
void as_unit_read_known(struct as_link *link, struct as_unit *u);

/* Archives (archive.c). */
int as_archive_open(struct as_link *link, uint32_t input, int fd, size_t size,
                    bool thin);
int as_archive_read_index(struct as_link *link, uint32_t input);
/* Loads the member whose header is at `off` as a unit. Returns the unit,
 * the existing one if loaded before, or AS_NO_UNIT on error (reported the
 * first time only). */
uint32_t as_archive_load_member(struct as_link *link, uint32_t input,
                                size_t off);
/* Could a member of this archive, opened on the quick path, need an
 * allocator? Its index lists definitions only, so each member's symbol
 * table is read in place for a reference to the ABI. */
bool as_archive_members_may_need(struct as_link *link, uint32_t input);
/* Was the archive, just opened, found to name nothing the decision looks
 * for in its index (so the quick path need not read it again)? */
bool as_archive_index_quiet(const struct as_input *in);
/* Is it a thin archive (its members are files of their own)? */
bool as_archive_thin(const struct as_input *in);
/* The entries of its symbol index, once opened (0: none, or not read). */
size_t as_archive_index_entries(const struct as_input *in);
/* Every member, for --whole-archive and archives without an index. */
int as_archive_load_all(struct as_link *link, uint32_t input);
/* Visits the archive's symbol index: (symbol id, member offset). fn may
 * load members. */
void as_archive_index(struct as_link *link, uint32_t input,
                      void (*fn)(void *ctx, uint32_t input, uint32_t sym,
                                 size_t off),
                      void *ctx);
void as_archive_close(struct as_input *in);

/* ELF symbol tables (elf_symbols.c): .symtab of an object, .dynsym of a
 * shared library. `quick` reads only the allocator facts. */
int as_scan_elf(struct as_link *link, struct as_unit *u, Elf *e, size_t size,
                bool quick);
/* Native ELF64 little-endian symbol tables (elf_native.c): the global
 * part of the symbol table and its string table, in one allocation. NULL
 * where the file is anything else or out of the ordinary: libelf reads it
 * then. A unit read quickly keeps them (as_unit.raw). */
struct as_elf_syms {
  const unsigned char *syms; /* Elf64_Sym each: read with as_elf_sym */
  const char *strtab;
  uint32_t nsyms, strsize;
  bool shared;
  uint16_t machine;
};
/* From a file whose first `headlen` bytes are in `head`, or from memory. */
struct as_elf_syms *as_elf_syms_read_fd(int fd, size_t size,
                                        const unsigned char *head,
                                        size_t headlen);
struct as_elf_syms *as_elf_syms_read_memory(const void *data, size_t size);
/* The same read in place: the result points into `data` (which must
 * outlive it) and owns nothing but itself. */
struct as_elf_syms *as_elf_syms_view_memory(const void *data, size_t size);
/* A copy read in full keeps its strings only (names put aside point into
 * them): the symbols are cut off. The strings may move. */
struct as_elf_syms *as_elf_syms_keep_strings(struct as_elf_syms *r);
/* A unit read in full keeps them so (as_unit.raw), the names it put aside
 * following its strings where they moved. */
void as_unit_keep_strings(struct as_link *link, struct as_unit *u,
                          struct as_elf_syms *r);
/* The symbol's name, binding and section: its first eight bytes, all a
 * scanner reads (value and size stay 0). In place, a member's table may be
 * misaligned, hence the copy. */
static inline Elf64_Sym as_elf_sym(const struct as_elf_syms *r, uint32_t i) {
  Elf64_Sym s = {0};
  memcpy(&s, r->syms + (size_t)i * sizeof s, offsetof(Elf64_Sym, st_value));
  return s;
}
/* Interns the strong references among them ahead of resolution, so that
 * definitions of those names need not go aside; it stops at a GCC LTO
 * object or a malformed name, which the full scan deals with. */
void as_elf_syms_intern_refs(const struct as_elf_syms *r, struct as_symtab *st);
/* Scans them into the unit (link->units[unit_id], or a unit of no link's
 * when quick): 0, -1 with a diagnostic, or 1 for a GCC LTO object (its
 * symbols are in sections libelf reads). Definitions it puts aside point
 * into `r`, which must outlive the resolution. */
int as_scan_elf_syms(struct as_link *link, uint32_t unit_id, struct as_unit *u,
                     const struct as_elf_syms *r, bool quick);

/* Reads every symbol of a unit first read quickly (see as_link): from what
 * it kept, else from its file again. */
int as_unit_rescan(struct as_link *link, uint32_t unit);

/* Building a unit (unit.c), shared by the ELF and bitcode scanners: make
 * it, add each global symbol, then finish it. */
uint32_t as_unit_new(struct as_link *link, uint32_t input, const char *member,
                     size_t member_off);
struct as_unit_caps {
  size_t defs, undefs;
};
void as_unit_add_symbol(struct as_link *link, struct as_unit *u,
                        struct as_unit_caps *caps, const char *name, size_t len,
                        bool defined, bool weak);
/* The quick scan's form: records the allocator facts, interns nothing. */
void as_unit_note_symbol(struct as_unit *u, const char *name, bool defined);
void as_unit_finish(struct as_link *link, struct as_unit *u);
/* Offers each definition of a unit the link may pull in (a member of an
 * archive without an index, a --start-lib object) to fn, as an index
 * entry (input, off) is offered: names it put aside are interned for it.
 * fn may pull units in. */
void as_unit_offer_defs(
    struct as_link *link, const struct as_unit *u, uint32_t input, size_t off,
    void (*fn)(void *ctx, uint32_t input, uint32_t sym, size_t off), void *ctx);
/* Drops what a unit that failed to scan had read: it stays (its origin
 * names the diagnostic) but is inert. */
void as_unit_clear(struct as_unit *u);

/* A linker script's text (script.c): adds the files it names as inputs.
 * Returns 0, or -1 with diagnostics. */
int as_script_add_inputs(struct as_link *link, uint32_t input, const char *text,
                         size_t size);

/* Notes on `d` saying why `u` is in the link (rules.c). */
void as_why_notes(struct as_link *link, struct as_diag *d,
                  const struct as_unit *u);

/* The first linked malloc implementation other than libc's, or NULL. */
const struct as_unit *as_link_malloc_unit(struct as_link *link);
/* What serves malloc (malloc.c): fills d->malloc, or records the error
 * for two malloc implementations and returns 1. */
int as_decide_malloc(struct as_link *link, const struct as_env *env,
                     struct as_decision *d);

/* Drops the diagnostics added after the first n (a tentative read). */
void as_diag_truncate(struct as_link *link, size_t n);

/* LLVM bitcode (bitcode.c): the unit's symbols, read by the bitcode reader
 * process from `size` bytes at `file_off` in `path`. Returns 0, or -1 with
 * a diagnostic naming the unit. */
int as_scan_bitcode(struct as_link *link, struct as_unit *u, const char *path,
                    size_t file_off, size_t size);
void as_bitcode_reader_free(struct as_bitcode_reader *r);

#endif
