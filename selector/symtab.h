/* The symbol table and the names put aside (symtab.c, aside.c): what
 * resolution interns, and what it does not. */
#ifndef ALLOCSEL_SELECTOR_SYMTAB_H
#define ALLOCSEL_SELECTOR_SYMTAB_H

#include <assert.h>
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

#endif
