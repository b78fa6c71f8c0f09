/* Writes a GNU ar archive with its symbol index, the format ld.bfd, gold,
 * lld and mold read. The index comes from the selector's scan, so each input
 * is read once; member bytes are copied as they are. */
#include "ar_writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static mode_t current_umask(void) {
  mode_t m = umask(0);
  umask(m);
  return m;
}

#include "ar_format.h"
#include "frontend.h"

struct ar_entry {
  char *name;
  const void *data;
  size_t size;
  const uint32_t *syms; /* defined symbol ids */
  uint32_t nsyms;
  const struct as_link *link;
};

struct ar_writer {
  struct ar_entry *entries;
  size_t n, cap;
};

struct ar_writer *ar_writer_new(void) {
  return as_xcalloc(1, sizeof(struct ar_writer));
}

void ar_writer_add(struct ar_writer *w, const char *name, const void *data,
                   size_t size, const struct as_link *link,
                   const uint32_t *syms, uint32_t nsyms) {
  *AS_PUSH(w->entries, w->n, w->cap) = (struct ar_entry){
      as_xstrdup(as_base_name(name)), data, size, syms, nsyms, link};
}

/* A member header (sizes were checked to fit in 32 bits: 10 digits). */
static void header(FILE *f, const char *name, size_t size) {
  struct as_ar_hdr h;
  as_ar_hdr_fill(&h, name, size);
  fwrite(&h, sizeof h, 1, f);
}

static void put_be32(FILE *f, uint32_t v) {
  unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};
  fwrite(b, 1, 4, f);
}

int ar_writer_write(struct ar_writer *w, const char *path, char **error) {
  /* Long names go to "//" as "name/\n"; short ones inline as "name/". */
  size_t longnames = 0;
  size_t *name_off = as_xcalloc(w->n, sizeof *name_off);
  for (size_t i = 0; i < w->n; i++)
    if (strlen(w->entries[i].name) > 15) {
      name_off[i] = longnames;
      longnames += strlen(w->entries[i].name) + 2;
    }
  size_t nsyms = 0, strsize = 0;
  for (size_t i = 0; i < w->n; i++)
    for (uint32_t j = 0; j < w->entries[i].nsyms; j++) {
      nsyms++;
      strsize +=
          strlen(as_sym_name(w->entries[i].link, w->entries[i].syms[j])) + 1;
    }
  size_t symtab = 4 + 4 * nsyms + strsize;
  size_t off = 8 + 60 + symtab + (symtab & 1);
  if (longnames)
    off += 60 + longnames + (longnames & 1);
  uint32_t *member_off = as_xcalloc(w->n, sizeof *member_off);
  for (size_t i = 0; i < w->n; i++) {
    member_off[i] = (uint32_t)off;
    off += 60 + w->entries[i].size + (w->entries[i].size & 1);
  }
  if (off > UINT32_MAX) {
    *error = as_xstrdup("archive larger than 4 GiB");
    free(name_off);
    free(member_off);
    return -1;
  }

  /* A temporary file beside the output, renamed over it once complete: a
   * failed write (a full disk) leaves the old archive whole, and a symlink
   * at the output's name is replaced, never written through. */
  char *tmp = as_xasprintf("%s.allocsel-XXXXXX", path);
  int fd = mkstemp(tmp);
  FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  if (!f) {
    *error = as_xasprintf("cannot write %s: %s", path, strerror(errno));
    if (fd >= 0) {
      close(fd);
      unlink(tmp);
    }
    free(tmp);
    free(name_off);
    free(member_off);
    return -1;
  }
  fchmod(fd, 0644 & ~current_umask());
  fputs(AS_AR_MAGIC, f);
  header(f, "/", symtab);
  put_be32(f, (uint32_t)nsyms);
  for (size_t i = 0; i < w->n; i++)
    for (uint32_t j = 0; j < w->entries[i].nsyms; j++)
      put_be32(f, member_off[i]);
  for (size_t i = 0; i < w->n; i++)
    for (uint32_t j = 0; j < w->entries[i].nsyms; j++) {
      const char *s = as_sym_name(w->entries[i].link, w->entries[i].syms[j]);
      fwrite(s, 1, strlen(s) + 1, f);
    }
  if (symtab & 1)
    putc('\n', f);
  if (longnames) {
    header(f, "//", longnames);
    for (size_t i = 0; i < w->n; i++)
      if (strlen(w->entries[i].name) > 15)
        fprintf(f, "%s/\n", w->entries[i].name);
    if (longnames & 1)
      putc('\n', f);
  }
  for (size_t i = 0; i < w->n; i++) {
    const struct ar_entry *e = &w->entries[i];
    char name[32];
    if (strlen(e->name) > 15)
      snprintf(name, sizeof name, "/%zu", name_off[i]);
    else
      snprintf(name, sizeof name, "%s/", e->name);
    header(f, name, e->size);
    fwrite(e->data, 1, e->size, f);
    if (e->size & 1)
      putc('\n', f);
  }
  free(name_off);
  free(member_off);
  int rc = 0;
  if (ferror(f) | (fflush(f) != 0) | (fsync(fd) != 0) | (fclose(f) != 0)) {
    *error = as_xasprintf("cannot write %s: %s", path, strerror(errno));
    rc = -1;
  } else if (rename(tmp, path) != 0) {
    *error = as_xasprintf("cannot write %s: %s", path, strerror(errno));
    rc = -1;
  }
  if (rc != 0)
    unlink(tmp);
  free(tmp);
  return rc;
}

void ar_writer_free(struct ar_writer *w) {
  for (size_t i = 0; i < w->n; i++)
    free(w->entries[i].name);
  free(w->entries);
  free(w);
}
