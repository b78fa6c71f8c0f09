/* allocsel-bitcode-reader: reads LLVM bitcode (clang -flto, -flto=thin)
 * for the selector, in a process of its own (protocol in
 * bitcode_protocol.h). Each module is read lazily (no function body is
 * parsed) and its global values give the unit's symbols, as the linker's
 * LTO symbol table does.
 *
 * Why a process: LLVM's reader ends the process on some malformed input
 * (report_fatal_error, assertions, plain crashes on fuzzed bitcode), and a
 * linker component must not take the link down with it. One reader serves
 * a whole link, so libLLVM is loaded once; a link with no bitcode never
 * starts it. libLLVM is opened with dlopen (ALLOCSEL_LLVM_LIBRARY overrides
 * the path) so that a missing LLVM is an answer, not a failed start. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <llvm-c/ErrorHandling.h>

#include "bitcode_protocol.h"

#ifndef ALLOCSEL_LLVM_LIBRARY
#define ALLOCSEL_LLVM_LIBRARY ""
#endif

/* The entry points used, resolved once. */
#define AS_LLVM_FUNCTIONS(X)                                                   \
  X(LLVMContextCreate)                                                         \
  X(LLVMContextSetDiagnosticHandler)                                           \
  X(LLVMGetDiagInfoDescription)                                                \
  X(LLVMGetDiagInfoSeverity)                                                   \
  X(LLVMDisposeMessage)                                                        \
  X(LLVMCreateMemoryBufferWithMemoryRange)                                     \
  X(LLVMDisposeMemoryBuffer)                                                   \
  X(LLVMGetBitcodeModuleInContext2)                                            \
  X(LLVMDisposeModule)                                                         \
  X(LLVMGetFirstFunction)                                                      \
  X(LLVMGetNextFunction)                                                       \
  X(LLVMGetFirstGlobal)                                                        \
  X(LLVMGetNextGlobal)                                                         \
  X(LLVMGetFirstGlobalAlias)                                                   \
  X(LLVMGetNextGlobalAlias)                                                    \
  X(LLVMGetFirstGlobalIFunc)                                                   \
  X(LLVMGetNextGlobalIFunc)                                                    \
  X(LLVMIsDeclaration)                                                         \
  X(LLVMGetLinkage)                                                            \
  X(LLVMGetValueName2)                                                         \
  X(LLVMGetModuleFlag)                                                         \
  X(LLVMInstallFatalErrorHandler)

static struct {
  char error[512]; /* why libLLVM is unusable, or "" */
#define AS_LLVM_SLOT(fn) __typeof__(&fn) fn;
  AS_LLVM_FUNCTIONS(AS_LLVM_SLOT)
#undef AS_LLVM_SLOT
} llvm;

static bool llvm_load(void) {
  const char *path = getenv("ALLOCSEL_LLVM_LIBRARY");
  if (!path)
    path = ALLOCSEL_LLVM_LIBRARY;
  if (!*path) {
    snprintf(llvm.error, sizeof llvm.error, "allocsel was built without LLVM");
    return false;
  }
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(llvm.error, sizeof llvm.error, "cannot load LLVM (%s)", dlerror());
    return false;
  }
#define AS_LLVM_LOAD(fn)                                                       \
  if (!(*(void **)&llvm.fn = dlsym(h, #fn))) {                                 \
    snprintf(llvm.error, sizeof llvm.error, "the LLVM library lacks " #fn);    \
    return false;                                                              \
  }
  AS_LLVM_FUNCTIONS(AS_LLVM_LOAD)
#undef AS_LLVM_LOAD
  return true;
}

/* The answer being built: written whole, so a reader that dies mid-way
 * leaves no half answer on the socket. */
static struct {
  unsigned char *buf;
  size_t len, cap;
} out;

static void put(const void *p, size_t n) {
  if (out.len + n > out.cap) {
    size_t cap = out.cap ? out.cap * 2 : 4096;
    while (cap < out.len + n)
      cap *= 2;
    out.buf = realloc(out.buf, cap);
    if (!out.buf)
      _exit(71);
    out.cap = cap;
  }
  memcpy(out.buf + out.len, p, n);
  out.len += n;
}

static void put_u8(unsigned v) {
  unsigned char b = (unsigned char)v;
  put(&b, 1);
}

static void put_u32(uint32_t v) {
  put(&v, sizeof v);
}

static void put_string(const char *s, size_t n) {
  if (n > AS_BC_MAX_STRING)
    n = AS_BC_MAX_STRING;
  put_u32((uint32_t)n);
  put(s, n);
}

static bool write_all(int fd, const void *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w <= 0)
      return false;
    p = (const char *)p + w;
    n -= (size_t)w;
  }
  return true;
}

