/* The selector's scanning and resolution, on real objects, archives and a
 * shared library built from tests/fixtures, and on broken inputs. */
#include "selector_test.h"

#include "internal.h" /* the symbol table */
#include "unit.h"     /* what names mean */

#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/allocsel-test-scan-XXXXXX";

/* Names from 1 to about 80 bytes, sharing prefixes and suffixes as mangled
 * names do; the short ones repeat. */
static size_t test_name(unsigned i, char *buf, size_t size) {
  static const char xs[] =
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
  if (i % 9 == 0)
    return (size_t)snprintf(buf, size, "%.*s", (int)(1 + i % 7),
                            &"abcdefgh"[i % 2]);
  return (size_t)snprintf(buf, size, "_ZN4llvm%u%.*s", i, (int)(i % 64), xs);
}

/* The symbol table: every interned name is found again (the filter that
 * answers "never interned" has no false negatives), a name never interned
 * is not, and interning is idempotent, across the table's growth. */
static void test_symtab(void **state) {
  (void)state;
  struct as_symtab *st = as_symtab_new();
  char name[128];
  for (unsigned i = 0; i < 20000; i++) {
    size_t len = test_name(i, name, sizeof name);
    uint32_t id = as_symtab_intern(st, name, len);
    assert_int_equal(as_symtab_find(st, name, len), id);
    assert_int_equal(as_symtab_intern(st, name, len), id);
  }
  for (unsigned i = 0; i < 20000; i++) {
    size_t len = test_name(i, name, sizeof name);
    assert_int_not_equal(as_symtab_find(st, name, len), AS_NO_UNIT);
    len = (size_t)snprintf(name, sizeof name, "never_interned_%u", i);
    assert_int_equal(as_symtab_find(st, name, len), AS_NO_UNIT);
  }
  as_symtab_free(st);
}

/* The filter key reads a name's first and last 8 bytes in fixed-size
 * loads: it must hash what a byte-by-byte copy of them would (the bytes of
 * the name only, never past it), for every length. */
static uint32_t reference_key(const char *s, size_t len) {
  uint64_t head = 0, tail = 0;
  for (size_t i = 0; i < len && i < 8; i++)
    head |= (uint64_t)(unsigned char)s[i] << (8 * i);
  for (size_t i = 0; len > 8 && i < 8; i++)
    tail |= (uint64_t)(unsigned char)s[len - 8 + i] << (8 * i);
  uint64_t h =
      (head ^ (tail * 0x9e3779b97f4a7c15u) ^ len) * 0xff51afd7ed558ccdu;
  return (uint32_t)(h >> 46);
}

static void test_filter_key(void **state) {
  (void)state;
  char buf[40];
  for (unsigned seed = 0; seed < 64; seed++) {
    for (size_t i = 0; i < sizeof buf; i++)
      buf[i] = (char)(0x21 + (seed * 131 + i * 37) % 200);
    for (size_t len = 0; len <= 24; len++) {
      char saved = buf[len];
      uint32_t key = as_symtab_filter_key(buf, len);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      assert_int_equal(key, reference_key(buf, len));
#else
      (void)reference_key;
#endif
      buf[len] = (char)(saved ^ 0x55); /* past the name: no part of it */
      assert_int_equal(as_symtab_filter_key(buf, len), key);
      buf[len] = saved;
    }
  }
}

/* Names put aside (aside.c): each is found again under its own name, with
 * what it was put aside as (a unit's definition; an index entry's member
 * offset, read from the index's big-endian words at the entry's position,
 * counted from the marks the walk left), newest first, and never under
 * another name, a walk interrupted by a member's run included; taking
 * back a unit's entries unchains them. */
