/* allocsel seal: a static library made a sealed guest.
 *
 *   allocsel seal -o OUT.a [--keep SYMBOL]... [--keep-list FILE] IN...
 *
 * One relocatable object (ld.bfd -r) holding what the kept API reaches,
 * in which only the kept names stay global definitions: the library's own
 * runtime (Rust's std and allocator shim, a bundled malloc, C++ runtime
 * pieces) becomes local, so two such libraries, or one and the program,
 * no longer collide. What it needs from the system stays undefined and is
 * named. By hand this is `ld -r -u API lib.a && objcopy
 * --keep-global-symbol=API`; done here in one pass that also dissolves
 * section groups (see elf_seal.c) and records what was sealed. */
#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ar_writer.h"
#include "elf_seal.h"
#include "frontend.h"
#include "linker_name.h"
#include "seal_api.h"
#include "selector.h"
#include "unit_bytes.h"

extern char **environ;

struct seal_options {
  const char *output;
  char **inputs, **keep;
  size_t ninputs, nkeep, cap_inputs, cap_keep;
  bool keep_given, json;
};

static int seal_usage(const char *fmt, const char *arg) {
  fputs("allocsel: error: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs("\n" SEAL_USAGE, stderr);
  return 2;
}

/* --keep-list FILE: one name a line; '#' starts a comment. */
static int read_keep_list(struct seal_options *o, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "allocsel: error: %s: %s\n", path, strerror(errno));
    return 2;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, f)) >= 0) {
    char *p = line + strspn(line, " \t");
    p[strcspn(p, "#\r\n")] = '\0';
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
      p[--n] = '\0';
    if (n)
      *AS_PUSH(o->keep, o->nkeep, o->cap_keep) = as_xstrdup(p);
  }
  free(line);
  fclose(f);
  o->keep_given = true;
  return 0;
}

static int parse(struct seal_options *o, int argc, char **argv) {
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = NULL;
    if (strcmp(a, "-o") == 0 && i + 1 < argc) {
      o->output = argv[++i];
    } else if (strncmp(a, "--keep-list", 11) == 0 &&
               (a[11] == '=' || (!a[11] && i + 1 < argc))) {
      v = a[11] ? a + 12 : argv[++i];
      int rc = read_keep_list(o, v);
      if (rc)
        return rc;
    } else if (strncmp(a, "--keep", 6) == 0 &&
               (a[6] == '=' || (!a[6] && i + 1 < argc))) {
      v = a[6] ? a + 7 : argv[++i];
      if (!*v)
        return seal_usage("%s", "--keep needs a symbol name");
      *AS_PUSH(o->keep, o->nkeep, o->cap_keep) = as_xstrdup(v);
      o->keep_given = true;
    } else if (strcmp(a, "--format=json") == 0) {
      o->json = true;
    } else if (strcmp(a, "--format=text") == 0) {
      o->json = false;
    } else if (a[0] == '-' && a[1]) {
      return seal_usage("unknown option '%s'", a);
    } else {
      *AS_PUSH(o->inputs, o->ninputs, o->cap_inputs) = (char *)a;
    }
  }
  if (!o->output)
    return seal_usage("%s", "seal needs -o OUT.a");
  if (!o->ninputs)
    return seal_usage("%s", "seal needs the libraries to seal");
  if (o->keep_given && !o->nkeep)
    return seal_usage("%s", "the keep list is empty");
  return 0;
}

/* An in-memory file, /dev/fd/N for the linker: nothing on disk. */
static int memfd(const char *name, char path[32]) {
  int fd = memfd_create(name, 0);
  if (fd >= 0)
    snprintf(path, 32, "/dev/fd/%d", fd);
  return fd;
}

/* The linker script given first among the inputs: EXTERN pulls the kept
 * API out of the archives as -u would, any number of names, any
 * spelling. */
