/* Every diagnostic allocsel can give, in one table: its stable code (for
 * --format=json and scripts) and the exit code an error of that kind ends
 * the command with. 1: a rule is broken; 2: bad usage or input; 0: never an
 * error (warnings and notes). Add new ones here, nowhere else. */
#ifndef ALLOCSEL_ERRORS_H
#define ALLOCSEL_ERRORS_H

#define AS_ERROR_TABLE(X)                                                      \
  /* Rules (exit 1). */                                                        \
  X(TWO_ALLOCATORS, "two-allocators", 1)                                       \
  X(INCOMPLETE_ALLOCATOR, "incomplete-allocator", 1)                           \
  X(ALLOCATOR_CYCLE, "allocator-cycle", 1)                                     \
  X(ABI_REDIRECTED, "abi-redirected", 1)                                       \
  X(TWO_RUST_SHIMS, "two-rust-allocator-shims", 1)                             \
  X(TWO_MALLOCS, "two-malloc-implementations", 1)                              \
  /* Inputs and usage (exit 2). */                                             \
  X(BAD_INPUT, "bad-input", 2)                                                 \
  X(NO_LLVM, "no-llvm", 2)                                                     \
  X(LIBELF, "libelf", 2)                                                       \
  X(LIBRARY_NOT_FOUND, "library-not-found", 2)                                 \
  X(UNKNOWN_ALLOCATOR, "unknown-allocator", 2)                                 \
  X(NOT_AN_ALLOCATOR, "not-an-allocator", 2)                                   \
  X(JEMALLOC_MISSING, "jemalloc-missing", 2)                                   \
  X(ALLOCATOR_MISSING, "allocator-missing", 2)                                 \
  X(GUEST_MALLOC, "guest-would-replace-malloc", 1)                             \
  X(NO_ALLOCATOR_FOR_TARGET, "no-allocator-for-target", 2)                     \
  X(SHARED_IN_STATICLIB, "shared-in-staticlib", 2)                             \
  X(WRITE_FAILED, "write-failed", 2)                                           \
  X(CANNOT_SEAL, "cannot-seal", 2)                                             \
  X(USAGE, "usage", 2)                                                         \
  /* Warnings and notes (exit 0). */                                           \
  X(UNMARKED_ALLOCATOR, "unmarked-allocator", 0)                               \
  X(SHARED_ABI_EXPORTS, "shared-abi-exports", 0)                               \
  X(STATICLIB_NEEDS_LIBM, "staticlib-needs-libm", 0)                           \
  X(MALLOC_DROPPED, "malloc-dropped-as-needed", 0)                             \
  X(MALLOC_BEHIND_LIBC, "malloc-behind-libc", 0)                               \
  X(DEFAULT_GIVES_WAY, "default-gives-way", 0)                                 \
  X(SEALED, "sealed", 0)

enum as_error {
#define AS_ERROR_ENUM(name, code, exit) AS_E_##name,
  AS_ERROR_TABLE(AS_ERROR_ENUM)
#undef AS_ERROR_ENUM
      AS_E_COUNT
};

/* The stable code ("two-allocators") and exit code of an error. */
const char *as_error_code(enum as_error e);
int as_error_exit(enum as_error e);

#endif
