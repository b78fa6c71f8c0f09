/* The cache file (selector/cache.c): whatever it holds, reading it never
 * crashes, hangs or leaks, and what a link learns survives it: facts
 * learnt are found again, by the same link and, once saved, by the next. */
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "facts_build_id.h"
#include "fuzz_common.h"

static char dir[64], file[96], log_file[96];

/* Nothing left behind in /tmp when the fuzzer ends. */
static void remove_dir(void) {
  unlink(file);
  unlink(log_file);
  rmdir(dir);
}

/* A key and facts made from the input's first bytes, so the fuzzer can
 * steer them into entries the file already holds. */
static void learnt_entry(const uint8_t *data, size_t size,
                         struct as_file_key *k, struct as_cached_facts *f) {
  uint8_t b[16] = {0};
  memcpy(b, data, size < sizeof b ? size : sizeof b);
  *k = (struct as_file_key){.dev = b[0],
                            .ino = b[1] | (uint64_t)b[2] << 8,
                            .size = b[3],
                            .mtime_sec = b[4],
                            .ctime_sec = 1000 + b[5], /* long past: not racy */
                            .ctime_nsec = b[6]};
  if (b[7] & 1)
    *f = (struct as_cached_facts){.kind = AS_CACHED_ARCHIVE,
                                  .flags = b[8] & AS_FACTS_ARCHIVE};
  else
    *f = (struct as_cached_facts){.kind = AS_CACHED_UNIT,
                                  .abi_undef = b[8] & 0x1f,
                                  .flags = b[9] & AS_FACTS_UNIT,
                                  .machine = b[10],
                                  .elf_class = ELFCLASS64,
                                  .elf_data = ELFDATA2LSB};
}

static bool found(struct as_link *link, const struct as_file_key *k,
                  const struct as_cached_facts *want) {
  struct as_cached_facts got;
  if (!as_cache_lookup(link, k, &got))
    return false;
  if (want->kind == AS_CACHED_ARCHIVE) /* an archive's flags only grow */
    return got.kind == want->kind && (got.flags & want->flags) == want->flags;
  return memcmp(&got, want, sizeof got) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!*dir) {
    snprintf(dir, sizeof dir, "/tmp/allocsel-fuzz-cache-%d", (int)getpid());
    snprintf(file, sizeof file, "%s/facts-v4", dir);
    snprintf(log_file, sizeof log_file, "%s/facts-v4.log", dir);
    mkdir(dir, 0700);
    atexit(remove_dir);
    setenv("ALLOCSEL_CACHE_DIR", dir, 1);
    unsetenv("ALLOCSEL_CACHE");
  }
  FILE *f = fopen(file, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size))
    abort();
  /* The build id (bytes 16 to 48) is this build's, so that the fuzzer
   * reaches the table behind it rather than guessing the hash. */
  if (size >= 48 && (fseek(f, 16, SEEK_SET) != 0 ||
                     fwrite(AS_FACTS_BUILD_ID, 1, 32, f) != 32))
    abort();
  fclose(f);
  /* The log beside it: the same bytes after the log's own header (whose
   * first byte the input's 49th may spoil), from the input's 64th on. */
  f = fopen(log_file, "wb");
  if (!f)
    abort();
  if (size > 64) {
    char head[64] = "allocsel-flog5\n\n";
    memcpy(head + 16, AS_FACTS_BUILD_ID, 32);
    memcpy(head + 48, "\x40\0\0\0", 4); /* slot size 64 */
    head[0] ^= (char)(data[48] == 0xff);
    if (fwrite(head, 1, 64, f) != 64 ||
        fwrite(data + 64, 1, size - 64, f) != size - 64)
      abort();
  }
  fclose(f);
  struct as_file_key k;
  struct as_cached_facts facts;
  learnt_entry(data, size, &k, &facts);

  /* First a question, answered from the file slot by slot, then learning,
   * which reads the whole table. */
  struct as_link *link = as_link_new(AS_EXECUTABLE);
  as_link_use_cache(link);
  struct as_cached_facts before;
  as_cache_lookup(link, &k, &before);
  as_cache_learn(link, &k, &facts);
  if (!found(link, &k, &facts))
    abort(); /* learnt, and not found by the same link */
  as_cache_save(link);
  as_link_free(link);

  link = as_link_new(AS_EXECUTABLE);
  as_link_use_cache(link);
  if (!found(link, &k, &facts))
    abort(); /* saved, and not found by the next link */
  as_link_free(link);
  return 0;
}
