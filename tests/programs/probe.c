/* probe: prints which allocator serves this executable's allocator ABI
 * (see detect.h for the lines). Exit status 1 when an alignment check
 * failed.
 *
 * Built with -DPROBE_LINKS_LIBPROBE and linked against libprobe.so, or given
 * the path of libprobe.so as argv[1] (loaded with dlopen, RTLD_LOCAL), it
 * also prints the dylib's own report, each line prefixed with "libprobe ":
 * a dylib keeps the allocator it was linked with. Only the executable's own
 * alignment checks decide the exit status.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "detect.h"

#include <stdlib.h>

/* Built with -DPROBE_LINKS_LIBPROBE, the probe is linked against
 * libprobe.so and references it strongly: linkers drop an --as-needed
 * library (Debian's gcc default) that is only referenced weakly. */
#ifdef PROBE_LINKS_LIBPROBE
extern const char *libprobe_report(void);
#else
extern const char *libprobe_report(void) __attribute__((weak));
#endif

static void print_prefixed(const char *prefix, const char *text) {
  for (const char *line = text; *line;) {
    size_t n = strcspn(line, "\n");
    printf("%s%.*s\n", prefix, (int)n, line);
    line += n + (line[n] == '\n');
  }
}

int main(int argc, char **argv) {
  static char report[1024];
  bool ok = detect_report(report, sizeof report);
  fputs(report, stdout);

  const char *(*dylib)(void) = libprobe_report;
  if (argc > 1) {
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    void *sym = h ? dlsym(h, "libprobe_report") : NULL;
    if (!sym) {
      fprintf(stderr, "probe: %s: %s\n", argv[1], dlerror());
      return 2;
    }
    memcpy(&dylib, &sym, sizeof sym);
  }
  if (dylib)
    print_prefixed("libprobe ", dylib());
  fflush(stdout);
  return ok ? 0 : 1;
}
