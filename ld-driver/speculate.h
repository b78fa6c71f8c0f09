/* Starting the linker at once, on the decision the last link of the same
 * command line made, while allocsel decides again beside it
 * (speculate.c). */
#ifndef ALLOCSEL_SPECULATE_H
#define ALLOCSEL_SPECULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_cmdline.h"

struct speculation;

/* Is this a link to start early, and to remember (see speculate.c)? */
bool speculation_eligible(const struct ld_cmdline *cl);

/* Starts `linker` on this command line with what the decision added the
 * last time this linker wrote this output (in this directory) or, for an
 * output it never wrote, the last time it wrote one of this type here;
 * writing a temporary output beside the real one, its stdout and stderr
 * held back. NULL where nothing is remembered or the link is not one to
 * start early (see speculate.c). */
struct speculation *speculation_start(const struct ld_cmdline *cl,
                                      const char *linker,
                                      enum as_output_type type);
/* The decision is made: it adds `added`, the record (record_fd, -1: none)
 * and `libs`. Where that is what the early linker was given, waits for it,
 * says what it said, moves its output into place and returns true with
 * its exit code in *rc; otherwise stops it, removes what it wrote and
 * returns false. Frees sp; NULL is false. */
bool speculation_finish(struct speculation *sp, const char *const *added,
                        size_t nadded, int record_fd, const char *const *libs,
                        size_t nlibs, int *rc);
/* Is this the link the remembered decision was made for (the same
 * digest, as_link_digest)? Then that decision stands without being made
 * again. */
bool speculation_known(const struct speculation *sp, const uint64_t digest[2]);
/* Finishes the early link on the remembered decision (speculation_known):
 * says what the decision said then, waits for the linker, says what it
 * said, moves its output into place. Returns its exit code; frees sp. */
int speculation_finish_known(struct speculation *sp);
/* Was the guess another output's (the last decision made here)? */
bool speculation_guessed(const struct speculation *sp);
/* A refusal, or a signal: stops it and removes what it wrote. */
void speculation_abandon(struct speculation *sp);
/* Keeps what the decision added for the next link of this output, with
 * the link's digest (NULL: none) and what the decision said (`text`); and,
 * without them, as the guess for the next new output of this type. */
void speculation_remember(const struct ld_cmdline *cl, const char *linker,
                          enum as_output_type type, const char *const *added,
                          size_t nadded, int record_fd, const char *const *libs,
                          size_t nlibs, const uint64_t *digest,
                          const char *text, size_t text_size);

#endif
