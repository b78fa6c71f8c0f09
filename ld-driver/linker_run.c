/* Running the real linker. Mostly allocsel-ld becomes it (linker_exec);
 * where allocsel-ld has work after the link, it starts the linker as a
 * child: signals that end a link reach the linker, allocsel-ld waits for
 * it to finish, then ends the same way, and if allocsel-ld itself is
 * killed, the kernel ends the linker (PR_SET_PDEATHSIG). */
#include "linker_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend.h"

/* Under ASan, the leak check normally made at exit is made before an exec,
 * where no exit comes. */
#if defined(__SANITIZE_ADDRESS__)
#define AS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AS_ASAN 1
#endif
#endif
#ifdef AS_ASAN
#include <sanitizer/lsan_interface.h>
#endif

/* The linker's pid, while it runs. */
static volatile sig_atomic_t child_pid, forwarded;

static void forward(int sig) {
  forwarded = sig;
  if (child_pid != 0)
    kill((pid_t)child_pid, sig);
}

static const int ended_by[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
enum { NSIGNALS = sizeof ended_by / sizeof *ended_by };

static void restore(struct linker_run *r) {
  for (size_t i = 0; i < NSIGNALS; i++)
    sigaction(ended_by[i], &r->old[i], NULL);
}

int linker_start(struct linker_run *r, char **argv) {
  r->name = argv[0];
  r->pid = -1;
  struct sigaction sa = {.sa_handler = forward};
  sigemptyset(&sa.sa_mask);
  /* A signal ignored when we started (nohup, a background job) stays
   * ignored, for us and the linker. */
  for (size_t i = 0; i < NSIGNALS; i++)
    if (sigaction(ended_by[i], NULL, &r->old[i]) == 0 &&
        r->old[i].sa_handler != SIG_IGN)
      sigaction(ended_by[i], &sa, NULL);
  pid_t parent = getpid();
  /* vfork: the child shares our memory until it execs, so starting the
   * linker costs no copy of the page tables of everything the scan
   * allocated. The child therefore only makes system calls, and a failed
   * exec's errno comes back through the memory we share. */
  extern char **environ;
  static volatile int exec_errno;
  exec_errno = 0;
  pid_t pid = vfork();
  if (pid == 0) {
    for (size_t i = 0; i < NSIGNALS; i++)
      sigaction(ended_by[i], &r->old[i], NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(128 + SIGKILL); /* allocsel-ld died before prctl */
    execve(argv[0], argv, environ);
    exec_errno = errno;
    _exit(2);
  }
  if (pid < 0 || exec_errno) {
    fprintf(stderr, "allocsel: error: cannot run %s: %s\n", argv[0],
            strerror(pid < 0 ? errno : exec_errno));
    if (pid > 0)
      waitpid(pid, NULL, 0);
    restore(r);
    return 2;
  }
  r->pid = pid;
  child_pid = pid;
  if (forwarded)
    kill(child_pid, forwarded); /* came before child_pid was set */
  return 0;
}

static int wait_status(struct linker_run *r) {
  int status;
  while (waitpid(r->pid, &status, 0) < 0)
    if (errno != EINTR) {
      status = 2 << 8;
      break;
    }
  child_pid = 0;
  r->pid = -1;
  restore(r);
  return status;
}

int linker_exec(char **argv) {
  fflush(NULL); /* what allocsel-ld printed is not lost with its buffers */
#ifdef AS_ASAN
  __lsan_do_leak_check();
#endif
  extern char **environ;
  execve(argv[0], argv, environ);
  fprintf(stderr, "allocsel: error: cannot run %s: %s\n", argv[0],
          strerror(errno));
  return 2;
}

int linker_wait(struct linker_run *r) {
  int status = wait_status(r);
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (!forwarded)
    fprintf(stderr, "allocsel: error: %s killed by signal %d\n", r->name,
            WTERMSIG(status));
  return 128 + WTERMSIG(status);
}
