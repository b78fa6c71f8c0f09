/* Where the shipped allocators live: lib/allocsel beside the running
 * executable's bin/, as installed. ALLOCSEL_LIBDIR overrides it. */
#include "internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *as_default_libdir(void) {
  const char *env = getenv("ALLOCSEL_LIBDIR");
  if (env && *env)
    return as_xstrdup(env);
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return as_xstrdup(ALLOCSEL_INSTALL_LIBDIR);
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash)
    *slash = '\0'; /* .../bin */
  return as_xasprintf("%s/../lib/allocsel", exe);
}

static bool readable(const char *path) {
  return access(path, R_OK) == 0;
}

/* jemalloc is available when its allocator object was built and Debian's
 * libjemalloc is still installed. ALLOCSEL_JEMALLOC_LIBRARY overrides the
 * library found at build time; set empty, it means "not installed". */
void as_env_init(struct as_env *env, const char *libdir) {
  env->libdir = libdir;
  env->jemalloc_library = NULL;
  env->jemalloc_static = NULL;
  env->jemalloc_why_not = "jemalloc is not installed";
  env->lto_inject = false; /* a front end that can add bitcode says so */
  const char *lib = getenv("ALLOCSEL_JEMALLOC_LIBRARY");
  if (!lib)
    lib = ALLOCSEL_JEMALLOC_LIBRARY;
  if (!*lib || !readable(lib))
    return;
  char *obj = as_xasprintf("%s/jemalloc.o", libdir);
  if (readable(obj)) {
    env->jemalloc_library = lib;
    if (readable(ALLOCSEL_JEMALLOC_STATIC))
      env->jemalloc_static = ALLOCSEL_JEMALLOC_STATIC;
  }
  free(obj);
}
