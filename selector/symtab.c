/* Interned symbol names: one id per distinct name across the whole link.
 * Open addressing over a power-of-two table; names are copied into large
 * chunks so a million symbols cost a handful of allocations. */
#include "symtab.h"

#include <stdlib.h>
#include <string.h>

enum { AS_CHUNK = 1 << 20 };

struct as_chunk {
  struct as_chunk *next;
  size_t used;
  char data[];
};

/* Eight bytes a step (symbol names run to hundreds of bytes in C++), mixed
 * by multiplication; the tail is read in one piece too. */
static uint32_t hash_name(const char *s, size_t len) {
  uint64_t h = 0x9e3779b97f4a7c15u ^ len;
  for (; len >= 8; s += 8, len -= 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdu;
    h ^= h >> 32;
  }
  uint64_t w = 0;
  memcpy(&w, s, len);
  h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
  h ^= h >> 29;
  return (uint32_t)h;
}

struct as_symtab *as_symtab_new(void) {
  struct as_symtab *st = as_xcalloc(1, sizeof *st);
  st->nslots = 1024;
  st->slots = as_xcalloc(st->nslots, sizeof *st->slots);
  return st;
}

void as_symtab_free(struct as_symtab *st) {
  if (!st)
    return;
  for (struct as_chunk *c = st->chunks, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  free(st->syms);
  free(st->slots);
  as_aside_free(&st->aside);
  free(st);
}

static const char *copy_name(struct as_symtab *st, const char *name,
                             size_t len) {
  struct as_chunk *c = st->chunks;
  if (!c || c->used + len + 1 > st->chunk_size) {
    size_t size = len + 1 > AS_CHUNK ? len + 1 : AS_CHUNK;
    c = as_xmalloc(sizeof *c + size);
    c->next = st->chunks;
    c->used = 0;
    st->chunks = c;
    st->chunk_size = size;
  }
  char *p = c->data + c->used;
  memcpy(p, name, len);
  p[len] = '\0';
  c->used += len + 1;
  return p;
}

static void resize(struct as_symtab *st, size_t n) {
  struct as_slot *slots = as_xcalloc(n, sizeof *slots);
  for (size_t i = 0; i < st->nslots; i++) {
    struct as_slot sl = st->slots[i];
    if (!sl.id1)
      continue;
    size_t j = sl.hash & (n - 1);
    while (slots[j].id1)
      j = (j + 1) & (n - 1);
    slots[j] = sl;
  }
  free(st->slots);
  st->slots = slots;
  st->nslots = n;
}

uint32_t as_symtab_find_slow(const struct as_symtab *st, const char *name,
                             size_t len) {
  uint32_t h = hash_name(name, len);
  size_t mask = st->nslots - 1;
  for (size_t j = h & mask;; j = (j + 1) & mask) {
    struct as_slot sl = st->slots[j];
    if (!sl.id1)
      return AS_NO_UNIT;
    const struct as_sym *s = &st->syms[sl.id1 - 1];
    if (sl.hash == h && s->len == len && memcmp(s->name, name, len) == 0)
      return sl.id1 - 1;
  }
}

uint32_t as_symtab_intern(struct as_symtab *st, const char *name, size_t len) {
  uint32_t h = hash_name(name, len);
  size_t mask = st->nslots - 1, j = h & mask;
  for (;; j = (j + 1) & mask) {
    struct as_slot sl = st->slots[j];
    if (!sl.id1)
      break;
    if (sl.hash != h)
      continue;
    const struct as_sym *s = &st->syms[sl.id1 - 1];
    if (s->len == len && memcmp(s->name, name, len) == 0)
      return sl.id1 - 1;
  }
  if ((st->nsyms + 1) * 2 > st->nslots) {
    resize(st, st->nslots * 2);
    mask = st->nslots - 1;
    for (j = h & mask; st->slots[j].id1; j = (j + 1) & mask)
      ;
  }
  uint32_t id = (uint32_t)st->nsyms;
  struct as_sym *s = AS_PUSH(st->syms, st->nsyms, st->cap_syms);
  *s = (struct as_sym){.name = copy_name(st, name, len),
                       .len = (uint32_t)len,
                       .def = AS_NO_UNIT,
                       .lazy_input = AS_NO_UNIT};
  st->slots[j] = (struct as_slot){h, id + 1};
  uint32_t k = as_symtab_filter_key(name, len);
  st->filter[k / 64] |= (uint64_t)1 << (k % 64);
  return id;
}

struct as_sym *as_symtab_get(const struct as_symtab *st, uint32_t id) {
  return &st->syms[id];
}

uint32_t as_symtab_count(const struct as_symtab *st) {
  return (uint32_t)st->nsyms;
}