static char *script_text(char *const *keep, size_t nkeep) {
  size_t cap = 128, n = 0;
  for (size_t i = 0; i < nkeep; i++)
    cap += strlen(keep[i]) + 4;
  char *s = as_xmalloc(cap);
  n += (size_t)sprintf(s + n, "EXTERN(");
  for (size_t i = 0; i < nkeep; i++)
    n += (size_t)sprintf(s + n, " \"%s\"", keep[i]);
  sprintf(s + n, " )\n");
  return s;
}

/* The newest LLVMgold.so Debian's LLVM packages install: a newer LLVM
 * reads an older one's bitcode. */
static bool find_llvmgold(char path[PATH_MAX]) {
  for (int v = 40; v >= 11; v--) {
    snprintf(path, PATH_MAX, "/usr/lib/llvm-%d/lib/LLVMgold.so", v);
    if (access(path, R_OK) == 0)
      return true;
  }
  return false;
}

/* The relocatable link: ld.bfd -r, the one linker whose relocatable links
 * read archives, scripts and /dev/fd outputs alike (lld and mold write
 * beside their output, which /dev/fd has no room for). LTO inputs are
 * compiled on the way: GCC's through gcc's own driver (its LTO plugin,
 * -flinker-output=nolto-rel: a native object, not bytecode again),
 * LLVM's through the LLVMgold plugin. */
static int relocatable_link(const char *out, const char *script,
                            const struct seal_options *o,
                            struct as_link *link) {
  const struct as_unit *first = link->nunits ? link->units[0] : NULL;
  bool elf32 = first && first->elf_class == ELFCLASS32;
  bool gimple = false, bitcode = false;
  for (size_t i = 0; i < link->nunits; i++) {
    gimple |= link->units[i]->gimple;
    bitcode |= link->units[i]->bitcode;
    if (!first->machine && link->units[i]->machine)
      first = link->units[i];
  }
  uint16_t machine = first ? first->machine : 0;
  char ld[PATH_MAX], plugin[PATH_MAX];
  const char **argv = as_xcalloc(o->ninputs + 16, sizeof *argv);
  size_t n = 0;
  if (gimple && bitcode) {
    as_diag_add(link, AS_ERROR, AS_E_CANNOT_SEAL,
                "%s: cannot seal GCC and LLVM LTO objects together: no one "
                "linker compiles both",
                o->output);
    free(argv);
    return 2;
  }
  if (gimple) {
    if (!ld_locate("gcc", true, ld)) {
      as_diag_add(link, AS_ERROR, AS_E_CANNOT_SEAL,
                  "%s: GCC LTO objects: sealing compiles them with gcc, "
                  "which is not on PATH",
                  o->output);
      free(argv);
      return 2;
    }
    argv[n++] = ld;
    argv[n++] = "-r";
    argv[n++] = "-flto";
    argv[n++] = "-flinker-output=nolto-rel";
    argv[n++] = "-nostdlib";
    argv[n++] = "-fuse-ld=bfd";
    if (elf32)
      argv[n++] = "-m32";
  } else {
    if (!ld_locate("ld.bfd", true, ld) && !ld_locate("ld", true, ld)) {
      as_diag_add(link, AS_ERROR, AS_E_CANNOT_SEAL,
                  "%s: seal needs ld.bfd (GNU binutils) on PATH", o->output);
      free(argv);
      return 2;
    }
    argv[n++] = ld;
    if (bitcode) {
      if (!find_llvmgold(plugin)) {
        struct as_diag *d = as_diag_add(
            link, AS_ERROR, AS_E_CANNOT_SEAL,
            "%s: LLVM bitcode (clang -flto): sealing compiles it with "
            "ld.bfd's LLVMgold.so plugin, and no "
            "/usr/lib/llvm-N/lib/LLVMgold.so is installed",
            o->output);
        as_diag_hint(d, "install llvm-N-linker-tools, or seal a library "
                        "built without -flto");
        free(argv);
        return 2;
      }
      argv[n++] = "-plugin";
      argv[n++] = plugin;
    }
    argv[n++] = "-r";
    argv[n++] = "-d"; /* commons get their space: a local common is none */
    if (machine == EM_386 && elf32) {
      argv[n++] = "-m";
      argv[n++] = "elf_i386";
    }
  }
  argv[n++] = "-o";
  argv[n++] = out;
  argv[n++] = script;
  for (size_t i = 0; i < o->ninputs; i++)
    argv[n++] = o->inputs[i];
  /* allocsel run's hook passes a linker allocsel starts itself, as
   * allocsel-ld's. */
  setenv("ALLOCSEL_LD_ACTIVE", "1", 1);
  pid_t pid;
  int err = posix_spawn(&pid, ld, NULL, NULL, (char **)argv, environ);
  free(argv);
  if (err) {
    as_diag_add(link, AS_ERROR, AS_E_CANNOT_SEAL, "%s: cannot run %s: %s",
                o->output, ld, strerror(err));
    return 2;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  as_diag_add(link, AS_ERROR, AS_E_CANNOT_SEAL,
              "%s: the relocatable link failed (%s, its messages above)",
              o->output, ld);
  return 2;
}

/* What the system's libraries define: each undefined name of the sealed
 * object is put down to the first that defines it. */
struct syslib {
  const char *soname;
  char **names;
  size_t n;
};

static void syslib_read(struct syslib *l, bool elf64, uint16_t machine) {
  char *path = as_loader_find_system(l->soname, elf64, machine);
  int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  free(path);
  if (fd < 0)
    return;
  Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  Elf_Scn *scn = NULL;
  GElf_Shdr sh;
  size_t cap = 0;
  while (e && (scn = elf_nextscn(e, scn))) {
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM)
      continue;
    Elf_Data *d = elf_getdata(scn, NULL);
    size_t count = d && sh.sh_entsize ? d->d_size / sh.sh_entsize : 0;
    for (size_t i = 0; i < count; i++) {
      GElf_Sym s;
      const char *name;
      if (gelf_getsym(d, (int)i, &s) && s.st_shndx != SHN_UNDEF &&
          GELF_ST_BIND(s.st_info) != STB_LOCAL &&
          (name = elf_strptr(e, sh.sh_link, s.st_name)) && *name)
        *AS_PUSH(l->names, l->n, cap) = as_xstrdup(name);
    }
  }
  elf_end(e);
  close(fd);
  as_sort_unique_strings(l->names, &l->n);
}

