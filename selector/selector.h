/* The selector: one model and one set of rules that every front end shares.
 *
 * Data flows one way:
 *   as_link_add_*   recognise inputs, read them into units and symbols
 *                   (input.c: identify(); archive.c, elf_symbols.c,
 *                   bitcode.c, script.c)
 *   as_link_resolve decide which units the link pulls in  (resolve.c)
 *   as_decide       apply the rules                       (rules.c)
 *   the front end   injects what the decision names, or prints diagnostics
 *                   (diag.c), through one session (session/session.c)
 */
#ifndef ALLOCSEL_SELECTOR_H
#define ALLOCSEL_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "errors.h"
#include "util.h"

#define AS_VERSION "0.1.0"

enum as_output_type { AS_EXECUTABLE, AS_DYLIB, AS_STATICLIB, AS_RLIB };

/* How a link reads its inputs. Quickly, for the allocator facts only,
 * while nothing needs the links between units (most links); in full once
 * some input defines the ABI, carries a marker or may do so (the
 * resolution then decides which units are in), interning only the names
 * something references: a definition or an index entry of any other name
 * is put aside (struct as_aside), found again if a reference comes; every
 * name when a tool wants every symbol (allocsel staticlib), and after the
 * resolution. It only ever moves down this list. */
enum as_scan { AS_SCAN_QUICK, AS_SCAN_REFERENCED, AS_SCAN_ALL };

/* The five ABI entry points, in this order; bit i of a mask is as_abi[i]. */
enum { AS_ABI_COUNT = 5, AS_ABI_ALL = (1u << AS_ABI_COUNT) - 1 };
extern const char *const as_abi[AS_ABI_COUNT];

enum as_input_kind {
  AS_INPUT_OBJECT,  /* ELF relocatable */
  AS_INPUT_ARCHIVE, /* ar archive */
  AS_INPUT_SHARED,  /* ELF shared object: its dynamic symbols */
  AS_INPUT_SCRIPT,  /* linker script: not scanned, left to the linker */
};

/* Flags for as_link_add_file. */
enum {
  AS_ADD_WHOLE_ARCHIVE = 1u << 0, /* every member is linked */
  AS_ADD_REQUESTED = 1u << 1,     /* the requested allocator's object */
  AS_ADD_SCRIPT_OK = 1u << 2,     /* unknown text is a linker script */
  AS_ADD_LAZY = 1u << 3, /* --start-lib object: linked only when referenced,
                          * like an archive member */
  AS_ADD_JUST_SYMBOLS = 1u << 4,  /* --just-symbols: addresses, never linked */
  AS_ADD_STATIC_SEARCH = 1u << 5, /* -l in a linker script finds only .a */
  AS_ADD_AS_NEEDED = 1u << 6,     /* after --as-needed: a shared library the
                                     link drops unless something references it */
};

enum { AS_MAX_UNIT_LIBRARIES = 4 };

struct as_elf_syms; /* a native symbol table, selector/elf_native.c */

