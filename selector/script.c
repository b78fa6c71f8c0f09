/* Linker scripts as inputs: what they bring into the link. Debian's
 * libc.so and libm.so are such scripts (GROUP ( libc.so.6 libc_nonshared.a
 * AS_NEEDED ( ld-linux-x86-64.so.2 ) )), and so is a `-lfoo` that a project
 * points at its own archive, or a `-T` script with INPUT. Only the commands
 * that name files are read: INPUT, GROUP, AS_NEEDED (files, or -lNAME) and
 * SEARCH_DIR; everything else (OUTPUT_FORMAT, SECTIONS { ... }) is the
 * linker's business and skipped. Files are found as GNU ld finds them: a
 * path inside the sysroot gets its prefix, a relative one is tried as
 * given, then in the search directories. */
#include "input.h"
#include "link_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
  AS_SCRIPT_MAX_DEPTH = 16,
  AS_SCRIPT_MAX_SIZE = 1 << 20,
  AS_SCRIPT_MAX_FILES = 10000, /* named by all scripts of one link */
};

struct lexer {
  const char *p, *end;
};

/* Next token: a word, or one of ( ) { } , ; = as a one-character token.
 * Comments are skipped, quoted words unquoted. Returns its length, 0 at the
 * end; *tok points at it. */
static size_t next_token(struct lexer *lx, const char **tok) {
  for (;;) {
    while (lx->p < lx->end && (isspace((unsigned char)*lx->p) || *lx->p == ','))
      lx->p++;
    if (lx->end - lx->p >= 2 && lx->p[0] == '/' && lx->p[1] == '*') {
      const char *close = NULL;
      for (const char *q = lx->p + 2; q + 1 < lx->end && !close; q++)
        if (q[0] == '*' && q[1] == '/')
          close = q;
      lx->p = close ? close + 2 : lx->end;
      continue;
    }
    break;
  }
  if (lx->p >= lx->end)
    return 0;
  *tok = lx->p;
  if (strchr("(){};=", *lx->p)) {
    lx->p++;
    return 1;
  }
  if (*lx->p == '"') {
    const char *q = memchr(lx->p + 1, '"', (size_t)(lx->end - lx->p - 1));
    *tok = lx->p + 1;
    size_t n = q ? (size_t)(q - lx->p - 1) : (size_t)(lx->end - lx->p - 1);
    lx->p = q ? q + 1 : lx->end;
    return n;
  }
  while (lx->p < lx->end && !isspace((unsigned char)*lx->p) &&
         !strchr("(){};=,", *lx->p))
    lx->p++;
  return (size_t)(lx->p - *tok);
}

static bool token_is(const char *tok, size_t n, const char *word) {
  return strlen(word) == n && memcmp(tok, word, n) == 0;
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Where a file a script names is, or NULL. */
static char *find_script_file(struct as_link *link, const char *script,
                              const char *name, bool static_only) {
  if (name[0] == '-' && name[1] == 'l')
    return as_find_library(name + 2, link->lib_dirs, link->nlib_dirs,
                           static_only, NULL);
  /* An absolute path in a script inside the sysroot is in the sysroot. */
  const char *sysroot = link->sysroot;
  size_t sl = sysroot ? strlen(sysroot) : 0;
  if (name[0] == '/' && sl && strncmp(script, sysroot, sl) == 0) {
    char *in = as_xasprintf("%s%s", sysroot, name);
    if (is_file(in))
      return in;
    free(in);
  }
  if (is_file(name))
    return as_xstrdup(name);
  if (name[0] == '/')
    return NULL;
  for (size_t i = 0; i < link->nlib_dirs; i++) {
    char *path = as_xasprintf("%s/%s", link->lib_dirs[i], name);
    if (is_file(path))
      return path;
    free(path);
  }
  return NULL;
}

int as_script_add_inputs(struct as_link *link, uint32_t input, const char *text,
                         size_t size) {
  struct as_input *in = link->inputs[input];
  char *path = as_xstrdup(in->path);
  unsigned flags = in->flags;
  if (link->script_nesting >= AS_SCRIPT_MAX_DEPTH) {
    as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT,
                "%s: linker scripts nested too deep (a script that includes "
                "itself?)",
                path);
    free(path);
    return -1;
  }
  struct lexer lx = {text, text + (size < AS_SCRIPT_MAX_SIZE ? size : 0)};
  const char *tok;
  size_t n;
  int braces = 0, rc = 0;
  bool in_list = false; /* inside INPUT( or GROUP( */
  bool opened_group = false;
  int list_depth = 0;
  while ((n = next_token(&lx, &tok))) {
    if (braces) { /* SECTIONS { ... } and the like */
      braces += token_is(tok, n, "{") - token_is(tok, n, "}");
      continue;
    }
    if (token_is(tok, n, "{")) {
      braces = 1;
      continue;
    }
    if (!in_list) {
      if (token_is(tok, n, "INPUT") || token_is(tok, n, "GROUP")) {
        const char *open;
        bool group = token_is(tok, n, "GROUP");
        if (next_token(&lx, &open) == 1 && *open == '(') {
          in_list = true;
          list_depth = 1;
          /* A group inside an enclosing one is that one. */
          opened_group = group && !link->current_group;
          if (opened_group)
            as_link_begin_group(link);
        }
      } else if (token_is(tok, n, "SEARCH_DIR")) {
        const char *open, *dir;
        size_t dn;
        if (next_token(&lx, &open) == 1 && *open == '(' &&
            (dn = next_token(&lx, &dir)) && *dir != ')') {
          char *d = as_xasprintf("%.*s", (int)dn, dir);
          as_link_search_dir(link, d);
          free(d);
        }
      }
      continue;
    }
    if (token_is(tok, n, "(")) {
      list_depth++;
      continue;
    }
    if (token_is(tok, n, ")")) {
      in_list = --list_depth > 0;
      if (!in_list && opened_group) {
        as_link_end_group(link);
        opened_group = false;
      }
      continue;
    }
    if (token_is(tok, n, "AS_NEEDED"))
      continue;
    char *name = as_xasprintf("%.*s", (int)n, tok);
    char *found =
        find_script_file(link, path, name, flags & AS_ADD_STATIC_SEARCH);
    bool itself = found && strcmp(found, path) == 0;
    if (itself || ++link->script_files > AS_SCRIPT_MAX_FILES) {
      as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT,
                  itself ? "%s: linker script names itself"
                         : "%s: linker scripts name more than 10000 files "
                           "(scripts that include each other?)",
                  path);
      free(found);
      free(name);
      rc = -1;
      break;
    } else if (!found) {
      struct as_diag *d = as_diag_add(
          link, AS_ERROR, AS_E_LIBRARY_NOT_FOUND,
          "%s: cannot find %s, named in this linker script", path, name);
      as_diag_hint(d,
                   "install what provides %s, or add its directory with "
                   "-L",
                   name);
      rc = -1;
    } else {
      /* The script's own flags (--whole-archive around it, static search)
       * hold for what it names. */
      link->script_nesting++;
      if (as_link_add_file(link, found,
                           (flags & ~(unsigned)AS_ADD_REQUESTED) |
                               AS_ADD_SCRIPT_OK) != 0)
        rc = -1;
      link->script_nesting--;
    }
    free(found);
    free(name);
  }
  if (opened_group)
    as_link_end_group(link);
  free(path);
  return rc;
}
