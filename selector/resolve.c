/* Which units does the link pull in? Resolution as lld does it: objects
 * and --whole-archive members always; an archive member when it defines a
 * symbol that a linked unit references, wherever the archive stands on the
 * command line. Shared libraries resolve references but pull nothing in. */
#include "archive.h"
#include "elf_read.h"
#include "input.h"
#include "link_internal.h"
#include "symtab.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

struct resolver {
  struct as_link *link;
  uint32_t *lazies; /* symbols made lazy since the last forget_lazies */
  size_t nlazies, cap_lazies;
  uint32_t *work; /* linked units whose symbols are not published yet */
  size_t nwork, cap_work;
  /* Per unit (grown as members load): its place in the order its symbols
   * were published (1, 2, ...; 0: not yet), and the names among those it
   * put aside that were first looked at before then (1 + the newest in
   * `pending`, 0: none). */
  uint32_t *published, *pending_of;
  size_t cap_units;
  uint32_t npublished;
  /* Names settled while a unit that put their definitions aside was not
   * yet published: chained by unit (pending_of), taken at publish. */
  struct pending {
    uint32_t sym, next;
  } * pending;
  size_t npending, cap_pending;
  /* ld.bfd and gold: inputs whose offers are forgotten (forget_lazies),
   * and the first input offering since the last time. */
  bool *forgotten;
  uint32_t offering_from;
};

/* The per-unit arrays cover every unit of the link: called when resolution
 * starts and when it links a unit, since a unit is loaded (link->units
 * grows) only to be linked at once (load_lazy, then link_unit). */
static void track_units(struct resolver *r) {
  size_t n = r->link->nunits, old = r->cap_units, cap = old;
  if (n <= old)
    return;
  r->published = as_grow(r->published, &cap, n, sizeof *r->published);
  cap = old;
  r->pending_of = as_grow(r->pending_of, &cap, n, sizeof *r->pending_of);
  memset(r->published + old, 0, (cap - old) * sizeof *r->published);
  memset(r->pending_of + old, 0, (cap - old) * sizeof *r->pending_of);
  r->cap_units = cap;
}

/* Links a unit; one pulled out of an archive (or --start-lib) remembers
 * why, as lld's --why-extract does: the symbol and the unit that
 * referenced it (AS_NO_UNIT: linked for its own sake). */
static void link_unit(struct resolver *r, uint32_t unit, uint32_t sym,
                      uint32_t by) {
  track_units(r);
  if (unit == AS_NO_UNIT || r->link->units[unit]->linked)
    return;
  struct as_unit *u = r->link->units[unit];
  u->linked = true;
  u->why_sym = sym;
  u->why_unit = by;
  *AS_PUSH(r->work, r->nwork, r->cap_work) = unit;
}

const struct as_unit *as_unit_why(const struct as_link *link,
                                  const struct as_unit *u, uint32_t *sym) {
  if (!u || u->why_unit == AS_NO_UNIT)
    return NULL;
  *sym = u->why_sym;
  return link->units[u->why_unit];
}

void as_why_notes(struct as_link *link, struct as_diag *d,
                  const struct as_unit *u) {
  /* lld's --why-extract, as a chain: each member was pulled in for a
   * symbol some unit referenced, back to a unit linked for its own sake. */
  uint32_t sym;
  const struct as_unit *by;
  for (int depth = 0; depth < 32 && (by = as_unit_why(link, u, &sym));
       depth++, u = by)
    as_diag_note(d, "  extracted for %s, referenced by %s",
                 as_sym_name(link, sym), as_unit_origin(link, by));
}

/* A lazy symbol's unit: an archive member by its offset, or a --start-lib
 * object, whose unit index stands in lazy_off. */
static uint32_t load_lazy(struct as_link *link, uint32_t input, size_t off) {
  if (link->inputs[input]->kind == AS_INPUT_ARCHIVE)
    return as_archive_load_member(link, input, off);
  return (uint32_t)off;
}

