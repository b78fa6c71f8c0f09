/* The selector's scanning and resolution, on real objects, archives and a
 * shared library built from tests/fixtures, and on broken inputs. */
#include "selector_test.h"

#include "internal.h" /* the symbol table */

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

static void test_archive_whole(void **state) {
  (void)state;
  struct as_link *link = as_link_new(AS_EXECUTABLE);
  link->want_symbols = true; /* these tests read every symbol */
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
  link->want_symbols = true; /* these tests read every symbol */
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
  link->want_symbols = true; /* these tests read every symbol */
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
  link->want_symbols = true; /* these tests read every symbol */
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
  snprintf(p, sizeof p, "%s/cache/facts-v3", tmpdir);
  unlink(p);
  snprintf(p, sizeof p, "%s/cache", tmpdir);
  rmdir(p);
  return rmdir(tmpdir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_symtab),
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
