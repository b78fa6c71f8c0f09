/* Sealing a relocatable object in place (elf_seal.c): every global
 * definition but the kept ones becomes local, section groups are dissolved
 * (a local group signature would still be merged by name with the
 * program's), a hidden marker is added and the record note written. */
#ifndef ALLOCSEL_TOOLS_ELF_SEAL_H
#define ALLOCSEL_TOOLS_ELF_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the object held before it was sealed. */
struct seal_facts {
  size_t localized;        /* global definitions made local */
  size_t kept_found;       /* kept names defined */
  bool rust_shim;          /* rustc's allocator shim */
  bool rust_runtime;       /* Rust's std (rust_eh_personality) */
  bool cxx_runtime;        /* a C++ runtime of its own (__gxx_personality_v0) */
  bool malloc;             /* a malloc of its own */
  const char *malloc_name; /* "jemalloc", "tcmalloc", "mimalloc" or NULL */
  const char *allocator;   /* an allocsel allocator's marker, or NULL */
  char **undefined;        /* strongly referenced, undefined, sorted */
  size_t nundefined;
  bool elf64;
  uint16_t machine;
};

/* The record's text from the facts: called once they are known, before
 * anything is written. Returns malloc'd text. */
typedef char *seal_record_fn(void *ctx, const struct seal_facts *facts);

/* Seals the object open read-write on `fd`. `keep` is sorted (strcmp).
 * Returns 0, or -1 with a malloc'd *error. Kept names the object does not
 * define are listed in *missing (malloc'd, sorted) and make it -1 too,
 * with nothing written. */
int elf_seal(int fd, char *const *keep, size_t nkeep, const char *marker,
             seal_record_fn *record, void *ctx, struct seal_facts *facts,
             char ***missing, size_t *nmissing, char **error);
void seal_facts_free(struct seal_facts *f);

#endif