/* A symbol as resolution sees it. Interned only once something referenced
 * it, the name may have been put aside before (struct as_aside): by units
 * that define it, as their definitions (of those published, the first
 * one's; one read but not yet published hears of the name when it is);
 * by archives already offered, as their offers, the first one not
 * forgotten. The first look takes them in, before anything reads or sets
 * its state. */
static struct as_sym *settled(struct resolver *r, uint32_t id) {
  struct as_link *link = r->link;
  struct as_sym *s = as_symtab_get(link->symtab, id);
  if (s->settled)
    return s;
  s->settled = true;
  uint32_t cursor = 0, def = AS_NO_UNIT, def_order = UINT32_MAX;
  struct as_aside_hit hit, offer = {.who = AS_NO_UNIT};
  while (as_aside_next(link->symtab, s->name, s->len, &cursor, &hit)) {
    if (!(hit.who & AS_ASIDE_LAZY)) {
      uint32_t order = r->published[hit.who];
      if (!order) {
        /* Read already, published later: it defines the name then, if
         * nothing has. */
        *AS_PUSH(r->pending, r->npending, r->cap_pending) =
            (struct pending){id, r->pending_of[hit.who]};
        r->pending_of[hit.who] = (uint32_t)r->npending;
      } else if (order < def_order) {
        def = hit.who;
        def_order = order;
      }
    } else if (!r->forgotten[hit.who & ~AS_ASIDE_LAZY]) {
      offer = hit; /* newest first: the last one seen came first */
    }
  }
  if (def != AS_NO_UNIT) {
    s->def = def;
  } else if (offer.who != AS_NO_UNIT) {
    s->lazy_input = offer.who & ~AS_ASIDE_LAZY;
    s->lazy_off = offer.off;
    if (link->order == AS_ORDER_COMMAND_LINE)
      *AS_PUSH(r->lazies, r->nlazies, r->cap_lazies) = id;
  }
  return s;
}

/* Publishes a linked unit's symbols; references to lazy symbols extract. */
static void publish(struct resolver *r, uint32_t unit) {
  struct as_link *link = r->link;
  struct as_unit *u = link->units[unit];
  r->published[unit] = ++r->npublished;
  for (uint32_t i = 0; i < u->ndefs; i++) {
    struct as_sym *s = settled(r, u->defs[i]);
    if (s->def == AS_NO_UNIT)
      s->def = unit;
  }
  /* Definitions it put aside whose names were first looked at since it
   * was read (an object is read before resolution starts). */
  for (uint32_t p = r->pending_of[unit]; p; p = r->pending[p - 1].next) {
    struct as_sym *s = as_symtab_get(link->symtab, r->pending[p - 1].sym);
    if (s->def == AS_NO_UNIT)
      s->def = unit;
  }
  r->pending_of[unit] = 0;
  /* Extraction grows link->units: keep what we need out of `u`. */
  const uint32_t *undefs = u->undefs;
  uint32_t nundefs = u->nundefs;
  bool shared = u->shared;
  for (uint32_t i = 0; i < nundefs; i++) {
    /* A shared library's references extract nothing, but who defines
     * them is settled all the same: the rules follow them (a cycle may
     * run through a shared library, as_sym_def). */
    struct as_sym *s = settled(r, undefs[i]);
    if (s->def != AS_NO_UNIT || shared)
      continue;
    if (!s->referenced) {
      s->referenced = true;
      s->ref_unit = unit;
    }
    if (s->lazy_input != AS_NO_UNIT)
      link_unit(r, load_lazy(link, s->lazy_input, s->lazy_off), undefs[i],
                unit);
  }
}