static void test_aside(void **state) {
  (void)state;
  struct as_symtab *st = as_symtab_new();
  enum { N = 3000 };
  static char strtab[N * 96];
  size_t offs[N], used = 0;
  for (unsigned i = 0; i < N; i++) {
    offs[i] = used;
    used += test_name(i, strtab + used, sizeof strtab - used) + 1;
  }
  /* An index of the first N / 2 names, offering member 1000 + i, in 8-byte
   * words; then a unit defining every name. */
  static unsigned char offsets[N / 2 * 8];
  for (unsigned i = 0; i < N / 2; i++) {
    uint64_t be = htobe64(1000 + i);
    memcpy(offsets + i * 8, &be, 8);
  }
  /* Halfway, the walk loads a member, which puts a name of its own aside:
   * the walk goes on in a run after the member's. */
  static const char member_strtab[] = "\0member_only";
  uint32_t index = as_aside_begin_index(st, 7, strtab, offsets, 8, N / 2);
  for (unsigned i = 0; i < N / 2; i++) {
    as_aside_index_passes(st, index, strtab + offs[i], i);
    if (i == N / 4) {
      uint32_t member = as_aside_begin_unit(st, 99, member_strtab, 1);
      as_aside_put(st, &member, as_symtab_filter_key("member_only", 11),
                   member_strtab + 1, 0);
    }
    if (i % 9) /* the short names repeat: put aside once */
      as_aside_put(
          st, &index,
          as_symtab_filter_key(strtab + offs[i], strlen(strtab + offs[i])),
          strtab + offs[i], i);
  }
  size_t unit_first = st->aside.n;
  uint32_t unit = as_aside_begin_unit(st, 42, strtab, N);
  for (unsigned i = 0; i < N; i++)
    if (i % 9)
      assert_int_equal(as_symtab_find_else_aside(st, &unit, strtab + offs[i],
                                                 strlen(strtab + offs[i]), 0),
                       AS_NO_UNIT);
  for (unsigned i = 1; i < N; i++) {
    if (i % 9 == 0)
      continue;
    const char *name = strtab + offs[i];
    uint32_t cursor = 0;
    struct as_aside_hit hit;
    assert_true(as_aside_next(st, name, strlen(name), &cursor, &hit));
    assert_int_equal(hit.who, 42); /* the unit's, put aside last */
    if (i < N / 2) {
      assert_true(as_aside_next(st, name, strlen(name), &cursor, &hit));
      assert_int_equal(hit.who, AS_ASIDE_LAZY | 7);
      assert_int_equal(hit.off, 1000 + i);
    }
    assert_false(as_aside_next(st, name, strlen(name), &cursor, &hit));
  }
  uint32_t cursor = 0;
  struct as_aside_hit hit;
  assert_false(as_aside_next(st, "never_put", 9, &cursor, &hit));
  assert_true(as_aside_next(st, "member_only", 11, &cursor, &hit));
  assert_int_equal(hit.who, 99);
  /* The unit's entries taken back: the index's alone are found. */
  as_aside_truncate(st, unit_first);
  for (unsigned i = 1; i < N; i++) {
    if (i % 9 == 0)
      continue;
    const char *name = strtab + offs[i];
    cursor = 0;
    bool found = as_aside_next(st, name, strlen(name), &cursor, &hit);
    assert_int_equal(found, i < N / 2);
    if (found)
      assert_int_equal(hit.who, AS_ASIDE_LAZY | 7);
  }
  as_symtab_free(st);
}

static void test_object_allocator(void **state) {
  (void)state;
  struct as_link *link = new_symbols_link(AS_EXECUTABLE, FX_ALLOC_A, NULL);
  assert_int_equal(link->ninputs, 1);
  assert_int_equal(link->inputs[0]->kind, AS_INPUT_OBJECT);
  assert_int_equal(link->nunits, 1);
  const struct as_unit *u = link->units[0];
  assert_null(u->member);
  assert_false(u->shared);
  assert_string_equal(u->allocator, "alloc_a");
  assert_int_equal(u->abi_defined, AS_ABI_ALL);
  assert_int_equal(u->abi_undef, 0);
  assert_false(u->needs_marker);
  assert_true(defines(link, u, "__rust_allocate"));
  assert_true(defines(link, u, "__rust_usable_size"));
  /* Hidden symbols are still global in an object: the marker is seen. */
  assert_true(defines(link, u, "__allocsel_allocator_alloc_a"));
  assert_true(references(link, u, "malloc"));
  assert_false(references(link, u, "__rust_allocate"));
  assert_false(u->linked); /* only as_link_resolve links */
  assert_string_equal(as_unit_origin(link, u), FX_ALLOC_A);
  as_link_free(link);
}

static void test_object_user(void **state) {
  (void)state;
  struct as_link *link = new_symbols_link(AS_EXECUTABLE, FX_USER, NULL);
  const struct as_unit *u = link->units[0];
  assert_int_equal(u->abi_undef,
                   abi_bit("__rust_allocate") | abi_bit("__rust_deallocate"));
  assert_int_equal(u->abi_defined, 0);
  assert_null(u->allocator);
  assert_false(u->needs_marker);
  assert_true(references(link, u, "__rust_allocate"));
  assert_true(defines(link, u, "user_make"));
  as_link_free(link);
}

static void test_object_half(void **state) {
  (void)state;
  struct as_link *link = new_symbols_link(AS_EXECUTABLE, FX_ALLOC_HALF, NULL);
  const struct as_unit *u = link->units[0];
  assert_string_equal(u->allocator, "half");
  assert_int_equal(u->abi_defined, abi_bit("__rust_allocate") |
                                       abi_bit("__rust_deallocate") |
                                       abi_bit("__rust_reallocate"));
  assert_int_equal(u->abi_undef, 0);
  as_link_free(link);
}

