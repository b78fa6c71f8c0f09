/* Every diagnostic allocsel can give, in one table: its stable code (for
 * --format=json and scripts), the exit code an error of that kind ends
 * the command with (1: a rule is broken; 2: bad usage or input; 0: never
 * an error: warnings and notes), and whether the link's inputs are at
 * fault, so that the linker fails on them without allocsel too (1: a
 * damaged file, a missing -l, as configure's probes link on purpose) or
 * it is allocsel that refuses the link (0). Add new ones here, nowhere
 * else. */
#ifndef ALLOCSEL_ERRORS_H
#define ALLOCSEL_ERRORS_H

#include <stdbool.h>

#define AS_ERROR_TABLE(X)                                                      \
  /* Rules (exit 1). */                                                        \
  X(TWO_ALLOCATORS, "two-allocators", 1, 0)                                    \
  X(INCOMPLETE_ALLOCATOR, "incomplete-allocator", 1, 0)                        \
  X(ALLOCATOR_CYCLE, "allocator-cycle", 1, 0)                                  \
  X(ABI_REDIRECTED, "abi-redirected", 1, 0)                                    \
  X(TWO_RUST_SHIMS, "two-rust-allocator-shims", 1, 0)                          \
  X(TWO_MALLOCS, "two-malloc-implementations", 1, 0)                           \
  /* Inputs and usage (exit 2). */                                             \
  X(BAD_INPUT, "bad-input", 2, 1)                                              \
  X(NO_LLVM, "no-llvm", 2, 0)                                                  \
  X(LIBELF, "libelf", 2, 0)                                                    \
  X(LIBRARY_NOT_FOUND, "library-not-found", 2, 1)                              \
  X(UNKNOWN_ALLOCATOR, "unknown-allocator", 2, 0)                              \
  X(NOT_AN_ALLOCATOR, "not-an-allocator", 2, 0)                                \
  X(JEMALLOC_MISSING, "jemalloc-missing", 2, 0)                                \
  X(ALLOCATOR_MISSING, "allocator-missing", 2, 0)                              \
  X(GUEST_MALLOC, "guest-would-replace-malloc", 1, 0)                          \
  X(NO_ALLOCATOR_FOR_TARGET, "no-allocator-for-target", 2, 0)                  \
  X(SHARED_IN_STATICLIB, "shared-in-staticlib", 2, 0)                          \
  X(WRITE_FAILED, "write-failed", 2, 0)                                        \
  X(CANNOT_SEAL, "cannot-seal", 2, 0)                                          \
  X(USAGE, "usage", 2, 0)                                                      \
  /* Warnings and notes (exit 0). */                                           \
  X(UNMARKED_ALLOCATOR, "unmarked-allocator", 0, 0)                            \
  X(SHARED_ABI_EXPORTS, "shared-abi-exports", 0, 0)                            \
  X(STATICLIB_NEEDS_LIBM, "staticlib-needs-libm", 0, 0)                        \
  X(MALLOC_DROPPED, "malloc-dropped-as-needed", 0, 0)                          \
  X(MALLOC_BEHIND_LIBC, "malloc-behind-libc", 0, 0)                            \
  X(DEFAULT_GIVES_WAY, "default-gives-way", 0, 0)                              \
  X(SEALED, "sealed", 0, 0)

enum as_error {
#define AS_ERROR_ENUM(name, code, exit, inputs) AS_E_##name,
  AS_ERROR_TABLE(AS_ERROR_ENUM)
#undef AS_ERROR_ENUM
      AS_E_COUNT
};

/* The stable code ("two-allocators") and exit code of an error. */
const char *as_error_code(enum as_error e);
int as_error_exit(enum as_error e);
/* The link's inputs are at fault: the linker alone would fail too. */
bool as_error_in_inputs(enum as_error e);

#endif
