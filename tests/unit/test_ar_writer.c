/* The archive writer, one table row per member name shape (short, 15 and
 * 16 characters, long, with a path): each archive is read back by the
 * selector's archive reader and by binutils' ar, member names, bytes and
 * index intact. */
#include "selector_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ar_writer.h"
#include "internal.h"

static const struct {
  const char *name, *want; /* as added, as read back */
  const char *syms[3];
} rows[] = {
    {"a.o", "a.o", {"sym_a", NULL}},
    {"fifteen_chars.o", "fifteen_chars.o", {"sym_b", "sym_b2", NULL}},
    {"sixteen_chars_.o", "sixteen_chars_.o", {NULL}},
    {"a_member_name_longer_than_the_field.o",
     "a_member_name_longer_than_the_field.o",
     {"sym_long", NULL}},
    {"dir/sub/b.o", "b.o", {"sym_dir", NULL}},
};
enum { NROWS = sizeof rows / sizeof *rows };

static void test_round_trip(void **state) {
  (void)state;
  char path[] = "/tmp/allocsel-arw-XXXXXX.a";
  int fd = mkstemps(path, 2);
  assert_true(fd >= 0);
  close(fd);
  /* Members: the fixture object's bytes, so the reader scans real ELF. */
  FILE *f = fopen(FX_PLAIN, "rb");
  assert_non_null(f);
  static char obj[1 << 16];
  size_t size = fread(obj, 1, sizeof obj, f);
  fclose(f);
  struct as_link *names = as_link_new(AS_STATICLIB);
  struct ar_writer *w = ar_writer_new();
  uint32_t ids[NROWS][3];
  for (size_t i = 0; i < NROWS; i++) {
    uint32_t n = 0;
    for (; rows[i].syms[n]; n++)
      ids[i][n] = as_symtab_intern(names->symtab, rows[i].syms[n],
                                   strlen(rows[i].syms[n]));
    ar_writer_add(w, rows[i].name, obj, size, names, ids[i], n);
  }
  char *error = NULL;
  assert_int_equal(ar_writer_write(w, path, &error), 0);
  ar_writer_free(w);
  as_link_free(names);

  struct as_link *link = as_link_new(AS_STATICLIB);
  as_link_want_symbols(link);
  assert_int_equal(as_link_add_file(link, path, AS_ADD_WHOLE_ARCHIVE), 0);
  assert_no_errors(link);
  assert_int_equal(link->nunits, NROWS);
  for (size_t i = 0; i < NROWS; i++)
    assert_string_equal(link->units[i]->member, rows[i].want);
  as_link_free(link);

  /* binutils agrees on names and the index. */
  char cmd[256];
  snprintf(cmd, sizeof cmd, "ar t %s && nm -s %s | grep -c ' in '", path, path);
  FILE *p = popen(cmd, "r");
  char line[256];
  size_t i = 0;
  while (i < NROWS && fgets(line, sizeof line, p)) {
    line[strcspn(line, "\n")] = '\0';
    assert_string_equal(line, rows[i++].want);
  }
  assert_non_null(fgets(line, sizeof line, p));
  assert_int_equal(atoi(line), 5); /* index entries */
  assert_int_equal(pclose(p), 0);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_round_trip)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
