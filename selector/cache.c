/* What reading a file taught allocsel, kept between links: an object's or
 * shared library's allocator facts, and of an archive that its index
 * names nothing the decision looks for and, once read, that no member of
 * it references the allocator ABI. A relink then looks at each unchanged
 * input with one stat, where reading it takes an open, a read and a close
 * (and an archive's members a read each): on a link of 1,800 inputs the
 * scan's cost goes from the file system's to the hash table's.
 *
 * Only what lets the quick path go on is kept: a unit that is an
 * allocator, defines the ABI or carries a marker makes the full
 * resolution necessary, which reads every symbol anyway, so it is never
 * learnt. The full resolution reads the units the cache answered for as
 * it reads any other (input.c, as_input_read_known).
 *
 * A file is known by its device, inode, size, modification and change
 * times: writing to a file updates its change time, which no program can
 * set back, so a rewritten file is never taken for the one learnt about.
 * As git does with its index, a file changed in this second or the last
 * is not learnt: a timestamp is only as fine as the file system's clock,
 * and a second write within one tick would keep the first one's times.
 *
 * The file is text, one file a line:
 *   DEV INO SIZE MTIME.NS CTIME.NS o ABI_UNDEF FLAGS MACHINE CLASS DATA
 *   DEV INO SIZE MTIME.NS CTIME.NS a FLAGS
 * (ABI_UNDEF and FLAGS in hex, see as_cached_facts); a line that does not
 * parse is ignored. It is written whole to a temporary file and renamed
 * into place, newest lines last, so concurrent links at worst lose each
 * other's additions. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The newest files kept: older lines (files rebuilt since, most likely)
 * are dropped when the file is written. */
enum { MAX_ENTRIES = 1 << 16 };

struct entry {
  struct as_file_key key;
  struct as_cached_facts facts;
};