static void test_object_needs_marker(void **state) {
  (void)state;
  struct as_link *link = new_symbols_link(AS_EXECUTABLE, FX_NEEDS, NULL);
  const struct as_unit *u = link->units[0];
  assert_true(u->needs_marker);
  assert_int_equal(u->abi_undef, 0);
  assert_int_equal(u->abi_defined, 0);
  assert_null(u->allocator);
  as_link_free(link);
}

static void test_object_plain_and_indirect(void **state) {
  (void)state;
  struct as_link *link = new_symbols_link(AS_EXECUTABLE, FX_PLAIN,
                                          FX_CALLS_HELPER, FX_HELPER, NULL);
  const struct as_unit *plain = get_unit(link, "plain.c.o");
  assert_int_equal(plain->abi_undef | plain->abi_defined, 0);
  assert_false(plain->needs_marker);
  assert_null(plain->allocator);
  /* Needs an allocator only through the helper: no ABI reference itself. */
  const struct as_unit *calls = get_unit(link, "calls_helper.c.o");
  assert_int_equal(calls->abi_undef, 0);
  assert_true(references(link, calls, "helper_alloc"));
  const struct as_unit *helper = get_unit(link, "/helper.c.o");
  assert_int_equal(helper->abi_undef, abi_bit("__rust_allocate"));
  as_link_free(link);
}

/* The archive's index is read; a member only when something needs it. */
static void test_archive_index_first(void **state) {
  (void)state;
  struct as_link *link = new_symbols_link(AS_EXECUTABLE, FX_LIBHELPERS, NULL);
  assert_int_equal(link->inputs[0]->kind, AS_INPUT_ARCHIVE);
  assert_int_equal(link->nunits, 0);
  as_link_resolve(link); /* nothing references its members */
  assert_int_equal(link->nunits, 0);
  assert_no_errors(link);
  as_link_free(link);
}

static void check_only_helper_linked(struct as_link *link) {
  struct as_unit *helper = get_unit(link, "(helper.c.o)");
  assert_true(helper->linked);
  assert_non_null(helper->member);
  assert_true(
      ends_with(as_unit_origin(link, helper), "libfx_helpers.a(helper.c.o)"));
  /* plain.c.o is never referenced, so never even read. */
  assert_null(find_unit(link, "(plain.c.o)"));
  assert_true(get_unit(link, "calls_helper.c.o")->linked);
  assert_no_errors(link);
}

static void test_archive_member_on_reference(void **state) {
  (void)state;
  struct as_link *link =
      new_symbols_link(AS_EXECUTABLE, FX_CALLS_HELPER, FX_LIBHELPERS, NULL);
  as_link_resolve(link);
  check_only_helper_linked(link);
  as_link_free(link);
}

/* As lld: the archive may come before the object that references it. */
static void test_archive_before_reference(void **state) {
  (void)state;
  struct as_link *link =
      new_symbols_link(AS_EXECUTABLE, FX_LIBHELPERS, FX_CALLS_HELPER, NULL);
  as_link_resolve(link);
  check_only_helper_linked(link);
  as_link_free(link);
}

/* An ABI reference pulls the allocator member out of its archive; a member
 * referenced by nobody stays out. */
static void test_archive_allocator_member(void **state) {
  (void)state;
  struct as_link *link =
      new_symbols_link(AS_EXECUTABLE, FX_USER, FX_LIBALLOC_A, NULL);
  as_link_resolve(link);
  assert_true(get_unit(link, "(alloc_a.c.o)")->linked);
  as_link_free(link);

  link = new_symbols_link(AS_EXECUTABLE, FX_PLAIN, FX_LIBALLOC_A, NULL);
  as_link_resolve(link);
  assert_null(find_unit(link, "(alloc_a.c.o)"));
  as_link_free(link);
}

/* As lld: the first member defining a referenced symbol is extracted and
 * its definitions count at once, so a later member defining the same
 * symbols stays out. */
static void test_archive_first_definition_wins(void **state) {
  (void)state;
  struct as_link *link =
      new_symbols_link(AS_EXECUTABLE, FX_USER, FX_LIBTWO_ALLOCS, NULL);
  as_link_resolve(link);
  assert_true(get_unit(link, "(alloc_a.c.o)")->linked);
  struct as_unit *b = find_unit(link, "(alloc_b.c.o)");
  if (b && b->linked)
    fail_msg("alloc_b.c.o was linked: it defines nothing still undefined "
             "once alloc_a.c.o is in");
  as_link_free(link);
}

/* The same two resolutions on the path links take (not every symbol read
 * up front: only referenced names interned, the rest put aside). */