static bool syslib_defines(const struct syslib *l, const char *name) {
  return l->n &&
         bsearch(&name, l->names, l->n, sizeof *l->names, as_strcmp_ptr);
}

enum { NSYSLIBS = 5 };

/* The dynamic loader: __tls_get_addr and _dl_* are its. */
static const char *loader_soname(uint16_t machine, bool elf64) {
  return machine == EM_386                ? "ld-linux.so.2"
         : machine == EM_AARCH64          ? "ld-linux-aarch64.so.1"
         : machine == EM_X86_64 && !elf64 ? "ld-linux-x32.so.2"
                                          : "ld-linux-x86-64.so.2";
}

/* Defined by what every link has besides libc.so.6: the startup files
 * (crtbegin.o), the linker, libc_nonshared.a. */
static bool startup_name(const char *name) {
  static const char *const names[] = {
      "__dso_handle",          "_GLOBAL_OFFSET_TABLE_",
      "__ehdr_start",          "atexit",
      "at_quick_exit",         "pthread_atfork",
      "__stack_chk_fail_local"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcmp(name, names[i]) == 0)
      return true;
  return false;
}

/* What a program's link needs to add for a system library: gcc and clang
 * link libc, libgcc_s and the loader themselves. */
static const char *link_flag(const char *soname) {
  return strcmp(soname, "libm.so.6") == 0        ? "-lm"
         : strcmp(soname, "libstdc++.so.6") == 0 ? "-lstdc++"
                                                 : NULL;
}

struct record_ctx {
  const struct seal_options *o;
  struct syslib libs[NSYSLIBS];
  char *needs; /* "libc.so.6 libgcc_s.so.1" */
  char **own;  /* undefined names no system library defines */
  size_t nown, cap_own;
  const char *guest; /* what the record says serves it */
};