struct as_cache {
  char *path; /* the cache file */
  struct entry *entries;
  size_t nentries, cap_entries;
  uint32_t *slots;    /* entry index + 1, 0 = empty: open addressing */
  size_t nslots;      /* a power of two, at least twice nentries */
  bool loaded;        /* the file was read (at the first question) */
  bool dirty;         /* learnt something the file does not say */
  int64_t racy_after; /* change times from this second on are not learnt */
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

static size_t slot_of(const struct as_cache *c, const struct as_file_key *k) {
  uint64_t h = (k->ino ^ (k->dev << 32) ^ k->size ^ (uint64_t)k->ctime_nsec ^
                (uint64_t)k->ctime_sec << 20) *
               0x9e3779b97f4a7c15u;
  return (size_t)(h >> 32) & (c->nslots - 1);
}

static bool same_key(const struct as_file_key *a, const struct as_file_key *b) {
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
         a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
         a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

/* The slot holding k, or the empty one where it would go. */
static uint32_t *find_slot(struct as_cache *c, const struct as_file_key *k) {
  for (size_t j = slot_of(c, k);; j = (j + 1) & (c->nslots - 1))
    if (!c->slots[j] || same_key(&c->entries[c->slots[j] - 1].key, k))
      return &c->slots[j];
}

static void rehash(struct as_cache *c, size_t nslots) {
  free(c->slots);
  c->nslots = nslots;
  c->slots = as_xcalloc(nslots, sizeof *c->slots);
  for (size_t i = 0; i < c->nentries; i++)
    *find_slot(c, &c->entries[i].key) = (uint32_t)(i + 1);
}

/* The entry for k, added (facts zero) if new. */
static struct entry *entry_for(struct as_cache *c,
                               const struct as_file_key *k) {
  if (2 * (c->nentries + 1) > c->nslots)
    rehash(c, c->nslots ? 2 * c->nslots : 1024);
  uint32_t *slot = find_slot(c, k);
  if (!*slot) {
    *AS_PUSH(c->entries, c->nentries, c->cap_entries) =
        (struct entry){.key = *k};
    *slot = (uint32_t)c->nentries;
  }
  return &c->entries[*slot - 1];
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
  c->path = as_xasprintf("%s/facts-v2", dir);
  free(dir);
  link->cache = c;
}

/* Numbers of a line, parsed by hand: sscanf costs a microsecond a line,
 * which on a cache of thousands of files is most of a relink's scan. */
static bool parse_u64(const char **p, int base, char end, uint64_t *out) {
  const char *s = *p;
  uint64_t v = 0;
  int digits = 0;
  for (;; s++, digits++) {
    unsigned d = (unsigned char)*s;
    if (d >= '0' && d <= '9')
      d -= '0';
    else if (base == 16 && d >= 'a' && d <= 'f')
      d -= 'a' - 10;
    else
      break;
    if (v > (UINT64_MAX - d) / (unsigned)base)
      return false;
    v = v * (unsigned)base + d;
  }
  if (!digits || *s != end)
    return false;
  *p = s + 1;
  *out = v;
  return true;
}

static bool parse_time(const char **p, int64_t *sec, int64_t *nsec) {
  uint64_t s, ns;
  if (!parse_u64(p, 10, '.', &s) || !parse_u64(p, 10, ' ', &ns) ||
      s > INT64_MAX || ns >= 1000000000u)
    return false;
  *sec = (int64_t)s;
  *nsec = (int64_t)ns;
  return true;
}

static bool parse_line(const char *p, struct entry *e) {
  struct as_file_key *k = &e->key;
  uint64_t v[5];
  if (!parse_u64(&p, 10, ' ', &k->dev) || !parse_u64(&p, 10, ' ', &k->ino) ||
      !parse_u64(&p, 10, ' ', &k->size) ||
      !parse_time(&p, &k->mtime_sec, &k->mtime_nsec) ||
      !parse_time(&p, &k->ctime_sec, &k->ctime_nsec))
    return false;
  struct as_cached_facts *f = &e->facts;
  *f = (struct as_cached_facts){0};
  if (p[0] == 'a' && p[1] == ' ') {
    p += 2;
    if (!parse_u64(&p, 16, '\n', &v[0]) || v[0] & ~(uint64_t)AS_FACTS_ARCHIVE)
      return false;
    f->kind = AS_CACHED_ARCHIVE;
    f->flags = (uint8_t)v[0];
    return true;
  }
  if (p[0] != 'o' || p[1] != ' ')
    return false;
  p += 2;
  if (!parse_u64(&p, 16, ' ', &v[0]) || !parse_u64(&p, 16, ' ', &v[1]) ||
      !parse_u64(&p, 10, ' ', &v[2]) || !parse_u64(&p, 10, ' ', &v[3]) ||
      !parse_u64(&p, 10, '\n', &v[4]) || v[0] >= 1u << AS_ABI_COUNT ||
      v[1] & ~(uint64_t)AS_FACTS_UNIT || v[2] > UINT16_MAX ||
      (v[3] != ELFCLASS32 && v[3] != ELFCLASS64) ||
      (v[4] != ELFDATA2LSB && v[4] != ELFDATA2MSB))
    return false;
  *f = (struct as_cached_facts){.kind = AS_CACHED_UNIT,
                                .abi_undef = (uint8_t)v[0],
                                .flags = (uint8_t)v[1],
                                .machine = (uint16_t)v[2],
                                .elf_class = (uint8_t)v[3],
                                .elf_data = (uint8_t)v[4]};
  return true;
}

/* Reads the file the first time the cache is asked anything. */
static struct as_cache *loaded(const struct as_link *link) {
  struct as_cache *c = link->cache;
  if (!c || c->loaded)
    return c;
  c->loaded = true;
  c->racy_after = (int64_t)time(NULL) - 1;
  int fd = open(c->path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char *text = NULL;
  size_t size = 0;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      st.st_size < (64 << 20)) {
    text = as_xmalloc((size_t)st.st_size + 1);
    ssize_t n = read(fd, text, (size_t)st.st_size);
    size = n > 0 ? (size_t)n : 0;
    text[size] = '\0';
  }
  if (fd >= 0)
    close(fd);
  rehash(c, 1024);
  for (char *line = text; line && line < text + size;) {
    char *nl = memchr(line, '\n', (size_t)(text + size - line));
    if (!nl)
      break; /* a last line cut short: a write that failed */
    struct entry e;
    if (parse_line(line, &e))
      entry_for(c, &e.key)->facts = e.facts;
    line = nl + 1;
  }
  free(text);
  return c;
}

bool as_cache_lookup(const struct as_link *link, const struct as_file_key *k,
                     struct as_cached_facts *facts) {
  struct as_cache *c = loaded(link);
  if (!c)
    return false;
  uint32_t slot = *find_slot(c, k);
  if (!slot || c->entries[slot - 1].facts.kind == AS_CACHED_NONE)
    return false;
  *facts = c->entries[slot - 1].facts;
  return true;
}

void as_cache_learn(struct as_link *link, const struct as_file_key *k,
                    const struct as_cached_facts *facts) {
  struct as_cache *c = loaded(link);
  if (!c || k->ctime_sec >= c->racy_after)
    return;
  struct entry *e = entry_for(c, k);
  struct as_cached_facts f = *facts;
  if (f.kind == AS_CACHED_ARCHIVE && e->facts.kind == AS_CACHED_ARCHIVE)
    f.flags |= e->facts.flags; /* what an earlier link learnt stays true */
  if (memcmp(&e->facts, &f, sizeof f) != 0) {
    e->facts = f;
    c->dirty = true;
  }
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

static int write_entry(FILE *f, const struct entry *e) {
  const struct as_file_key *k = &e->key;
  const struct as_cached_facts *x = &e->facts;
  int n = fprintf(f,
                  "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 ".%09" PRId64
                  " %" PRId64 ".%09" PRId64 " ",
                  k->dev, k->ino, k->size, k->mtime_sec, k->mtime_nsec,
                  k->ctime_sec, k->ctime_nsec);
  if (n > 0 && x->kind == AS_CACHED_ARCHIVE)
    n = fprintf(f, "a %x\n", x->flags);
  else if (n > 0)
    n = fprintf(f, "o %x %x %u %u %u\n", x->abi_undef, x->flags, x->machine,
                x->elf_class, x->elf_data);
  return n;
}

void as_cache_save(struct as_link *link) {
  struct as_cache *c = link->cache;
  if (!c || !c->dirty)
    return;
  char *dir = as_xstrdup(c->path);
  *strrchr(dir, '/') = '\0';
  make_dirs(dir);
  free(dir);
  char *tmp = as_xasprintf("%s.%ld.tmp", c->path, (long)getpid());
  FILE *f = fopen(tmp, "we");
  bool ok = f != NULL;
  size_t first = c->nentries > MAX_ENTRIES ? c->nentries - MAX_ENTRIES : 0;
  for (size_t i = first; ok && i < c->nentries; i++)
    if (c->entries[i].facts.kind != AS_CACHED_NONE)
      ok = write_entry(f, &c->entries[i]) > 0;
  if (f && fclose(f) != 0)
    ok = false;
  /* A cache that cannot be written is no error: the next link reads the
   * files again. */
  if (!ok || rename(tmp, c->path) != 0)
    unlink(tmp);
  else
    c->dirty = false;
  free(tmp);
}

void as_cache_free(struct as_cache *c) {
  if (!c)
    return;
  free(c->path);
  free(c->entries);
  free(c->slots);
  free(c);
}
