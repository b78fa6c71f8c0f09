/* The allocator ABI contract, checked on one allocator object linked in
 * directly. Built once per allocator, ALLOCATOR_NAME naming its marker
 * ("system", "jemalloc", "my_allocator").
 *
 * SEED_EXAMPLE marks my_allocator, the old Rust book's naive example, kept
 * faithful: it promises only malloc's alignment, its realloc(p, 0) frees and
 * returns NULL, and it exports my_allocator_calls().
 */
#include <allocsel/allocator.h>

#include <setjmp.h> /* cmocka.h needs these first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#ifdef SEED_EXAMPLE
#define MAX_ALIGN alignof(max_align_t)
#else
#define MAX_ALIGN ((size_t)1 << 16)
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
/* The marker is hidden, which binds fine from inside the same executable.
 * ALLOCATOR_MARKER names it where a build of an allocator is tested under
 * another name (system_no_memalign). */
#ifndef ALLOCATOR_MARKER
#define ALLOCATOR_MARKER ALLOCATOR_NAME
#endif
extern const char CAT(__allocsel_allocator_, ALLOCATOR_MARKER)[];
#define STR_(x) #x
#define STR(x) STR_(x)

static void fill(unsigned char *p, size_t from, size_t to) {
  for (size_t i = from; i < to; i++)
    p[i] = (unsigned char)(i * 31 + 7);
}

static void check(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != (unsigned char)(i * 31 + 7))
      fail_msg("byte %zu lost", i);
}

static void assert_aligned(const void *p, size_t align) {
  assert_non_null(p);
  if ((uintptr_t)p % align)
    fail_msg("%p is not aligned to %zu", p, align);
}

static void test_marker(void **state) {
  (void)state;
  assert_string_equal(CAT(__allocsel_allocator_, ALLOCATOR_MARKER),
                      STR(ALLOCATOR_MARKER));
}

/* Sizes below, at and above each alignment; grow then shrink keeps the
 * contents and the alignment. */
static void test_alignment(void **state) {
  (void)state;
  for (size_t align = 1; align <= MAX_ALIGN; align <<= 1) {
    const size_t sizes[] = {1, align / 2 + 1, align, align + 1, 3 * align};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
      size_t n = sizes[k], big = 2 * n + align + 100, small = n / 3 + 1;
      unsigned char *p = __rust_allocate(n, align);
      assert_aligned(p, align);
      fill(p, 0, n);
      p = __rust_reallocate(p, n, big, align);
      assert_aligned(p, align);
      check(p, n);
      fill(p, n, big);
      p = __rust_reallocate(p, big, small, align);
      assert_aligned(p, align);
      check(p, small);
      __rust_deallocate(p, small, align);
    }
  }
}

/* Many live blocks at once, so the allocator cannot satisfy them all from
 * one lucky address. */
static void test_alignment_many(void **state) {
  (void)state;
  enum { N = 64 };
  for (size_t align = 1; align <= MAX_ALIGN; align <<= 1) {
    unsigned char *p[N];
    for (size_t i = 0; i < N; i++) {
      p[i] = __rust_allocate(i + 1, align);
      assert_aligned(p[i], align);
      memset(p[i], (int)i, i + 1);
    }
    for (size_t i = 0; i < N; i++) {
      assert_int_equal(p[i][i], (unsigned char)i);
      __rust_deallocate(p[i], i + 1, align);
    }
  }
}

/* Never moves: the block stays valid at the same address with its contents,
 * and a successful resize (result >= size) gives at least `size` bytes. */
static void test_reallocate_inplace(void **state) {
  (void)state;
  for (size_t align = 1; align <= MAX_ALIGN; align <<= 4) {
    const size_t sizes[] = {1, 24, 4096, 100000};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
      size_t n = sizes[k];
      unsigned char *p = __rust_allocate(n, align);
      assert_aligned(p, align);
      fill(p, 0, n);
      /* Same size: always succeeds. */
      size_t usable = __rust_reallocate_inplace(p, n, n, align);
      assert_true(usable >= n);
      /* Grow: may fail, but never below what the block already had. */
      size_t want = 2 * n + 64;
      size_t got = __rust_reallocate_inplace(p, n, want, align);
      assert_true(got >= n);
      size_t live = got >= want ? want : n;
      check(p, n);
      fill(p, n, live);
      /* Shrink: the first bytes stay. */
      size_t small = live / 2 + 1;
      got = __rust_reallocate_inplace(p, live, small, align);
      if (got >= small)
        live = small;
      check(p, small);
      __rust_deallocate(p, live, align);
    }
  }
}

/* usable_size promises that many bytes: write all of them. */
static void test_usable_size(void **state) {
  (void)state;
  for (size_t align = 1; align <= MAX_ALIGN; align <<= 2) {
    const size_t sizes[] = {1, 7, 16, 100, 4096, 65537};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
      size_t n = sizes[k], usable = __rust_usable_size(n, align);
      assert_true(usable >= n);
      unsigned char *p = __rust_allocate(n, align);
      assert_aligned(p, align);
      memset(p, 0xa5, usable);
      __rust_deallocate(p, n, align);
    }
  }
}

/* Size 0 is a valid request: a unique, aligned pointer that deallocate
 * takes back with size 0. */
static void test_size_zero(void **state) {
  (void)state;
  for (size_t align = 1; align <= MAX_ALIGN; align <<= 1) {
    void *a = __rust_allocate(0, align), *b = __rust_allocate(0, align);
    assert_aligned(a, align);
    assert_aligned(b, align);
    assert_ptr_not_equal(a, b);
    (void)__rust_usable_size(0, align); /* any value; must not fail */
    unsigned char *c = __rust_reallocate(a, 0, 10, align);
    assert_aligned(c, align);
    fill(c, 0, 10);
#ifdef SEED_EXAMPLE
    __rust_deallocate(c, 10, align);
#else
    void *d = __rust_reallocate(c, 10, 0, align);
    assert_aligned(d, align);
    __rust_deallocate(d, 0, align);
#endif
    __rust_deallocate(b, 0, align);
  }
}

/* Failure is NULL, and a failed reallocate leaves the block alone. */
static void test_failure(void **state) {
  (void)state;
  size_t huge = SIZE_MAX / 2;
  for (size_t align = 1; align <= MAX_ALIGN; align <<= 5) {
    assert_null(__rust_allocate(huge, align));
    unsigned char *p = __rust_allocate(100, align);
    assert_aligned(p, align);
    fill(p, 0, 100);
    assert_null(__rust_reallocate(p, 100, huge, align));
    check(p, 100);
    __rust_deallocate(p, 100, align);
  }
}

#ifdef SEED_EXAMPLE
size_t my_allocator_calls(void);

static void test_counter(void **state) {
  (void)state;
  size_t before = my_allocator_calls();
  void *p = __rust_allocate(10, 8);
  __rust_deallocate(p, 10, 8);
  assert_int_equal(my_allocator_calls() - before, 2);
}
#endif

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_marker),
      cmocka_unit_test(test_alignment),
      cmocka_unit_test(test_alignment_many),
      cmocka_unit_test(test_reallocate_inplace),
      cmocka_unit_test(test_usable_size),
      cmocka_unit_test(test_size_zero),
      cmocka_unit_test(test_failure),
#ifdef SEED_EXAMPLE
      cmocka_unit_test(test_counter),
#endif
  };
  return cmocka_run_group_tests_name(STR(ALLOCATOR_NAME), tests, NULL, NULL);
}
