/* allocsel seal (seal.c): a static library made a sealed guest. */
#ifndef ALLOCSEL_TOOLS_SEAL_H
#define ALLOCSEL_TOOLS_SEAL_H

#define SEAL_USAGE                                                             \
  "usage: allocsel seal -o OUT.a [--keep SYMBOL]... [--keep-list FILE] "       \
  "IN.a...\n"                                                                  \
  "  one object holding what the kept API reaches, every other definition\n"   \
  "  (the library's runtime, its allocator, a bundled malloc) made local:\n"   \
  "  two libraries carrying their own runtimes link into one program; by\n"    \
  "  default the API is the libraries' own global C names\n"

/* argv[1] is "seal". */
int cmd_seal(int argc, char **argv);

#endif
