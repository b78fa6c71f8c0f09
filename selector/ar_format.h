/* The ar archive format: one header type and its checks, shared by every
 * reader (selector/archive.c, the linker plugin's member names, `allocsel
 * staticlib`) and the writer (tools/ar_writer.c). Self-contained: a front
 * end may include it without the selector's internals. */
#ifndef ALLOCSEL_AR_FORMAT_H
#define ALLOCSEL_AR_FORMAT_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AS_AR_MAGIC "!<arch>\n"
#define AS_AR_THIN_MAGIC "!<thin>\n"
enum { AS_AR_MAGIC_LEN = 8 };

/* One member header, as it stands in the file (all text, space padded). */
struct as_ar_hdr {
  char name[16];
  char date[12];
  char uid[6];
  char gid[6];
  char mode[8];
  char size[10];
  char fmag[2]; /* "`\n" */
};
_Static_assert(sizeof(struct as_ar_hdr) == 60, "ar header is 60 bytes");

/* The member's size from its header; false when the header is malformed
 * (bad terminator, a size field that is not a decimal number). */
static inline bool as_ar_hdr_size(const struct as_ar_hdr *h, size_t *size) {
  if (h->fmag[0] != '`' || h->fmag[1] != '\n')
    return false;
  size_t n = 0, i = 0;
  for (; i < sizeof h->size && h->size[i] >= '0' && h->size[i] <= '9'; i++)
    n = n * 10 + (size_t)(h->size[i] - '0');
  if (i == 0)
    return false;
  for (; i < sizeof h->size; i++)
    if (h->size[i] != ' ')
      return false;
  *size = n;
  return true;
}

static inline bool as_ar_name_is(const struct as_ar_hdr *h, const char *s) {
  size_t n = strlen(s);
  return memcmp(h->name, s, n) == 0 && (n == 16 || h->name[n] == ' ');
}

/* GNU's symbol index ("/", "/SYM64/"), GNU's long-name table ("//"). */
static inline bool as_ar_is_gnu_index(const struct as_ar_hdr *h) {
  return as_ar_name_is(h, "/") || as_ar_name_is(h, "/SYM64/");
}
static inline bool as_ar_is_longnames(const struct as_ar_hdr *h) {
  return as_ar_name_is(h, "//");
}
/* GNU's long-name reference "/N": the name stands at N in "//". */
static inline bool as_ar_is_long_ref(const struct as_ar_hdr *h) {
  return h->name[0] == '/' && h->name[1] >= '0' && h->name[1] <= '9';
}

/* A member's name as its header gives it, pointing into h or `longnames`
 * (the "//" member's data; NULL: none read): a short name (GNU's "name/"
 * without its slash; "/", "//" and "/SYM64/" as they are) or, for "/N",
 * the long name at N. False where that long name does not exist. BSD's
 * "#1/N" names stand in the member's data: the caller reads them. */
static inline bool as_ar_member_name(const struct as_ar_hdr *h,
                                     const char *longnames,
                                     size_t longnames_size, const char **name,
                                     size_t *len) {
  if (as_ar_is_long_ref(h)) {
    size_t at = strtoul(h->name + 1, NULL, 10);
    if (!longnames || at >= longnames_size)
      return false;
    *name = longnames + at;
    const char *end = (const char *)memchr(*name, '\n', longnames_size - at);
    *len = end ? (size_t)(end - *name) : longnames_size - at;
    if (*len && (*name)[*len - 1] == '/')
      (*len)--;
    return true;
  }
  *name = h->name;
  *len = sizeof h->name;
  while (*len && h->name[*len - 1] == ' ')
    (*len)--;
  if (h->name[0] != '/' && *len && h->name[*len - 1] == '/')
    (*len)--; /* GNU "name/"; "/", "//" and "/SYM64/" stay as they are */
  return true;
}

/* BSD's symbol index: "__.SYMDEF", "__.SYMDEF SORTED", or as a "#1/" name. */
static inline bool as_ar_is_bsd_index_name(const char *name, size_t len) {
  return len >= 9 && memcmp(name, "__.SYMDEF", 9) == 0;
}

/* A big-endian word of the GNU symbol index: 4 bytes, or 8 in a /SYM64/
 * index. */
static inline uint64_t as_ar_index_word(const unsigned char *p, size_t n) {
  if (n == 4) {
    uint32_t v;
    memcpy(&v, p, 4);
    return be32toh(v);
  }
  uint64_t v;
  memcpy(&v, p, 8);
  return be64toh(v);
}

/* Fills a header for the writer: name as given (already "/" terminated or
 * "/N"), mtime, uid and gid 0, mode 644. `size` must fit in 10 digits. */
static inline void as_ar_hdr_fill(struct as_ar_hdr *h, const char *name,
                                  size_t size) {
  char buf[sizeof *h + 1];
  snprintf(buf, sizeof buf, "%-16.16s%-12d%-6d%-6d%-8o%-10.10zu`\n", name, 0, 0,
           0, 0644, size);
  memcpy(h, buf, sizeof *h);
}

#endif