static char *make_record(void *arg, const struct seal_facts *f) {
  struct record_ctx *c = arg;
  bool used[NSYSLIBS] = {0};
  c->libs[NSYSLIBS - 1].soname = loader_soname(f->machine, f->elf64);
  for (size_t i = 0; i < NSYSLIBS; i++)
    syslib_read(&c->libs[i], f->elf64, f->machine);
  for (size_t u = 0; u < f->nundefined; u++) {
    size_t i = 0;
    if (startup_name(f->undefined[u]))
      continue;
    while (i < NSYSLIBS && !syslib_defines(&c->libs[i], f->undefined[u]))
      i++;
    if (i < NSYSLIBS)
      used[i] = true;
    else
      *AS_PUSH(c->own, c->nown, c->cap_own) = f->undefined[u];
  }
  size_t len = 1;
  for (size_t i = 0; i < NSYSLIBS; i++)
    len += strlen(c->libs[i].soname) + 2;
  c->needs = as_xcalloc(1, len);
  for (size_t i = 0; i < NSYSLIBS; i++)
    if (used[i]) {
      if (*c->needs)
        strcat(c->needs, " ");
      strcat(c->needs, c->libs[i].soname);
    }
  /* keep=, one line, names separated by spaces. */
  size_t klen = 1;
  for (size_t i = 0; i < c->o->nkeep; i++)
    klen += strlen(c->o->keep[i]) + 1;
  char *keep = as_xcalloc(1, klen);
  for (size_t i = 0; i < c->o->nkeep; i++) {
    if (i)
      strcat(keep, " ");
    strcat(keep, c->o->keep[i]);
  }
  c->guest = f->allocator   ? f->allocator
             : f->rust_shim ? "rust"
             : f->malloc    ? (f->malloc_name ? f->malloc_name : "malloc")
                            : "none";
  char *malloc_text =
      f->malloc ? as_xasprintf("%s (its own, private)",
                               f->malloc_name ? f->malloc_name : "bundled")
                : as_xstrdup("the program's");
  char *text = as_xasprintf(
      "allocator=%s\ntype=sealed\nversion=%s\nreason=allocsel seal: its "
      "runtime and allocator are its own (%zu definitions made local)\n"
      "malloc=%s\nkeep=%s\nneeds=%s\n",
      c->guest, AS_VERSION, f->localized, malloc_text, keep, c->needs);
  free(keep);
  free(malloc_text);
  return text;
}

/* The marker's name: the same API sealed twice gives the same name (a
 * reproducible archive); two libraries' differ, as their APIs do. */
static char *marker_name(char *const *keep, size_t nkeep) {
  uint64_t d[2] = {0x616c6c6f6373656cu, 0x7365616c00000000u};
  for (size_t i = 0; i < nkeep; i++)
    as_digest_mix(d, keep[i], strlen(keep[i]) + 1);
  return as_xasprintf("__allocsel_sealed_%016llx",
                      (unsigned long long)(d[0] ^ d[1]));
}

/* A note listing names, the first eight of them. */
static void note_list(struct as_diag *d, const char *head, char *const *v,
                      size_t n) {
  char buf[512];
  size_t len = 0;
  for (size_t i = 0; i < n && i < 8 && len < sizeof buf - 1; i++)
    len += (size_t)snprintf(buf + len, sizeof buf - len, " %s", v[i]);
  if (len >= sizeof buf)
    len = sizeof buf - 1;
  buf[len] = '\0';
  if (n > 8)
    as_diag_note(d, "%s:%s and %zu more", head, buf, n - 8);
  else
    as_diag_note(d, "%s:%s", head, buf);
}

