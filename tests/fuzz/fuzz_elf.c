/* ELF objects and shared libraries, as the plugin's views reach the
 * selector (in memory) and as files reach allocsel-ld (by path); and the
 * same bytes as an artifact that inspect and allocsel run read. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct as_link *link = as_link_new(AS_EXECUTABLE);
  if (size & 1) /* both the quick and the full scan */
    as_link_want_symbols(link);
  char *copy = malloc(size ? size : 1);
  memcpy(copy, data, size);
  as_link_add_view(link, "view.o", NULL, copy, 0, size, AS_ADD_SCRIPT_OK);
  free(copy);
  const char *path = fuzz_file(0, data, size);
  as_link_add_file(link, path, AS_ADD_SCRIPT_OK);
  fuzz_decide(link);
  as_link_free(link);

  /* The same bytes as a linked artifact: inspect, allocsel run's probe of
   * what a build wrote, and the loader's view (DT_NEEDED, TLS). */
  link = as_link_new(AS_RLIB);
  struct as_artifact art;
  if (as_inspect_artifact(link, path, &art) == 0)
    as_artifact_free(&art);
  struct as_record rec;
  as_inspect_record(link, path, "executable", &rec);
  as_record_free(&rec);
  as_link_free(link);
  enum as_output_type type;
  bool has_record;
  as_probe_artifact(path, &type, &has_record);
  /* One input in four: the loader opens the system's libraries the input
   * names (libc's thousands of symbols), which would slow every run. */
  if ((size & 3) == 0) {
    struct as_loader loader;
    as_loader_read(path, &loader);
    as_loader_free(&loader);
  }
  return 0;
}
