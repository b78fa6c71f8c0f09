/* The selector's rules (as_decide) on real fixture objects and archives:
 * the default per output type, linked and requested allocators, and the
 * errors: two allocators, an incomplete allocator, a cycle. */
#include "selector_test.h"

#include <stdio.h>
#include <unistd.h>

#define JEMALLOC_SO "/usr/lib/x86_64-linux-gnu/libjemalloc.so"
#define TCMALLOC_SO "/usr/lib/x86_64-linux-gnu/libtcmalloc.so"

/* libdir is the build's staging directory, as the tools see lib/allocsel;
 * jemalloc_library is only tested for presence. */
static const struct as_env env_je = {.libdir = STAGE_LIBDIR,
                                     .jemalloc_library = JEMALLOC_SO,
                                     .jemalloc_private = true};
static const struct as_env env_noje = {.libdir = STAGE_LIBDIR};

static const struct as_request req_system = {.allocator = "system",
                                             .origin = "--allocator=system"};
static const struct as_request req_jemalloc = {
    .allocator = "jemalloc", .origin = "--allocator=jemalloc"};

static void expect_two(struct as_link *link, const char *a, const char *b);

static void assert_inject_shipped(const struct as_decision *d,
                                  const char *name) {
  char want[512];
  snprintf(want, sizeof want, "%s/%s.o", STAGE_LIBDIR, name);
  assert_int_equal(d->how, AS_INJECT);
  assert_string_equal(d->name, name);
  assert_string_equal(d->inject_object, want);
  assert_null(d->unit);
}

static void test_default_executable_jemalloc(void **state) {
  (void)state;
  struct as_link *link = new_link(AS_EXECUTABLE, FX_USER, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_je, &d), 0);
  assert_inject_shipped(&d, "jemalloc");
  assert_true(d.needs_jemalloc);
  assert_string_equal(d.reason, "default for executable");
  assert_int_equal(link->ndiags, 0);
  as_decision_free(&d);
  as_link_free(link);
}

/* jemalloc's own library among the inputs: its code is linked already, on
 * the quick path (no allocator among the inputs) as on the full one. */
static void test_jemalloc_already_linked(void **state) {
  (void)state;
  struct as_link *link = new_link(AS_EXECUTABLE, FX_USER, JEMALLOC_SO, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_je, &d), 0);
  assert_int_equal(link->scan, AS_SCAN_QUICK);
  assert_inject_shipped(&d, "jemalloc");
  assert_false(d.needs_jemalloc);
  as_decision_free(&d);
  as_link_free(link);
  link = new_link(AS_EXECUTABLE, FX_USER, JEMALLOC_SO, NULL);
  assert_int_equal(decide(link, &req_jemalloc, &env_je, &d), 0);
  assert_false(d.needs_jemalloc);
  as_decision_free(&d);
  as_link_free(link);
}

static void test_default_executable_no_jemalloc(void **state) {
  (void)state;
  struct as_link *link = new_link(AS_EXECUTABLE, FX_USER, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_noje, &d), 0);
  assert_inject_shipped(&d, "system");
  assert_false(d.needs_jemalloc);
  const struct as_diag *note = get_diag(link, "jemalloc-missing");
  assert_int_equal(note->kind, AS_NOTE);
  assert_int_equal(as_diag_exit_code(link), 0);
  as_decision_free(&d);
  as_link_free(link);
}

/* Dylibs and staticlibs get system even when jemalloc is there; an rlib
 * gets nothing: the final artifact chooses. */
static void test_default_other_types(void **state) {
  (void)state;
  static const enum as_output_type types[] = {AS_DYLIB, AS_STATICLIB};
  static const char *const reasons[] = {"default for dylib",
                                        "default for staticlib"};
  for (size_t i = 0; i < 2; i++) {
    struct as_link *link = new_link(types[i], FX_USER, NULL);
    struct as_decision d;
    assert_int_equal(decide(link, NULL, &env_je, &d), 0);
    assert_inject_shipped(&d, "system");
    assert_false(d.needs_jemalloc);
    assert_string_equal(d.reason, reasons[i]);
    assert_int_equal(link->ndiags, 0);
    as_decision_free(&d);
    as_link_free(link);
  }
  struct as_link *link = new_link(AS_RLIB, FX_USER, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_je, &d), 0);
  assert_int_equal(d.how, AS_NONE);
  assert_null(d.name);
  assert_null(d.inject_object);
  as_decision_free(&d);
  as_link_free(link);
}

