/* Shared by the fuzz targets: the bytes of one input as a file on disk
 * (archives and bitcode are read by path), and one link per input. */
#ifndef ALLOCSEL_FUZZ_COMMON_H
#define ALLOCSEL_FUZZ_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static char fuzz_paths[8][64];

/* The input files go when the fuzzer ends (libFuzzer returns from main
 * after -max_total_time); a crash leaves them beside its reproducer. */
static inline void fuzz_remove_files(void) {
  for (int i = 0; i < 8; i++)
    if (fuzz_paths[i][0])
      unlink(fuzz_paths[i]);
}

/* Writes `size` bytes to a file of this process; returns its path. */
static inline const char *fuzz_file(int slot, const uint8_t *data,
                                    size_t size) {
  char *path = fuzz_paths[slot & 7];
  if (!path[0]) {
    static bool registered;
    if (!registered && atexit(fuzz_remove_files) != 0)
      abort();
    registered = true;
    snprintf(path, sizeof fuzz_paths[0], "/tmp/allocsel-fuzz-%d-%d.o",
             (int)getpid(), slot & 7);
  }
  FILE *f = fopen(path, "wb");
  if (!f)
    abort();
  if (size && fwrite(data, 1, size, f) != size)
    abort();
  fclose(f);
  return path;
}

/* Scans, resolves and decides, as allocsel-ld does; the outcome is
 * checked for consistency, never for a verdict. */
static inline void fuzz_decide(struct as_link *link) {
  if (as_diag_exit_code(link) == 0) {
    as_link_resolve(link);
    struct as_env env;
    as_env_init(&env, "/nonexistent");
    struct as_decision d;
    int rc = as_decide(link, NULL, &env, &d);
    if (rc != as_diag_exit_code(link))
      abort(); /* the return and the diagnostics disagree */
    /* An executable, dylib or staticlib in which a linked unit needs an
     * allocator is never decided allocator-less. */
    for (size_t i = 0;
         rc == 0 && !d.name && link->type != AS_RLIB && i < link->nunits; i++) {
      const struct as_unit *u = link->units[i];
      if (u->linked && (u->abi_undef || u->needs_marker))
        abort();
    }
    as_decision_free(&d);
  }
  FILE *null = fopen("/dev/null", "w");
  as_diag_print(link, null);
  as_diag_print_json(link, null);
  fclose(null);
}

#endif
