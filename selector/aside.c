/* Names put aside while resolving (struct as_aside): definitions and index
 * entries of names nothing referenced when they were seen. Chained by the
 * symbol table's filter key, so that putting one aside costs the key the
 * filter test computed already, an 8-byte entry and a head; finding one,
 * which only a name's first reference does, walks a short chain. */
#include "symtab.h"

#include <stdlib.h>
#include <string.h>

#include "ar_format.h"

/* Chains by the filter key's top bits: as many heads as chained entries,
 * 4 KiB for a small link, up to 2^16 heads (256 KiB, which stay in a
 * core's cache while a link puts hundreds of thousands of names aside; a
 * head per key, 1 MiB, did not), then chains of up to 8 entries before
 * the heads grow to one per key (over 512 Ki entries: a link of 10,000
 * objects and 1,000 archives, where chains of 30 cost more in walks than
 * the larger table in misses). Only a name's first reference walks one. */
enum { MIN_HEAD_BITS = 10, CACHED_HEAD_BITS = 16, FILTER_KEY_BITS = 18 };
_Static_assert(AS_FILTER_BITS == 1 << FILTER_KEY_BITS, "the filter's keys");

static uint32_t head_of(const struct as_aside *a, uint32_t key) {
  return key >> a->head_shift;
}

/* How many entries 2^bits heads chain before they grow. */
static size_t grow_at(unsigned bits) {
  return bits >= FILTER_KEY_BITS
             ? SIZE_MAX
             : (size_t)(bits < CACHED_HEAD_BITS ? 2 : 8) << bits;
}

/* Heads for 2^bits chains, all empty. */
static void set_heads(struct as_aside *a, unsigned bits) {
  free(a->heads);
  a->head_bits = bits;
  a->head_shift = FILTER_KEY_BITS - bits;
  a->heads = as_xcalloc((size_t)1 << bits, sizeof *a->heads);
  a->grow_at = grow_at(bits);
}

/* 2^bits heads, every entry chained again, oldest first (so each chain
 * stays newest first). */
static void rechain(struct as_aside *a, unsigned bits) {
  set_heads(a, bits);
  for (size_t r = 0; r < a->nruns; r++) {
    size_t end = r + 1 < a->nruns ? a->runs[r + 1].first : a->n;
    for (size_t e = a->runs[r].first; e < end; e++) {
      const char *name = a->runs[r].names + a->entries[e].name_off;
      uint32_t h = head_of(a, as_symtab_filter_key(name, strlen(name)));
      a->entries[e].next = a->heads[h];
      a->heads[h] = (uint32_t)e + 1;
    }
  }
}

/* More heads: at once as many as stay in cache (each chaining again
 * walks every entry so far, and a link that outgrows the first heads
 * mostly goes on to outgrow the next: the generated link of 1,500 objects
 * chained its entries three times over), then four times as many. Out of
 * line: as_aside_put's fast path keeps its registers. */
__attribute__((noinline, cold)) void as_aside_grow_heads(struct as_aside *a) {
  rechain(a, a->head_bits < CACHED_HEAD_BITS ? CACHED_HEAD_BITS
                                             : a->head_bits + 2);
}

/* Room in the chains for `more` entries: where they would make the heads
 * grow, possibly more than once, they grow now, once, while fewer entries
 * are chained (an index's walk puts most of its entries aside, where no
 * member of it is linked). */
static void expect(struct as_aside *a, size_t more, unsigned most_bits) {
  if (!a->heads)
    set_heads(a, MIN_HEAD_BITS);
  unsigned bits = a->head_bits;
  while (a->nchained + more > grow_at(bits) && bits < most_bits)
    bits += 2;
  if (bits != a->head_bits)
    rechain(a, bits);
}

static uint32_t begin(struct as_aside *a, struct as_aside_run run) {
  if (!a->heads)
    set_heads(a, MIN_HEAD_BITS);
  /* A unit's run that put nothing aside gives its place to the next (an
   * index's may be named by a walk still going on). */
  if (a->nruns && a->runs[a->nruns - 1].first == a->n &&
      !a->runs[a->nruns - 1].index)
    a->nruns--;
  *AS_PUSH(a->runs, a->nruns, a->cap_runs) = run;
  return (uint32_t)a->nruns - 1;
}

uint32_t as_aside_begin_unit(struct as_symtab *st, uint32_t unit,
                             const char *strtab, size_t most) {
  struct as_aside *a = &st->aside;
  /* Room for all it may put aside: as_aside_put never grows the array. */
  a->entries = as_grow(a->entries, &a->cap, a->n + most, sizeof *a->entries);
  return begin(a, (struct as_aside_run){
                      .first = (uint32_t)a->n, .who = unit, .names = strtab});
}

