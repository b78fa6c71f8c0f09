/* Running a tool and reading what it prints (see capture.h). */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

enum { CAPTURE_MAX = 16 << 20 };

char *capture_output(char *const argv[], bool with_stderr, int *status,
                     char **error) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    *error = as_xasprintf("cannot run %s: %s", argv[0], strerror(errno));
    return NULL;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  if (with_stderr)
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
  else
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(pipefd[1]);
  if (err != 0) {
    close(pipefd[0]);
    *error = as_xasprintf("cannot run %s: %s", argv[0], strerror(err));
    return NULL;
  }
  char *text = NULL;
  size_t len = 0, cap = 0;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (len + (size_t)n > CAPTURE_MAX)
      continue; /* drained, not kept */
    text = as_grow(text, &cap, len + (size_t)n + 1, 1);
    memcpy(text + len, buf, (size_t)n);
    len += (size_t)n;
  }
  close(pipefd[0]);
  text = as_grow(text, &cap, len + 1, 1);
  text[len] = '\0';
  while (waitpid(pid, status, 0) < 0 && errno == EINTR)
    ;
  return text;
}