static bool flush(void) {
  bool ok = write_all(1, out.buf, out.len);
  out.len = 0;
  return ok;
}

static void answer_error(int status, const char *msg) {
  out.len = 0;
  put_u8((unsigned)status);
  put_string(msg, strlen(msg));
}

/* LLVM calls this instead of exiting: answer, then end (LLVM's state is
 * not to be trusted after a fatal error; the next request gets a new
 * reader). */
static void on_fatal(const char *reason) {
  char msg[1024];
  snprintf(msg, sizeof msg, "LLVM ERROR: %s", reason);
  answer_error(AS_BC_ERROR, msg);
  flush();
  _exit(70);
}

static char *diag_error; /* the first error LLVM reported while reading */

static void on_diagnostic(LLVMDiagnosticInfoRef info, void *opaque) {
  (void)opaque;
  if (llvm.LLVMGetDiagInfoSeverity(info) != LLVMDSError || diag_error)
    return;
  char *msg = llvm.LLVMGetDiagInfoDescription(info);
  diag_error = strdup(msg ? msg : "malformed LLVM bitcode");
  llvm.LLVMDisposeMessage(msg);
}

/* What the linker sees of a global value: nothing (local), a definition, or
 * a reference (weak ones pull in no archive member). */
enum sym_role { ROLE_NONE, ROLE_DEF, ROLE_REF, ROLE_WEAK_REF };

static enum sym_role role_of(LLVMValueRef v) {
  switch (llvm.LLVMGetLinkage(v)) {
  case LLVMInternalLinkage:
  case LLVMPrivateLinkage:
  case LLVMLinkerPrivateLinkage:
  case LLVMLinkerPrivateWeakLinkage:
  case LLVMAppendingLinkage: /* llvm.used and friends */
    return ROLE_NONE;
  case LLVMExternalWeakLinkage:
    return ROLE_WEAK_REF;
  case LLVMAvailableExternallyLinkage:
    return ROLE_REF; /* a copy for inlining: the definition is elsewhere */
  default:
    return llvm.LLVMIsDeclaration(v) ? ROLE_REF : ROLE_DEF;
  }
}

static uint32_t nsyms;

static void add_value(LLVMValueRef v) {
  size_t len = 0;
  const char *name = llvm.LLVMGetValueName2(v, &len);
  /* Intrinsics are no symbols; "\1name" asks for no prefix (no-op on ELF). */
  if (!name || !len || strncmp(name, "llvm.", 5) == 0)
    return;
  if (name[0] == '\1') {
    name++;
    len--;
  }
  enum sym_role role = role_of(v);
  if (role == ROLE_NONE)
    return;
  put_u8(role == ROLE_DEF   ? AS_BC_DEF
         : role == ROLE_REF ? AS_BC_REF
                            : AS_BC_WEAK_REF);
  put_string(name, len);
  nsyms++;
}