/* A unit: an object file, an archive member or a shared library. */
struct as_unit {
  uint32_t input;     /* index into as_link.inputs */
  const char *member; /* archive member name, or NULL */
  size_t member_off;  /* its header's offset in the archive */
  char *file;         /* a thin archive's member: the file holding it */
  uint32_t *defs;     /* defined global symbol ids */
  uint32_t ndefs;
  uint32_t *undefs; /* strongly referenced, undefined symbol ids */
  uint32_t nundefs;
  unsigned abi_defined;  /* mask of ABI entry points defined */
  unsigned abi_undef;    /* mask of ABI entry points referenced, not defined */
  const char *allocator; /* name from ALLOCSEL_ALLOCATOR, or NULL */
  bool needs_marker;     /* carries ALLOCSEL_NEEDS_ALLOCATOR */
  bool defines_jemalloc; /* defines mallocx: jemalloc's own code */
  bool rust_shim;        /* defines rustc's allocator shim (__rust_alloc) */
  bool rust_runtime;     /* defines rust_eh_personality: Rust's std */
  bool defines_malloc;   /* defines (exports) malloc */
  bool sealed; /* a sealed guest (allocsel seal): its runtime is private */
  /* A shared library whose DT_NEEDED names a malloc library (jemalloc,
   * tcmalloc, mimalloc): loaded after libc, unless linked directly. */
  bool needs_malloc_library;
  /* Libraries its code needs (ALLOCSEL_ALLOCATOR_LIBRARY), as -lNAME. */
  char *libraries[AS_MAX_UNIT_LIBRARIES];
  uint32_t nlibraries;
  bool linked; /* pulled into the link (set by as_link_resolve) */
  /* The definitions it put aside when read: the aside table's entries
   * aside_first to aside_end. */
  uint32_t aside_first, aside_end;
  /* Why an archive member is linked: it defines why_sym, which why_unit
   * referenced (AS_NO_UNIT / UINT32_MAX: linked for its own sake). */
  uint32_t why_sym, why_unit;
  bool shared;      /* a shared library: resolves, never injects */
  bool quick;       /* only the allocator facts read: no defs/undefs */
  bool bitcode;     /* LLVM bitcode: the link is an LTO link */
  bool thin_lto;    /* ... a ThinLTO one */
  bool gimple;      /* GCC LTO (gcc -flto): symbols from its LTO symtab */
  uint16_t machine; /* ELF e_machine, 0 for bitcode */
  uint8_t elf_class, elf_data; /* ELFCLASS32/64, ELFDATA2LSB/MSB */
  char *origin;                /* cached as_unit_origin() */
  /* Its native symbol table (elf_native.c): a quick unit's, kept so the
   * full resolution need not read its file again; one read in full keeps
   * it for the names it put aside. */
  struct as_elf_syms *raw;
  /* Its facts came from the cache (cache.c): nothing of it was read, and
   * the full resolution reads it first (as_unit_read_known). */
  bool known;
};

struct as_input {
  char *path;
  size_t size; /* the file's size when it was read */
  enum as_input_kind kind;
  unsigned flags;
  /* Units read when the file was added: an object or shared library is one,
   * a --whole-archive archive all its members. */
  uint32_t first_unit, nunits;
  uint32_t group; /* --start-group / GROUP() it stands in, 0: none */
  /* A unit the plugin saw as a view: where to read it again. */
  bool view;
  size_t view_off, view_size;
  /* Archive: lazy symbols from its index, members loaded on demand. */
  void *archive; /* struct as_archive * (archive.c) */
  /* The file as it was read (cache.c's key): the digest of a link
   * (as_link_digest) is made of these. */
  bool keyed;
  uint64_t key[7];
  /* An archive the cache vouches for (its index names nothing the
   * decision looks for), not opened until something asks about it
   * (as_input_open_known); members_quiet: the cache also knows that no
   * member references the ABI. */
  bool unopened, members_quiet;
};

enum as_diag_kind { AS_ERROR, AS_WARNING, AS_NOTE };

struct as_diag {
  enum as_diag_kind kind;
  enum as_error error; /* what it is: code and exit code (errors.h) */
  char *message;
  char **notes; /* ">>> " lines, without the prefix */
  size_t nnotes;
  char *hint; /* the fix that applies, printed "hint: ...", or NULL */
};

struct as_symtab;         /* interned symbol names, selector/symtab.c */
struct as_cache;          /* what earlier links learnt, selector/cache.c */
struct as_bitcode_reader; /* selector/bitcode.c */

