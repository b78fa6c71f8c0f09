/* Writes a GNU ar archive with its symbol index, the format ld.bfd, gold,
 * lld and mold read. The index comes from the selector's scan, so each input
 * is read once; member bytes are copied as they are. */
#include "ar_writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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
  const char *base = strrchr(name, '/');
  *AS_PUSH(w->entries, w->n, w->cap) = (struct ar_entry){
      as_xstrdup(base ? base + 1 : name), data, size, syms, nsyms, link};
}

/* Fixed-width header: name, mtime 0, uid 0, gid 0, mode, size (sizes were
 * checked to fit in 32 bits, so 10 digits). */
static void header(FILE *f, const char *name, size_t size) {
  fprintf(f, "%-16.16s%-12d%-6d%-6d%-8o%-10.10u`\n", name, 0, 0, 0, 0644,
          (unsigned)size);
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

  FILE *f = fopen(path, "wb");
  if (!f) {
    *error = as_xasprintf("cannot write %s: %s", path, strerror(errno));
    free(name_off);
    free(member_off);
    return -1;
  }
  fputs("!<arch>\n", f);
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
  if (ferror(f) | (fclose(f) != 0)) {
    *error = as_xasprintf("cannot write %s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

void ar_writer_free(struct ar_writer *w) {
  for (size_t i = 0; i < w->n; i++)
    free(w->entries[i].name);
  free(w->entries);
  free(w);
}