uint32_t as_aside_begin_index(struct as_symtab *st, uint32_t input,
                              const char *names, const unsigned char *offsets,
                              unsigned word, size_t count) {
  struct as_aside *a = &st->aside;
  struct as_aside_index *index = as_xmalloc(sizeof *index);
  *index = (struct as_aside_index){
      .offsets = offsets,
      .word = word,
      .count = count,
      .marks = as_xmalloc((count / AS_ASIDE_MARK + 1) * sizeof *index->marks)};
  *AS_PUSH(a->indexes, a->nindexes, a->cap_indexes) = index;
  a->entries = as_grow(a->entries, &a->cap, a->n + count, sizeof *a->entries);
  uint32_t run = begin(a, (struct as_aside_run){.first = (uint32_t)a->n,
                                                .who = AS_ASIDE_LAZY | input,
                                                .names = names,
                                                .index = index});
  expect(a, count, FILTER_KEY_BITS);
  return run;
}

void as_aside_expect(struct as_symtab *st, size_t more) {
  /* No further than the heads that stay in cache: past them, a put costs
   * a miss, and a link of a million names paid more in those than the
   * one chaining again saves (10,000 objects and 1,000 archives). */
  expect(&st->aside, more, CACHED_HEAD_BITS);
}

/* An index's walk loaded a member, whose run came after its own: the walk
 * goes on in a new run, with room for the entries left from `pos` on. */
uint32_t as_aside_go_on(struct as_aside *a, uint32_t run, size_t pos) {
  struct as_aside_run next = a->runs[run];
  next.first = (uint32_t)a->n;
  a->entries = as_grow(a->entries, &a->cap, a->n + (next.index->count - pos),
                       sizeof *a->entries);
  return begin(a, next);
}

/* The run holding entry e: the last to start at or before it. */
static size_t run_at(const struct as_aside *a, size_t e) {
  size_t lo = 0, hi = a->nruns;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (a->runs[mid].first <= e)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo - 1;
}

static const struct as_aside_run *run_of(const struct as_aside *a, size_t e) {
  return &a->runs[run_at(a, e)];
}

const char *as_aside_name(const struct as_symtab *st, size_t e) {
  return run_of(&st->aside, e)->names + st->aside.entries[e].name_off;
}

void as_aside_rebase(struct as_symtab *st, size_t first, const char *names) {
  struct as_aside *a = &st->aside;
  if (first < a->n)
    a->runs[run_at(a, first)].names = names;
}

void as_aside_truncate(struct as_symtab *st, size_t first) {
  struct as_aside *a = &st->aside;
  /* Newest first: each is the head of its chain when it goes. */
  for (; a->n > first; a->n--) {
    const char *name = as_aside_name(st, a->n - 1);
    a->heads[head_of(a, as_symtab_filter_key(name, strlen(name)))] =
        a->entries[a->n - 1].next;
    a->nchained--;
  }
  while (a->nruns && a->runs[a->nruns - 1].first > a->n)
    a->nruns--;
}

/* The member offset of the index entry whose name is at `name_off`: its
 * position counted from the last mark at or before it (names follow one
 * another, NUL-terminated, in the order of the entries). */
static size_t member_off(const struct as_aside_run *run, uint32_t name_off) {
  const struct as_aside_index *x = run->index;
  size_t lo = 0, hi = x->nmarks; /* the first mark past name_off */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (x->marks[mid] <= name_off)
      lo = mid + 1;
    else
      hi = mid;
  }
  size_t pos = (lo - 1) * AS_ASIDE_MARK;
  for (const char *p = run->names + x->marks[lo - 1]; p < run->names + name_off;
       p += strlen(p) + 1)
    pos++;
  return (size_t)as_ar_index_word(x->offsets + pos * x->word, x->word);
}

bool as_aside_next(const struct as_symtab *st, const char *name, size_t len,
                   uint32_t *cursor, struct as_aside_hit *hit) {
  const struct as_aside *a = &st->aside;
  if (!a->heads)
    return false;
  uint32_t i = *cursor ? a->entries[*cursor - 1].next
                       : a->heads[head_of(a, as_symtab_filter_key(name, len))];
  for (; i; i = a->entries[i - 1].next) {
    const struct as_aside_run *run = run_of(a, i - 1);
    const char *n = run->names + a->entries[i - 1].name_off;
    if (strncmp(n, name, len) != 0 || n[len])
      continue;
    *cursor = i;
    hit->who = run->who;
    hit->off = run->index ? member_off(run, a->entries[i - 1].name_off) : 0;
    return true;
  }
  return false;
}

void as_aside_free(struct as_aside *a) {
  for (size_t i = 0; i < a->nindexes; i++) {
    free(a->indexes[i]->marks);
    free(a->indexes[i]);
  }
  free(a->indexes);
  free(a->entries);
  free(a->runs);
  free(a->heads);
}
