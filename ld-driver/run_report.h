/* allocsel-ld's line in `allocsel run`'s report (tools/run.c reads it). */
#ifndef ALLOCSEL_RUN_REPORT_H
#define ALLOCSEL_RUN_REPORT_H

#include "ld_cmdline.h"
#include "session.h"

/* Where `allocsel run` gathers its links (ALLOCSEL_RUN_REPORT), NULL
 * outside a run. */
const char *run_report_path(void);
/* Appends one JSON line for this link: its output, type, linker, decision
 * (NULL session: refused before deciding) and the link's exit status and
 * time. A line that cannot be written is said on stderr, never an error:
 * the run names the output as bypassed. */
void run_report_link(const char *report, const struct ld_cmdline *cl,
                     const struct as_session *s, const char *linker, int rc,
                     double seconds);

#endif