/* Nothing needs an allocator: nothing is injected, for any output type;
 * a request still is. An archive member that calls the ABI counts only
 * when the link pulls it in. */
static void test_nothing_needs(void **state) {
  (void)state;
  static const enum as_output_type types[] = {AS_EXECUTABLE, AS_DYLIB,
                                              AS_STATICLIB};
  for (size_t i = 0; i < 3; i++) {
    struct as_link *link = new_link(types[i], FX_PLAIN, FX_LIBHELPERS, NULL);
    struct as_decision d;
    assert_int_equal(decide(link, NULL, &env_je, &d), 0);
    assert_int_equal(d.how, AS_NONE);
    assert_null(d.name);
    assert_null(d.inject_object);
    assert_false(d.needs_jemalloc);
    assert_string_equal(d.reason, "nothing needs an allocator");
    as_decision_free(&d);
    as_link_free(link);
  }
  struct as_link *link = new_link(AS_EXECUTABLE, FX_PLAIN, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, &req_system, &env_je, &d), 0);
  assert_inject_shipped(&d, "system");
  as_decision_free(&d);
  as_link_free(link);
  /* calls_helper pulls helper.o, which calls the ABI, out of the archive:
   * the quick path must see through the index to that member. */
  link = new_link(AS_EXECUTABLE, FX_CALLS_HELPER, FX_LIBHELPERS, NULL);
  assert_int_equal(decide(link, NULL, &env_je, &d), 0);
  assert_inject_shipped(&d, "jemalloc");
  as_decision_free(&d);
  as_link_free(link);
}

/* Command-line order (ld.bfd, gold): an archive serves only references
 * made before it, or within its group; lld's order: any. */
static void test_archive_order(void **state) {
  (void)state;
  for (int gnu = 0; gnu < 2; gnu++) {
    struct as_link *link = as_link_new(AS_EXECUTABLE);
    link->order = gnu ? AS_ORDER_COMMAND_LINE : AS_ORDER_ANY;
    as_link_add_file(link, FX_LIBALLOC_A, 0);
    as_link_add_file(link, FX_USER, 0);
    struct as_decision d;
    assert_int_equal(decide(link, NULL, &env_je, &d), 0);
    if (gnu)
      assert_inject_shipped(&d, "jemalloc");
    else
      assert_int_equal(d.how, AS_LINKED);
    as_decision_free(&d);
    as_link_free(link);
  }
  struct as_link *link = as_link_new(AS_EXECUTABLE);
  link->order = AS_ORDER_COMMAND_LINE;
  as_link_begin_group(link);
  as_link_add_file(link, FX_LIBALLOC_A, 0);
  as_link_add_file(link, FX_USER, 0);
  as_link_end_group(link);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_je, &d), 0);
  assert_int_equal(d.how, AS_LINKED);
  assert_string_equal(d.name, "alloc_a");
  as_decision_free(&d);
  as_link_free(link);
}

/* For every output type an allocator among the inputs is the one. */
static void test_linked_wins_over_default(void **state) {
  (void)state;
  static const enum as_output_type types[] = {AS_EXECUTABLE, AS_DYLIB,
                                              AS_STATICLIB, AS_RLIB};
  for (size_t i = 0; i < 4; i++) {
    struct as_link *link = new_link(types[i], FX_USER, FX_ALLOC_A, NULL);
    struct as_decision d;
    assert_int_equal(decide(link, NULL, &env_je, &d), 0);
    assert_int_equal(d.how, AS_LINKED);
    assert_string_equal(d.name, "alloc_a");
    assert_ptr_equal(d.unit, get_unit(link, "alloc_a.c.o"));
    assert_null(d.inject_object);
    assert_false(d.needs_jemalloc);
    assert_no_errors(link);
    as_decision_free(&d);
    as_link_free(link);
  }
}

/* Pulled from an archive by the program's ABI references. */
static void test_linked_from_archive(void **state) {
  (void)state;
  struct as_link *link = new_link(AS_EXECUTABLE, FX_USER, FX_LIBALLOC_A, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_je, &d), 0);
  assert_int_equal(d.how, AS_LINKED);
  assert_string_equal(d.name, "alloc_a");
  assert_ptr_equal(d.unit, get_unit(link, "(alloc_a.c.o)"));
  as_decision_free(&d);
  as_link_free(link);
}

/* Only the allocator member the link pulls in counts; the other one in
 * the same archive is not linked, so it is not a second allocator. */
