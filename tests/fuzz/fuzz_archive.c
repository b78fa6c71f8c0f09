/* ar archives: GNU and BSD, with and without an index, thin, empty; read
 * lazily (members pulled by a reference) and whole (--whole-archive). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(0, data, size);
  /* Lazily with every symbol read (index, members pulled), lazily on the
   * quick path (members' symbol tables read in place), and whole. */
  for (int mode = 0; mode < 3; mode++) {
    struct as_link *link = as_link_new(AS_EXECUTABLE);
    if (mode == 0)
      as_link_want_symbols(link);
    as_link_add_file(link, path, mode == 2 ? AS_ADD_WHOLE_ARCHIVE : 0);
    fuzz_decide(link);
    as_link_free(link);
  }
  return 0;
}