struct as_link {
  enum as_output_type type;
  struct as_symtab *symtab;
  struct as_arena arena;    /* the inputs and units, and their names */
  struct as_input **inputs; /* each allocated once: pointers stay valid */
  size_t ninputs, cap_inputs;
  struct as_unit **units; /* each allocated once: pointers stay valid */
  size_t nunits, cap_units;
  struct as_diag *diags;
  size_t ndiags, cap_diags;
  uint32_t abi_ids[AS_ABI_COUNT];
  uint32_t needs_id;
  /* How inputs are read (enum as_scan): set only through
   * as_link_want_symbols and as_link_scan_full (link.c), and by resolution
   * when it is done; why the link left the quick scan, and the input that
   * made it, for --allocsel-verbose. */
  enum as_scan scan;
  const char *scan_why;
  char *scan_input;
  /* How archives resolve: lld and mold let any later reference extract a
   * member of an archive seen before; ld.bfd and gold only references
   * made before the archive (or within its --start-group). */
  enum as_archive_order { AS_ORDER_ANY, AS_ORDER_COMMAND_LINE } order;
  uint32_t current_group, ngroups;
  const char *tool; /* prefix for diagnostics: "allocsel" */
  /* Options that point symbols elsewhere (--defsym, --wrap): the ABI may
   * not be among them unless the user allows it. */
  struct as_redirect {
    char *option, *symbol;
  } * redirects;
  size_t nredirects, cap_redirects;
  bool allow_abi_redirect;
  /* Where linker scripts' files and -lNAMEs are looked for: -L, then
   * SEARCH_DIR; the sysroot for absolute paths in scripts inside it. */
  char **lib_dirs;
  size_t nlib_dirs, cap_lib_dirs;
  char *sysroot;
  unsigned script_nesting; /* scripts being read, one inside another */
  unsigned script_files;   /* files all scripts named so far */
  /* lib/allocsel, where the bitcode reader lives; NULL: the default. */
  const char *libdir;
  /* What earlier links learnt about the inputs (cache.c), or NULL. */
  struct as_cache *cache;
  /* The bitcode reader process, started for the first bitcode input. */
  struct as_bitcode_reader *bitcode;
};

/* Lets this link use, and add to, what earlier links learnt about the
 * files it reads (their allocator facts), kept in
 * ALLOCSEL_CACHE_DIR, else $XDG_CACHE_HOME/allocsel or ~/.cache/allocsel;
 * ALLOCSEL_CACHE=0 turns it off. Before adding inputs. */
void as_link_use_cache(struct as_link *link);
/* Writes what the link's inputs and its resolution taught the cache, if
 * anything; failure is no error. After as_link_resolve: the front end's
 * I/O, not resolution's. */
void as_cache_save(struct as_link *link);
/* A digest of what the link read, after its inputs were added: every
 * input's path, flags and key (device, inode, size and times) in order,
 * mixed into `seed` (what the front end adds: its command line, its
 * environment). Two links with the same digest make the same decision.
 * false where some input cannot be known that way (a plugin's view, a thin
 * archive, LLVM bitcode, whose reader is a library of its own, or a file
 * changed too recently for its times to tell a second change apart). */
bool as_link_digest(const struct as_link *link, const uint64_t seed[2],
                    uint64_t out[2]);
/* Mixes `size` bytes into a digest (as_link_digest's hash). */
void as_digest_mix(uint64_t d[2], const void *data, size_t size);

/* The cache's directory (malloc'd), NULL where the cache is off. */
char *as_cache_dir(void);
/* The cache's file, NULL where the cache is off; what it holds, one file a
 * line (allocsel cache). */
const char *as_cache_path(const struct as_link *link);
void as_cache_print(const struct as_link *link, FILE *f);

/* What the user asked for: NULL allocator means the default. */
struct as_request {
  const char *allocator; /* "system", "jemalloc" or a path to an object */
  const char *origin;    /* "--allocator=system", "ALLOCSEL_ALLOCATOR", ... */
  char *owned_origin;    /* set by as_request_init */
  char *owned_allocator;
  char *error;      /* a malformed request, reported by rules */
  const char *hint; /* what to write instead, with error */
  /* From ALLOCSEL_DEFAULT_ALLOCATOR: a distribution's choice for every
   * output of the type, needed or not, that gives way to an allocator or
   * a malloc the link brings itself (a request would be a second one). */
  bool is_default;
};

/* The request for an output of `type` as every front end reads it: its
 * option (`option_name` spells it in diagnostics), else ALLOCSEL_ALLOCATOR,
 * else ALLOCSEL_DEFAULT_ALLOCATOR (is_default). Each is a name or path for
 * every type, or one per type: "executable=jemalloc,dylib=system" (a type
 * not named requests nothing); a default names a shipped allocator.
 * Free with as_request_free. */
void as_request_init(struct as_request *req, const char *option_value,
                     const char *option_name, enum as_output_type type);
/* The same for a default given as an option (allocsel run checks its
 * --default-allocator before the environment carries it to the links). */
void as_request_init_default(struct as_request *req, const char *option_value,
                             const char *option_name, enum as_output_type type);
