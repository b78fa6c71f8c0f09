/* Running a tool and reading what it prints: the linker's --verbose (its
 * search directories), a compiler driver's -### (its link line). */
#ifndef ALLOCSEL_CAPTURE_H
#define ALLOCSEL_CAPTURE_H

#include <stdbool.h>

/* Runs argv (found on PATH) with stdout, and stderr too where
 * `with_stderr` (else /dev/null), into a NUL-terminated malloc'd string of
 * at most 16 MiB (the rest is read and dropped, so the tool never blocks).
 * *status is its wait status. Returns NULL with a malloc'd *error if it
 * cannot run. */
char *capture_output(char *const argv[], bool with_stderr, int *status,
                     char **error);

#endif
