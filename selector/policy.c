/* Policy every front end shares, decided here once: where the request
 * comes from (the front end's option, else ALLOCSEL_ALLOCATOR, else the
 * default ALLOCSEL_DEFAULT_ALLOCATOR), where the shipped allocators and
 * jemalloc live, which jemalloc a link can take, and what goes into the
 * link with a decision. Front ends only translate their inputs into these
 * calls and print. */
#include "link_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool readable(const char *path) {
  return access(path, R_OK) == 0;
}

/* jemalloc is available when its allocator object was built and Debian's
 * libjemalloc is still installed; a static link needs its archive,
 * libjemalloc_pic.a. ALLOCSEL_JEMALLOC_LIBRARY overrides the library found
 * at build time, ALLOCSEL_JEMALLOC_STATIC the archive; set empty, either
 * means "not installed". */
void as_env_init(struct as_env *env, const char *libdir) {
  *env = (struct as_env){.libdir = libdir,
                         .jemalloc_why_not = "jemalloc is not installed",
                         .jemalloc_static_why_not =
                             "jemalloc's static library (libjemalloc_pic.a) "
                             "is not installed"};
  const char *lib = getenv("ALLOCSEL_JEMALLOC_LIBRARY");
  if (!lib)
    lib = ALLOCSEL_JEMALLOC_LIBRARY;
  if (!*lib || !readable(lib))
    return;
  const char *pic = getenv("ALLOCSEL_JEMALLOC_STATIC");
  if (!pic)
    pic = ALLOCSEL_JEMALLOC_STATIC;
  char *obj = as_xasprintf("%s/jemalloc.o", libdir);
  char *priv = as_xasprintf("%s/jemalloc-private.o", libdir);
  if (readable(obj)) {
    env->jemalloc_library = lib;
    if (*pic && readable(pic)) {
      env->jemalloc_static = pic;
      /* Built from the archive: without it (or told so), none. */
      env->jemalloc_private = readable(priv);
    }
  }
  free(obj);
  free(priv);
}

bool as_output_is_guest(enum as_output_type type) {
  return type == AS_DYLIB || type == AS_STATICLIB;
}

bool as_jemalloc_usable(const struct as_env *env, enum as_output_type type,
                        const char **why_not) {
  if (!env->jemalloc_library) {
    *why_not = env->jemalloc_why_not;
    return false;
  }
  if (as_output_is_guest(type) && !env->jemalloc_private) {
    *why_not = "jemalloc's private copy for dylibs and staticlibs "
               "(lib/allocsel/jemalloc-private.o, built from "
               "libjemalloc_pic.a) is not installed";
    return false;
  }
  if (env->static_link && !env->jemalloc_static) {
    *why_not = env->jemalloc_static_why_not;
    return false;
  }
  return true;
}

/* The allocator `spec` requests for `type`: a bare name or path requests it
 * for every type; "executable=jemalloc,dylib=system" one per type, and
 * nothing for a type it does not name. NULL with *error set where a
 * per-type spec is malformed. */
static char *request_for_type(const char *spec, enum as_output_type type,
                              const char *origin, char **error) {
  const char *eq = strchr(spec, '=');
  char *head = eq ? as_xasprintf("%.*s", (int)(eq - spec), spec) : NULL;
  enum as_output_type t;
  bool per_type = head && as_output_type_parse(head, &t) == 0;
  /* "exe=jemalloc": a misspelt type, not a file in this directory. */
  if (head && !per_type && !strchr(spec, '/')) {
    *error = as_xasprintf("%s: '%s' is not an output type (expected "
                          "executable, dylib, staticlib or rlib)",
                          origin, head);
    free(head);
    return NULL;
  }
  free(head);
  if (!per_type)
    return as_xstrdup(spec);
  char *found = NULL;
  char *items = as_xstrdup(spec);
  for (char *save, *item = strtok_r(items, ",", &save); item;
       item = strtok_r(NULL, ",", &save)) {
    char *value = strchr(item, '=');
    if (value)
      *value++ = '\0';
    if (!value || !*value || as_output_type_parse(item, &t) != 0) {
      *error = as_xasprintf(
          "%s: '%s%s%s' is not TYPE=ALLOCATOR (TYPE is executable, dylib, "
          "staticlib or rlib)",
          origin, item, value ? "=" : "", value ? value : "");
      free(found);
      found = NULL;
      break;
    }
    if (t == type && !found)
      found = as_xstrdup(value);
  }
  free(items);
  return found;
}

