/* Diagnostics in the linkers' style:
 *   allocsel: error: message
 *   >>> where each thing came from
 * and the same as JSON for tools. */
#include "link_internal.h"

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

static const struct {
  const char *code;
  int exit;
  bool inputs;
} errors[AS_E_COUNT] = {
#define AS_ERROR_ROW(name, code, exit, inputs)                                 \
  [AS_E_##name] = {code, exit, inputs},
    AS_ERROR_TABLE(AS_ERROR_ROW)
#undef AS_ERROR_ROW
};

const char *as_error_code(enum as_error e) {
  return errors[e].code;
}

int as_error_exit(enum as_error e) {
  return errors[e].exit;
}

bool as_error_in_inputs(enum as_error e) {
  return errors[e].inputs;
}

struct as_diag *as_diag_add(struct as_link *link, enum as_diag_kind kind,
                            enum as_error error, const char *fmt, ...) {
  struct as_diag *d = AS_PUSH(link->diags, link->ndiags, link->cap_diags);
  *d = (struct as_diag){.kind = kind, .error = error};
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

void as_diag_truncate(struct as_link *link, size_t n) {
  while (link->ndiags > n) {
    struct as_diag *d = &link->diags[--link->ndiags];
    free(d->message);
    for (size_t j = 0; j < d->nnotes; j++)
      free(d->notes[j]);
    free(d->notes);
    free(d->hint);
  }
}

void as_diag_hint(struct as_diag *d, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  free(d->hint);
  d->hint = vformat(fmt, ap);
  va_end(ap);
}

bool as_diag_refused(const struct as_link *link) {
  for (size_t i = 0; i < link->ndiags; i++)
    if (link->diags[i].kind == AS_ERROR &&
        !as_error_in_inputs(link->diags[i].error))
      return true;
  return false;
}

int as_diag_exit_code(const struct as_link *link) {
  int code = 0;
  for (size_t i = 0; i < link->ndiags; i++)
    if (link->diags[i].kind == AS_ERROR &&
        as_error_exit(link->diags[i].error) > code)
      code = as_error_exit(link->diags[i].error);
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
    if (d->hint)
      fprintf(out, "hint: %s\n", d->hint);
  }
}

/* Length of the valid UTF-8 sequence at p (1 to 4), or 0 if p starts none:
 * overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_len(const unsigned char *p) {
  if (p[0] < 0x80)
    return 1;
  size_t n = p[0] >= 0xc2 && p[0] <= 0xdf   ? 2
             : p[0] >= 0xe0 && p[0] <= 0xef ? 3
             : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
                                            : 0;
  for (size_t i = 1; i < n; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
      (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
    return 0;
  return n;
}

/* A JSON string. JSON is UTF-8: a byte that starts no valid sequence (a
 * file name in another encoding) becomes U+FFFD, so the output always
 * parses; the text output keeps the bytes. */
void as_json_string(FILE *out, const char *s) {
  if (!s) {
    fputs("null", out);
    return;
  }
  putc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = utf8_len(p);
    if (n == 0) {
      fputs("\\ufffd", out);
      p++;
      continue;
    }
    if (n > 1) {
      fwrite(p, 1, n, out);
      p += n;
      continue;
    }
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
      if (*p < 0x20 || *p == 0x7f)
        fprintf(out, "\\u%04x", *p);
      else
        putc(*p, out);
    }
    p++;
  }
  putc('"', out);
}

void as_diag_print_json(const struct as_link *link, FILE *out) {
  putc('[', out);
  for (size_t i = 0; i < link->ndiags; i++) {
    const struct as_diag *d = &link->diags[i];
    fprintf(out, "%s{\"kind\":\"%s\",\"code\":", i ? "," : "",
            kind_name(d->kind));
    as_json_string(out, as_error_code(d->error));
    fputs(",\"message\":", out);
    as_json_string(out, d->message);
    fputs(",\"notes\":[", out);
    for (size_t j = 0; j < d->nnotes; j++) {
      if (j)
        putc(',', out);
      as_json_string(out, d->notes[j]);
    }
    fputs("],\"hint\":", out);
    as_json_string(out, d->hint);
    putc('}', out);
  }
  putc(']', out);
}

/* Edit distance, for near-miss names; capped, the names are short. */
static size_t distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63)
    return SIZE_MAX;
  size_t row[64];
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

const char *as_nearest(const char *word, const char *const *names, size_t n) {
  const char *best = NULL;
  size_t best_d = SIZE_MAX;
  for (size_t i = 0; i < n; i++) {
    size_t d = distance(word, names[i]);
    if (d < best_d) {
      best_d = d;
      best = names[i];
    }
  }
  /* Close enough to be a typo: at most 2 edits, and less than half. */
  return best && best_d <= 2 && best_d * 2 < strlen(best) ? best : NULL;
}

char *as_seal_command(struct as_link *link, const struct as_unit *u) {
  const char *path = link->inputs[u->input]->path;
  const char *slash = strrchr(path, '/');
  size_t dir = slash ? (size_t)(slash - path + 1) : 0;
  size_t stem = strlen(path + dir);
  if (stem > 2 && strcmp(path + dir + stem - 2, ".a") == 0)
    stem -= 2;
  return as_xasprintf("allocsel seal -o %.*s%.*s.sealed.a %s", (int)dir, path,
                      (int)stem, path + dir, path);
}
