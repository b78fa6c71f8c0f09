/* Running the real linker (linker_run.c): one at a time. */
#ifndef ALLOCSEL_LINKER_RUN_H
#define ALLOCSEL_LINKER_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct linker_run {
  pid_t pid;
  const char *name; /* argv[0], for messages */
  bool group;       /* the linker leads a process group of its own */
  struct sigaction old[4];
};

/* Starts argv[0]; its stdout and stderr go to out_fd and err_fd (-1:
 * ours). With `group`, in a process group of its own, which signals then
 * reach whole (mold forks, and its parent ends before its child). Signals
 * that end a link reach it from now until it ends. Returns 0, or 2 after
 * saying why it could not start. */
int linker_start(struct linker_run *r, char **argv, int out_fd, int err_fd,
                 bool group);
/* Waits for it to end: its exit code, or 128 + the signal that ended it
 * (said, unless it was one we forwarded). */
int linker_wait(struct linker_run *r);
/* Ends it (SIGTERM, then SIGKILL) and waits, quietly. */
void linker_stop(struct linker_run *r);
/* The signal that reached allocsel-ld while a linker ran, or 0. */
int linker_signalled(void);

#endif