static void offer_lazy(void *ctx, uint32_t input, uint32_t sym, size_t off) {
  struct resolver *r = ctx;
  struct as_sym *s = settled(r, sym);
  if (s->def != AS_NO_UNIT || s->lazy_input != AS_NO_UNIT)
    return;
  if (s->referenced) {
    /* Publish at once: later index entries for the same symbols (another
     * member defining them) must see them defined, as in lld. */
    /* Loading the member interns its symbols: the table may move, and `s`
     * with it. */
    uint32_t by = s->ref_unit;
    link_unit(r, load_lazy(r->link, input, off), sym, by);
    while (r->nwork)
      publish(r, r->work[--r->nwork]);
    return;
  }
  s->lazy_input = input;
  s->lazy_off = off;
  if (r->link->order == AS_ORDER_COMMAND_LINE)
    *AS_PUSH(r->lazies, r->nlazies, r->cap_lazies) = sym;
}

/* ld.bfd and gold: once past an archive (or the end of its group), its
 * members no longer satisfy references made later on the command line,
 * up to input `last`. */
static void forget_lazies(struct resolver *r, uint32_t last) {
  for (size_t i = 0; i < r->nlazies; i++) {
    struct as_sym *s = as_symtab_get(r->link->symtab, r->lazies[i]);
    if (s->def == AS_NO_UNIT)
      s->lazy_input = AS_NO_UNIT;
  }
  r->nlazies = 0;
  for (; r->offering_from <= last; r->offering_from++)
    r->forgotten[r->offering_from] = true;
}

/* Resolution answers one question per name: does a linked unit reference
 * it, and who defines it? A name nothing references cannot pull a member
 * in or keep one out, and most of a link's names are definitions nobody
 * outside their unit refers to: so only referenced names are interned,
 * and the definitions and index entries of the others are put aside
 * (struct as_aside), found again by a later reference if one comes. The
 * references of the units every link takes are interned first, from the
 * symbol tables they kept, so that their definitions of those names need
 * not go aside; an archive member's are interned when it is loaded, and
 * a member nobody pulls in is never read. A unit that cannot be read that
 * way (not native ELF64, GCC LTO, bitcode) interns every name when it is
 * read in full. */
static void intern_references(struct as_link *link) {
  for (uint32_t i = 0; i < link->nunits; i++) {
    const struct as_unit *u = link->units[i];
    if (u->quick && !u->shared && u->raw)
      as_elf_syms_intern_refs(u->raw, link->symtab);
  }
}

/* On the quick path, only whether the link needs an allocator is left to
 * know. Once a unit the link always takes needs one, archive members
 * cannot change the answer; otherwise a member that references the ABI
 * would, if the link pulls it in, and only resolution can tell. Archives
 * are looked at only here, after every input: most links that use the ABI
 * say so in an object, and then no member is read. */
static bool members_decide(struct as_link *link) {
  for (uint32_t i = 0; i < link->ninputs; i++) {
    const struct as_input *in = link->inputs[i];
    if (in->flags & AS_ADD_JUST_SYMBOLS)
      continue;
    for (uint32_t u = 0; u < in->nunits; u++) {
      const struct as_unit *unit = link->units[in->first_unit + u];
      if (!unit->shared && (unit->abi_undef || unit->needs_marker))
        return false;
    }
  }
  for (uint32_t i = 0; i < link->ninputs && link->scan == AS_SCAN_QUICK; i++)
    if (link->inputs[i]->kind == AS_INPUT_ARCHIVE &&
        as_archive_members_may_need(link, i))
      as_link_scan_full(link, "its members may define the allocator ABI",
                        link->inputs[i]->path);
  return link->scan != AS_SCAN_QUICK;
}

/* A malloc library after --as-needed stays in the program only if
 * something the link takes references it (GNU ld, lld, gold, mold): only
 * resolution tells whether jemalloc or libc serves malloc then. */
