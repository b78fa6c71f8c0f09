/* The library `allocsel run` preloads into every program of a build: a
 * linker started at any depth (gcc -> collect2 -> ld, clang -> ld.lld, a
 * Makefile calling ld) runs as allocsel-ld over that same linker.
 *
 * Every exec and posix_spawn function a program can call is hooked (glibc's
 * execl, execvp, ... reach execve inside libc, past any preload), as mold's
 * `-run` hooks them; posix_spawnp is how GCC 14 starts ld. For each:
 *
 *  - ALLOCSEL_RUN (allocsel-ld's path) or ALLOCSEL_RUN_HOOK (this
 *    library as LD_PRELOAD names it) absent from the new program's
 *    environment: the build scrubbed it (env -i); nothing is touched, and
 *    what that program links is named as bypassed when the run ends;
 *  - the environment keeps them but lost this library from LD_PRELOAD (a
 *    child that set LD_PRELOAD for itself, fakeroot): it is appended again,
 *    in a copy;
 *  - a linker by name (linker_name.h), not allocsel-ld itself and not
 *    started by allocsel-ld (ALLOCSEL_LD_ACTIVE): allocsel-ld runs instead,
 *    as `allocsel-ld --allocsel-linker=LINKER ARGS...`.
 *
 * LD_PRELOAD names this library through the loader's $LIB, so that an
 * i386 program finds its own build of it, and no program prints the
 * loader's "cannot be preloaded" error.
 *
 * The caller's argv and environment are never written: the copies live on
 * the hook's stack. Nothing here allocates or takes a lock, since a vfork
 * child (libiberty's pex, which collect2 uses) shares its parent's memory. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linker_name.h"

#define EXPORT __attribute__((visibility("default")))

typedef int execve_fn(const char *, char *const[], char *const[]);
typedef int spawn_fn(pid_t *, const char *, const posix_spawn_file_actions_t *,
                     const posix_spawnattr_t *, char *const[], char *const[]);

static execve_fn *real_execve, *real_execvpe;
static spawn_fn *real_spawn, *real_spawnp;
__attribute__((constructor)) static void init(void) {
  real_execve = (execve_fn *)dlsym(RTLD_NEXT, "execve");
  real_execvpe = (execve_fn *)dlsym(RTLD_NEXT, "execvpe");
  real_spawn = (spawn_fn *)dlsym(RTLD_NEXT, "posix_spawn");
  real_spawnp = (spawn_fn *)dlsym(RTLD_NEXT, "posix_spawnp");
}

static size_t count(char *const v[]) {
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

static const char *env_get(char *const envp[], const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; envp && envp[i]; i++)
    if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
      return envp[i] + n + 1;
  return NULL;
}

/* Does LD_PRELOAD's value (space- or colon-separated) name `self`? */
static bool preloads(const char *value, const char *self) {
  size_t n = strlen(self);
  for (const char *p = value; p && (p = strstr(p, self)); p += n)
    if ((p == value || p[-1] == ' ' || p[-1] == ':') &&
        (p[n] == '\0' || p[n] == ' ' || p[n] == ':'))
      return true;
  return false;
}

/* The room a plan needs on the caller's stack, for the environment and
 * argv of the program it may start instead. */
struct room {
  size_t nenv, nargv, preload_size;
};

static struct room room_for(char *const argv[], char *const envp[]) {
  const char *preload = env_get(envp, "LD_PRELOAD");
  const char *self = env_get(envp, "ALLOCSEL_RUN_HOOK");
  return (struct room){count(envp), count(argv),
                       sizeof "LD_PRELOAD= " + (self ? strlen(self) : 0) +
                           (preload ? strlen(preload) : 0)};
}

struct plan {
  const char *path;
  char *const *argv, *const *envp;
  bool routed; /* path is allocsel-ld, to be run with execve */
};

/* What runs instead of (path, argv, envp): the same with this library kept
 * in LD_PRELOAD, or allocsel-ld over the linker. The copies go into the
 * caller's buffers, sized by room_for. */
