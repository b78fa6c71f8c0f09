/* LLVM bitcode inputs (clang -flto, -flto=thin): scanned through LLVM's C
 * API into the same units as ELF, so every rule applies unchanged; an LTO
 * link gets the bitcode build of a shipped allocator when the front end can
 * add bitcode. Fixtures: BC_* from tests/fixtures, built by LLVM's clang. */
#include "selector_test.h"

#include <stdio.h>
#include <unistd.h>

static const struct as_env env_lto = {
    .libdir = STAGE_LIBDIR,
    .jemalloc_library = "/usr/lib/x86_64-linux-gnu/libjemalloc.so",
    .lto_inject = true};

static void test_bitcode_allocator(void **state) {
  (void)state;
  struct as_link *link = new_symbols_link(AS_EXECUTABLE, BC_ALLOC_A, NULL);
  assert_int_equal(link->inputs[0]->kind, AS_INPUT_OBJECT);
  const struct as_unit *u = link->units[0];
  assert_true(u->bitcode);
  assert_false(u->thin_lto);
  assert_string_equal(u->allocator, "alloc_a");
  assert_int_equal(u->abi_defined, AS_ABI_ALL);
  assert_int_equal(u->abi_undef, 0);
  /* Hidden in the module is still a symbol of the link. */
  assert_true(defines(link, u, "__allocsel_allocator_alloc_a"));
  assert_true(references(link, u, "malloc"));
  as_link_free(link);
}

static void test_thin_user(void **state) {
  (void)state;
  struct as_link *link = new_symbols_link(AS_EXECUTABLE, BC_USER_THIN, NULL);
  const struct as_unit *u = link->units[0];
  assert_true(u->bitcode);
  assert_true(u->thin_lto);
  assert_null(u->allocator);
  assert_int_equal(u->abi_undef,
                   abi_bit("__rust_allocate") | abi_bit("__rust_deallocate"));
  assert_true(references(link, u, "__rust_allocate"));
  assert_true(defines(link, u, "user_make"));
  as_link_free(link);
}

static void test_needs_marker(void **state) {
  (void)state;
  struct as_link *link = new_link(AS_EXECUTABLE, BC_NEEDS, NULL);
  assert_true(link->units[0]->needs_marker);
  assert_int_equal(link->scan, AS_SCAN_REFERENCED);
  as_link_free(link);
}

/* llvm-ar indexes the bitcode symbols: a member is read only when a
 * reference pulls it in. */
static void test_bitcode_archive(void **state) {
  (void)state;
  struct as_link *link =
      new_link(AS_EXECUTABLE, BC_ALLOC_CYCLE, BC_LIBHELPERS, NULL);
  as_link_resolve(link);
  assert_no_errors(link);
  const struct as_unit *h = get_unit(link, "libbc_helpers.a(helper.full.o)");
  assert_true(h->linked);
  assert_true(h->bitcode);
  assert_int_equal(h->abi_undef, abi_bit("__rust_allocate"));
  assert_null(find_unit(link, "(plain.full.o)"));
  as_link_free(link);
}

static void test_bitcode_cycle(void **state) {
  (void)state;
  struct as_link *link =
      new_link(AS_EXECUTABLE, BC_USER, BC_ALLOC_CYCLE, BC_LIBHELPERS, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_lto, &d), 1);
  const struct as_diag *diag = get_diag(link, "allocator-cycle");
  assert_string_equal(diag->message, "allocator 'cycle' depends on a unit "
                                     "that needs an allocator");
  assert_int_equal(diag->nnotes, 3);
  assert_true(ends_with(diag->notes[1], "libbc_helpers.a(helper.full.o)"));
  assert_string_equal(diag->notes[2], "  which references __rust_allocate");
  as_decision_free(&d);
  as_link_free(link);
}

static void test_bitcode_and_elf_are_two(void **state) {
  (void)state;
  struct as_link *link =
      new_link(AS_EXECUTABLE, FX_USER, BC_ALLOC_A, FX_ALLOC_B, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_lto, &d), 1);
  const struct as_diag *diag = get_diag(link, "two-allocators");
  assert_string_equal(diag->message,
                      "cannot link together two allocators: 'alloc_a' and "
                      "'alloc_b'");
  as_decision_free(&d);
  as_link_free(link);
}

/* The shipped allocator comes as bitcode of the program's LTO kind when
 * the front end can add bitcode, native otherwise. */
static void expect_inject(const char *input, const struct as_env *env,
                          const char *want_suffix, bool bitcode) {
  struct as_link *link = new_link(AS_EXECUTABLE, input, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, env, &d), 0);
  assert_true(d.lto);
  assert_string_equal(d.name, "jemalloc");
  char want[512];
  snprintf(want, sizeof want, "%s/%s", STAGE_LIBDIR, want_suffix);
  assert_string_equal(d.inject_object, want);
  assert_int_equal(d.inject_bitcode, bitcode);
  as_decision_free(&d);
  as_link_free(link);
}

static void test_lto_injects_bitcode(void **state) {
  (void)state;
  expect_inject(BC_USER, &env_lto, "lto/jemalloc.o", true);
  expect_inject(BC_USER_THIN, &env_lto, "lto/thin/jemalloc.o", true);
  struct as_env native = env_lto;
  native.lto_inject = false;
  expect_inject(BC_USER, &native, "jemalloc.o", false);
}

static void test_elf_link_is_not_lto(void **state) {
  (void)state;
  struct as_link *link = new_link(AS_EXECUTABLE, FX_USER, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_lto, &d), 0);
  assert_false(d.lto);
  assert_false(d.inject_bitcode);
  as_decision_free(&d);
  as_link_free(link);
}

static void test_truncated_bitcode(void **state) {
  (void)state;
  char path[] = "/tmp/allocsel-test-bitcode-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *in = fopen(BC_ALLOC_A, "rb");
  assert_non_null(in);
  char buf[300];
  size_t n = fread(buf, 1, sizeof buf, in);
  fclose(in);
  assert_int_equal(write(fd, buf, n), (ssize_t)n);
  close(fd);
  struct as_link *link = as_link_new(AS_EXECUTABLE);
  assert_int_equal(as_link_add_file(link, path, 0), -1);
  const struct as_diag *d = get_diag(link, "bad-input");
  assert_int_equal(as_error_exit(d->error), 2);
  assert_non_null(strstr(d->message, "malformed LLVM bitcode"));
  assert_non_null(strstr(d->message, path));
  as_link_free(link);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bitcode_allocator),
      cmocka_unit_test(test_thin_user),
      cmocka_unit_test(test_needs_marker),
      cmocka_unit_test(test_bitcode_archive),
      cmocka_unit_test(test_bitcode_cycle),
      cmocka_unit_test(test_bitcode_and_elf_are_two),
      cmocka_unit_test(test_lto_injects_bitcode),
      cmocka_unit_test(test_elf_link_is_not_lto),
      cmocka_unit_test(test_truncated_bitcode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