static void test_archive_with_two_allocators(void **state) {
  (void)state;
  struct as_link *link =
      new_link(AS_EXECUTABLE, FX_USER, FX_LIBTWO_ALLOCS, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_je, &d), 0);
  assert_int_equal(d.how, AS_LINKED);
  assert_string_equal(d.name, "alloc_a");
  as_decision_free(&d);
  as_link_free(link);

  /* --whole-archive links both: two allocators. */
  link = as_link_new(AS_EXECUTABLE);
  assert_int_equal(as_link_add_file(link, FX_USER, 0), 0);
  assert_int_equal(
      as_link_add_file(link, FX_LIBTWO_ALLOCS, AS_ADD_WHOLE_ARCHIVE), 0);
  assert_int_equal(decide(link, NULL, &env_je, &d), 1);
  expect_two(link, "alloc_a", "alloc_b");
  as_decision_free(&d);
  as_link_free(link);
}

/* The ABI without a marker is still an allocator, with a warning. */
static void test_unmarked_allocator(void **state) {
  (void)state;
  struct as_link *link =
      new_link(AS_EXECUTABLE, FX_USER, FX_ALLOC_UNMARKED, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_je, &d), 0);
  assert_int_equal(d.how, AS_LINKED);
  assert_string_equal(d.name, "alloc_unmarked");
  assert_int_equal(get_diag(link, "unmarked-allocator")->kind, AS_WARNING);
  as_decision_free(&d);
  as_link_free(link);
}

static void test_request_wins_over_default(void **state) {
  (void)state;
  struct as_link *link = new_link(AS_EXECUTABLE, FX_USER, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, &req_system, &env_je, &d), 0);
  assert_inject_shipped(&d, "system");
  assert_false(d.needs_jemalloc);
  assert_non_null(strstr(d.reason, "--allocator=system"));
  as_decision_free(&d);
  as_link_free(link);
}

/* A dylib or staticlib is a guest: jemalloc comes as its private copy,
 * which leaves malloc to the host; allocators whose code is a shared
 * library exporting malloc are refused; without the private copy, jemalloc
 * is unavailable to them. */
static void test_guest_allocators(void **state) {
  (void)state;
  static const enum as_output_type guests[] = {AS_DYLIB, AS_STATICLIB};
  for (size_t i = 0; i < 2; i++) {
    struct as_link *link = new_link(guests[i], FX_USER, NULL);
    struct as_decision d;
    assert_int_equal(decide(link, &req_jemalloc, &env_je, &d), 0);
    assert_string_equal(d.inject_object, STAGE_LIBDIR "/jemalloc-private.o");
    assert_string_equal(d.name, "jemalloc");
    assert_true(d.needs_jemalloc);
    assert_non_null(strstr(d.malloc, "libc (jemalloc is the "));
    assert_non_null(strstr(d.malloc, "private copy"));
    const char *added[AS_MAX_DECISION_INPUTS];
    size_t n = as_decision_inputs(&d, &env_je, guests[i], added);
    /* Its code is inside: libm for a dylib, nothing for a staticlib. */
    assert_int_equal(n, guests[i] == AS_DYLIB ? 2 : 1);
    if (n == 2)
      assert_string_equal(added[1], "-lm");
    as_decision_free(&d);
    as_link_free(link);

    const struct as_request req_mi = {.allocator = "mimalloc",
                                      .origin = "--allocator=mimalloc"};
    link = new_link(guests[i], FX_USER, NULL);
    assert_int_equal(decide(link, &req_mi, &env_je, &d), 1);
    const struct as_diag *g = get_diag(link, "guest-would-replace-malloc");
    assert_int_equal(g->kind, AS_ERROR);
    assert_non_null(strstr(g->message, "its code is -lmimalloc"));
    assert_non_null(g->hint);
    as_link_free(link);

    static const struct as_env env_no_private = {
        .libdir = STAGE_LIBDIR, .jemalloc_library = JEMALLOC_SO};
    link = new_link(guests[i], FX_USER, NULL);
    assert_int_equal(decide(link, &req_jemalloc, &env_no_private, &d), 2);
    assert_non_null(
        strstr(get_diag(link, "jemalloc-missing")->message, "private copy"));
    as_link_free(link);
  }
}

