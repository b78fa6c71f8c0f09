/* The facts cache (cache.c): what reading a file taught allocsel, kept
 * between links. */
#ifndef ALLOCSEL_SELECTOR_CACHE_H
#define ALLOCSEL_SELECTOR_CACHE_H

#include "selector.h"

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
  AS_FACT_NEEDS_MALLOC = 1u << 4, /* as_unit.needs_malloc_library */
  AS_FACTS_UNIT = (1u << 5) - 1,
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

#endif
