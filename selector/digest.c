/* A link's digest (as_link_digest): what it read, file by file, so that
 * the same link again can take the decision made for it (the link
 * memory, session/link_memory.c). */
#include "archive.h"
#include "cache.h"
#include "symtab.h"

#include <string.h>
#include <time.h>

/* Two 64-bit lanes, eight bytes a step (a link's digest covers every
 * input's path and key: a hundred kilobytes on a link of 1,800 inputs). */
void as_digest_mix(uint64_t d[2], const void *data, size_t size) {
  const unsigned char *p = data;
  uint64_t n = size;
  for (;; p += 8, size -= 8) {
    uint64_t w = 0;
    if (size >= 8)
      memcpy(&w, p, 8); /* a load; a memcpy of a variable length is a call */
    else
      memcpy(&w, p, size);
    d[0] = (d[0] ^ w) * 0x9e3779b97f4a7c15u;
    d[0] ^= d[0] >> 31;
    d[1] = (d[1] + w) * 0xff51afd7ed558ccdu;
    d[1] ^= d[1] >> 29;
    if (size <= 8)
      break;
  }
  d[1] ^= n;
}

bool as_link_digest(const struct as_link *link, const uint64_t seed[2],
                    uint64_t out[2]) {
  out[0] = seed[0];
  out[1] = seed[1];
  for (size_t i = 0; i < link->nunits; i++)
    if (link->units[i]->bitcode || link->units[i]->file)
      return false;
  /* A file changed in this second or the last could change again within
   * its clock tick and keep its times (cache.c): no digest then. */
  int64_t racy_after = (int64_t)time(NULL) - 1;
  for (size_t i = 0; i < link->ninputs; i++) {
    const struct as_input *in = link->inputs[i];
    struct as_file_key k;
    memcpy(&k, in->key, sizeof k);
    if (!in->keyed || in->view || as_archive_thin(in) ||
        k.ctime_sec >= racy_after)
      return false;
    uint32_t fields[2] = {in->flags, in->group};
    as_digest_mix(out, in->path, strlen(in->path) + 1);
    as_digest_mix(out, fields, sizeof fields);
    as_digest_mix(out, in->key, sizeof in->key);
  }
  return true;
}