/* A requested object is scanned, and injected by path. */
static void test_request_path(void **state) {
  (void)state;
  const struct as_request req = {.allocator = FX_ALLOC_B,
                                 .origin = "--allocator=" FX_ALLOC_B};
  struct as_link *link = new_link(AS_EXECUTABLE, FX_USER, NULL);
  assert_int_equal(as_link_add_request(link, &req), 0);
  struct as_decision d;
  assert_int_equal(decide(link, &req, &env_je, &d), 0);
  assert_int_equal(d.how, AS_INJECT);
  assert_string_equal(d.name, "alloc_b");
  assert_string_equal(d.inject_object, FX_ALLOC_B);
  assert_non_null(strstr(d.reason, req.origin));
  as_decision_free(&d);
  as_link_free(link);
}

/* A request per output type: each type takes its own, a type not named
 * takes none, a bare name every type; a malformed list is a usage error. */
static void test_request_per_type(void **state) {
  (void)state;
  struct as_request r;
  setenv("ALLOCSEL_ALLOCATOR", "executable=jemalloc,dylib=system", 1);
  as_request_init(&r, NULL, "--allocator", AS_EXECUTABLE);
  assert_string_equal(r.allocator, "jemalloc");
  assert_string_equal(r.origin,
                      "ALLOCSEL_ALLOCATOR=executable=jemalloc,dylib=system");
  as_request_free(&r);
  as_request_init(&r, NULL, "--allocator", AS_DYLIB);
  assert_string_equal(r.allocator, "system");
  as_request_free(&r);
  as_request_init(&r, NULL, "--allocator", AS_STATICLIB);
  assert_null(r.allocator);
  assert_null(r.error);
  as_request_free(&r);
  unsetenv("ALLOCSEL_ALLOCATOR");

  /* The option wins over the environment; a path holding '=' is a path. */
  setenv("ALLOCSEL_ALLOCATOR", "dylib=system", 1);
  as_request_init(&r, "/tmp/a=b/alloc.o", "--allocator", AS_DYLIB);
  assert_string_equal(r.allocator, "/tmp/a=b/alloc.o");
  as_request_free(&r);
  as_request_init(&r, "jemalloc", "--allocator", AS_RLIB);
  assert_string_equal(r.allocator, "jemalloc");
  as_request_free(&r);
  unsetenv("ALLOCSEL_ALLOCATOR");

  as_request_init(&r, "executable=jemalloc,exe=system", "--allocator",
                  AS_EXECUTABLE);
  assert_null(r.allocator);
  assert_non_null(strstr(r.error, "'exe=system' is not TYPE=ALLOCATOR"));
  struct as_link *link = new_link(AS_EXECUTABLE, FX_USER, NULL);
  assert_int_equal(as_link_add_request(link, &r), -1);
  assert_int_equal(as_error_exit(get_diag(link, "usage")->error), 2);
  as_link_free(link);
  as_request_free(&r);
  as_request_init(&r, "dylib=", "--allocator", AS_DYLIB);
  assert_non_null(r.error);
  as_request_free(&r);
  as_request_init(&r, "exe=jemalloc", "--allocator", AS_DYLIB);
  assert_non_null(strstr(r.error, "'exe' is not an output type"));
  as_request_free(&r);
}

/* ALLOCSEL_DEFAULT_ALLOCATOR: a distribution's allocator for every output
 * of a type, needed or not, read after the request; it gives way to an
 * allocator or a malloc the link brings, where a request would make two. */