/* Reads one module and builds the answer. */
static void read_module(LLVMContextRef ctx, const void *data, size_t size,
                        const char *name) {
  /* The buffer borrows `data`; a module read owns the buffer. */
  LLVMMemoryBufferRef buf =
      llvm.LLVMCreateMemoryBufferWithMemoryRange(data, size, name, 0);
  LLVMModuleRef mod = NULL;
  free(diag_error);
  diag_error = NULL;
  if (llvm.LLVMGetBitcodeModuleInContext2(ctx, buf, &mod) || !mod) {
    /* LLVM 14 keeps the buffer when the read fails (its C wrapper then
     * releases it unfreed): it is still ours. */
    llvm.LLVMDisposeMemoryBuffer(buf);
    answer_error(AS_BC_ERROR, diag_error ? diag_error : "unreadable module");
    return;
  }
  out.len = 0;
  put_u8(AS_BC_OK);
  /* clang marks full-LTO modules "ThinLTO"=0; ThinLTO modules carry only
   * "EnableSplitLTOUnit" (plain -emit-llvm output neither: regular LTO). */
  put_u8(!llvm.LLVMGetModuleFlag(mod, "ThinLTO", 7) &&
         llvm.LLVMGetModuleFlag(mod, "EnableSplitLTOUnit", 18));
  size_t count_at = out.len;
  put_u32(0);
  nsyms = 0;
  for (LLVMValueRef v = llvm.LLVMGetFirstFunction(mod); v;
       v = llvm.LLVMGetNextFunction(v))
    add_value(v);
  for (LLVMValueRef v = llvm.LLVMGetFirstGlobal(mod); v;
       v = llvm.LLVMGetNextGlobal(v))
    add_value(v);
  for (LLVMValueRef v = llvm.LLVMGetFirstGlobalAlias(mod); v;
       v = llvm.LLVMGetNextGlobalAlias(v))
    add_value(v);
  for (LLVMValueRef v = llvm.LLVMGetFirstGlobalIFunc(mod); v;
       v = llvm.LLVMGetNextGlobalIFunc(v))
    add_value(v);
  memcpy(out.buf + count_at, &nsyms, sizeof nsyms);
  llvm.LLVMDisposeModule(mod);
}

static bool read_all(int fd, void *p, size_t n) {
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r <= 0)
      return false;
    p = (char *)p + r;
    n -= (size_t)r;
  }
  return true;
}

/* Maps `size` bytes at `off` in `path` and reads them. */
static void serve(LLVMContextRef ctx, const char *path, uint64_t off,
                  uint64_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      off > (uint64_t)st.st_size || size > (uint64_t)st.st_size - off ||
      size == 0) {
    if (fd >= 0)
      close(fd);
    answer_error(AS_BC_ERROR, "cannot read the bitcode");
    return;
  }
  long page = sysconf(_SC_PAGESIZE);
  uint64_t base = off - off % (uint64_t)page;
  size_t len = (size_t)(size + (off - base));
  void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, (off_t)base);
  close(fd);
  if (map == MAP_FAILED) {
    answer_error(AS_BC_ERROR, "cannot map the bitcode");
    return;
  }
  read_module(ctx, (char *)map + (off - base), (size_t)size, path);
  munmap(map, len);
}

int main(void) {
  /* Nothing but the socket on 0 and 1 (the linker's files stay its own). */
  for (int fd = 3; fd < 1024; fd++)
    close(fd);
  bool have_llvm = llvm_load();
  LLVMContextRef ctx = NULL;
  if (have_llvm) {
    llvm.LLVMInstallFatalErrorHandler(on_fatal);
    ctx = llvm.LLVMContextCreate();
    llvm.LLVMContextSetDiagnosticHandler(ctx, on_diagnostic, NULL);
  }
  for (;;) {
    uint32_t n;
    if (!read_all(0, &n, sizeof n) || n == 0 || n > 65536)
      return 0; /* the link is over, or its end of the socket is broken */
    char *path = malloc((size_t)n + 1);
    uint64_t off, size;
    if (!path || !read_all(0, path, n) || !read_all(0, &off, sizeof off) ||
        !read_all(0, &size, sizeof size))
      return 0;
    path[n] = '\0';
    if (have_llvm)
      serve(ctx, path, off, size);
    else
      answer_error(AS_BC_NO_LLVM, llvm.error);
    free(path);
    if (!flush())
      return 0;
  }
}
