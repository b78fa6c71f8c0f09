/* Helpers shared by the selector's unit tests (test_scan.c, test_rules.c).
 * The fixture paths come from CMake as FX_* macros. */
#ifndef ALLOCSEL_TESTS_SELECTOR_TEST_H
#define ALLOCSEL_TESTS_SELECTOR_TEST_H

#include <setjmp.h> /* cmocka.h needs these first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "selector.h"

static inline bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static inline struct as_link *add_paths(struct as_link *link, const char *first,
                                        va_list ap) {
  for (const char *p = first; p; p = va_arg(ap, const char *))
    if (as_link_add_file(link, p, 0) != 0)
      fail_msg("as_link_add_file(%s) failed", p);
  return link;
}

/* Adds every path (NULL-terminated) with no flags; each must scan. The
 * selector reads only the allocator facts until a decision needs more. */
static inline struct as_link *new_link(enum as_output_type type,
                                       const char *first, ...) {
  va_list ap;
  va_start(ap, first);
  struct as_link *link = add_paths(as_link_new(type), first, ap);
  va_end(ap);
  return link;
}

/* The same, reading every symbol (defs and undefs) up front. */
static inline struct as_link *new_symbols_link(enum as_output_type type,
                                               const char *first, ...) {
  struct as_link *link = as_link_new(type);
  as_link_want_symbols(link);
  va_list ap;
  va_start(ap, first);
  add_paths(link, first, ap);
  va_end(ap);
  return link;
}

/* The unit whose origin ends with `suffix` ("alloc_a.c.o",
 * "libfx_helpers.a(helper.c.o)"), or NULL. */
static inline struct as_unit *find_unit(struct as_link *link,
                                        const char *suffix) {
  for (size_t i = 0; i < link->nunits; i++)
    if (ends_with(as_unit_origin(link, link->units[i]), suffix))
      return link->units[i];
  return NULL;
}

static inline struct as_unit *get_unit(struct as_link *link,
                                       const char *suffix) {
  struct as_unit *u = find_unit(link, suffix);
  if (!u)
    fail_msg("no unit named *%s", suffix);
  return u;
}

static inline bool has_sym(const struct as_link *link, const uint32_t *ids,
                           uint32_t n, const char *name) {
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(as_sym_name(link, ids[i]), name) == 0)
      return true;
  return false;
}

static inline bool defines(const struct as_link *link, const struct as_unit *u,
                           const char *name) {
  return has_sym(link, u->defs, u->ndefs, name);
}

static inline bool references(const struct as_link *link,
                              const struct as_unit *u, const char *name) {
  return has_sym(link, u->undefs, u->nundefs, name);
}

/* The first diagnostic with `code`, or NULL. */
static inline const struct as_diag *find_diag(const struct as_link *link,
                                              const char *code) {
  for (size_t i = 0; i < link->ndiags; i++)
    if (strcmp(as_error_code(link->diags[i].error), code) == 0)
      return &link->diags[i];
  return NULL;
}

static inline const struct as_diag *get_diag(const struct as_link *link,
                                             const char *code) {
  const struct as_diag *d = find_diag(link, code);
  if (!d) {
    for (size_t i = 0; i < link->ndiags; i++)
      print_message("diag %s: %s\n", as_error_code(link->diags[i].error),
                    link->diags[i].message);
    fail_msg("no diagnostic '%s'", code);
  }
  return d;
}

static inline void assert_no_errors(const struct as_link *link) {
  for (size_t i = 0; i < link->ndiags; i++)
    if (link->diags[i].kind == AS_ERROR)
      fail_msg("unexpected error %s: %s", as_error_code(link->diags[i].error),
               link->diags[i].message);
}

/* Resolves, decides; the decision is freed by the caller. */
static inline int decide(struct as_link *link, const struct as_request *req,
                         const struct as_env *env, struct as_decision *d) {
  as_link_resolve(link);
  int rc = as_decide(link, req, env, d);
  if (rc != as_diag_exit_code(link))
    fail_msg("as_decide returned %d, diagnostics say %d", rc,
             as_diag_exit_code(link));
  return rc;
}

/* Bit i of an ABI mask is as_abi[i]. */
static inline unsigned abi_bit(const char *name) {
  for (int i = 0; i < AS_ABI_COUNT; i++)
    if (strcmp(as_abi[i], name) == 0)
      return 1u << i;
  fail_msg("%s is not an ABI entry point", name);
  return 0;
}

#endif