static void test_default_allocator(void **state) {
  (void)state;
  struct as_request r;
  setenv("ALLOCSEL_DEFAULT_ALLOCATOR", "executable=jemalloc", 1);
  as_request_init(&r, NULL, "--allocator", AS_EXECUTABLE);
  assert_true(r.is_default);
  assert_string_equal(r.allocator, "jemalloc");
  assert_string_equal(r.origin,
                      "ALLOCSEL_DEFAULT_ALLOCATOR=executable=jemalloc");

  /* Nothing needs an allocator: the default is given all the same. */
  struct as_link *link = new_link(AS_EXECUTABLE, FX_PLAIN, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, &r, &env_je, &d), 0);
  assert_inject_shipped(&d, "jemalloc");
  assert_true(d.needs_jemalloc);
  assert_string_equal(
      d.reason,
      "the default from ALLOCSEL_DEFAULT_ALLOCATOR=executable=jemalloc");
  assert_null(find_diag(link, "default-gives-way"));
  as_decision_free(&d);
  as_link_free(link);

  /* A linked allocator: kept, no second one (a request is refused). */
  link = new_link(AS_EXECUTABLE, FX_USER, FX_ALLOC_A, NULL);
  assert_int_equal(decide(link, &r, &env_je, &d), 0);
  assert_int_equal(d.how, AS_LINKED);
  assert_int_equal(get_diag(link, "default-gives-way")->kind, AS_NOTE);
  as_decision_free(&d);
  as_link_free(link);
  link = new_link(AS_EXECUTABLE, FX_USER, FX_ALLOC_A, NULL);
  assert_int_equal(decide(link, &req_jemalloc, &env_je, &d), 1);
  as_decision_free(&d);
  as_link_free(link);

  /* A malloc of the program's own: kept; jemalloc's own library is the
   * default's, and stays jemalloc. */
  if (access(TCMALLOC_SO, R_OK) == 0) {
    link = new_link(AS_EXECUTABLE, FX_PLAIN, TCMALLOC_SO, NULL);
    assert_int_equal(decide(link, &r, &env_je, &d), 0);
    assert_int_equal(d.how, AS_NONE);
    const struct as_diag *note = get_diag(link, "default-gives-way");
    assert_non_null(strstr(note->message, "a malloc of its own"));
    assert_non_null(strstr(note->message, "libtcmalloc"));
    as_decision_free(&d);
    as_link_free(link);
  }
  link = new_link(AS_EXECUTABLE, FX_PLAIN, JEMALLOC_SO, NULL);
  assert_int_equal(decide(link, &r, &env_je, &d), 0);
  assert_inject_shipped(&d, "jemalloc");
  assert_false(d.needs_jemalloc);
  assert_null(find_diag(link, "default-gives-way"));
  as_decision_free(&d);
  as_link_free(link);
  as_request_free(&r);

  /* A type it does not name gets the usual default; a request wins. */
  as_request_init(&r, NULL, "--allocator", AS_DYLIB);
  assert_null(r.allocator);
  as_request_free(&r);
  setenv("ALLOCSEL_ALLOCATOR", "system", 1);
  as_request_init(&r, NULL, "--allocator", AS_EXECUTABLE);
  assert_false(r.is_default);
  assert_string_equal(r.allocator, "system");
  as_request_free(&r);
  unsetenv("ALLOCSEL_ALLOCATOR");

  /* A default names a shipped allocator, not a path. */
  setenv("ALLOCSEL_DEFAULT_ALLOCATOR", FX_ALLOC_A, 1);
  as_request_init(&r, NULL, "--allocator", AS_EXECUTABLE);
  link = new_link(AS_EXECUTABLE, FX_USER, NULL);
  assert_int_equal(as_link_add_request(link, &r), -1);
  assert_int_equal(as_error_exit(get_diag(link, "usage")->error), 2);
  assert_string_equal(
      get_diag(link, "usage")->hint,
      "request the object instead (--allocator, ALLOCSEL_ALLOCATOR)");
  as_link_free(link);
  as_request_free(&r);
  unsetenv("ALLOCSEL_DEFAULT_ALLOCATOR");

  /* The same rule for a default given as an option (allocsel run's). */
  as_request_init_default(&r, "executable=mimalloc", "--default-allocator",
                          AS_EXECUTABLE);
  assert_true(r.is_default);
  assert_null(r.error);
  assert_string_equal(r.origin, "--default-allocator=executable=mimalloc");
  as_request_free(&r);
  as_request_init_default(&r, FX_ALLOC_A, "--default-allocator", AS_DYLIB);
  assert_non_null(r.error);
  assert_non_null(strstr(r.error, "is not a shipped allocator"));
  as_request_free(&r);
}

/* A link whose C library is not this system's (dietlibc's, musl's, a
 * sysroot's): jemalloc, tcmalloc and mimalloc, built for glibc, cannot
 * serve it. A request is refused, a default gives way, the built-in
 * default is system; glibc's own libc.so.6 (in /lib, where the
 * allocators are in /usr/lib) is theirs. */