static int write_archive(const char *output, int fd, char **error) {
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size == 0) {
    *error = as_xasprintf("cannot read the sealed object");
    return -1;
  }
  void *bytes = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (bytes == MAP_FAILED) {
    *error = as_xasprintf("cannot read the sealed object: %s", strerror(errno));
    return -1;
  }
  /* Its index, from the selector's own reading of what was written. */
  struct as_link *link = as_link_new(AS_RLIB);
  as_link_want_symbols(link);
  char path[32];
  snprintf(path, sizeof path, "/dev/fd/%d", fd);
  int rc = -1;
  if (as_link_add_file(link, path, 0) != 0 || link->nunits != 1) {
    *error = as_xstrdup("the sealed object cannot be read back");
  } else {
    const char *base = as_base_name(output);
    size_t stem = strcspn(base, ".");
    char *member = as_xasprintf("%.*s.sealed.o", (int)(stem ? stem : 6),
                                stem ? base : "sealed");
    struct ar_writer *w = ar_writer_new();
    const struct as_unit *u = link->units[0];
    ar_writer_add(w, member, bytes, (size_t)st.st_size, link, u->defs,
                  u->ndefs);
    rc = ar_writer_write(w, output, error);
    ar_writer_free(w);
    free(member);
  }
  as_link_free(link);
  munmap(bytes, (size_t)st.st_size);
  return rc;
}

