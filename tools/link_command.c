/* The linker command line a compiler driver runs, read from its -###
 * output: gcc prints its collect2 line (ld's arguments), clang its ld
 * line, each word quoted. Nothing is compiled or linked. */
#include "link_command.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "frontend.h"
#include "ld_cmdline.h"

/* The linker a program name is: "lld", "bfd", "gold", "mold", or NULL. */
static const char *linker_kind(const char *name) {
  const char *b = as_base_name(name);
  if (strstr(b, "lld"))
    return "lld";
  if (strstr(b, "mold"))
    return "mold";
  if (strstr(b, "gold"))
    return "gold";
  if (strcmp(b, "ld") == 0 || strstr(b, "ld.bfd") ||
      (strlen(b) > 3 && strcmp(b + strlen(b) - 3, "-ld") == 0))
    return "bfd";
  return NULL;
}

/* Splits a -### line into words: "quoted \" words" or bare ones. */
static size_t split_words(const char *line, char ***out) {
  size_t n = 0, cap = 0;
  *out = NULL;
  for (const char *p = line; *p;) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (!*p || *p == '\n')
      break;
    char *word = NULL;
    size_t len = 0, wcap = 0;
    if (*p == '"') {
      for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
          p++;
        *AS_PUSH(word, len, wcap) = *p;
      }
      if (*p == '"')
        p++;
    } else {
      while (*p && *p != ' ' && *p != '\n')
        *AS_PUSH(word, len, wcap) = *p++;
    }
    *AS_PUSH(word, len, wcap) = '\0';
    *AS_PUSH(*out, n, cap) = word;
  }
  return n;
}

/* Runs argv with -### added; its stderr (and stdout) as one string. */
static char *driver_plan(char **argv, size_t argc, char **error) {
  char **args = as_xcalloc(argc + 2, sizeof *args);
  for (size_t i = 0; i < argc; i++)
    args[i] = argv[i];
  args[argc] = "-###";
  int status;
  char *text = capture_output(args, true, &status, error);
  free(args);
  if (text && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
    *error = as_xasprintf("%s -### failed: %.400s", argv[0], text);
    free(text);
    return NULL;
  }
  return text;
}

static void free_words(char **w, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(w[i]);
  free(w);
}

int link_command_from(struct link_command *lc, char **argv, size_t argc,
                      char **error) {
  *lc = (struct link_command){0};
  if (argc == 0) {
    *error = as_xstrdup("check -- needs a command");
    return -1;
  }
  const char *kind = linker_kind(argv[0]);
  if (kind || strcmp(as_base_name(argv[0]), "allocsel-ld") == 0 ||
      strcmp(as_base_name(argv[0]), "collect2") == 0) {
    lc->argv = as_xcalloc(argc + 1, sizeof *lc->argv);
    for (size_t i = 0; i < argc; i++)
      lc->argv[i] = as_xstrdup(argv[i]);
    lc->argc = argc;
    lc->linker = as_xstrdup(kind ? kind : "lld");
    lc->linker_path = as_xstrdup(argv[0]);
    return 0;
  }
  /* The driver's @FILEs, expanded here: its -### line would name a
   * response file of its own that is gone once it returns. */
  size_t nx;
  char **x = ld_cmdline_expand(argv, argc, &nx, error);
  char *plan = *error ? NULL : driver_plan(x, nx, error);
  if (!plan) {
    free_words(x, nx);
    return -1;
  }
  /* The last command line is the link; a compile step before it means
   * its objects do not exist yet. */
  char **words = NULL;
  size_t nwords = 0;
  bool compiles = false;
  for (char *line = plan, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    if (line[0] != ' ')
      continue;
    char **w;
    size_t n = split_words(line, &w);
    if (n == 0) {
      free(w);
      continue;
    }
    const char *b = as_base_name(w[0]);
    if (strcmp(b, "cc1") == 0 || strcmp(b, "cc1plus") == 0 ||
        (n > 1 && strcmp(w[1], "-cc1") == 0))
      compiles = true;
    if (strcmp(b, "collect2") == 0 || linker_kind(w[0]) ||
        strcmp(b, "allocsel-ld") == 0) {
      free_words(words, nwords);
      words = w;
      nwords = n;
    } else {
      free_words(w, n);
    }
  }
  free(plan);
  if (!words || compiles) {
    free_words(words, nwords);
    free_words(x, nx);
    *error = as_xasprintf(
        !words ? "%s runs no linker with these arguments"
               : "%s compiles sources first: check a link of their objects "
                 "(compile with -c, then check the link command)",
        argv[0]);
    return -1;
  }
  /* The linker: -fuse-ld= of the driver's command, else its program. */
  const char *choice = NULL;
  for (size_t i = 0; i < nx; i++)
    if (strncmp(x[i], "-fuse-ld=", 9) == 0)
      choice = x[i] + 9;
  for (size_t i = 0; i < nx; i++)
    if (strncmp(x[i], "--ld-path=", 10) == 0)
      choice = x[i] + 10;
  const char *k = choice ? linker_kind(choice) : NULL;
  if (!k && choice && strchr(choice, '/') == NULL)
    k = strcmp(choice, "bfd") == 0    ? "bfd"
        : strcmp(choice, "gold") == 0 ? "gold"
        : strcmp(choice, "mold") == 0 ? "mold"
                                      : "lld";
  if (!k)
    k = linker_kind(words[0]) ? linker_kind(words[0]) : "bfd";
  lc->argv = as_xcalloc(nwords + 1, sizeof *lc->argv);
  memcpy(lc->argv, words, nwords * sizeof *words);
  free(words);
  lc->argc = nwords;
  lc->linker = as_xstrdup(k);
  lc->linker_path = as_xasprintf("ld.%s", k);
  free_words(x, nx);
  return 0;
}

void link_command_free(struct link_command *lc) {
  for (size_t i = 0; i < lc->argc; i++)
    free(lc->argv[i]);
  free(lc->argv);
  free(lc->linker);
  free(lc->linker_path);
}