/* Reads the request for `type` from `spec`, which came from `origin`
 * (owned). A default names a shipped allocator: an object would be linked
 * before the link could show that it brings its own, to which a default
 * gives way. */
static void request_from(struct as_request *req, const char *spec, char *origin,
                         enum as_output_type type, bool is_default) {
  req->origin = req->owned_origin = origin;
  req->is_default = is_default;
  req->allocator = req->owned_allocator =
      request_for_type(spec, type, origin, &req->error);
  if (req->error) {
    req->hint = "for example executable=jemalloc,dylib=system, or one "
                "allocator for every type";
  } else if (is_default && req->allocator &&
             !as_allocator_is_shipped(req->allocator)) {
    req->error = as_xasprintf("%s: '%s' is not a shipped allocator (a "
                              "default names system, jemalloc, mimalloc or "
                              "tcmalloc)",
                              origin, req->allocator);
    req->hint = "request the object instead (--allocator, ALLOCSEL_ALLOCATOR)";
  }
}

void as_request_init(struct as_request *req, const char *option_value,
                     const char *option_name, enum as_output_type type) {
  const char *env = getenv("ALLOCSEL_ALLOCATOR");
  *req = (struct as_request){0};
  if (option_value)
    request_from(req, option_value,
                 as_xasprintf("%s=%s", option_name, option_value), type, false);
  else if (env && *env)
    request_from(req, env, as_xasprintf("ALLOCSEL_ALLOCATOR=%s", env), type,
                 false);
  else if ((env = getenv("ALLOCSEL_DEFAULT_ALLOCATOR")) && *env)
    request_from(req, env, as_xasprintf("ALLOCSEL_DEFAULT_ALLOCATOR=%s", env),
                 type, true);
}

void as_request_init_default(struct as_request *req, const char *option_value,
                             const char *option_name,
                             enum as_output_type type) {
  *req = (struct as_request){0};
  request_from(req, option_value,
               as_xasprintf("%s=%s", option_name, option_value), type, true);
}

void as_request_free(struct as_request *req) {
  free(req->owned_origin);
  free(req->owned_allocator);
  free(req->error);
  *req = (struct as_request){0};
}

size_t as_decision_inputs(const struct as_decision *d, const struct as_env *env,
                          enum as_output_type type,
                          const char *out[AS_MAX_DECISION_INPUTS]) {
  size_t n = 0;
  if (d->inject_object)
    out[n++] = d->inject_object;
  /* jemalloc's code: its private copy holds it already (and calls libm);
   * a static executable or a staticlib takes its archive (the former also
   * libm); an rlib none (the final link adds it); a dynamic link the shared
   * library. A staticlib's users are told to link libm. */
  if (d->needs_jemalloc && type != AS_RLIB) {
    bool archive = env->static_link || type == AS_STATICLIB;
    if (!d->jemalloc_private)
      out[n++] = archive ? env->jemalloc_static : env->jemalloc_library;
    if ((d->jemalloc_private || archive) && type != AS_STATICLIB)
      out[n++] = "-lm";
  }
  /* A shipped allocator's library goes right after its object. */
  for (uint32_t i = 0; d->libraries_first && i < d->nlibraries &&
                       type != AS_RLIB && type != AS_STATICLIB;
       i++)
    out[n++] = d->libraries[i];
  return n;
}

size_t as_decision_libraries(const struct as_decision *d,
                             enum as_output_type type,
                             const char *out[AS_MAX_UNIT_LIBRARIES]) {
  /* For a link that makes an artifact: an rlib's final link adds them, a
   * staticlib cannot hold -lNAME. */
  size_t n = 0;
  if (d->libraries_first) /* as_decision_inputs placed them */
    return 0;
  for (uint32_t i = 0;
       i < d->nlibraries && type != AS_RLIB && type != AS_STATICLIB; i++)
    out[n++] = d->libraries[i];
  return n;
}