int cmd_seal(int argc, char **argv) {
  struct seal_options o = {0};
  int rc = parse(&o, argc, argv);
  struct as_link *link = NULL;
  struct record_ctx ctx = {.o = &o,
                           .libs = {{"libc.so.6", NULL, 0},
                                    {"libm.so.6", NULL, 0},
                                    {"libgcc_s.so.1", NULL, 0},
                                    {"libstdc++.so.6", NULL, 0},
                                    {"ld.so", NULL, 0}}};
  struct seal_facts facts = {0};
  int script_fd = -1, out_fd = -1;
  char *marker = NULL;
  if (rc)
    goto out;

  /* The inputs as the selector reads them: what they are, which units
   * are the library's own, what the API is. */
  link = as_link_new(AS_RLIB);
  as_link_want_symbols(link);
  for (size_t i = 0; i < o.ninputs; i++)
    as_link_add_file(link, o.inputs[i], AS_ADD_WHOLE_ARCHIVE);
  rc = as_diag_exit_code(link);
  for (size_t i = 0; rc == 0 && i < link->nunits; i++) {
    const struct as_unit *u = link->units[i];
    if (u->shared) {
      as_diag_add(link, AS_ERROR, AS_E_CANNOT_SEAL,
                  "%s: cannot be sealed: a shared library is a guest "
                  "already; seal the static library it came from",
                  as_unit_origin(link, u));
      rc = 2;
    }
  }
  if (rc == 0 && !o.keep_given) {
    char *error = NULL;
    if (seal_default_api(link, &o.keep, &o.nkeep, &error) != 0) {
      if (error)
        as_diag_add(link, AS_ERROR, AS_E_BAD_INPUT, "%s", error);
      free(error);
      rc = 2;
    } else if (!o.nkeep) {
      struct as_diag *d = as_diag_add(
          link, AS_ERROR, AS_E_CANNOT_SEAL,
          "%s: no API to keep: the libraries' own units define no global "
          "C name",
          o.inputs[0]);
      as_diag_hint(d, "name it: --keep SYMBOL or --keep-list FILE");
      rc = 2;
    }
  }
  if (rc)
    goto out;
  as_sort_unique_strings(o.keep, &o.nkeep);
  char script_path[32], out_path[32];
  script_fd = memfd("allocsel-seal.ld", script_path);
  out_fd = memfd("allocsel-seal.o", out_path);
  char *script = script_text(o.keep, o.nkeep);
  bool ok = script_fd >= 0 && out_fd >= 0 &&
            as_write_all(script_fd, script, strlen(script));
  free(script);
  if (!ok) {
    as_diag_add(link, AS_ERROR, AS_E_WRITE_FAILED, "%s: %s", o.output,
                strerror(errno));
    rc = 2;
    goto out;
  }
  rc = relocatable_link(out_path, script_path, &o, link);
  if (rc)
    goto out;

  marker = marker_name(o.keep, o.nkeep);
  char **missing, *error;
  size_t nmissing;
  if (elf_seal(out_fd, o.keep, o.nkeep, marker, make_record, &ctx, &facts,
               &missing, &nmissing, &error) != 0) {
    if (nmissing) {
      struct as_diag *d =
          as_diag_add(link, AS_ERROR, AS_E_CANNOT_SEAL,
                      "%s: %zu kept symbol%s no input defines", o.output,
                      nmissing, nmissing == 1 ? "" : "s");
      note_list(d, "not defined", missing, nmissing);
      as_diag_hint(d, "keep only names the libraries define (nm -g "
                      "--defined-only)");
    } else {
      as_diag_add(link, AS_ERROR, AS_E_CANNOT_SEAL, "%s: cannot seal: %s",
                  o.output, error);
    }
    for (size_t i = 0; i < nmissing; i++)
      free(missing[i]);
    free(missing);
    free(error);
    rc = 2;
    goto out;
  }
  if (write_archive(o.output, out_fd, &error) != 0) {
    as_diag_add(link, AS_ERROR, AS_E_WRITE_FAILED, "%s: %s", o.output, error);
    free(error);
    rc = 2;
    goto out;
  }

  struct as_diag *d =
      as_diag_add(link, AS_NOTE, AS_E_SEALED,
                  "%s: sealed: %zu symbol%s kept, %zu definitions made local",
                  o.output, o.nkeep, o.nkeep == 1 ? "" : "s", facts.localized);
  note_list(d, "keeps", o.keep, o.nkeep);
  if (facts.rust_shim || facts.rust_runtime)
    as_diag_note(d, "its own: the Rust runtime and rustc's allocator shim");
  if (facts.malloc)
    as_diag_note(d, "its own: a malloc (%s), serving only its code",
                 facts.malloc_name ? facts.malloc_name : "bundled");
  if (facts.cxx_runtime)
    as_diag_note(d, "its own: a C++ runtime");
  if (facts.allocator)
    as_diag_note(d, "its own: the allocator '%s'", facts.allocator);
  as_diag_note(d, "needs from the system: %s",
               *ctx.needs ? ctx.needs : "nothing");
  if (ctx.nown)
    note_list(d, "left for the program to define", ctx.own, ctx.nown);
  char flags[64] = "";
  for (size_t i = 0; i < NSYSLIBS; i++) {
    const char *flag = link_flag(ctx.libs[i].soname);
    if (flag && strstr(ctx.needs, ctx.libs[i].soname)) {
      strcat(flags, " ");
      strcat(flags, flag);
    }
  }
  if (*flags)
    as_diag_hint(d, "link programs that use %s with%s", o.output, flags);
out:
  if (link && o.json) {
    fputs("{\"command\":\"seal\",\"output\":", stdout);
    as_json_string(stdout, rc == 0 ? o.output : NULL);
    fputs(",\"keep\":[", stdout);
    for (size_t i = 0; rc == 0 && i < o.nkeep; i++) {
      fputs(i ? "," : "", stdout);
      as_json_string(stdout, o.keep[i]);
    }
    printf("],\"localized\":%zu,\"needs\":", facts.localized);
    as_json_string(stdout, rc == 0 ? ctx.needs : NULL);
    printf(",\"exit_code\":%d,\"diagnostics\":", rc);
    as_diag_print_json(link, stdout);
    fputs("}\n", stdout);
  } else if (link) {
    as_diag_print(link, stderr);
  }
  if (script_fd >= 0)
    close(script_fd);
  if (out_fd >= 0)
    close(out_fd);
  free(marker);
  free(ctx.needs);
  free(ctx.own);
  for (size_t i = 0; i < NSYSLIBS; i++) {
    for (size_t j = 0; j < ctx.libs[i].n; j++)
      free(ctx.libs[i].names[j]);
    free(ctx.libs[i].names);
  }
  seal_facts_free(&facts);
  for (size_t i = 0; i < o.nkeep; i++)
    free(o.keep[i]);
  free(o.keep);
  free(o.inputs);
  as_link_free(link);
  return rc;
}
