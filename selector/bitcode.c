/* LLVM bitcode inputs: their symbols come from the bitcode reader process
 * (bitcode_reader.c, protocol in bitcode_protocol.h), started for the first
 * bitcode input of a link and kept for the rest. A link with no bitcode
 * starts nothing and loads no LLVM.
 *
 * Bitcode from a newer LLVM than allocsel's (clang-16's, say) is refused by
 * its LLVM. Where the reader fails on a module, the other LLVMs installed
 * (Debian's libLLVM-N.so.1, newest first) each get a reader of their own
 * and a try; the module is malformed only if none reads it. */
#include "link_internal.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bitcode_protocol.h"

extern char **environ;

/* One reader process, with the LLVM it loaded (NULL: the built-in one). */
struct reader {
  pid_t pid;
  int fd; /* our end of the socket */
  bool dead;
};

enum { AS_MAX_LLVMS = 8 };

struct as_bitcode_reader {
  struct reader *readers[AS_MAX_LLVMS]; /* [0]: the built-in LLVM */
  char *llvms[AS_MAX_LLVMS];            /* library of each; [0] NULL */
  size_t nllvms;
  bool listed; /* llvms[1..] looked up */
};

static void stop(struct reader *r, int *status) {
  if (!r)
    return;
  close(r->fd);
  int st = 0;
  while (waitpid(r->pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (status)
    *status = st;
  free(r);
}

void as_bitcode_reader_free(struct as_bitcode_reader *b) {
  if (!b)
    return;
  for (size_t i = 0; i < AS_MAX_LLVMS; i++) {
    stop(b->readers[i], NULL);
    free(b->llvms[i]);
  }
  free(b);
}

/* The environment for a reader loading `llvm` (NULL: unchanged). */
static char **reader_env(const char *llvm) {
  size_t n = 0;
  while (environ[n])
    n++;
  char **env = as_xcalloc(n + 2, sizeof *env);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (!llvm || strncmp(environ[i], "ALLOCSEL_LLVM_LIBRARY=", 22) != 0)
      env[k++] = environ[i];
  if (llvm)
    env[k++] = as_xasprintf("ALLOCSEL_LLVM_LIBRARY=%s", llvm);
  return env;
}

static struct reader *start(struct as_link *link, const char *llvm,
                            char **why) {
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
  char **env = reader_env(llvm);
  pid_t pid;
  int err = posix_spawn(&pid, path, &fa, NULL, argv, env);
  if (llvm) {
    size_t n = 0;
    while (env[n + 1])
      n++;
    free(env[n]); /* the ALLOCSEL_LLVM_LIBRARY we made */
  }
  free(env);
  posix_spawn_file_actions_destroy(&fa);
  close(sv[1]);
  if (err != 0) {
    close(sv[0]);
    *why = as_xasprintf("cannot run %s: %s", path, strerror(err));
    free(path);
    return NULL;
  }
  free(path);
  struct reader *r = as_xcalloc(1, sizeof *r);
  r->pid = pid;
  r->fd = sv[0];
  return r;
}

/* The version N of ".../libLLVM-N.so...", or 0. */
static int llvm_version(const char *path) {
  const char *p = strstr(path, "libLLVM-");
  return p ? atoi(p + 8) : 0;
}

static int newest_first(const void *a, const void *b) {
  return llvm_version(*(char *const *)b) - llvm_version(*(char *const *)a);
}

/* The other LLVMs installed, newest first, each once. */
static void list_llvms(struct as_bitcode_reader *b) {
  b->listed = true;
  char builtin[PATH_MAX] = "";
  const char *env = getenv("ALLOCSEL_LLVM_LIBRARY");
  if (!realpath(env ? env : ALLOCSEL_LLVM_LIBRARY, builtin))
    builtin[0] = '\0';
  glob_t g;
  if (glob("/usr/lib/*/libLLVM-*.so.1", 0, NULL, &g) != 0)
    return;
  qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, newest_first);
  for (size_t i = 0; i < g.gl_pathc && b->nllvms < AS_MAX_LLVMS; i++) {
    char real[PATH_MAX];
    if (!realpath(g.gl_pathv[i], real) || strcmp(real, builtin) == 0)
      continue;
    bool seen = false;
    for (size_t j = 1; j < b->nllvms && !seen; j++)
      seen = strcmp(b->llvms[j], real) == 0;
    if (!seen)
      b->llvms[b->nllvms++] = as_xstrdup(real);
  }
  globfree(&g);
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

/* The reader ended mid-answer: why, from its exit status. */
static char *death(struct reader **slot) {
  int status = 0;
  stop(*slot, &status);
  *slot = NULL;
  if (WIFSIGNALED(status))
    return as_xasprintf("LLVM's bitcode reader crashed on it (signal %d)",
                        WTERMSIG(status));
  return as_xasprintf("LLVM's bitcode reader failed on it (exit %d)",
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Asks the reader in *slot (started with `llvm` if need be) for a unit's
 * symbols. 0 with the symbols in u, else the status (AS_BC_NO_LLVM, or
 * AS_BC_ERROR for a module it cannot read) with *msg saying why. */
static int ask(struct as_link *link, struct reader **slot, const char *llvm,
               struct as_unit *u, const char *path, size_t file_off,
               size_t size, char **msg) {
  *msg = NULL;
  if (!*slot && !(*slot = start(link, llvm, msg)))
    return AS_BC_NO_LLVM;
  int fd = (*slot)->fd;
  uint32_t n = (uint32_t)strlen(path);
  uint64_t off = file_off, len = size;
  uint8_t status = 0xff;
  bool sent = send_all(fd, &n, sizeof n) && send_all(fd, path, n) &&
              send_all(fd, &off, sizeof off) && send_all(fd, &len, sizeof len);
  if (sent && recv_all(fd, &status, 1) && status == AS_BC_OK &&
      recv_symbols(link, u, fd))
    return 0;
  uint32_t mlen;
  if (status == AS_BC_ERROR || status == AS_BC_NO_LLVM)
    *msg = recv_string(fd, &mlen);
  if (!*msg) {
    *msg = death(slot); /* died mid-answer */
    return AS_BC_ERROR;
  }
  /* A fatal LLVM error answers, then ends the reader: start anew. */
  if (strncmp(*msg, "LLVM ERROR: ", 12) == 0) {
    stop(*slot, NULL);
    *slot = NULL;
  }
  return status == AS_BC_NO_LLVM ? AS_BC_NO_LLVM : AS_BC_ERROR;
}

int as_scan_bitcode(struct as_link *link, struct as_unit *u, const char *path,
                    size_t file_off, size_t size) {
  const char *origin = as_unit_origin(link, u);
  if (!link->bitcode) {
    link->bitcode = as_xcalloc(1, sizeof *link->bitcode);
    link->bitcode->nllvms = 1;
  }
  struct as_bitcode_reader *b = link->bitcode;
  char *msg;
  int rc = ask(link, &b->readers[0], NULL, u, path, file_off, size, &msg);
  if (rc == AS_BC_NO_LLVM) {
    struct as_diag *d =
        as_diag_add(link, AS_ERROR, AS_E_NO_LLVM,
                    "%s: LLVM bitcode input, but %s", origin, msg);
    as_diag_hint(d, "install the LLVM allocsel was built with (Debian's "
                    "llvm-dev), or link native objects");
    free(msg);
    return -1;
  }
  /* Another LLVM may read what this one cannot: a newer one first. */
  if (rc != 0 && !b->listed)
    list_llvms(b);
  for (size_t i = 1; rc != 0 && i < b->nllvms; i++) {
    char *other;
    as_unit_clear(u);
    if (ask(link, &b->readers[i], b->llvms[i], u, path, file_off, size,
            &other) == 0)
      rc = 0;
    free(other);
  }
  if (rc != 0)
    as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT,
                "%s: malformed LLVM bitcode: %s", origin, msg);
  free(msg);
  return rc == 0 ? 0 : -1;
}
