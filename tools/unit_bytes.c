/* The bytes of a link's units: see unit_bytes.h. */
#include "unit_bytes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ar_format.h"
#include "frontend.h"

/* Whole file into memory. */
static char *slurp(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 1 << 16, n = 0, r;
  char *buf = as_xmalloc(cap);
  while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap)
      buf = as_grow(buf, &cap, cap + 1, 1);
  }
  fclose(f);
  *size = n;
  return buf;
}

int unit_bytes_open(struct unit_bytes *b, struct as_link *link) {
  *b = (struct unit_bytes){0};
  b->nfiles = link->ninputs;
  b->files = as_xcalloc(b->nfiles + 1, sizeof *b->files);
  b->sizes = as_xcalloc(b->nfiles + 1, sizeof *b->sizes);
  for (size_t i = 0; i < b->nfiles; i++) {
    b->files[i] = slurp(link->inputs[i]->path, &b->sizes[i]);
    if (!b->files[i]) {
      as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT, "cannot read %s: %s",
                  link->inputs[i]->path, strerror(errno));
      return 2;
    }
  }
  return 0;
}

int unit_bytes_get(struct unit_bytes *b, struct as_link *link,
                   const struct as_unit *u, const void **data, size_t *size) {
  if (u->file) {
    /* A thin archive's member: its bytes are its own file's. */
    char *own = slurp(u->file, size);
    if (!own) {
      as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT, "cannot read %s: %s", u->file,
                  strerror(errno));
      return 2;
    }
    *AS_PUSH(b->owned, b->nowned, b->cap_owned) = own;
    *data = own;
    return 0;
  }
  const char *buf = b->files[u->input];
  size_t fsize = b->sizes[u->input], n;
  if (!u->member) {
    *data = buf;
    *size = fsize;
    return 0;
  }
  const struct as_ar_hdr *h = (const void *)(buf + u->member_off);
  size_t skip = 0; /* a BSD "#1/N" name stands first in the data */
  if (u->member_off > fsize || fsize - u->member_off < sizeof *h ||
      !as_ar_hdr_size(h, &n) || n > fsize - u->member_off - sizeof *h ||
      (memcmp(h->name, "#1/", 3) == 0 &&
       (skip = strtoul(h->name + 3, NULL, 10)) > n)) {
    as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT, "%s: malformed member",
                as_unit_origin(link, u));
    return 2;
  }
  *data = buf + u->member_off + sizeof *h + skip;
  *size = n - skip;
  return 0;
}

void unit_bytes_close(struct unit_bytes *b) {
  for (size_t i = 0; i < b->nfiles; i++)
    free(b->files[i]);
  for (size_t i = 0; i < b->nowned; i++)
    free(b->owned[i]);
  free(b->files);
  free(b->sizes);
  free(b->owned);
  *b = (struct unit_bytes){0};
}
