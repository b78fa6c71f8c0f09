/* The whole decision: up to four inputs (objects, archives, shared
 * libraries, scripts) cut from one fuzz input at 0xFF 0x00 0xFF 0x00
 * separators, an output type and a flag per input from the first byte. */
#include "fuzz_common.h"

static const uint8_t sep[4] = {0xff, 0x00, 0xff, 0x00};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  struct as_link *link = as_link_new((enum as_output_type)(data[0] & 3));
  unsigned flags = data[0] >> 2;
  data++;
  size--;
  for (int slot = 0; slot < 4 && size; slot++) {
    const uint8_t *end = memmem(data, size, sep, sizeof sep);
    size_t n = end ? (size_t)(end - data) : size;
    unsigned f = (flags >> slot & 1) ? AS_ADD_WHOLE_ARCHIVE : AS_ADD_SCRIPT_OK;
    as_link_add_file(link, fuzz_file(slot, data, n), f);
    data += n;
    size -= n;
    if (end) {
      data += sizeof sep;
      size -= sizeof sep;
    }
  }
  fuzz_decide(link);
  as_link_free(link);
  return 0;
}