void as_request_free(struct as_request *req);

/* A boolean environment variable: `unset` where it is unset or empty, else
 * false for 0, no, false and off (any case) and true for anything else. */
bool as_env_flag(const char *name, bool unset);

enum as_how {
  AS_NONE,   /* no allocator (rlib, or nothing to decide) */
  AS_LINKED, /* an allocator unit among the inputs */
  AS_INJECT, /* add a shipped or requested allocator object */
};

struct as_decision {
  enum as_how how;
  const char *name;           /* allocator name, NULL for AS_NONE */
  char *reason;               /* "default for executable", ... */
  char *inject_object;        /* object to add, AS_INJECT only */
  bool needs_jemalloc;        /* add Debian's libjemalloc after it */
  bool jemalloc_private;      /* inject_object is jemalloc-private.o, which
                                 holds jemalloc's code (a guest's) */
  bool lto;                   /* some linked input is LLVM bitcode */
  bool inject_bitcode;        /* inject_object is a bitcode allocator */
  const struct as_unit *unit; /* allocator unit among the inputs; valid
                               * while the link is */
  /* The output's machine, from its first ELF input (the host's where there
   * is none): the record and the shipped allocators are built for it. */
  uint16_t machine;
  uint8_t elf_class, elf_data;
  /* What serves malloc in the artifact: "libc", or "jemalloc
   * (libjemalloc.so.2, replaces libc's malloc in the process)". */
  char *malloc;
  /* "-lNAME" for each library the allocator names, for linked outputs:
   * right after the injected object for a shipped allocator
   * (libraries_first, before libc, so its malloc replaces libc's), after
   * every input for a linked one (so a linker in command-line order keeps
   * it; its malloc then comes after libc's). */
  char *libraries[AS_MAX_UNIT_LIBRARIES];
  uint32_t nlibraries;
  bool libraries_first;
  char *owned_name; /* storage for `name` when derived */
};

/* A linked executable or dylib, as `allocsel inspect` reads it. */
struct as_artifact {
  enum as_output_type type; /* AS_EXECUTABLE or AS_DYLIB */
  char **allocators;        /* allocator markers found */
  size_t nallocators;
  unsigned abi_defined;      /* ABI entry points defined */
  bool has_symtab;           /* false: stripped, only dynamic symbols seen */
  const char *static_malloc; /* jemalloc, tcmalloc or mimalloc linked in */
  char *malloc_library;      /* DT_NEEDED jemalloc, tcmalloc or mimalloc */
};
int as_inspect_artifact(struct as_link *link, const char *path,
                        struct as_artifact *out);
void as_artifact_free(struct as_artifact *a);
/* An artifact as the dynamic loader will load it (loader.c). */
struct as_loader {
  char *malloc_winner; /* the first library in load order defining malloc */
  char *malloc_behind; /* a malloc library loaded after it: it serves nothing */
  bool self_defines_malloc; /* the artifact exports a malloc of its own */
  bool static_tls;          /* DF_STATIC_TLS: initial-exec TLS */
  uint64_t tls_size;        /* its TLS block */
};
void as_loader_read(const char *path, struct as_loader *out);
/* The first DT_NEEDED of a shared library that is a malloc library
 * (libtcmalloc_minimal.so.4): malloc'd, or NULL. */
char *as_loader_needed_malloc(const char *path);
/* Where the loader finds a system library (libc.so.6) of this class and
 * machine, in its default directories: malloc'd, or NULL. */
char *as_loader_find_system(const char *soname, bool elf64, uint16_t machine);
/* "jemalloc" for libjemalloc.so.2, "tcmalloc" for libtcmalloc_minimal.so.4,
 * "mimalloc" for libmimalloc.so.2 or -lmimalloc, or NULL (unit.c). */
const char *as_malloc_implementation(const char *path);
void as_loader_free(struct as_loader *l);

/* Is `path` an ELF executable or shared library (0, with its type), and
 * does it hold a record of its own (an executable's or a dylib's)? -1 for
 * any other file, unreadable ones included. Reads the headers and the
 * record only: for allocsel run's look over what a build wrote. */
int as_probe_artifact(const char *path, enum as_output_type *type,
                      bool *has_record);