static void test_archive_resolution_aside(void **state) {
  (void)state;
  struct as_link *link = new_link(AS_EXECUTABLE, FX_USER, FX_LIBALLOC_A, NULL);
  as_link_resolve(link);
  assert_true(get_unit(link, "(alloc_a.c.o)")->linked);
  assert_no_errors(link);
  as_link_free(link);

  /* The archive first: its entries go aside, the reference finds them. */
  link = new_link(AS_EXECUTABLE, FX_LIBTWO_ALLOCS, FX_USER, NULL);
  as_link_resolve(link);
  assert_true(get_unit(link, "(alloc_a.c.o)")->linked);
  struct as_unit *b = find_unit(link, "(alloc_b.c.o)");
  assert_true(b == NULL || !b->linked);
  assert_no_errors(link);
  as_link_free(link);

  /* ld.bfd's order: past the archive, its offers are forgotten. */
  link = as_link_new(AS_EXECUTABLE);
  link->order = AS_ORDER_COMMAND_LINE;
  assert_int_equal(as_link_add_file(link, FX_LIBTWO_ALLOCS, 0), 0);
  assert_int_equal(as_link_add_file(link, FX_USER, 0), 0);
  as_link_resolve(link);
  for (size_t i = 0; i < link->nunits; i++)
    if (link->units[i]->member)
      assert_false(link->units[i]->linked);
  assert_no_errors(link);
  as_link_free(link);
}

/* A link to resolve both ways: its paths ("(" and ")" open and close a
 * group, "+PATH" is a --start-lib object) and archive order. */
struct two_way_link {
  const char *paths[12];
  enum as_archive_order order;
};

static struct as_link *two_way_build(const struct two_way_link *l,
                                     bool every_name) {
  struct as_link *link = as_link_new(AS_EXECUTABLE);
  if (every_name)
    as_link_want_symbols(link);
  link->order = l->order;
  for (size_t i = 0; i < 12 && l->paths[i]; i++) {
    if (strcmp(l->paths[i], "(") == 0)
      as_link_begin_group(link);
    else if (strcmp(l->paths[i], ")") == 0)
      as_link_end_group(link);
    else if (l->paths[i][0] == '+' /* --start-lib */
                 ? as_link_add_file(link, l->paths[i] + 1, AS_ADD_LAZY) != 0
                 : as_link_add_file(link, l->paths[i], 0) != 0)
      fail_msg("as_link_add_file(%s) failed", l->paths[i]);
  }
  as_link_resolve(link);
  assert_no_errors(link);
  return link;
}

/* Resolution on names put aside (the path links take) links exactly the
 * units that resolution interning every name links (the path tools that
 * want every symbol take), and each for the same symbol: over the
 * fixtures and over static glibc, whose archives pull in hundreds of
 * members through one another, in lld's order and in ld.bfd's. */
