/* ar archives: GNU and BSD, with and without an index, thin, empty; read
 * lazily (members pulled by a reference) and whole (--whole-archive). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(0, data, size);
  for (int whole = 0; whole < 2; whole++) {
    struct as_link *link = as_link_new(AS_EXECUTABLE);
    link->want_symbols = true; /* read the index, pull members */
    as_link_add_file(link, path, whole ? AS_ADD_WHOLE_ARCHIVE : 0);
    fuzz_decide(link);
    as_link_free(link);
  }
  return 0;
}
