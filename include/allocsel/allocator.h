/* allocsel: the allocator ABI and the markers the selector reads.
 *
 * An allocator unit defines the five ABI functions and says so with
 * ALLOCSEL_ALLOCATOR(name). A unit that calls them needs an allocator; one
 * that wants to say so without calling them uses ALLOCSEL_NEEDS_ALLOCATOR().
 *
 * Markers are defined symbols, so the selector sees them in ELF symbol
 * tables, in an archive's symbol index and in LLVM bitcode symbol tables.
 *
 * The ABI is declared hidden: whatever artifact (executable or dylib) the
 * allocator is linked into, every call binds inside that artifact, and a
 * link that forgot the allocator fails instead of binding to someone else's.
 */
#ifndef ALLOCSEL_ALLOCATOR_H
#define ALLOCSEL_ALLOCATOR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ALLOCSEL_ABI __attribute__((visibility("hidden")))

ALLOCSEL_ABI void *__rust_allocate(size_t size, size_t align);
ALLOCSEL_ABI void __rust_deallocate(void *ptr, size_t old_size, size_t align);
ALLOCSEL_ABI void *__rust_reallocate(void *ptr, size_t old_size, size_t size,
                                     size_t align);
ALLOCSEL_ABI size_t __rust_reallocate_inplace(void *ptr, size_t old_size,
                                              size_t size, size_t align);
ALLOCSEL_ABI size_t __rust_usable_size(size_t size, size_t align);

/* The markers are C symbols in C++ too: extern "C" gives them external
 * linkage (a namespace-scope const would otherwise be local) and their
 * names unmangled. */
#ifdef __cplusplus
#define ALLOCSEL_EXTERN_C extern "C"
#else
#define ALLOCSEL_EXTERN_C
#endif

/* Symbol names the selector looks for. */
#define ALLOCSEL_ALLOCATOR_MARKER_PREFIX "__allocsel_allocator_"
#define ALLOCSEL_NEEDS_MARKER "__allocsel_needs_allocator"

/* Marks this unit as the allocator `name` (a C identifier). Use it once, in
 * the unit that defines the five ABI functions. */
#define ALLOCSEL_ALLOCATOR(name)                                               \
  ALLOCSEL_EXTERN_C __attribute__((used, visibility("hidden")))                \
  const char __allocsel_allocator_##name[] = #name

/* Names a library the allocator's code needs, as `-lNAME`: a string
 * (ALLOCSEL_ALLOCATOR_LIBRARY("mimalloc"), "stdc++", "foo-2.0") or a C
 * identifier (ALLOCSEL_ALLOCATOR_LIBRARY(tcmalloc_minimal)). allocsel adds
 * it to every link that takes this allocator, so `cc main.o my_alloc.o`
 * needs nothing more. A symbol, __allocsel_library_NAME, not a string, so
 * it shows in symbol tables and archive indexes.
 *
 * The symbol is defined in assembly, where any name can be spelt: the
 * assembler's quoted names take '-' and '+', and a macro of its own drops
 * the quotes of a string argument (the preprocessor cannot tell a string
 * from an identifier). gcc's LTO symbol table lists no symbol defined in
 * assembly: an allocator compiled with gcc -flto has its library added only
 * where its object is also fat (-ffat-lto-objects) or compiled without LTO;
 * clang -flto lists it. */
// clang-format off
#define ALLOCSEL_STRINGIFY_(x) #x
#define ALLOCSEL_ALLOCATOR_LIBRARY(name)                                       \
  __asm__(".pushsection .rodata.allocsel_library,\"a\"\n"                      \
          ".macro allocsel_library_ lib\n"                                     \
          ".globl \"__allocsel_library_\\lib\"\n"                              \
          ".hidden \"__allocsel_library_\\lib\"\n"                             \
          "\"__allocsel_library_\\lib\":\n"                                    \
          ".endm\n"                                                            \
          "allocsel_library_ " ALLOCSEL_STRINGIFY_(name) "\n"                  \
          ".purgem allocsel_library_\n"                                        \
          ".byte 0\n"                                                          \
          ".popsection\n")
// clang-format on

/* Marks this unit as needing an allocator even if it calls none of the ABI
 * (say, it hands out memory that other units free). Weak, so any number of
 * units may carry it. */
#define ALLOCSEL_NEEDS_ALLOCATOR()                                             \
  ALLOCSEL_EXTERN_C __attribute__((used, weak, visibility("hidden")))          \
  const char __allocsel_needs_allocator = 1

/* jemalloc's mallctl for the artifact whose ABI jemalloc serves: defined
 * by the shipped jemalloc allocator. A dylib's or staticlib's jemalloc is a
 * private copy that exports nothing, so this hidden name is how that
 * artifact's own code reads its statistics or changes its settings. Weak:
 * NULL where jemalloc does not serve the artifact. */
ALLOCSEL_EXTERN_C int allocsel_jemalloc_mallctl(const char *name, void *oldp,
                                                size_t *oldlenp, void *newp,
                                                size_t newlen)
    __attribute__((weak, visibility("hidden")));

/* Readable wrappers. `align` must be a power of two. */
static inline void *allocsel_allocate(size_t size, size_t align) {
  return __rust_allocate(size, align);
}
static inline void allocsel_deallocate(void *ptr, size_t old_size,
                                       size_t align) {
  __rust_deallocate(ptr, old_size, align);
}
static inline void *allocsel_reallocate(void *ptr, size_t old_size, size_t size,
                                        size_t align) {
  return __rust_reallocate(ptr, old_size, size, align);
}
/* Grows or shrinks in place, never moving; returns the usable size, which is
 * >= size when it succeeded. */
static inline size_t allocsel_reallocate_inplace(void *ptr, size_t old_size,
                                                 size_t size, size_t align) {
  return __rust_reallocate_inplace(ptr, old_size, size, align);
}
static inline size_t allocsel_usable_size(size_t size, size_t align) {
  return __rust_usable_size(size, align);
}

#ifdef __cplusplus
}
#endif

#endif /* ALLOCSEL_ALLOCATOR_H */
