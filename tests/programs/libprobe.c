/* libprobe: the probe's detection run from inside a shared library, so a
 * test can show the dylib's allocator is its own, whatever the executable
 * loading it uses. Build with -fPIC -shared. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "detect.h"

#define LIBPROBE_API __attribute__((visibility("default")))

/* The report lines (detect.h), computed on each call. Not thread-safe. */
LIBPROBE_API const char *libprobe_report(void) {
  static char report[1024];
  detect_report(report, sizeof report);
  return report;
}

/* Prints the report on stdout. */
LIBPROBE_API void libprobe_run(void) {
  fputs(libprobe_report(), stdout);
  fflush(stdout);
}
