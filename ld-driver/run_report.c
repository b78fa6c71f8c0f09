/* allocsel-ld's line in `allocsel run`'s report. Written with one write()
 * to a file opened O_APPEND, so lines of links running in parallel never
 * mix. */
#include "run_report.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *run_report_path(void) {
  const char *p = getenv("ALLOCSEL_RUN_REPORT");
  return p && *p ? p : NULL;
}

static void field(FILE *f, const char *key, const char *value) {
  fprintf(f, ",\"%s\":", key);
  if (value)
    as_json_string(f, value);
  else
    fputs("null", f);
}

void run_report_link(const char *report, const struct ld_cmdline *cl,
                     const struct as_session *s, const char *linker, int rc,
                     double seconds) {
  char cwd[PATH_MAX];
  const char *out = cl->output ? cl->output : "a.out";
  char *output = out[0] == '/' || !getcwd(cwd, sizeof cwd)
                     ? as_xstrdup(out)
                     : as_xasprintf("%s/%s", cwd, out);
  char *allocator = NULL, *malloc_by = NULL;
  /* refused: allocsel's doing (a rule is broken, or what was asked for
   * cannot serve this link): without allocsel it could have linked, and a
   * configure probe refused this way would quietly change what the build
   * finds; failed: the link could not be made (a missing or damaged input,
   * which ld fails on too, or the linker's own error): a configure probe
   * fails this way on purpose. */
  const char *status = "linked";
  if (s && s->rc != 0 && as_diag_refused(s->link))
    status = "refused";
  else if (rc != 0 || !s || s->rc != 0)
    status = "failed";
  if (s)
    as_session_outcome(s, &allocator, &malloc_by);

  char *line = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&line, &size);
  fputs("{\"output\":", f);
  as_json_string(f, output);
  field(f, "type", s ? as_output_type_name(s->type) : NULL);
  field(f, "linker", linker);
  field(f, "status", status);
  field(f, "allocator", allocator);
  field(f, "malloc", malloc_by);
  /* allocsel-ld's own CPU time, the linker's left out: allocsel's share
   * of a build is the sum of these (and allocsel run's). */
  fprintf(f, ",\"exit\":%d,\"seconds\":%.3f,\"self_cpu\":%.4f}\n", rc, seconds,
          as_self_cpu_seconds());
  fclose(f);

  int fd = open(report, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0 || write(fd, line, size) != (ssize_t)size)
    fprintf(stderr,
            "allocsel: warning: cannot add %s to allocsel run's report "
            "%s\n",
            output, report);
  if (fd >= 0)
    close(fd);
  free(line);
  free(output);
  free(allocator);
  free(malloc_by);
}