static void test_resolution_two_ways(void **state) {
  (void)state;
  const char *libc = "/usr/lib/x86_64-linux-gnu/libc.a";
  const char *libgcc = "/usr/lib/gcc/x86_64-linux-gnu/12/libgcc.a";
  const char *libgcc_eh = "/usr/lib/gcc/x86_64-linux-gnu/12/libgcc_eh.a";
  bool have_libc = access(libc, R_OK) == 0 && access(libgcc, R_OK) == 0 &&
                   access(libgcc_eh, R_OK) == 0;
  const struct two_way_link links[] = {
      {{FX_ALLOC_A, FX_CALLS_HELPER, FX_LIBHELPERS}, AS_ORDER_ANY},
      {{FX_LIBHELPERS, FX_CALLS_HELPER, FX_ALLOC_A}, AS_ORDER_ANY},
      {{FX_LIBHELPERS, FX_CALLS_HELPER, FX_ALLOC_A}, AS_ORDER_COMMAND_LINE},
      {{FX_LIBTWO_ALLOCS, FX_USER}, AS_ORDER_ANY},
      {{FX_USER, FX_LIBTWO_ALLOCS, FX_LIBALLOC_A}, AS_ORDER_COMMAND_LINE},
      {{FX_ALLOC_A, FX_USER, "(", libgcc, libgcc_eh, libc, ")"},
       AS_ORDER_COMMAND_LINE},
      {{FX_ALLOC_A, FX_USER, libgcc, libgcc_eh, libc, libgcc}, AS_ORDER_ANY},
      {{libc, FX_ALLOC_A, libgcc_eh, FX_USER, libgcc}, AS_ORDER_ANY},
      {{libc, FX_ALLOC_A, libgcc_eh, FX_USER, libgcc}, AS_ORDER_COMMAND_LINE},
      /* The allocator first: the objects after it are read in full as they
       * come (input.c), their definitions nothing referenced yet put aside
       * before resolution: a later object's reference, and the archive's
       * index, must find them as the objects' own. */
      {{FX_ALLOC_A, FX_PLAIN, FX_HELPER, FX_CALLS_PLAIN, FX_LIBHELPERS,
        FX_CALLS_HELPER},
       AS_ORDER_ANY},
      {{FX_ALLOC_A, FX_PLAIN, FX_HELPER, FX_CALLS_PLAIN, FX_LIBHELPERS,
        FX_CALLS_HELPER},
       AS_ORDER_COMMAND_LINE},
      /* ... and an archive without an index, its members read as it comes,
       * and --start-lib objects after the allocator. */
      {{FX_ALLOC_A, FX_LIBNOINDEX, FX_CALLS_HELPER, FX_CALLS_PLAIN},
       AS_ORDER_ANY},
      {{FX_ALLOC_A, FX_CALLS_PLAIN, FX_LIBNOINDEX}, AS_ORDER_COMMAND_LINE},
      {{FX_ALLOC_A, "+" FX_HELPER, "+" FX_PLAIN, FX_CALLS_HELPER},
       AS_ORDER_ANY},
      {{FX_ALLOC_A, FX_CALLS_PLAIN, "+" FX_PLAIN, "+" FX_HELPER},
       AS_ORDER_COMMAND_LINE},
  };
  for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
    bool uses_libc = false;
    for (size_t j = 0; j < 12 && links[i].paths[j]; j++)
      uses_libc |= links[i].paths[j] == libc;
    if (uses_libc && !have_libc)
      continue;
    struct as_link *every = two_way_build(&links[i], true);
    struct as_link *aside = two_way_build(&links[i], false);
    size_t nlinked = 0;
    for (size_t u = 0; u < every->nunits; u++) {
      const struct as_unit *e = every->units[u];
      if (!e->linked)
        continue;
      nlinked++;
      const char *origin = as_unit_origin(every, e);
      const struct as_unit *a = find_unit(aside, origin);
      if (!a || !a->linked)
        fail_msg("link %zu: %s is linked only when every name is interned", i,
                 origin);
      const char *why_e =
          e->why_sym == AS_NO_UNIT ? "" : as_sym_name(every, e->why_sym);
      const char *why_a =
          a->why_sym == AS_NO_UNIT ? "" : as_sym_name(aside, a->why_sym);
      if (strcmp(why_e, why_a) != 0)
        fail_msg("link %zu: %s is linked for %s, or for %s", i, origin, why_e,
                 why_a);
      /* Each of its references is defined by the same unit (or none). */
      assert_int_equal(e->nundefs, a->nundefs);
      for (uint32_t k = 0; k < e->nundefs; k++) {
        const struct as_sym *se = as_symtab_get(every->symtab, e->undefs[k]);
        const struct as_sym *sa = as_symtab_get(aside->symtab, a->undefs[k]);
        assert_string_equal(se->name, sa->name);
        const char *de = se->def == AS_NO_UNIT
                             ? "nothing"
                             : as_unit_origin(every, every->units[se->def]);
        const char *da = sa->def == AS_NO_UNIT
                             ? "nothing"
                             : as_unit_origin(aside, aside->units[sa->def]);
        if (strcmp(de, da) != 0)
          fail_msg("link %zu: %s's %s is defined in %s, or in %s", i, origin,
                   se->name, de, da);
      }
    }
    for (size_t u = 0; u < aside->nunits; u++)
      if (aside->units[u]->linked)
        nlinked--;
    if (nlinked)
      fail_msg("link %zu: names put aside link other units", i);
    if (uses_libc && (i == 5 || i == 6))
      assert_true(every->nunits > 100); /* what a static libc link pulls */
    as_link_free(every);
    as_link_free(aside);
  }
}

static void test_archive_whole(void **state) {
  (void)state;
  struct as_link *link = as_link_new(AS_EXECUTABLE);
  as_link_want_symbols(link); /* these tests read every symbol */
  assert_int_equal(as_link_add_file(link, FX_LIBHELPERS, AS_ADD_WHOLE_ARCHIVE),
                   0);
  assert_int_equal(link->inputs[0]->nunits, 2);
  assert_int_equal(link->nunits, 2);
  as_link_resolve(link);
  assert_true(get_unit(link, "(plain.c.o)")->linked);
  assert_true(get_unit(link, "(helper.c.o)")->linked);
  assert_no_errors(link);
  as_link_free(link);
}

/* Without a symbol index (ar qcS) the members are read for their symbols,
 * but still linked only when referenced. */
static void test_archive_without_index(void **state) {
  (void)state;
  struct as_link *link = new_symbols_link(AS_EXECUTABLE, FX_LIBNOINDEX, NULL);
  assert_int_equal(link->inputs[0]->kind, AS_INPUT_ARCHIVE);
  as_link_resolve(link);
  for (size_t i = 0; i < link->nunits; i++)
    assert_false(link->units[i]->linked);
  as_link_free(link);

  link = new_symbols_link(AS_EXECUTABLE, FX_CALLS_HELPER, FX_LIBNOINDEX, NULL);
  as_link_resolve(link);
  assert_true(get_unit(link, "(helper.c.o)")->linked);
  struct as_unit *plain = find_unit(link, "(plain.c.o)");
  assert_true(plain == NULL || !plain->linked);
  assert_no_errors(link);
  as_link_free(link);
}

