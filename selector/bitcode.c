/* LLVM bitcode inputs: their symbols come from the bitcode reader process
 * (bitcode_reader.c, protocol in bitcode_protocol.h), started for the first
 * bitcode input of a link and kept for the rest. A link with no bitcode
 * starts nothing and loads no LLVM. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bitcode_protocol.h"

extern char **environ;

struct as_bitcode_reader {
  pid_t pid;
  int fd; /* our end of the socket */
};

static void stop(struct as_bitcode_reader *r, int *status) {
  close(r->fd);
  int st = 0;
  while (waitpid(r->pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (status)
    *status = st;
  free(r);
}

void as_bitcode_reader_free(struct as_bitcode_reader *r) {
  if (r)
    stop(r, NULL);
}

static struct as_bitcode_reader *start(struct as_link *link, char **why) {
  char *libdir = link->libdir ? as_xstrdup(link->libdir) : as_default_libdir();
  char *path = as_xasprintf("%s/%s", libdir, AS_BITCODE_READER);
  free(libdir);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    *why = as_xasprintf("cannot start the bitcode reader: %s", strerror(errno));
    free(path);
    return NULL;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
  posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
  /* LLVM's own complaints come back in the answers; a crash report
   * would only repeat, on the linker's terminal, what allocsel says. */
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  char *argv[] = {path, NULL};
  pid_t pid;
  int err = posix_spawn(&pid, path, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(sv[1]);
  if (err != 0) {
    close(sv[0]);
    *why = as_xasprintf("cannot run %s: %s", path, strerror(err));
    free(path);
    return NULL;
  }
  free(path);
  struct as_bitcode_reader *r = as_xcalloc(1, sizeof *r);
  r->pid = pid;
  r->fd = sv[0];
  return r;
}

static bool send_all(int fd, const void *p, size_t n) {
  while (n) {
    /* MSG_NOSIGNAL: a reader that died is an error here, not SIGPIPE. */
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p = (const char *)p + w;
    n -= (size_t)w;
  }
  return true;
}

static bool recv_all(int fd, void *p, size_t n) {
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return false;
    p = (char *)p + r;
    n -= (size_t)r;
  }
  return true;
}

/* A length-prefixed string, NUL-terminated; NULL if the stream broke. */
static char *recv_string(int fd, uint32_t *len) {
  if (!recv_all(fd, len, sizeof *len) || *len > AS_BC_MAX_STRING)
    return NULL;
  char *s = as_xmalloc((size_t)*len + 1);
  if (!recv_all(fd, s, *len)) {
    free(s);
    return NULL;
  }
  s[*len] = '\0';
  return s;
}

/* Reads an AS_BC_OK answer's symbols into `u`. */
static bool recv_symbols(struct as_link *link, struct as_unit *u, int fd) {
  uint8_t thin;
  uint32_t count;
  if (!recv_all(fd, &thin, 1) || !recv_all(fd, &count, sizeof count))
    return false;
  u->bitcode = true;
  u->thin_lto = thin;
  struct as_unit_caps caps = {0};
  for (uint32_t i = 0; i < count; i++) {
    uint8_t role;
    uint32_t len;
    if (!recv_all(fd, &role, 1))
      return false;
    char *name = recv_string(fd, &len);
    if (!name)
      return false;
    if (len && strlen(name) == len)
      as_unit_add_symbol(link, u, &caps, name, len, role == AS_BC_DEF,
                         role == AS_BC_WEAK_REF);
    free(name);
  }
  as_unit_finish(link, u);
  return true;
}

/* The reader died mid-answer: why, from its exit status. */
static char *death(struct as_link *link) {
  int status = 0;
  stop(link->bitcode, &status);
  link->bitcode = NULL;
  if (WIFSIGNALED(status))
    return as_xasprintf("LLVM's bitcode reader crashed on it (signal %d)",
                        WTERMSIG(status));
  return as_xasprintf("LLVM's bitcode reader failed on it (exit %d)",
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int as_scan_bitcode(struct as_link *link, struct as_unit *u, const char *path,
                    size_t file_off, size_t size) {
  const char *origin = as_unit_origin(link, u);
  char *why = NULL;
  if (!link->bitcode && !(link->bitcode = start(link, &why))) {
    as_diag_add(link, AS_ERROR, AS_E_NO_LLVM, "%s: LLVM bitcode input, but %s",
                origin, why);
    free(why);
    return -1;
  }
  int fd = link->bitcode->fd;
  uint32_t n = (uint32_t)strlen(path);
  uint64_t off = file_off, len = size;
  uint8_t status = 0xff;
  bool sent = send_all(fd, &n, sizeof n) && send_all(fd, path, n) &&
              send_all(fd, &off, sizeof off) && send_all(fd, &len, sizeof len);
  if (sent && recv_all(fd, &status, 1) && status == AS_BC_OK &&
      recv_symbols(link, u, fd))
    return 0;
  uint32_t mlen;
  char *msg = (status == AS_BC_ERROR || status == AS_BC_NO_LLVM)
                  ? recv_string(fd, &mlen)
                  : NULL;
  if (status == AS_BC_NO_LLVM && msg) {
    as_diag_add(link, AS_ERROR, AS_E_NO_LLVM, "%s: LLVM bitcode input, but %s",
                origin, msg);
  } else {
    /* A fatal LLVM error answers, then ends the reader: start anew next
     * time. Any other broken answer means it died. */
    bool fatal = msg && strncmp(msg, "LLVM ERROR: ", 12) == 0;
    char *reason = msg ? NULL : death(link);
    if (fatal) {
      stop(link->bitcode, NULL);
      link->bitcode = NULL;
    }
    as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT,
                "%s: malformed LLVM bitcode: %s", origin, msg ? msg : reason);
    free(reason);
  }
  free(msg);
  return -1;
}
