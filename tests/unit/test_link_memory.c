/* The link's digest and the link memory (session/link_memory.c): each
 * thing the decision depends on, changed alone, changes the digest (one
 * table row each), what does not (gcc's temporary -fresolution name)
 * leaves it as it was; a memory written is read back whole, and one that
 * does not check out is not read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "link_memory.h"

static char tmpdir[] = "/tmp/allocsel-link-memory-XXXXXX";
static char path_a[300], path_b[300];

/* One link as the digest sees it; a row changes one thing. */
struct variant {
  const char *name;
  const char *extra_word; /* added to the command line */
  enum as_output_type type;
  enum as_archive_order order;
  const char *linker, *libdir;
  bool static_link, lto_inject, swap_inputs, whole_b;
  const char *env_var; /* NAME=VALUE set while the digest is made */
  bool touch_b;        /* b's file rewritten */
  bool same;           /* the digest must stay the same */
};

static const struct variant rows[] = {
    {"another word on the command line", .extra_word = "--gc-sections"},
    {"gcc's -fresolution name", .extra_word = "-plugin-opt=-fresolution=x.res",
     .same = true},
    {"the output type", .type = AS_DYLIB},
    {"the archive order", .order = AS_ORDER_COMMAND_LINE},
    {"the linker", .linker = "/usr/bin/ld.bfd"},
    {"allocsel's libdir", .libdir = "/elsewhere/lib/allocsel"},
    {"a static link", .static_link = true},
    {"LTO injection", .lto_inject = true},
    {"the inputs' order", .swap_inputs = true},
    {"an input's flags", .whole_b = true},
    {"an ALLOCSEL_ variable", .env_var = "ALLOCSEL_SOMETHING=1"},
    {"an input rewritten", .touch_b = true},
};

/* The digest of the base link changed by `v`; false: none can be made. */
static bool digest_of(const struct variant *v, uint64_t out[2]) {
  const char *words[8] = {"ld", "-o", "app", "a.o", "b.o"};
  int argc = 5;
  if (v && v->extra_word)
    words[argc++] = v->extra_word;
  struct ld_cmdline cl;
  ld_cmdline_parse(&cl, argc, (char **)words);
  struct as_env env;
  as_env_init(&env, v && v->libdir ? v->libdir : "/usr/lib/allocsel");
  env.static_link = v && v->static_link;
  env.lto_inject = v && v->lto_inject;
  if (v && v->env_var)
    putenv((char *)v->env_var);
  enum as_output_type type = v ? v->type : AS_EXECUTABLE;
  uint64_t seed[2];
  link_memory_seed(seed, &cl, NULL,
                   v && v->linker ? v->linker : "/usr/bin/ld.lld", type,
                   v ? v->order : AS_ORDER_ANY, &env);
  if (v && v->env_var)
    unsetenv("ALLOCSEL_SOMETHING");
  struct as_link *link = as_link_new(type);
  bool swap = v && v->swap_inputs;
  as_link_add_file(link, swap ? path_b : path_a, 0);
  as_link_add_file(link, swap ? path_a : path_b,
                   v && v->whole_b ? AS_ADD_WHOLE_ARCHIVE : 0);
  assert_int_equal(as_diag_exit_code(link), 0);
  bool made = as_link_digest(link, seed, out);
  as_link_free(link);
  ld_cmdline_free(&cl);
  return made;
}

static void copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  assert_non_null(in);
  assert_non_null(out);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    assert_int_equal(fwrite(buf, 1, n, out), n);
  fclose(in);
  assert_int_equal(fclose(out), 0);
}

static void test_digest(void **state) {
  (void)state;
  uint64_t base[2], again[2];
  assert_true(digest_of(NULL, base));
  assert_true(digest_of(NULL, again));
  assert_memory_equal(base, again, sizeof base);
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    const struct variant *v = &rows[i];
    if (v->touch_b) {
      /* Another size and new times: the digest changes, or (the file
       * changed this second) none is made. */
      FILE *f = fopen(path_b, "ab");
      assert_non_null(f);
      fputc(0, f);
      fclose(f);
    }
    uint64_t d[2];
    bool made = digest_of(v, d);
    bool differs = !made || memcmp(d, base, sizeof d) != 0;
    if (differs == v->same)
      fail_msg("%s: the digest %s", v->name,
               v->same ? "changed" : "stayed the same");
  }
}

static void test_digest_racy(void **state) {
  (void)state;
  /* An input changed in this second: its times cannot tell a second
   * change apart, so no digest is made. */
  copy_file(path_a, path_b);
  uint64_t d[2];
  assert_false(digest_of(NULL, d));
}

static void test_memory_round_trip(void **state) {
  (void)state;
  char mem[320];
  snprintf(mem, sizeof mem, "%s/links/one", tmpdir);
  const char *added[] = {"/lib/allocsel/jemalloc.o", "-ljemalloc"};
  const char *libs[] = {"-lm"};
  const uint64_t digest[2] = {0x1234, 0x5678};
  static const char text[] = "allocsel: allocator: jemalloc (default)\n";
  link_memory_write(mem, added, 2, -1, libs, 1, digest, text, sizeof text - 1);
  struct link_memory m;
  assert_true(link_memory_read(mem, &m));
  assert_int_equal(m.h.nadded, 2);
  assert_int_equal(m.h.nlibs, 1);
  assert_string_equal(m.strings[0], added[0]);
  assert_string_equal(m.strings[1], added[1]);
  assert_string_equal(m.strings[2], libs[0]);
  assert_false(m.h.has_record);
  assert_true(link_memory_known(&m, digest));
  const uint64_t other[2] = {0x1234, 0x5679};
  assert_false(link_memory_known(&m, other));
  size_t size;
  const char *said = link_memory_text(&m, &size);
  assert_int_equal(size, sizeof text - 1);
  assert_memory_equal(said, text, size);
  link_memory_free(&m);

  /* No digest: never known. */
  link_memory_write(mem, added, 2, -1, libs, 1, NULL, "", 0);
  assert_true(link_memory_read(mem, &m));
  assert_false(link_memory_known(&m, digest));
  link_memory_free(&m);

  /* A memory cut short, or with another magic: not read. */
  struct stat st;
  assert_int_equal(stat(mem, &st), 0);
  assert_int_equal(truncate(mem, st.st_size - 1), 0);
  assert_false(link_memory_read(mem, &m));
  FILE *f = fopen(mem, "r+b");
  assert_non_null(f);
  fputs("not-a-memory", f);
  fclose(f);
  assert_false(link_memory_read(mem, &m));
  char missing[340];
  snprintf(missing, sizeof missing, "%s/links/none", tmpdir);
  assert_false(link_memory_read(missing, &m));
  unlink(mem);
  snprintf(mem, sizeof mem, "%s/links", tmpdir);
  rmdir(mem);
}

static int setup(void **state) {
  (void)state;
  if (!mkdtemp(tmpdir))
    return -1;
  snprintf(path_a, sizeof path_a, "%s/a.o", tmpdir);
  snprintf(path_b, sizeof path_b, "%s/b.o", tmpdir);
  copy_file(FX_ALLOC_A, path_a);
  copy_file(FX_PLAIN, path_b);
  /* Files changed in this second or the last get no digest. */
  sleep(2);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  unlink(path_a);
  unlink(path_b);
  return rmdir(tmpdir);
}

int main(void) {
  unsetenv("ALLOCSEL_SOMETHING");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_digest),
      cmocka_unit_test(test_memory_round_trip),
      cmocka_unit_test(test_digest_racy),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