/* A shared library is seen through its dynamic symbols: its own allocator
 * (hidden ABI, hidden marker) is invisible and not an allocator here. */
static void test_shared_library(void **state) {
  (void)state;
  struct as_link *link = new_symbols_link(AS_EXECUTABLE, FX_LIBSHARED, NULL);
  assert_int_equal(link->inputs[0]->kind, AS_INPUT_SHARED);
  assert_int_equal(link->nunits, 1);
  const struct as_unit *u = link->units[0];
  assert_true(u->shared);
  assert_true(defines(link, u, "shared_fn"));
  assert_false(defines(link, u, "__rust_allocate"));
  assert_false(defines(link, u, "__allocsel_allocator_alloc_a"));
  assert_int_equal(u->abi_defined, 0);
  assert_int_equal(u->abi_undef, 0);
  assert_null(u->allocator);
  assert_true(references(link, u, "malloc"));
  as_link_free(link);

  /* It resolves references and pulls nothing in. */
  link = new_symbols_link(AS_EXECUTABLE, FX_CALLS_SHARED, FX_LIBSHARED, NULL);
  as_link_resolve(link);
  assert_true(get_unit(link, "calls_shared.c.o")->linked);
  assert_no_errors(link);
  as_link_free(link);
}

/* Writes `n` bytes to a file in tmpdir; returns its path (static). */
static const char *write_file(const char *name, const void *data, size_t n) {
  static char path[4][256];
  static int next;
  char *p = path[next++ % 4];
  snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
  return p;
}

static void *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  long len = ftell(f);
  assert_true(len > 0);
  rewind(f);
  void *buf = malloc((size_t)len);
  assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  *n = (size_t)len;
  return buf;
}

/* The input is refused: -1, one error naming the file, exit code 2. */
static void expect_bad_input(const char *path, unsigned flags) {
  struct as_link *link = as_link_new(AS_EXECUTABLE);
  as_link_want_symbols(link); /* these tests read every symbol */
  assert_int_equal(as_link_add_file(link, path, flags), -1);
  assert_true(link->ndiags >= 1);
  const struct as_diag *d = &link->diags[0];
  assert_int_equal(d->kind, AS_ERROR);
  assert_int_equal(as_error_exit(d->error), 2);
  assert_string_equal(as_error_code(d->error), "bad-input");
  if (!strstr(d->message, path))
    fail_msg("diagnostic does not name %s: %s", path, d->message);
  assert_int_equal(as_diag_exit_code(link), 2);
  as_link_free(link);
}

static void test_bad_inputs(void **state) {
  (void)state;
  static const unsigned char junk[] = {0x00, 0x01, 0x02, 0xff, 0xfe, 0x10,
                                       0x00, 0x7f, 0x45, 0x4c, 0x00, 0x00};
  expect_bad_input(write_file("junk.o", junk, sizeof junk), 0);
  expect_bad_input(write_file("empty.o", "", 0), 0);
  expect_bad_input(write_file("text.o", "hello\n", 6), 0);
  char missing[300];
  snprintf(missing, sizeof missing, "%s/missing.o", tmpdir);
  expect_bad_input(missing, 0);
  expect_bad_input(tmpdir, 0); /* a directory */
}

/* Text is a linker script when the caller says scripts are fine; the
 * files its INPUT, GROUP and AS_NEEDED name join the link (by path, or
 * -lNAME through the search directories); a file it names that cannot be
 * found, or a script that includes itself, is an error naming the script. */
