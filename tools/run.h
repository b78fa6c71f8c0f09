/* allocsel run: a whole build through allocsel (run.c). */
#ifndef ALLOCSEL_TOOLS_RUN_H
#define ALLOCSEL_TOOLS_RUN_H

/* argv[1] is "run". Returns the exit status. */
int cmd_run(int argc, char **argv);

#endif
