/* ELF objects and shared libraries, as the plugin's views reach the
 * selector (in memory) and as files reach allocsel-ld (by path). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct as_link *link = as_link_new(AS_EXECUTABLE);
  if (size & 1) /* both the quick and the full scan */
    as_link_want_symbols(link);
  char *copy = malloc(size ? size : 1);
  memcpy(copy, data, size);
  as_link_add_view(link, "view.o", NULL, copy, 0, size, AS_ADD_SCRIPT_OK);
  free(copy);
  as_link_add_file(link, fuzz_file(0, data, size), AS_ADD_SCRIPT_OK);
  fuzz_decide(link);
  as_link_free(link);
  return 0;
}