static void test_linker_script(void **state) {
  (void)state;
  char script[2048];
  snprintf(script, sizeof script,
           "/* GNU ld script */\nOUTPUT_FORMAT(elf64-x86-64)\n"
           "GROUP ( %s %s AS_NEEDED ( %s ) )\nINPUT(-lfx_helpers)\n"
           "SECTIONS { .text : { *(.text) } }\n",
           FX_PLAIN, FX_LIBALLOC_A, FX_LIBSHARED);
  const char *path = write_file("libscript.so", script, strlen(script));
  struct as_link *link = as_link_new(AS_EXECUTABLE);
  as_link_want_symbols(link); /* these tests read every symbol */
  char dir[512];
  snprintf(dir, sizeof dir, "%s", FX_LIBHELPERS);
  *strrchr(dir, '/') = '\0';
  as_link_search_dir(link, dir);
  assert_int_equal(as_link_add_file(link, path, AS_ADD_SCRIPT_OK), 0);
  assert_no_errors(link);
  assert_int_equal(link->ninputs, 5);
  assert_int_equal(link->inputs[0]->kind, AS_INPUT_SCRIPT);
  assert_string_equal(link->inputs[1]->path, FX_PLAIN);
  assert_int_equal(link->inputs[2]->kind, AS_INPUT_ARCHIVE);
  assert_int_equal(link->inputs[3]->kind, AS_INPUT_SHARED);
  assert_string_equal(link->inputs[4]->path, FX_LIBHELPERS);
  as_link_free(link);

  const char missing[] = "INPUT ( no_such_file.o )\n";
  path = write_file("libmissing.so", missing, sizeof missing - 1);
  link = as_link_new(AS_EXECUTABLE);
  assert_int_equal(as_link_add_file(link, path, AS_ADD_SCRIPT_OK), -1);
  const struct as_diag *d = get_diag(link, "library-not-found");
  assert_non_null(strstr(d->message, "libmissing.so: cannot find "
                                     "no_such_file.o"));
  as_link_free(link);

  char self[1024];
  snprintf(self, sizeof self, "INPUT(%s/libself.so)\n", tmpdir);
  path = write_file("libself.so", self, strlen(self));
  link = as_link_new(AS_EXECUTABLE);
  assert_int_equal(as_link_add_file(link, path, AS_ADD_SCRIPT_OK), -1);
  d = get_diag(link, "bad-input");
  assert_non_null(strstr(d->message, "libself.so: linker script names itself"));
  as_link_free(link);

  /* Two scripts naming each other twice over: bounded, not 2^16 reads. */
  char a[1024], b[1024];
  snprintf(a, sizeof a, "INPUT(%s/libpb.so %s/libpb.so)\n", tmpdir, tmpdir);
  snprintf(b, sizeof b, "INPUT(%s/libpa.so %s/libpa.so)\n", tmpdir, tmpdir);
  write_file("libpb.so", b, strlen(b));
  path = write_file("libpa.so", a, strlen(a));
  link = as_link_new(AS_EXECUTABLE);
  assert_int_equal(as_link_add_file(link, path, AS_ADD_SCRIPT_OK), -1);
  assert_true(link->ninputs < 20000);
  as_link_free(link);
}

static void test_truncated_elf(void **state) {
  (void)state;
  size_t n;
  unsigned char *obj = read_file(FX_ALLOC_A, &n);
  /* Cut inside the section data: the section headers at the end are gone. */
  expect_bad_input(write_file("truncated.o", obj, n / 2), 0);
  /* Just the ELF header. */
  expect_bad_input(write_file("header-only.o", obj, 64), 0);
  /* Whole, but the section header table points past the end. */
  uint64_t shoff = UINT64_C(1) << 40;
  memcpy(obj + 0x28, &shoff, sizeof shoff); /* Elf64_Ehdr.e_shoff */
  expect_bad_input(write_file("bad-shoff.o", obj, n), 0);
  free(obj);
}

/* The cache (cache.c): what a link learns it finds again, and so does the
 * next link once saved; an archive's facts only grow; a file changed in
 * this second or the last is not learnt (its times could not tell a
 * second write apart); ALLOCSEL_CACHE=0 turns it off. */
static void test_cache(void **state) {
  (void)state;
  char *dir = as_xasprintf("%s/cache", tmpdir);
  setenv("ALLOCSEL_CACHE_DIR", dir, 1);
  unsetenv("ALLOCSEL_CACHE");
  struct as_file_key old = {.dev = 1, .ino = 2, .size = 3, .ctime_sec = 1000};
  struct as_file_key now = old;
  now.ctime_sec = (int64_t)time(NULL);
  struct as_file_key archive = old;
  archive.ino = 4;
  struct as_cached_facts unit = {.kind = AS_CACHED_UNIT,
                                 .abi_undef = 1,
                                 .flags = AS_FACT_SHARED,
                                 .machine = EM_X86_64,
                                 .elf_class = ELFCLASS64,
                                 .elf_data = ELFDATA2LSB};
  struct as_cached_facts got;
  struct as_link *link = as_link_new(AS_EXECUTABLE);
  as_link_use_cache(link);
  assert_false(as_cache_lookup(link, &old, &got));
  as_cache_learn(link, &old, &unit);
  as_cache_learn(link, &now, &unit);
  as_cache_learn(link, &archive,
                 &(struct as_cached_facts){.kind = AS_CACHED_ARCHIVE,
                                           .flags = AS_FACT_MEMBERS_QUIET});
  as_cache_learn(link, &archive,
                 &(struct as_cached_facts){.kind = AS_CACHED_ARCHIVE,
                                           .flags = AS_FACT_INDEX_QUIET});
  assert_true(as_cache_lookup(link, &old, &got));
  assert_memory_equal(&got, &unit, sizeof got);
  assert_false(as_cache_lookup(link, &now, &got));
  as_cache_save(link);
  as_link_free(link);

  link = as_link_new(AS_EXECUTABLE);
  as_link_use_cache(link);
  assert_true(as_cache_lookup(link, &old, &got));
  assert_memory_equal(&got, &unit, sizeof got);
  assert_true(as_cache_lookup(link, &archive, &got));
  assert_int_equal(got.kind, AS_CACHED_ARCHIVE);
  assert_int_equal(got.flags, AS_FACT_INDEX_QUIET | AS_FACT_MEMBERS_QUIET);
  assert_false(as_cache_lookup(link, &now, &got));
  as_link_free(link);

  setenv("ALLOCSEL_CACHE", "0", 1);
  link = as_link_new(AS_EXECUTABLE);
  as_link_use_cache(link);
  assert_false(as_cache_lookup(link, &old, &got));
  as_link_free(link);
  unsetenv("ALLOCSEL_CACHE");
  unsetenv("ALLOCSEL_CACHE_DIR");
  free(dir);
}

