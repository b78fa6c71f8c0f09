/* Running the real linker (linker_run.c): one at a time. */
#ifndef ALLOCSEL_LINKER_RUN_H
#define ALLOCSEL_LINKER_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct linker_run {
  pid_t pid;
  const char *name; /* argv[0], for messages */
  struct sigaction old[4];
};

/* Starts argv[0], its output ours. Signals that end a link reach it from
 * now until it ends. Returns 0, or 2 after saying why it could not
 * start. */
int linker_start(struct linker_run *r, char **argv);
/* Waits for it to end: its exit code, or 128 + the signal that ended it
 * (said, unless it was one we forwarded). */
int linker_wait(struct linker_run *r);
/* Becomes argv[0], where nothing is left to do after the link: the
 * linker then has the build's pid and signals, and allocsel-ld's memory
 * is gone before the link starts. Returns only where it cannot, 2 after
 * saying why. */
int linker_exec(char **argv);

#endif
