/* The linker command line as allocsel-ld and the plugin read it, one table
 * row per shape: output type, inputs and their state (--whole-archive,
 * --start-lib, --just-symbols), options that redirect symbols, allocsel's
 * own options, @files, and the place the allocator goes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ld_cmdline.h"

struct row {
  const char *args[16];
  const char *output;
  bool shared, relocatable, is_static;
  const char *inputs; /* each input: path, then flags w(hole) l(azy) j(ust) */
  const char *redirects; /* each symbol, space separated */
  const char *allocator, *linker, *error;
  int inject_at; /* index in pass, -1: not checked */
};

static const struct row rows[] = {
    {{"-o", "app", "main.o", "libx.a"},
     "app",
     .inputs = "main.o libx.a",
     .inject_at = 3},
    {{"-shared", "-o", "libp.so", "a.o"},
     "libp.so",
     .shared = true,
     .inputs = "a.o",
     .inject_at = 4},
    {{"-r", "-o", "x.o", "a.o"},
     "x.o",
     .relocatable = true,
     .inputs = "a.o",
     .inject_at = 4},
    {{"-static", "--output=s", "a.o"},
     "s",
     .is_static = true,
     .inputs = "a.o",
     .inject_at = 3},
    {{"a.o", "--whole-archive", "w.a", "--no-whole-archive", "n.a"},
     .inputs = "a.o w.a:w n.a",
     .inject_at = 2},
    {{"a.o", "--start-lib", "l1.o", "l2.o", "--end-lib", "b.o"},
     .inputs = "a.o l1.o:l l2.o:l b.o",
     .inject_at = -1},
    {{"a.o", "--just-symbols=js.o", "-R", "/tmp", "-Rjs2.o"},
     .inputs = "a.o js.o:j js2.o:j",
     .inject_at = -1},
    {{"a.o", "--defsym=__rust_allocate=malloc", "--wrap", "free", "-defsym",
      "x=1"},
     .inputs = "a.o",
     .redirects = "__rust_allocate free x",
     .inject_at = -1},
    {{"a.o", "--allocsel-allocator=system", "--allocsel-linker", "mold"},
     .inputs = "a.o",
     .allocator = "system",
     .linker = "mold",
     .inject_at = 1},
    {{"a.o", "-plugin", "/p/allocsel-plugin.so", "-plugin-opt",
      "allocator=jemalloc"},
     .inputs = "a.o",
     .allocator = "jemalloc",
     .inject_at = 1},
    {{"a.o", "--allocsel-frobnicate"},
     .inputs = "a.o",
     .error = "unknown option: --allocsel-frobnicate",
     .inject_at = -1},
    {{"a.o", "--allocsel-allocator"},
     .inputs = "a.o",
     .error = "needs a value",
     .inject_at = -1},
    {{"@self.rsp"}, .error = "includes itself", .inject_at = -1},
    {{"@args.rsp", "z.o"},
     "from-rsp",
     .inputs = "r1.o r 2.o z.o",
     .inject_at = -1},
};

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void check_row(const struct row *r) {
  char *argv[18] = {"ld"};
  int argc = 1;
  for (; r->args[argc - 1]; argc++)
    argv[argc] = (char *)r->args[argc - 1];
  struct ld_cmdline cl;
  ld_cmdline_parse(&cl, argc, argv);
  if (r->error) {
    if (!cl.error || !strstr(cl.error, r->error))
      fail_msg("%s: expected error '%s', got '%s'", r->args[0], r->error,
               cl.error ? cl.error : "(none)");
    ld_cmdline_free(&cl);
    return;
  }
  if (cl.error)
    fail_msg("%s: unexpected error %s", r->args[0], cl.error);
  if (r->output)
    assert_string_equal(cl.output, r->output);
  assert_int_equal(cl.shared, r->shared);
  assert_int_equal(cl.relocatable, r->relocatable);
  assert_int_equal(cl.is_static, r->is_static);
  char got[512] = "";
  for (size_t i = 0; i < cl.ninputs; i++) {
    const struct ld_input *in = &cl.inputs[i];
    char flags[8] = "";
    if (in->whole)
      strcat(flags, "w");
    if (in->lazy)
      strcat(flags, "l");
    if (in->just_symbols)
      strcat(flags, "j");
    snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s%s%s",
             i ? " " : "", in->path ? in->path : "?", *flags ? ":" : "", flags);
  }
  assert_string_equal(got, r->inputs ? r->inputs : "");
  got[0] = '\0';
  for (size_t i = 0; i < cl.nredirects; i++)
    snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? " " : "",
             cl.redirects[i].symbol);
  assert_string_equal(got, r->redirects ? r->redirects : "");
  if (r->allocator)
    assert_string_equal(cl.allocator, r->allocator);
  if (r->linker)
    assert_string_equal(cl.linker, r->linker);
  if (r->inject_at >= 0)
    assert_int_equal(cl.inject_at, r->inject_at);
  /* allocsel's own options never reach the linker. */
  for (size_t i = 0; i < cl.npass; i++)
    if (strstr(cl.pass[i], "allocsel"))
      fail_msg("%s passed to the linker", cl.pass[i]);
  ld_cmdline_free(&cl);
}

static void test_table(void **state) {
  (void)state;
  char dir[] = "/tmp/allocsel-cmdline-XXXXXX";
  assert_non_null(mkdtemp(dir));
  assert_int_equal(chdir(dir), 0);
  write_file("self.rsp", "a.o @self.rsp\n");
  write_file("args.rsp", "-o from-rsp r1.o 'r 2.o'\n");
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    print_message("row %zu: %s ...\n", i, rows[i].args[0]);
    check_row(&rows[i]);
  }
  unlink("self.rsp");
  unlink("args.rsp");
  assert_int_equal(chdir("/"), 0);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_table)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