static void test_libc_elsewhere(void **state) {
  (void)state;
  char dir[] = "/tmp/allocsel-libc-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char libc[64], cmd[256];
  snprintf(libc, sizeof libc, "%s/libc.a", dir);
  snprintf(cmd, sizeof cmd, "cp %s %s", FX_LIBHELPERS, libc);
  assert_int_equal(system(cmd), 0);

  struct as_link *link = new_link(AS_EXECUTABLE, FX_PLAIN, libc, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, &req_jemalloc, &env_je, &d), 2);
  const struct as_diag *e = get_diag(link, "jemalloc-missing");
  assert_non_null(strstr(e->message, "the link's is another"));
  assert_non_null(strstr(e->message, libc));
  as_decision_free(&d);
  as_link_free(link);

  const struct as_request dflt = {.allocator = "jemalloc",
                                  .origin =
                                      "ALLOCSEL_DEFAULT_ALLOCATOR=jemalloc",
                                  .is_default = true};
  link = new_link(AS_EXECUTABLE, FX_PLAIN, libc, NULL);
  assert_int_equal(decide(link, &dflt, &env_je, &d), 0);
  assert_int_equal(d.how, AS_NONE);
  assert_non_null(
      strstr(get_diag(link, "default-gives-way")->message, "C library"));
  as_decision_free(&d);
  as_link_free(link);

  link = new_link(AS_EXECUTABLE, FX_USER, libc, NULL);
  assert_int_equal(decide(link, NULL, &env_je, &d), 0);
  assert_inject_shipped(&d, "system");
  assert_int_equal(get_diag(link, "jemalloc-missing")->kind, AS_NOTE);
  as_decision_free(&d);
  as_link_free(link);

  /* tcmalloc's and mimalloc's libraries are the system's too. */
  const struct as_request req_tc = {.allocator = "tcmalloc",
                                    .origin = "--allocator=tcmalloc"};
  link = new_link(AS_EXECUTABLE, FX_USER, libc, NULL);
  assert_int_equal(decide(link, &req_tc, &env_je, &d), 2);
  e = get_diag(link, "allocator-missing");
  assert_non_null(strstr(e->message, "'tcmalloc'"));
  assert_non_null(strstr(e->message, "the link's is another"));
  as_decision_free(&d);
  as_link_free(link);
  const struct as_request dflt_mi = {.allocator = "mimalloc",
                                     .origin = "ALLOCSEL_DEFAULT_ALLOCATOR="
                                               "mimalloc",
                                     .is_default = true};
  link = new_link(AS_EXECUTABLE, FX_PLAIN, libc, NULL);
  assert_int_equal(decide(link, &dflt_mi, &env_je, &d), 0);
  assert_int_equal(d.how, AS_NONE);
  assert_non_null(get_diag(link, "default-gives-way"));
  as_decision_free(&d);
  as_link_free(link);

  /* The system's own C library, also where jemalloc is not beside it (a
   * jemalloc of one's own, ALLOCSEL_JEMALLOC_LIBRARY). */
  const struct as_env env_opt = {.libdir = STAGE_LIBDIR,
                                 .jemalloc_library = "/opt/je/libjemalloc.so"};
  link =
      new_link(AS_EXECUTABLE, FX_USER, "/lib/x86_64-linux-gnu/libc.so.6", NULL);
  assert_int_equal(decide(link, &req_jemalloc, &env_je, &d), 0);
  assert_inject_shipped(&d, "jemalloc");
  as_decision_free(&d);
  as_link_free(link);
  link = new_link(AS_EXECUTABLE, FX_USER, "/usr/lib/x86_64-linux-gnu/libc.a",
                  NULL);
  assert_int_equal(decide(link, &req_jemalloc, &env_opt, &d), 0);
  assert_inject_shipped(&d, "jemalloc");
  as_decision_free(&d);
  as_link_free(link);

  unlink(libc);
  rmdir(dir);
}

static void test_request_errors(void **state) {
  (void)state;
  /* jemalloc asked for, not installed. */
  struct as_link *link = new_link(AS_EXECUTABLE, FX_USER, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, &req_jemalloc, &env_noje, &d), 2);
  assert_int_equal(get_diag(link, "jemalloc-missing")->kind, AS_ERROR);
  as_decision_free(&d);
  as_link_free(link);

  /* Neither shipped nor a path. */
  const struct as_request unknown = {.allocator = "hoard",
                                     .origin = "--allocator=hoard"};
  link = new_link(AS_EXECUTABLE, FX_USER, NULL);
  assert_int_equal(as_link_add_request(link, &unknown), -1);
  const struct as_diag *e = get_diag(link, "unknown-allocator");
  assert_int_equal(as_error_exit(e->error), 2);
  assert_non_null(strstr(e->message, "hoard"));
  as_link_free(link);

  /* Shipped, but not built here (env_noje's libdir has no such object):
   * the error names the Debian package. */
  const struct as_request mi = {.allocator = "mimalloc",
                                .origin = "--allocator=mimalloc"};
  static const struct as_env env_empty = {.libdir = "/nonexistent"};
  link = new_link(AS_EXECUTABLE, FX_USER, NULL);
  assert_int_equal(decide(link, &mi, &env_empty, &d), 2);
  e = get_diag(link, "allocator-missing");
  assert_non_null(strstr(e->hint, "libmimalloc-dev"));
  as_decision_free(&d);
  as_link_free(link);

  /* A path that holds no allocator. */
  const struct as_request plain = {.allocator = FX_PLAIN,
                                   .origin = "--allocator=" FX_PLAIN};
  link = new_link(AS_EXECUTABLE, FX_USER, NULL);
  assert_int_equal(as_link_add_request(link, &plain), 0);
  assert_int_equal(decide(link, &plain, &env_je, &d), 2);
  assert_non_null(get_diag(link, "not-an-allocator"));
  as_decision_free(&d);
  as_link_free(link);
}

