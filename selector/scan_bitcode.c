/* Input scanning of LLVM bitcode (clang -flto, -flto=thin) through LLVM's C
 * API: the module is read lazily (no function body is parsed) and its global
 * values give the unit's symbols, as the linker's LTO symbol table does.
 *
 * libLLVM is opened with dlopen on the first bitcode input: a link with no
 * bitcode never pays for loading it, and inside ld.bfd or gold it is the
 * very copy LLVMgold.so already loaded. */
#include "internal.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>

#ifndef ALLOCSEL_LLVM_LIBRARY
#define ALLOCSEL_LLVM_LIBRARY ""
#endif

/* The entry points used, resolved once. */
#define AS_LLVM_FUNCTIONS(X)                                                   \
  X(LLVMContextCreate)                                                         \
  X(LLVMContextDispose)                                                        \
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
  X(LLVMGetModuleFlag)

static struct {
  bool tried;
  const char *error; /* why libLLVM is unusable, or NULL */
#define AS_LLVM_SLOT(fn) __typeof__(&fn) fn;
  AS_LLVM_FUNCTIONS(AS_LLVM_SLOT)
#undef AS_LLVM_SLOT
} llvm;

static bool llvm_ready(void) {
  if (llvm.tried)
    return llvm.error == NULL;
  llvm.tried = true;
  const char *path = getenv("ALLOCSEL_LLVM_LIBRARY");
  if (!path)
    path = ALLOCSEL_LLVM_LIBRARY;
  if (!*path) {
    llvm.error = "allocsel was built without LLVM";
    return false;
  }
  /* RTLD_LOCAL: LLVM's symbols stay out of the linker's namespace. */
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    static char why[512];
    snprintf(why, sizeof why, "cannot load LLVM (%s)", dlerror());
    llvm.error = why;
    return false;
  }
#define AS_LLVM_LOAD(fn)                                                       \
  if (!(*(void **)&llvm.fn = dlsym(h, #fn))) {                                 \
    llvm.error = "the LLVM library lacks " #fn;                                \
    return false;                                                              \
  }
  AS_LLVM_FUNCTIONS(AS_LLVM_LOAD)
#undef AS_LLVM_LOAD
  return true;
}

/* One context per link: read modules share its types; errors land in
 * `error` instead of LLVM's default handler, which exits the process. */
struct as_llvm {
  LLVMContextRef ctx;
  char *error;
};

static void on_diagnostic(LLVMDiagnosticInfoRef info, void *opaque) {
  struct as_llvm *l = opaque;
  if (llvm.LLVMGetDiagInfoSeverity(info) != LLVMDSError || l->error)
    return;
  char *msg = llvm.LLVMGetDiagInfoDescription(info);
  l->error = as_xstrdup(msg ? msg : "malformed LLVM bitcode");
  llvm.LLVMDisposeMessage(msg);
}

void as_llvm_free(struct as_llvm *l) {
  if (!l)
    return;
  llvm.LLVMContextDispose(l->ctx);
  free(l->error);
  free(l);
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

static void add_value(struct as_link *link, struct as_unit *u,
                      struct as_unit_caps *caps, LLVMValueRef v) {
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
  if (role != ROLE_NONE)
    as_unit_add_symbol(link, u, caps, name, len, role == ROLE_DEF,
                       role == ROLE_WEAK_REF);
}

int as_scan_bitcode(struct as_link *link, struct as_unit *u,
                    const char *origin, const void *data, size_t size) {
  if (!llvm_ready()) {
    as_diag_add(link, AS_ERROR, 2, "no-llvm",
                "%s: LLVM bitcode input, but %s", origin, llvm.error);
    return -1;
  }
  if (!link->llvm) {
    link->llvm = as_xcalloc(1, sizeof *link->llvm);
    link->llvm->ctx = llvm.LLVMContextCreate();
    llvm.LLVMContextSetDiagnosticHandler(link->llvm->ctx, on_diagnostic,
                                         link->llvm);
  }
  struct as_llvm *l = link->llvm;
  /* The buffer borrows `data`; a module read owns the buffer. */
  LLVMMemoryBufferRef buf =
      llvm.LLVMCreateMemoryBufferWithMemoryRange(data, size, origin, 0);
  LLVMModuleRef mod = NULL;
  if (llvm.LLVMGetBitcodeModuleInContext2(l->ctx, buf, &mod) || !mod) {
    /* LLVM 14 keeps the buffer when the read fails (its C wrapper then
     * releases it unfreed): it is still ours. */
    llvm.LLVMDisposeMemoryBuffer(buf);
    as_diag_add(link, AS_ERROR, 2, "bad-input",
                "%s: malformed LLVM bitcode: %s", origin,
                l->error ? l->error : "unreadable module");
    free(l->error);
    l->error = NULL;
    return -1;
  }
  struct as_unit_caps caps = {0};
  u->bitcode = true;
  /* clang marks full-LTO modules "ThinLTO"=0; ThinLTO modules carry only
   * "EnableSplitLTOUnit" (plain -emit-llvm output neither: regular LTO). */
  u->thin_lto = !llvm.LLVMGetModuleFlag(mod, "ThinLTO", 7) &&
                llvm.LLVMGetModuleFlag(mod, "EnableSplitLTOUnit", 18);
  for (LLVMValueRef v = llvm.LLVMGetFirstFunction(mod); v;
       v = llvm.LLVMGetNextFunction(v))
    add_value(link, u, &caps, v);
  for (LLVMValueRef v = llvm.LLVMGetFirstGlobal(mod); v;
       v = llvm.LLVMGetNextGlobal(v))
    add_value(link, u, &caps, v);
  for (LLVMValueRef v = llvm.LLVMGetFirstGlobalAlias(mod); v;
       v = llvm.LLVMGetNextGlobalAlias(v))
    add_value(link, u, &caps, v);
  for (LLVMValueRef v = llvm.LLVMGetFirstGlobalIFunc(mod); v;
       v = llvm.LLVMGetNextGlobalIFunc(v))
    add_value(link, u, &caps, v);
  llvm.LLVMDisposeModule(mod);
  as_unit_finish(link, u);
  return 0;
}
