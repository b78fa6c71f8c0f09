/* Diagnostics in the linkers' style:
 *   allocsel: error: message
 *   >>> where each thing came from
 * and the same as JSON for tools. */
#include "internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  int n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  char *s = as_xmalloc(n > 0 ? (size_t)n + 1 : 1);
  vsnprintf(s, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
  return s;
}

struct as_diag *as_diag_add(struct as_link *link, enum as_diag_kind kind,
                            int exit_code, const char *code, const char *fmt,
                            ...) {
  struct as_diag *d = AS_PUSH(link->diags, link->ndiags, link->cap_diags);
  *d = (struct as_diag){.kind = kind, .exit_code = exit_code};
  d->code = as_xstrdup(code);
  va_list ap;
  va_start(ap, fmt);
  d->message = vformat(fmt, ap);
  va_end(ap);
  return d;
}

void as_diag_note(struct as_diag *d, const char *fmt, ...) {
  d->notes = realloc(d->notes, (d->nnotes + 1) * sizeof *d->notes);
  if (!d->notes)
    abort();
  va_list ap;
  va_start(ap, fmt);
  d->notes[d->nnotes++] = vformat(fmt, ap);
  va_end(ap);
}

int as_diag_exit_code(const struct as_link *link) {
  int code = 0;
  for (size_t i = 0; i < link->ndiags; i++)
    if (link->diags[i].kind == AS_ERROR && link->diags[i].exit_code > code)
      code = link->diags[i].exit_code;
  return code;
}

static const char *kind_name(enum as_diag_kind kind) {
  return kind == AS_ERROR ? "error" : kind == AS_WARNING ? "warning" : "note";
}

void as_diag_print(const struct as_link *link, FILE *out) {
  for (size_t i = 0; i < link->ndiags; i++) {
    const struct as_diag *d = &link->diags[i];
    fprintf(out, "%s: %s: %s\n", link->tool, kind_name(d->kind), d->message);
    for (size_t j = 0; j < d->nnotes; j++)
      fprintf(out, ">>> %s\n", d->notes[j]);
  }
}

void as_json_string(FILE *out, const char *s) {
  if (!s) {
    fputs("null", out);
    return;
  }
  putc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"':
      fputs("\\\"", out);
      break;
    case '\\':
      fputs("\\\\", out);
      break;
    case '\n':
      fputs("\\n", out);
      break;
    case '\t':
      fputs("\\t", out);
      break;
    default:
      if (*p < 0x20)
        fprintf(out, "\\u%04x", *p);
      else
        putc(*p, out);
    }
  }
  putc('"', out);
}

void as_diag_print_json(const struct as_link *link, FILE *out) {
  putc('[', out);
  for (size_t i = 0; i < link->ndiags; i++) {
    const struct as_diag *d = &link->diags[i];
    fprintf(out, "%s{\"kind\":\"%s\",\"code\":", i ? "," : "",
            kind_name(d->kind));
    as_json_string(out, d->code);
    fputs(",\"message\":", out);
    as_json_string(out, d->message);
    fputs(",\"notes\":[", out);
    for (size_t j = 0; j < d->nnotes; j++) {
      if (j)
        putc(',', out);
      as_json_string(out, d->notes[j]);
    }
    fputs("]}", out);
  }
  putc(']', out);
}