/* Exit 1, "two-allocators", the message naming both (in either order) and
 * a note for each. */
static void expect_two(struct as_link *link, const char *a, const char *b) {
  const struct as_diag *e = get_diag(link, "two-allocators");
  assert_int_equal(e->kind, AS_ERROR);
  assert_int_equal(as_error_exit(e->error), 1);
  char ab[256], ba[256];
  snprintf(ab, sizeof ab, "cannot link together two allocators: '%s' and '%s'",
           a, b);
  snprintf(ba, sizeof ba, "cannot link together two allocators: '%s' and '%s'",
           b, a);
  if (strcmp(e->message, ab) != 0 && strcmp(e->message, ba) != 0)
    fail_msg("unexpected message: %s", e->message);
  assert_int_equal(e->nnotes, 2);
  bool seen_a = false, seen_b = false;
  for (size_t i = 0; i < e->nnotes; i++) {
    char qa[64], qb[64];
    snprintf(qa, sizeof qa, "'%s' ", a);
    snprintf(qb, sizeof qb, "'%s' ", b);
    seen_a |= strncmp(e->notes[i], qa, strlen(qa)) == 0;
    seen_b |= strncmp(e->notes[i], qb, strlen(qb)) == 0;
  }
  assert_true(seen_a && seen_b);
}

static void test_request_plus_linked(void **state) {
  (void)state;
  struct as_link *link = new_link(AS_EXECUTABLE, FX_USER, FX_ALLOC_A, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, &req_system, &env_je, &d), 1);
  expect_two(link, "alloc_a", "system");
  as_decision_free(&d);
  as_link_free(link);

  const struct as_request req = {.allocator = FX_ALLOC_B,
                                 .origin = "--allocator=" FX_ALLOC_B};
  link = new_link(AS_DYLIB, FX_USER, FX_ALLOC_A, NULL);
  assert_int_equal(as_link_add_request(link, &req), 0);
  assert_int_equal(decide(link, &req, &env_je, &d), 1);
  expect_two(link, "alloc_a", "alloc_b");
  as_decision_free(&d);
  as_link_free(link);
}

static void test_two_linked(void **state) {
  (void)state;
  struct as_link *link =
      new_link(AS_EXECUTABLE, FX_USER, FX_ALLOC_A, FX_ALLOC_B, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_je, &d), 1);
  expect_two(link, "alloc_a", "alloc_b");
  as_decision_free(&d);
  as_link_free(link);
}

/* An rlib may carry one allocator, not two. */
static void test_rlib(void **state) {
  (void)state;
  struct as_link *link = new_link(AS_RLIB, FX_ALLOC_A, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_je, &d), 0);
  assert_string_equal(d.name, "alloc_a");
  assert_null(d.inject_object);
  as_decision_free(&d);
  as_link_free(link);

  link = new_link(AS_RLIB, FX_ALLOC_A, FX_ALLOC_B, NULL);
  assert_int_equal(decide(link, NULL, &env_je, &d), 1);
  expect_two(link, "alloc_a", "alloc_b");
  as_decision_free(&d);
  as_link_free(link);
}

static void test_incomplete(void **state) {
  (void)state;
  struct as_link *link = new_link(AS_EXECUTABLE, FX_USER, FX_ALLOC_HALF, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_je, &d), 1);
  const struct as_diag *e = get_diag(link, "incomplete-allocator");
  assert_int_equal(as_error_exit(e->error), 1);
  assert_string_equal(e->message, "incomplete allocator 'half': missing "
                                  "__rust_reallocate_inplace, "
                                  "__rust_usable_size");
  assert_true(e->nnotes >= 1);
  assert_true(ends_with(e->notes[0], "alloc_half.c.o"));
  as_decision_free(&d);
  as_link_free(link);
}