static void test_truncated_archive(void **state) {
  (void)state;
  size_t n;
  unsigned char *ar = read_file(FX_LIBHELPERS, &n);
  /* Cut in the last member: adding or resolving must report, not crash. */
  const char *path = write_file("truncated.a", ar, n - 100);
  free(ar);
  struct as_link *link = as_link_new(AS_EXECUTABLE);
  as_link_want_symbols(link); /* these tests read every symbol */
  if (as_link_add_file(link, path, AS_ADD_WHOLE_ARCHIVE) == 0)
    fail_msg("a truncated --whole-archive archive was accepted");
  assert_int_equal(as_diag_exit_code(link), 2);
  assert_non_null(strstr(link->diags[0].message, path));
  as_link_free(link);
}

static int make_tmpdir(void **state) {
  (void)state;
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state) {
  (void)state;
  static const char *const names[] = {
      "junk.o",        "empty.o",       "text.o",      "libscript.so",
      "truncated.o",   "header-only.o", "bad-shoff.o", "truncated.a",
      "libmissing.so", "libpa.so",      "libpb.so",    "libself.so"};
  char p[300];
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
    unlink(p);
  }
  snprintf(p, sizeof p, "%s/cache/facts-v4", tmpdir);
  unlink(p);
  snprintf(p, sizeof p, "%s/cache", tmpdir);
  rmdir(p);
  return rmdir(tmpdir);
}

/* What names mean: the sealed-guest marker is one; a malloc bundled in a
 * static library decides which members a link takes, as the marker does
 * (the decision and the record name both); jemalloc's mallocx and Rust's
 * runtime alone do not. */
static void test_name_classes(void **state) {
  (void)state;
  assert_int_equal(as_classify_name("__allocsel_sealed_8838372cfd7dcee5"),
                   AS_NAME_SEALED);
  assert_int_equal(as_classify_name("__allocsel_sealed_"), AS_NAME_NONE);
  assert_int_equal(as_classify_name("malloc"), AS_NAME_MALLOC);
  assert_int_equal(as_classify_name("malloc_usable_size"), AS_NAME_NONE);
  assert_true(as_name_decides(AS_NAME_SEALED));
  assert_true(as_name_decides(AS_NAME_MALLOC));
  assert_true(as_name_decides(AS_NAME_RUST_SHIM));
  assert_false(as_name_decides(AS_NAME_JEMALLOC));
  assert_false(as_name_decides(AS_NAME_RUST_RUNTIME));
  assert_false(as_name_decides(AS_NAME_NONE));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_name_classes),
      cmocka_unit_test(test_symtab),
      cmocka_unit_test(test_filter_key),
      cmocka_unit_test(test_aside),
      cmocka_unit_test(test_object_allocator),
      cmocka_unit_test(test_object_user),
      cmocka_unit_test(test_object_half),
      cmocka_unit_test(test_object_needs_marker),
      cmocka_unit_test(test_object_plain_and_indirect),
      cmocka_unit_test(test_archive_index_first),
      cmocka_unit_test(test_archive_member_on_reference),
      cmocka_unit_test(test_archive_before_reference),
      cmocka_unit_test(test_archive_allocator_member),
      cmocka_unit_test(test_archive_first_definition_wins),
      cmocka_unit_test(test_archive_resolution_aside),
      cmocka_unit_test(test_resolution_two_ways),
      cmocka_unit_test(test_archive_whole),
      cmocka_unit_test(test_archive_without_index),
      cmocka_unit_test(test_shared_library),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_linker_script),
      cmocka_unit_test(test_truncated_elf),
      cmocka_unit_test(test_truncated_archive),
      cmocka_unit_test(test_cache),
  };
  return cmocka_run_group_tests_name("scan", tests, make_tmpdir, remove_tmpdir);
}