/* The decision record allocsel leaves in what it links (record.h). */
struct as_record {
  bool found;
  int count;     /* notes seen: an rlib's ride along into the final link */
  bool conflict; /* two notes of the artifact's type disagree */
  char *allocator, *type, *version, *reason, *malloc;
  char *keep, *needs; /* a sealed guest's (allocsel seal) */
  /* The sealed guests' notes riding along in an artifact (never its own
   * record): "keeps API (allocator A, malloc M)" each. */
  char **guests;
  size_t nguests;
};
int as_inspect_record(struct as_link *link, const char *path,
                      const char *want_type, struct as_record *r);
/* The same from an object in memory (a remembered record's bytes). */
void as_record_from_object(const void *bytes, size_t size,
                           const char *want_type, struct as_record *r);
void as_record_free(struct as_record *r);

/* Where the tools find their allocator objects (lib/allocsel), and what
 * this link can take. */
struct as_env {
  const char *libdir;
  const char *jemalloc_library; /* libjemalloc.so path, NULL: not installed */
  const char *jemalloc_static;  /* libjemalloc_pic.a, NULL: not installed */
  const char *jemalloc_why_not; /* why jemalloc_library is NULL */
  const char *jemalloc_static_why_not; /* why jemalloc_static is NULL */
  /* jemalloc-private.o was built: jemalloc for guests (dylib, staticlib)
   * with its code inside and its malloc local. */
  bool jemalloc_private;
  /* The front end can add bitcode to an LTO link: the shipped allocators
   * then come as bitcode (lib/allocsel/lto/), so the ABI inlines. */
  bool lto_inject;
  /* The output links statically (-static): jemalloc comes as its archive. */
  bool static_link;
  /* What the front end adds lands after every input, libc included (the
   * linker plugin): a shared library it adds does not replace libc's
   * malloc. */
  bool adds_after_libc;
};

/* A dylib or staticlib is a guest in a process that is not its own: its
 * allocator must not export or interpose malloc. jemalloc comes to it as a
 * private copy (jemalloc-private.o); an allocator whose code is a shared
 * library exporting malloc (mimalloc, tcmalloc) cannot. */
bool as_output_is_guest(enum as_output_type type);

/* Can this link take jemalloc? If not, *why_not says why. */
bool as_jemalloc_usable(const struct as_env *env, enum as_output_type type,
                        const char **why_not);

/* The inputs a decision adds to the link, in order: the allocator object,
 * then jemalloc's code where it needs it ("-lm" names libm). */
enum { AS_MAX_DECISION_INPUTS = 3 + AS_MAX_UNIT_LIBRARIES };
/* The libraries ("-lNAME") the allocator names, which go after every input
 * (a linker in command-line order with --as-needed would drop them
 * before the allocator's member is pulled in). */
size_t as_decision_libraries(const struct as_decision *d,
                             enum as_output_type type,
                             const char *out[AS_MAX_UNIT_LIBRARIES]);
size_t as_decision_inputs(const struct as_decision *d, const struct as_env *env,
                          enum as_output_type type,
                          const char *out[AS_MAX_DECISION_INPUTS]);

struct as_link *as_link_new(enum as_output_type type);
void as_link_free(struct as_link *link);
/* Every symbol of every input is read and interned, and resolution works
 * out every member the link pulls in: a tool that wants the symbols
 * (allocsel staticlib). Before adding inputs. */
void as_link_want_symbols(struct as_link *link);
/* The quick scan is not enough any more: `why` (static text) of `input`
 * (NULL: none). The first reason is kept; later ones change nothing. */
void as_link_scan_full(struct as_link *link, const char *why,
                       const char *input);

/* Scans one input. Returns 0, or -1 with a diagnostic recorded. */
int as_link_add_file(struct as_link *link, const char *path, unsigned flags);
/* The same for a file the caller has just stat'ed (a library search
 * found it): the cache is asked without a second stat. */
struct stat;
int as_link_add_found(struct as_link *link, const char *path,
                      const struct stat *st, unsigned flags);

/* Scans one unit the caller has mapped (the linker plugin's view of an
 * object or an archive member: `size` bytes at `view_off` in `path`, read
 * again from there if the decision needs every symbol). The data must be a
 * private, writable mapping (libelf may convert in place) and need not
 * outlive the call. */
