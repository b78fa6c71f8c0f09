/* Interned symbol names: one id per distinct name across the whole link.
 * Open addressing over a power-of-two table; names are copied into large
 * chunks so a million symbols cost a handful of allocations. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

enum { AS_CHUNK = 1 << 20 };

struct as_chunk {
  struct as_chunk *next;
  size_t used;
  char data[];
};

struct as_symtab {
  struct as_sym *syms;
  size_t nsyms, cap_syms;
  uint32_t *slots; /* id + 1, 0 = empty */
  size_t nslots;
  struct as_chunk *chunks;
  size_t chunk_size;
};

static uint32_t hash_name(const char *s, size_t len) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
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

static void rehash(struct as_symtab *st) {
  size_t n = st->nslots * 2;
  uint32_t *slots = as_xcalloc(n, sizeof *slots);
  for (size_t i = 0; i < st->nsyms; i++) {
    size_t j = st->syms[i].hash & (n - 1);
    while (slots[j])
      j = (j + 1) & (n - 1);
    slots[j] = (uint32_t)i + 1;
  }
  free(st->slots);
  st->slots = slots;
  st->nslots = n;
}

uint32_t as_symtab_intern(struct as_symtab *st, const char *name, size_t len) {
  uint32_t h = hash_name(name, len);
  size_t mask = st->nslots - 1;
  for (size_t j = h & mask;; j = (j + 1) & mask) {
    uint32_t slot = st->slots[j];
    if (!slot)
      break;
    struct as_sym *s = &st->syms[slot - 1];
    if (s->hash == h && s->len == len && memcmp(s->name, name, len) == 0)
      return slot - 1;
  }
  if ((st->nsyms + 1) * 2 > st->nslots)
    rehash(st);
  uint32_t id = (uint32_t)st->nsyms;
  struct as_sym *s = AS_PUSH(st->syms, st->nsyms, st->cap_syms);
  *s = (struct as_sym){.name = copy_name(st, name, len),
                       .len = (uint32_t)len,
                       .hash = h,
                       .def = AS_NO_UNIT,
                       .lazy_input = AS_NO_UNIT};
  mask = st->nslots - 1;
  size_t j = h & mask;
  while (st->slots[j])
    j = (j + 1) & mask;
  st->slots[j] = id + 1;
  return id;
}

struct as_sym *as_symtab_get(const struct as_symtab *st, uint32_t id) {
  return &st->syms[id];
}

uint32_t as_symtab_count(const struct as_symtab *st) {
  return (uint32_t)st->nsyms;
}
