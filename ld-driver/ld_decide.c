/* The decision for a linker command line (see ld_decide.h). */
#include "ld_decide.h"

#include <string.h>

enum as_archive_order ld_archive_order(const char *choice, const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  bool gnu = strcmp(choice, "bfd") == 0 || strcmp(choice, "gold") == 0 ||
             strcmp(base, "ld") == 0 || strncmp(base, "ld.bfd", 6) == 0 ||
             strncmp(base, "ld.gold", 7) == 0 || strstr(base, "-ld.bfd") ||
             strstr(base, "-ld.gold") || strcmp(base, "collect2") == 0;
  return gnu ? AS_ORDER_COMMAND_LINE : AS_ORDER_ANY;
}

int ld_output_type(const struct ld_cmdline *cl, enum as_output_type *type) {
  *type = cl->relocatable ? AS_RLIB : cl->shared ? AS_DYLIB : AS_EXECUTABLE;
  return cl->type ? as_output_type_parse(cl->type, type) : 0;
}

struct as_link *ld_decide(const struct ld_cmdline *cl, enum as_output_type type,
                          enum as_archive_order order, struct as_env *env,
                          struct as_decision *dec,
                          bool (*known)(const struct as_link *link, void *ctx),
                          void *ctx) {
  struct as_request req;
  as_request_init(&req, cl->allocator,
                  cl->allocator_option ? cl->allocator_option
                                       : "--allocsel-allocator");
  struct as_link *link = as_link_new(type);
  as_link_use_cache(link);
  link->libdir = env->libdir;
  link->order = order;
  ld_cmdline_add_inputs(cl, link);
  if (as_diag_exit_code(link) == 0 && as_link_add_request(link, &req) == 0 &&
      !(known && known(link, ctx))) {
    as_link_resolve(link);
    as_decide(link, &req, env, dec);
  }
  as_request_free(&req);
  return link;
}
