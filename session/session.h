/* One link's decision, made the same way by every front end (allocsel-ld,
 * the linker plugin, `allocsel check`): the front end says what the link
 * is (its output type, the request, the environment, its inputs, through
 * s->link), then
 *
 *   as_session_decide   the known-decision check, resolution, the rules;
 *                       what it says goes to stderr (or the caller's
 *                       stream) and is kept for the link memory
 *   s->added, s->libs   what the link must add, and s->record, the
 *                       decision record as "/dev/fd/N"
 *   as_session_keep     the decision kept for the next link of the output
 *
 * and the front end only feeds the linker what the session holds, or
 * refuses with s->rc. */
#ifndef ALLOCSEL_SESSION_H
#define ALLOCSEL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "frontend.h"
#include "ld_cmdline.h"
#include "link_memory.h"

struct as_session {
  enum as_output_type type;
  struct as_env env;
  struct as_request req;
  struct as_link *link;
  bool verbose; /* say the allocator and malloc decided */

  /* The outcome of as_session_decide. */
  int rc; /* as_diag_exit_code: 0, 1 (a rule), 2 (bad input or usage) */
  struct as_decision dec; /* empty where the decision was known */
  bool known;             /* this very link was decided before */
  const char *added[AS_MAX_DECISION_INPUTS];
  size_t nadded;
  const char *libs[AS_MAX_UNIT_LIBRARIES];
  size_t nlibs;
  int record_fd; /* -1: none */
  char *record;  /* "/dev/fd/N", valid here and in the linker run */

  /* The link memory (link_memory.c); off unless as_session_remember. */
  const struct ld_cmdline *cl;
  const char *self, *linker;
  enum as_archive_order order;
  char *memory_path;
  struct link_memory memory;
  bool have_digest;
  uint64_t digest[2];
  char *said; /* what the decision said, as said */
  size_t said_size;
};

/* A new link of `type`, its inputs to be added to s->link. `allocator`
 * (NULL: none) as spelt by `option`, for its origin. */
void as_session_init(struct as_session *s, enum as_output_type type,
                     const char *libdir, const char *allocator,
                     const char *option, bool verbose);
/* Remember the decision of this link, and take the remembered one where
 * it is the same link: the key is `linker` and the command line's output,
 * the digest is made of every input, the command line, the environment and
 * `self`, the file of the running front end. The pointers are kept. */
void as_session_remember(struct as_session *s, const struct ld_cmdline *cl,
                         const char *self, const char *linker,
                         enum as_archive_order order);
/* Decides (see above); what it says goes to `out` (NULL: nothing is said,
 * the caller prints s->link's diagnostics and s->dec). Returns s->rc. */
int as_session_decide(struct as_session *s, FILE *out);
/* Keeps the decision in the link memory (as_session_remember), unless it
 * was taken from there. Failure is no error. */
void as_session_keep(struct as_session *s);
/* What was decided, malloc'd (NULL where the link was refused): the
 * allocator's name ("none" where there is none) and what serves malloc,
 * taken from the record where the decision was remembered. */
void as_session_outcome(const struct as_session *s, char **allocator,
                        char **malloc_by);
void as_session_free(struct as_session *s);

#endif
