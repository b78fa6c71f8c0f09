/* One link's decision, for every front end (see session.h). */
#include "session.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void as_session_init(struct as_session *s, enum as_output_type type,
                     const char *libdir, const char *allocator,
                     const char *option, bool verbose) {
  *s = (struct as_session){.type = type, .record_fd = -1};
  as_env_init(&s->env, libdir);
  as_request_init(&s->req, allocator, option, type);
  s->verbose = verbose || as_env_flag("ALLOCSEL_VERBOSE", false);
  s->link = as_link_new(type);
  as_link_use_cache(s->link);
  s->link->libdir = s->env.libdir;
}

void as_session_remember(struct as_session *s, const struct ld_cmdline *cl,
                         const char *self, const char *linker,
                         enum as_archive_order order) {
  s->cl = cl;
  s->self = self;
  s->linker = linker;
  s->order = order;
}

/* Was this very link decided before (the link memory holds its digest)?
 * Then that decision stands, and resolution is skipped. */
static bool known_link(struct as_session *s) {
  if (!s->cl || !(s->memory_path = link_memory_path(s->cl, s->linker)))
    return false;
  uint64_t seed[2];
  link_memory_seed(seed, s->cl, s->self, s->linker, s->type, s->order, &s->env);
  s->have_digest = as_link_digest(s->link, seed, s->digest);
  return s->have_digest && link_memory_read(s->memory_path, &s->memory) &&
         link_memory_known(&s->memory, s->digest);
}

/* The remembered decision: its additions and its record as they were.
 * Returns as_diag_exit_code. */
static int take_known(struct as_session *s, FILE *out) {
  const struct link_memory *m = &s->memory;
  s->nadded = m->h.nadded;
  memcpy(s->added, m->strings, s->nadded * sizeof *s->added);
  s->nlibs = m->h.nlibs;
  memcpy(s->libs, m->strings + s->nadded, s->nlibs * sizeof *s->libs);
  size_t size;
  const char *text = link_memory_text(m, &size);
  if (out)
    fwrite(text, 1, size, out);
  if (out && s->verbose)
    fputs("allocsel: the link is the remembered one\n", out);
  if (!m->h.has_record)
    return 0;
  const char *record = link_memory_record(m, &size);
  char *error = NULL;
  s->record_fd = as_record_object_from(record, size, &s->record, &error);
  if (s->record_fd < 0) {
    as_diag_add(s->link, AS_ERROR, AS_E_WRITE_FAILED, "%s", error);
    if (out)
      as_diag_print(s->link, out);
  }
  free(error);
  return as_diag_exit_code(s->link);
}

/* What the decision adds to the link, its record included. */
static void take_decision(struct as_session *s) {
  s->nadded = as_decision_inputs(&s->dec, &s->env, s->type, s->added);
  s->nlibs = as_decision_libraries(&s->dec, s->type, s->libs);
  char *error = NULL;
  s->record_fd = as_record_object(&s->dec, s->type, &s->record, &error);
  if (s->record_fd < 0)
    as_diag_add(s->link, AS_ERROR, AS_E_WRITE_FAILED, "%s", error);
  free(error);
}

/* The diagnostics and, verbose, the decision: to `f`. */
static void say(const struct as_session *s, FILE *f) {
  as_diag_print(s->link, f);
  if (s->rc != 0 || !s->verbose)
    return;
  const struct as_decision *d = &s->dec;
  fprintf(f, "allocsel: allocator: %s (%s)%s\n", d->name ? d->name : "none",
          d->reason, d->inject_bitcode ? ", as bitcode for LTO" : "");
  if (d->malloc)
    fprintf(f, "allocsel: malloc: %s\n", d->malloc);
  const struct as_link *link = s->link;
  if (!link->scan_why)
    fputs("allocsel: inputs read quickly: none is or may be an allocator, "
          "define the ABI or carry a marker\n",
          f);
  else if (link->scan_input)
    fprintf(f, "allocsel: inputs read in full: %s: %s\n", link->scan_input,
            link->scan_why);
  else
    fprintf(f, "allocsel: inputs read in full: %s\n", link->scan_why);
}

int as_session_decide(struct as_session *s, FILE *out) {
  struct as_link *link = s->link;
  link->type = s->type;
  if (as_diag_exit_code(link) == 0 && as_link_add_request(link, &s->req) == 0 &&
      known_link(s)) {
    s->known = true;
    return s->rc = take_known(s, out);
  }
  if (as_diag_exit_code(link) == 0) {
    as_link_resolve(link);
    as_cache_save(link); /* what the inputs and the resolution taught */
    as_decide(link, &s->req, &s->env, &s->dec);
    if (as_diag_exit_code(link) == 0)
      take_decision(s);
  }
  s->rc = as_diag_exit_code(link);
  if (!out)
    return s->rc; /* the caller says it (allocsel check's formats) */
  /* Kept as said, for the link memory: a relink says it again. */
  FILE *said = s->memory_path ? open_memstream(&s->said, &s->said_size) : NULL;
  say(s, said ? said : out);
  if (said) {
    fclose(said);
    fwrite(s->said, 1, s->said_size, out);
  }
  return s->rc;
}

void as_session_keep(struct as_session *s) {
  /* Remembered before the link: a link that fails decided all the same. */
  if (s->rc == 0 && !s->known && s->memory_path)
    link_memory_write(s->memory_path, s->added, s->nadded, s->record_fd,
                      s->libs, s->nlibs, s->have_digest ? s->digest : NULL,
                      s->said, s->said_size);
}

void as_session_free(struct as_session *s) {
  if (s->record_fd >= 0)
    close(s->record_fd);
  free(s->record);
  as_decision_free(&s->dec);
  as_request_free(&s->req);
  link_memory_free(&s->memory);
  free(s->memory_path);
  free(s->said);
  as_link_free(s->link);
  *s = (struct as_session){.record_fd = -1};
}

void as_session_outcome(const struct as_session *s, char **allocator,
                        char **malloc_by) {
  *allocator = *malloc_by = NULL;
  if (s->rc != 0)
    return;
  if (!s->known) {
    *allocator = as_xstrdup(s->dec.name ? s->dec.name : "none");
    *malloc_by = as_xstrdup(s->dec.malloc ? s->dec.malloc : "libc");
    return;
  }
  size_t size;
  const char *record =
      s->memory.h.has_record ? link_memory_record(&s->memory, &size) : NULL;
  if (!record)
    return;
  struct as_record r;
  as_record_from_object(record, size, as_output_type_name(s->type), &r);
  *allocator = r.allocator, *malloc_by = r.malloc;
  r.allocator = r.malloc = NULL;
  as_record_free(&r);
}
