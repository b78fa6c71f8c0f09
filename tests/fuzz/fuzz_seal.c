/* allocsel seal's rewrite of a relocatable object (tools/elf_seal.c), on
 * any bytes: symbol tables reordered, relocations and groups remapped,
 * notes added, all through libelf over an in-memory file. */
#include "elf_seal.h"
#include "fuzz_common.h"

#include <sys/mman.h>
#include <unistd.h>

static char *record(void *ctx, const struct seal_facts *f) {
  (void)ctx;
  return as_xasprintf("allocator=none\ntype=sealed\nlocalized=%zu\n",
                      f->localized);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("fuzz-seal", 0);
  if (fd < 0 || !as_write_all(fd, data, size)) {
    if (fd >= 0)
      close(fd);
    return 0;
  }
  /* With a kept name and without. */
  char *keep[] = {"main"};
  struct seal_facts facts;
  char **missing, *error;
  size_t nmissing;
  elf_seal(fd, keep, size & 1, "__allocsel_sealed_fuzz", record, NULL, &facts,
           &missing, &nmissing, &error);
  for (size_t i = 0; i < nmissing; i++)
    free(missing[i]);
  free(missing);
  free(error);
  seal_facts_free(&facts);
  close(fd);
  return 0;
}
