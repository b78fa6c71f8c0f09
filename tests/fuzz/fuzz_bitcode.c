/* LLVM bitcode, through the bitcode reader process as every front end
 * reads it: LLVM may die on the input, allocsel must not. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Bitcode's magic first, so every input reaches LLVM. */
  uint8_t *bc = malloc(size + 4);
  memcpy(bc, "BC\xc0\xde", 4);
  memcpy(bc + 4, data, size);
  struct as_link *link = as_link_new(AS_EXECUTABLE);
  as_link_add_file(link, fuzz_file(0, bc, size + 4), 0);
  fuzz_decide(link);
  as_link_free(link);
  free(bc);
  return 0;
}
