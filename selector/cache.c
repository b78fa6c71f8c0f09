/* What the quick path learnt about an archive, kept between links: that no
 * member of it references the allocator ABI. Finding that out means
 * reading the symbol table of every member (an archive's index lists
 * definitions only), which for a program against LLVM's 167 static
 * archives is two thirds of allocsel's time; the archives themselves
 * rarely change between links.
 *
 * An archive is known by its device, inode, size, modification and change
 * times: writing to a file updates its change time, which no program can
 * set back, so a rewritten archive is never taken for the one learnt about.
 * The file is text, one archive a line; a line that does not parse is
 * ignored, and the cache is written whole to a temporary file and renamed
 * into place, so concurrent links at worst lose each other's additions. */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The newest archives kept: older entries (archives rebuilt since, most
 * likely) are dropped when the file is written. */
enum { MAX_ENTRIES = 4096, SLOTS = 2 * MAX_ENTRIES };

struct as_cache {
  char *path; /* the cache file */
  struct as_file_key *keys;
  size_t nkeys, cap_keys;
  size_t nloaded;        /* keys read from the file; more are new */
  bool loaded;           /* the file was read (at the first question) */
  uint16_t slots[SLOTS]; /* key index + 1, 0 = empty: open addressing */
};

void as_file_key_of(struct as_file_key *k, const struct stat *st) {
  *k = (struct as_file_key){.dev = (uint64_t)st->st_dev,
                            .ino = (uint64_t)st->st_ino,
                            .size = (uint64_t)st->st_size,
                            .mtime_sec = (int64_t)st->st_mtim.tv_sec,
                            .mtime_nsec = (int64_t)st->st_mtim.tv_nsec,
                            .ctime_sec = (int64_t)st->st_ctim.tv_sec,
                            .ctime_nsec = (int64_t)st->st_ctim.tv_nsec};
}

static size_t slot_of(const struct as_file_key *k) {
  uint64_t h = (k->ino ^ (k->dev << 32) ^ k->size ^ (uint64_t)k->ctime_nsec ^
                (uint64_t)k->ctime_sec << 20) *
               0x9e3779b97f4a7c15u;
  return (size_t)(h >> 40) % SLOTS;
}

static bool same_key(const struct as_file_key *a, const struct as_file_key *b) {
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
         a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
         a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

/* The slot holding k, or the empty one where it would go. */
static uint16_t *find_slot(struct as_cache *c, const struct as_file_key *k) {
  for (size_t j = slot_of(k);; j = (j + 1) % SLOTS)
    if (!c->slots[j] || same_key(&c->keys[c->slots[j] - 1], k))
      return &c->slots[j];
}

/* Adds k unless it is there; false when the cache is full. */
static bool add_key(struct as_cache *c, const struct as_file_key *k) {
  uint16_t *slot = find_slot(c, k);
  if (*slot)
    return true;
  if (c->nkeys >= MAX_ENTRIES)
    return false;
  *AS_PUSH(c->keys, c->nkeys, c->cap_keys) = *k;
  *slot = (uint16_t)c->nkeys;
  return true;
}

/* The directory: ALLOCSEL_CACHE_DIR, else $XDG_CACHE_HOME/allocsel, else
 * $HOME/.cache/allocsel; none with ALLOCSEL_CACHE=0. */
static char *cache_dir(void) {
  const char *off = getenv("ALLOCSEL_CACHE");
  if (off && (strcmp(off, "0") == 0 || strcasecmp(off, "no") == 0 ||
              strcasecmp(off, "off") == 0 || strcasecmp(off, "false") == 0))
    return NULL;
  const char *dir = getenv("ALLOCSEL_CACHE_DIR");
  if (dir && *dir)
    return as_xstrdup(dir);
  const char *xdg = getenv("XDG_CACHE_HOME");
  if (xdg && *xdg == '/')
    return as_xasprintf("%s/allocsel", xdg);
  const char *home = getenv("HOME");
  if (home && *home == '/')
    return as_xasprintf("%s/.cache/allocsel", home);
  return NULL;
}

void as_link_use_cache(struct as_link *link) {
  char *dir = cache_dir();
  if (!dir)
    return;
  struct as_cache *c = as_xcalloc(1, sizeof *c);
  c->path = as_xasprintf("%s/archives-v1", dir);
  free(dir);
  link->cache = c;
}

/* Reads the file the first time the cache is asked anything: most links
 * never ask (an object of theirs calls the ABI). */
static struct as_cache *loaded(const struct as_link *link) {
  struct as_cache *c = link->cache;
  if (!c || c->loaded)
    return c;
  c->loaded = true;
  FILE *f = fopen(c->path, "re");
  if (f) {
    char line[256];
    while (fgets(line, sizeof line, f)) {
      struct as_file_key k;
      char end;
      if (sscanf(line,
                 "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNd64 ".%" SCNd64
                 " %" SCNd64 ".%" SCNd64 "%c",
                 &k.dev, &k.ino, &k.size, &k.mtime_sec, &k.mtime_nsec,
                 &k.ctime_sec, &k.ctime_nsec, &end) == 8 &&
          end == '\n' && !add_key(c, &k))
        break;
    }
    fclose(f);
  }
  c->nloaded = c->nkeys;
  return c;
}

bool as_cache_knows_no_member_needs(const struct as_link *link,
                                    const struct as_file_key *k) {
  struct as_cache *c = loaded(link);
  return c && *find_slot(c, k) != 0;
}

void as_cache_learn_no_member_needs(struct as_link *link,
                                    const struct as_file_key *k) {
  struct as_cache *c = loaded(link);
  if (!c || add_key(c, k))
    return;
  /* Full: start again from what this link learnt, the newest. */
  c->nkeys = c->nloaded = 0;
  memset(c->slots, 0, sizeof c->slots);
  add_key(c, k);
}

/* Makes the directory and its parents, as mkdir -p. */
static void make_dirs(char *path) {
  for (char *p = path + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      mkdir(path, 0777);
      *p = '/';
    }
  mkdir(path, 0777);
}

void as_cache_save(struct as_link *link) {
  struct as_cache *c = link->cache;
  if (!c || c->nkeys == c->nloaded)
    return;
  char *dir = as_xstrdup(c->path);
  *strrchr(dir, '/') = '\0';
  make_dirs(dir);
  free(dir);
  char *tmp = as_xasprintf("%s.%ld.tmp", c->path, (long)getpid());
  FILE *f = fopen(tmp, "we");
  bool ok = f != NULL;
  for (size_t i = 0; ok && i < c->nkeys; i++) {
    const struct as_file_key *k = &c->keys[i];
    ok = fprintf(f,
                 "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 ".%09" PRId64
                 " %" PRId64 ".%09" PRId64 "\n",
                 k->dev, k->ino, k->size, k->mtime_sec, k->mtime_nsec,
                 k->ctime_sec, k->ctime_nsec) > 0;
  }
  if (f && fclose(f) != 0)
    ok = false;
  /* A cache that cannot be written is no error: the next link reads the
   * archives again. */
  if (!ok || rename(tmp, c->path) != 0)
    unlink(tmp);
  else
    c->nloaded = c->nkeys;
  free(tmp);
}

void as_cache_free(struct as_cache *c) {
  if (!c)
    return;
  free(c->path);
  free(c->keys);
  free(c);
}