static void as_needed_malloc_decides(struct as_link *link) {
  for (uint32_t i = 0; i < link->ninputs && link->scan == AS_SCAN_QUICK; i++) {
    const struct as_input *in = link->inputs[i];
    if (!(in->flags & AS_ADD_AS_NEEDED) || in->kind != AS_INPUT_SHARED ||
        !as_malloc_implementation(in->path))
      continue;
    for (uint32_t u = 0; u < in->nunits; u++)
      if (link->units[in->first_unit + u]->defines_malloc)
        as_link_scan_full(link,
                          "a malloc library after --as-needed stays only if "
                          "something references it",
                          in->path);
  }
}

void as_link_resolve(struct as_link *link) {
  as_needed_malloc_decides(link);
  /* Nothing among the inputs defines the ABI or carries a marker: no
   * allocator can be linked and no cycle can exist, so which members the
   * link pulls in does not matter. The common case, and the fast one. */
  bool quick = link->scan == AS_SCAN_QUICK && !members_decide(link);
  if (quick) {
    for (uint32_t i = 0; i < link->ninputs; i++)
      for (uint32_t u = 0; u < link->inputs[i]->nunits &&
                           !(link->inputs[i]->flags & AS_ADD_JUST_SYMBOLS);
           u++)
        link->units[link->inputs[i]->first_unit + u]->linked = true;
    return;
  }
  /* What the cache answered for is read now, as any other input was. */
  for (uint32_t i = 0; i < link->ninputs; i++)
    as_input_open_known(link, i);
  for (uint32_t u = 0; u < link->nunits; u++)
    as_unit_read_known(link, link->units[u]);
  if (link->scan == AS_SCAN_REFERENCED) {
    /* What may go aside: the units' definitions and the indexes' entries
     * (members' come on top, as they are loaded). */
    size_t expected = 0;
    for (uint32_t u = 0; u < link->nunits; u++)
      if (link->units[u]->quick && link->units[u]->raw)
        expected += link->units[u]->raw->nsyms;
    for (uint32_t i = 0; i < link->ninputs; i++)
      expected += as_archive_index_entries(link->inputs[i]);
    as_aside_expect(link->symtab, expected);
    intern_references(link);
  }
  /* Units read quickly are read in full now, from what they kept. */
  for (uint32_t u = 0; u < link->nunits; u++)
    if (link->units[u]->quick)
      as_unit_rescan(link, u);
  struct resolver r = {.link = link};
  r.forgotten = as_xcalloc(link->ninputs, sizeof *r.forgotten);
  track_units(&r);
  for (uint32_t i = 0; i < link->ninputs; i++) {
    struct as_input *in = link->inputs[i];
    if (in->flags & AS_ADD_JUST_SYMBOLS)
      continue; /* addresses only: nothing of it is linked */
    if (in->flags & AS_ADD_LAZY) {
      /* --start-lib objects: their definitions are lazy, as an archive's
       * index is (lld, gold). */
      for (uint32_t u = 0; u < in->nunits; u++)
        as_unit_offer_defs(link, link->units[in->first_unit + u], i,
                           in->first_unit + u, offer_lazy, &r);
    }
    for (uint32_t u = 0; u < in->nunits && !(in->flags & AS_ADD_LAZY); u++)
      link_unit(&r, in->first_unit + u, AS_NO_UNIT, AS_NO_UNIT);
    if (in->kind == AS_INPUT_ARCHIVE && in->archive &&
        !(in->flags & AS_ADD_WHOLE_ARCHIVE))
      as_archive_index(link, i, offer_lazy, &r);
    while (r.nwork)
      publish(&r, r.work[--r.nwork]);
    bool group_goes_on = in->group && i + 1 < link->ninputs &&
                         link->inputs[i + 1]->group == in->group;
    if (link->order == AS_ORDER_COMMAND_LINE && !group_goes_on)
      forget_lazies(&r, i);
  }
  link->scan = AS_SCAN_ALL; /* what comes next interns every name */
  free(r.work);
  free(r.pending);
  free(r.published);
  free(r.pending_of);
  free(r.lazies);
  free(r.forgotten);
}