static struct plan plan(const char *path, bool search, char *const argv[],
                        char *const envp[], const struct room *room,
                        char **env2, char *preload, char **argv2,
                        char *linker_opt) {
  struct plan p = {path, argv, envp, false};
  const char *allocsel_ld = env_get(envp, "ALLOCSEL_RUN");
  const char *self = env_get(envp, "ALLOCSEL_RUN_HOOK");
  if (!allocsel_ld || !*allocsel_ld || !self || !*self)
    return p;
  const char *old = env_get(envp, "LD_PRELOAD");
  if (!old || !preloads(old, self)) {
    size_t n = 0;
    for (size_t i = 0; i < room->nenv; i++)
      if (strncmp(envp[i], "LD_PRELOAD=", 11) != 0)
        env2[n++] = envp[i];
    strcpy(preload, "LD_PRELOAD=");
    if (old && *old) {
      strcat(preload, old);
      strcat(preload, " ");
    }
    strcat(preload, self);
    env2[n++] = preload;
    env2[n] = NULL;
    p.envp = env2;
  }
  if (env_get(envp, "ALLOCSEL_LD_ACTIVE") || ld_kind_of(path) == LD_NONE)
    return p;
  static const char opt[] = "--allocsel-linker=";
  char *linker = linker_opt + sizeof opt - 1;
  if (!ld_locate(path, search, linker))
    return p; /* not found: the exec fails as it would have */
  /* allocsel-ld under a linker's name (gcc's -B directory) is routed
   * already. */
  if (ld_same_file(linker, allocsel_ld))
    return p;
  memcpy(linker_opt, opt, sizeof opt - 1);
  size_t n = 0;
  argv2[n++] = room->nargv ? argv[0] : (char *)allocsel_ld;
  argv2[n++] = linker_opt;
  for (size_t i = 1; i < room->nargv; i++)
    argv2[n++] = argv[i];
  argv2[n] = NULL;
  p.path = allocsel_ld;
  p.argv = argv2;
  p.routed = true;
  return p;
}

/* Declares the plan's buffers on the calling hook's stack and plans. */
#define PLAN(p, path, search, argv, envp)                                      \
  struct room room_ = room_for(argv, envp);                                    \
  char *env2_[room_.nenv + 2], preload_[room_.preload_size];                   \
  char *argv2_[room_.nargv + 3], linker_opt_[PATH_MAX + 32];                   \
  struct plan p = plan(path, search, argv, envp, &room_, env2_, preload_,      \
                       argv2_, linker_opt_)

static void need_init(void) {
  if (!real_execve)
    init();
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  need_init();
  PLAN(p, path, false, argv, envp);
  return real_execve(p.path, p.argv, p.envp);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  need_init();
  PLAN(p, file, true, argv, envp);
  return p.routed ? real_execve(p.path, p.argv, p.envp)
                  : real_execvpe(p.path, p.argv, p.envp);
}

EXPORT int execv(const char *path, char *const argv[]) {
  return execve(path, argv, environ);
}

EXPORT int execvp(const char *file, char *const argv[]) {
  return execvpe(file, argv, environ);
}

/* execl, execlp, execle: the arguments into an array, on the stack. */
#define ARGS_FROM_LIST(arg0, ap, argv, envp_out)                               \
  size_t n_ = 1;                                                               \
  va_list count_;                                                              \
  va_start(count_, arg0);                                                      \
  while (va_arg(count_, char *))                                               \
    n_++;                                                                      \
  va_end(count_);                                                              \
  char *argv[n_ + 1];                                                          \
  va_start(ap, arg0);                                                          \
  argv[0] = (char *)arg0;                                                      \
  for (size_t i_ = 1; i_ <= n_; i_++)                                          \
    argv[i_] = va_arg(ap, char *);                                             \
  envp_out;                                                                    \
  va_end(ap)

EXPORT int execl(const char *path, const char *arg, ...) {
  va_list ap;
  ARGS_FROM_LIST(arg, ap, argv, (void)0);
  return execve(path, argv, environ);
}

EXPORT int execlp(const char *file, const char *arg, ...) {
  va_list ap;
  ARGS_FROM_LIST(arg, ap, argv, (void)0);
  return execvpe(file, argv, environ);
}

EXPORT int execle(const char *path, const char *arg, ...) {
  va_list ap;
  char *const *envp;
  ARGS_FROM_LIST(arg, ap, argv, envp = va_arg(ap, char *const *));
  return execve(path, argv, envp);
}

EXPORT int posix_spawn(pid_t *pid, const char *path,
                       const posix_spawn_file_actions_t *actions,
                       const posix_spawnattr_t *attr, char *const argv[],
                       char *const envp[]) {
  need_init();
  PLAN(p, path, false, argv, envp);
  return real_spawn(pid, p.path, actions, attr, p.argv, p.envp);
}

EXPORT int posix_spawnp(pid_t *pid, const char *file,
                        const posix_spawn_file_actions_t *actions,
                        const posix_spawnattr_t *attr, char *const argv[],
                        char *const envp[]) {
  need_init();
  PLAN(p, file, true, argv, envp);
  return p.routed ? real_spawn(pid, p.path, actions, attr, p.argv, p.envp)
                  : real_spawnp(pid, p.path, actions, attr, p.argv, p.envp);
}