int as_link_add_view(struct as_link *link, const char *path, const char *member,
                     void *data, size_t view_off, size_t size, unsigned flags);

/* Inputs added between these stand in one group (--start-group,
 * --end-group, a script's GROUP): the archives in it resolve together. */
void as_link_begin_group(struct as_link *link);
void as_link_end_group(struct as_link *link);

/* Adds a directory where linker scripts' files are looked for (-L). */
void as_link_search_dir(struct as_link *link, const char *dir);
void as_link_set_sysroot(struct as_link *link, const char *sysroot);

/* A -lNAME (`lib`, as spelt) found nowhere: the error every front end
 * gives for it. */
void as_link_library_not_found(struct as_link *link, const char *lib);

/* Records an option that points `symbol` elsewhere (--defsym SYM=...,
 * --wrap SYM); `option` names it in diagnostics. */
void as_link_redirect(struct as_link *link, const char *option,
                      const char *symbol);

/* Adds the requested allocator's object when the request is a path; the
 * shipped ones ("system", "jemalloc") are not scanned. Before resolve. */
int as_link_add_request(struct as_link *link, const struct as_request *req);

/* Decides which units the link pulls in, as lld would: objects and
 * --whole-archive members always, other archive members when they define a
 * symbol some linked unit references. */
void as_link_resolve(struct as_link *link);

/* Applies the rules. Returns 0 with *out filled, or the exit code (1 or 2)
 * with diagnostics recorded. */
int as_decide(struct as_link *link, const struct as_request *req,
              const struct as_env *env, struct as_decision *out);
void as_decision_free(struct as_decision *d);

/* While inputs are still coming (the linker plugin's claim_file): are two
 * allocators among the units so far, all taken as linked? Returns 1 with
 * the two-allocator error recorded (nothing else), else 0 and nothing. */
int as_check_early(struct as_link *link, const struct as_request *req,
                   const struct as_env *env);

/* Starts with LLVM bitcode's magic (raw or wrapped)? */
bool as_is_bitcode(const void *data, size_t size);

/* "libfoo.a(bar.o)" or "bar.o"; the string lives until as_link_free. */
const char *as_unit_origin(struct as_link *link, const struct as_unit *u);
/* The unit whose reference to *sym pulled `u` into the link, as lld's
 * --why-extract says; NULL where `u` was linked for its own sake. */
const struct as_unit *as_unit_why(const struct as_link *link,
                                  const struct as_unit *u, uint32_t *sym);
const char *as_sym_name(const struct as_link *link, uint32_t id);

const char *as_output_type_name(enum as_output_type type);
int as_output_type_parse(const char *s, enum as_output_type *out);

/* Diagnostics: an error's exit code comes from the table in errors.h. */
struct as_diag *as_diag_add(struct as_link *link, enum as_diag_kind kind,
                            enum as_error error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void as_diag_note(struct as_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void as_diag_hint(struct as_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The one of `names` that `word` is a typo of (2 edits at most), or NULL:
 * for "did you mean" hints. */
const char *as_nearest(const char *word, const char *const *names, size_t n);

/* Highest exit code among the errors, 0 if none. */
int as_diag_exit_code(const struct as_link *link);
/* Some error is allocsel's refusal, not the inputs' fault (errors.h). */
bool as_diag_refused(const struct as_link *link);
void as_diag_print(const struct as_link *link, FILE *out);
/* Writes the diagnostics as a JSON array. */
void as_diag_print_json(const struct as_link *link, FILE *out);
void as_json_string(FILE *out, const char *s);

/* Search for -lNAME as GNU ld does: each dir, libNAME.so then libNAME.a
 * (only .a when static); ":file" exactly. Returns a malloc'd path or NULL;
 * `st` (if not NULL) gets the file's stat. */
char *as_find_library(const char *name, char *const *dirs, size_t ndirs,
                      bool static_only, struct stat *st);

/* This process's own CPU seconds so far (user and system, its children
 * left out). */
double as_self_cpu_seconds(void);
/* The directory holding the running executable's ../lib/allocsel. */
char *as_default_libdir(void);
void as_env_init(struct as_env *env, const char *libdir);

#endif