/* The allocator calls helper_alloc, which calls __rust_allocate: refused,
 * with the chain from the allocator to the ABI reference in the notes. */
static void test_cycle(void **state) {
  (void)state;
  struct as_link *link =
      new_link(AS_EXECUTABLE, FX_ALLOC_CYCLE, FX_HELPER, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_je, &d), 1);
  const struct as_diag *e = get_diag(link, "allocator-cycle");
  assert_int_equal(as_error_exit(e->error), 1);
  assert_string_equal(
      e->message,
      "allocator 'cycle' depends on a unit that needs an allocator");
  assert_int_equal(e->nnotes, 3);
  assert_true(ends_with(e->notes[0], "alloc_cycle.c.o"));
  assert_non_null(strstr(e->notes[1], "helper_alloc"));
  assert_true(ends_with(e->notes[1], "/helper.c.o"));
  assert_non_null(strstr(e->notes[2], "__rust_allocate"));
  as_decision_free(&d);
  as_link_free(link);

  /* The same through an archive member. */
  link = new_link(AS_EXECUTABLE, FX_USER, FX_ALLOC_CYCLE, FX_LIBHELPERS, NULL);
  assert_int_equal(decide(link, NULL, &env_je, &d), 1);
  e = get_diag(link, "allocator-cycle");
  assert_true(e->nnotes >= 2);
  assert_true(ends_with(e->notes[1], "libfx_helpers.a(helper.c.o)"));
  as_decision_free(&d);
  as_link_free(link);
}

/* Depending on units that need no allocator is fine. */
static void test_no_cycle(void **state) {
  (void)state;
  struct as_link *link =
      new_link(AS_EXECUTABLE, FX_USER, FX_ALLOC_USES_PLAIN, FX_PLAIN, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_je, &d), 0);
  assert_int_equal(d.how, AS_LINKED);
  assert_string_equal(d.name, "uses_plain");
  assert_no_errors(link);
  as_decision_free(&d);
  as_link_free(link);

  /* A program needing an allocator through a helper is no cycle either. */
  link = new_link(AS_EXECUTABLE, FX_CALLS_HELPER, FX_HELPER, FX_NEEDS,
                  FX_ALLOC_A, NULL);
  assert_int_equal(decide(link, NULL, &env_je, &d), 0);
  assert_string_equal(d.name, "alloc_a");
  assert_no_errors(link);
  as_decision_free(&d);
  as_link_free(link);
}

/* A shared library's own allocator is not one of this link's. */
static void test_shared_not_an_allocator(void **state) {
  (void)state;
  struct as_link *link =
      new_link(AS_EXECUTABLE, FX_CALLS_SHARED, FX_LIBSHARED, FX_USER, NULL);
  struct as_decision d;
  assert_int_equal(decide(link, NULL, &env_je, &d), 0);
  assert_inject_shipped(&d, "jemalloc");
  as_decision_free(&d);
  as_link_free(link);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_default_executable_jemalloc),
      cmocka_unit_test(test_default_executable_no_jemalloc),
      cmocka_unit_test(test_jemalloc_already_linked),
      cmocka_unit_test(test_default_other_types),
      cmocka_unit_test(test_nothing_needs),
      cmocka_unit_test(test_archive_order),
      cmocka_unit_test(test_linked_wins_over_default),
      cmocka_unit_test(test_linked_from_archive),
      cmocka_unit_test(test_archive_with_two_allocators),
      cmocka_unit_test(test_unmarked_allocator),
      cmocka_unit_test(test_request_wins_over_default),
      cmocka_unit_test(test_guest_allocators),
      cmocka_unit_test(test_request_path),
      cmocka_unit_test(test_request_errors),
      cmocka_unit_test(test_request_plus_linked),
      cmocka_unit_test(test_two_linked),
      cmocka_unit_test(test_rlib),
      cmocka_unit_test(test_incomplete),
      cmocka_unit_test(test_request_per_type),
      cmocka_unit_test(test_default_allocator),
      cmocka_unit_test(test_libc_elsewhere),
      cmocka_unit_test(test_cycle),
      cmocka_unit_test(test_no_cycle),
      cmocka_unit_test(test_shared_not_an_allocator),
  };
  return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
